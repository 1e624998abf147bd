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

import uuid
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
from cartwatch.web.services.exports import record_export
from cartwatch.web.services.records import KINDS
from cartwatch.web.services.stored_checks import StoredProblem, checked_records

FORMAT = "fhir-r4"
#: Stored model → record kind (the names of ``services.records.KINDS``).
KIND_OF: dict[type[Model], str] = {m.Patient: "patient"} | {k.model: n for n, k in KINDS.items()}


@dataclass(frozen=True)
class FhirExport:
    bundle: dict[str, Any]
    patients: int
    problems: tuple[StoredProblem, ...]

    @property
    def excluded(self) -> tuple[str, ...]:
        return tuple(sorted({p.patient_id for p in self.problems}))

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


def export_bundle(
    actor: Actor, *, patient_id: str | None = None, pseudonymise: bool = False
) -> FhirExport:
    """The FHIR Bundle of the actor's centre (or of *patient_id*: Http404 when the actor may
    not see such a patient, also when a pseudonymised export leaves them out)."""
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
    result = FhirExport(bundle, len(found), problems)
    record_export(
        actor,
        FORMAT,
        [f"{export_id}.json"],
        len(found),
        pseudonymised=not identifiable,
        patient=patient_id,
        resources=result.resources,
        excluded=list(result.excluded),
    )
    return result
