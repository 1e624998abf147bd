"""FHIR R4 export of the actor's centre (or one patient): scoped, checked, audited.

The Bundle is built by ``cartwatch.interop.fhir_export`` from the stored records as the
other exports see them (``stored_checks.checked_records``: a patient with a stored record
that fails the checks is left out and named). A role without the 'identifiable'
permission, and any export asked for with ``pseudonymise``, gets the research view
(``web/research_view.py``): only patients who consented to research, free text blanked,
agent and product names coded. The hospital number is never exported (it is not part of the
centre data format; the centre-format export leaves it out too). Every export is an
``export`` audit event, as the other formats.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone

from cartwatch.interop.fhir_export import Journey, StoredRecord, build_bundle
from cartwatch.interop.fhir_resources import RESULT_FIELDS
from cartwatch.web.access import Actor, Perm
from cartwatch.web.patients import models as m
from cartwatch.web.research_view import research_view
from cartwatch.web.services.exports import EXCLUDED_FILE, record_export
from cartwatch.web.services.records import KINDS
from cartwatch.web.services.stored_checks import (
    StoredProblem,
    checked_records,
    excluded_note,
    excluded_of,
    excluded_text,
)

FORMAT = "fhir-r4"
#: The FHIR JSON media type (R4, http.html#mime-type).
FHIR_JSON = "application/fhir+json"
#: Stored model → record kind (the names of ``services.records.KINDS``).
KIND_OF: dict[type[Model], str] = {m.Patient: "patient"} | {k.model: n for n, k in KINDS.items()}


@dataclass(frozen=True)
class FhirExport:
    bundle: dict[str, Any]
    patients: int
    problems: tuple[StoredProblem, ...]

    @property
    def excluded(self) -> tuple[str, ...]:
        return excluded_of(self.problems)

    def note(self) -> str:
        """One sentence naming the patients left out ("" when none)."""
        return excluded_note(self.problems)

    @property
    def resources(self) -> int:
        return len(self.bundle["entry"])


def _stored(instance: Any, row: Any, identifiable: bool) -> StoredRecord:
    kind = KIND_OF[type(instance)]
    data = row.model_dump(mode="python")
    if not identifiable:
        data = research_view(type(instance), data)[0]
    patient_id = data["patient_id"]
    if kind != "patient":
        del data["patient_id"]
    data.pop("centre_id", None)
    result = {name: getattr(instance, name) for name in RESULT_FIELDS.get(kind, ())}
    if isinstance(instance, m.AssessmentRecord):
        result |= {"standard": instance.standard, "reasons": list(instance.reasons or ())}
    return StoredRecord(kind, instance.pk, patient_id, data, instance.form_status, result)


def _eligibility(check: m.EligibilityCheck, identifiable: bool) -> StoredRecord:
    result = {name: getattr(check, name) for name in RESULT_FIELDS["eligibility"]}
    result |= {"standard": check.standard, "reasons": list(check.reasons or ())}
    data = dict(check.input)
    if not identifiable:
        data, result = research_view(m.EligibilityCheck, data, result)
    return StoredRecord(
        "eligibility", check.pk, check.patient.patient_id, data, check.form_status, result
    )


def journeys(
    patients: QuerySet[m.Patient], *, identifiable: bool
) -> tuple[list[Journey], tuple[StoredProblem, ...]]:
    """The journeys of *patients* (scoped by the caller) and the problems of those left out."""
    pairs, problems = checked_records(patients)
    own: dict[str, StoredRecord] = {}
    records: dict[str, list[StoredRecord]] = defaultdict(list)
    for stem_pairs in pairs.values():
        for instance, row in stem_pairs:
            record = _stored(instance, row, identifiable)
            if record.kind == "patient":
                own[record.patient_id] = record
            else:
                records[record.patient_id].append(record)
    checks = m.EligibilityCheck.objects.filter(patient__in=patients).select_related("patient")
    for check in checks.order_by("as_of", "pk"):
        if check.patient.patient_id in own:
            records[check.patient.patient_id].append(_eligibility(check, identifiable))
    return [Journey(own[p], records[p]) for p in sorted(own)], problems


def _build(actor: Actor, patient_id: str | None, pseudonymise: bool) -> tuple[FhirExport, bool]:
    """The export (not yet audited) and whether it is identifiable."""
    actor.require(Perm.EXPORT)
    assert actor.centre is not None  # EXPORT is a centre role's
    identifiable = actor.identifiable and not pseudonymise
    patients = actor.patients()
    if not identifiable:
        patients = patients.filter(consent_research=True)  # the research view's rule
    if patient_id is not None:
        patients = patients.filter(patient_id=patient_id)
        if not patients.exists():
            raise Http404("no such patient")
    found, problems = journeys(patients, identifiable=identifiable)
    export_id = str(uuid.uuid4())
    bundle = build_bundle(
        actor.centre.code,
        found,
        zone=timezone.get_default_timezone(),
        now=timezone.now(),
        export_id=export_id,
    )
    return FhirExport(bundle, len(found), problems), identifiable


def _audit(
    actor: Actor, result: FhirExport, files: list[str], identifiable: bool, patient: str | None
) -> None:
    record_export(
        actor,
        FORMAT,
        files,
        result.patients,
        pseudonymised=not identifiable,
        patient=patient,
        resources=result.resources,
        excluded=list(result.excluded),
    )


def export_bundle(
    actor: Actor, *, patient_id: str | None = None, pseudonymise: bool = False
) -> FhirExport:
    """The FHIR Bundle of the actor's centre (or of *patient_id*: Http404 when the actor may
    not see such a patient, also when a pseudonymised export leaves them out)."""
    result, identifiable = _build(actor, patient_id, pseudonymise)
    _audit(actor, result, [f"{result.bundle['id']}.json"], identifiable, patient_id)
    return result


def export_zip(actor: Actor, *, pseudonymise: bool = False) -> tuple[str, bytes]:
    """The centre's Bundle as a zip (``<centre>-fhir-r4.json``, and ``EXCLUDED.txt`` naming
    the patients left out, as the other exports' zips) and its file name; audited."""
    result, identifiable = _build(actor, None, pseudonymise)
    assert actor.centre is not None
    stem = f"cartwatch-{actor.centre.code}-{FORMAT}"
    files = {f"{stem}.json": json.dumps(result.bundle, ensure_ascii=False).encode("utf-8")}
    if result.problems:
        files[EXCLUDED_FILE] = excluded_text(result.problems, identifiable).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    _audit(actor, result, sorted(files), identifiable, None)
    return f"{stem}.zip", buffer.getvalue()
