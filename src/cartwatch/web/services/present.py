"""Rows as JSON-ready dicts for the API and the pages, pseudonymised by role."""

from __future__ import annotations

from typing import Any

from cartwatch.web.access import Actor
from cartwatch.web.patients import models as m
from cartwatch.web.research_view import research_view
from cartwatch.web.services.rows import ROW_MODELS, stored_row_json

#: Stored results per model (computed by the engines at save time).
RESULT_FIELDS: dict[type[m.AuditedModel], tuple[str, ...]] = {
    m.CrsAssessment: ("grade", "standard", "reasons"),
    m.IcansAssessment: ("grade", "instrument", "standard", "reasons"),
    m.Lab: (
        "grade_neutrophil_count_decreased",
        "grade_platelet_count_decreased",
        "grade_anemia",
        "standard",
        "reasons",
    ),
    m.ResponseAssessment: ("response", "standard", "reasons"),
    m.MrdResult: ("status", "standard", "reasons"),
    m.EligibilityCheck: ("eligible", "label_version", "indication", "standard", "reasons"),
}


def present(actor: Actor, instance: m.AuditedModel) -> dict[str, Any]:
    if isinstance(instance, m.EligibilityCheck):
        data: dict[str, Any] = dict(instance.input)
    elif type(instance) in ROW_MODELS:
        data = stored_row_json(instance)
        data.pop("patient_id", None)
    else:  # pragma: no cover - every patient-data model is mapped
        data = {}
    if isinstance(instance, m.Patient):
        data["hospital_number"] = instance.hospital_number
        patient_id = instance.patient_id
    else:
        patient_id = instance.patient.patient_id  # type: ignore[attr-defined]
    result = {f: getattr(instance, f) for f in RESULT_FIELDS.get(type(instance), ())}
    if isinstance(instance, m.EligibilityCheck):
        # Contract v2 item 5: the classes counted per prior line, from the stored decision
        # (absent from decisions stored before v2).
        result["classes"] = (instance.result or {}).get("classes")
    if not actor.identifiable:
        data, result = research_view(type(instance), data, result)
    out: dict[str, Any] = {
        "id": instance.pk,
        "patient_id": patient_id,
        "version": instance.version,
        "updated_at": instance.updated_at.isoformat(),
        "data": data,
        "result": result,
    }
    out["form_status"] = instance.form_status
    if isinstance(instance, m.AssessmentRecord):
        out["completed"] = instance.completed
    return out
