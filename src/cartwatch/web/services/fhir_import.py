"""Store a FHIR Bundle's plan (``cartwatch.interop.fhir_import``) at the actor's centre.

Centre-scoped through ``Actor`` and written through ``services.records`` (validation,
grading, audit), with the permission of record entry (``Perm.WRITE_ASSESSMENTS``): daily CRS
drafts (form status *incomplete*, for the nurse to confirm) and lab records. The cartwatch
journey resources of a ``fhir export`` become the records they were
(``services.fhir_journey``; registering patients needs ``Perm.WRITE_PATIENTS``). All or nothing:
a Bundle naming a patient of another centre is refused before any write, and the records
and the import ledger are saved in one transaction.
"""

from __future__ import annotations

from typing import IO, Any

import pydantic
from django.db import transaction
from django.utils import timezone

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.interop.fhir_bundle import MAX_BYTES, BundleRefused, BundleTooLarge, iter_entries
from cartwatch.interop.fhir_import import (
    ImportPlan,
    Row,
    Unmapped,
    crs_payload,
    lab_payload,
    plan_import,
)
from cartwatch.schemas.errors import problems_from
from cartwatch.web.access import Actor, Perm
from cartwatch.web.imports.models import ImportedResource
from cartwatch.web.patients import models as m
from cartwatch.web.services import records
from cartwatch.web.services.fhir_journey import store_journey

__all__ = ["WEB_MAX_BYTES", "BundleRefused", "BundleTooLarge", "import_bundle"]

#: Bundles sent through the web app (the API and the import page): 20 MB; larger exports go
#: through ``cartwatch fhir import`` on the server.
WEB_MAX_BYTES = 20 * 1024 * 1024


def _patients(actor: Actor, plan: ImportPlan) -> dict[str, m.Patient]:
    wanted = {r.patient_id for r in [*plan.days.values(), *plan.labs.values()]}
    wanted |= {c.patient_id for c in plan.conditions}
    return {p.patient_id: p for p in actor.patients().filter(patient_id__in=wanted)}


def _unregistered(row_sources: Any, patient_id: str | None, centre: str) -> list[Unmapped]:
    return [
        Unmapped(s.index, s.identity.split("/")[0], s.identity,
                 f"patient {patient_id} is not registered at centre {centre}: register the "
                 "patient first (nothing of theirs was imported)")
        for s in row_sources
    ]  # fmt: skip


def _build(
    actor: Actor, kind: records.Kind, patient: m.Patient, row: Row, *, draft: bool
) -> tuple[m.PatientRecord | None, list[Unmapped]]:
    payload = crs_payload(row) if kind.name == "crs" else lab_payload(row)
    try:
        record = records.new_record(actor, kind, patient, payload, completed=not draft)
    except (pydantic.ValidationError, ClinicalInputError) as exc:
        reason = "; ".join(problems_from(exc))
        return None, [
            Unmapped(s.index, s.identity.split("/")[0], s.identity, f"refused: {reason}")
            for s in row.sources
        ]
    return record, []


def _record_summary(kind: str, record: m.PatientRecord, row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": kind,
        "record_id": record.pk,
        "patient_id": record.patient.patient_id,
        "observed_at": row.observed_at.isoformat(),
        "form_status": record.form_status,
        "standard": getattr(record, "standard", ""),
        "reasons": getattr(record, "reasons", []),
        "from": row.notes,
    }
    if kind == "crs":
        out["grade"] = getattr(record, "grade", None)
    else:
        out["grades"] = {
            "neutrophil_count_decreased": getattr(record, "grade_neutrophil_count_decreased", None),
            "platelet_count_decreased": getattr(record, "grade_platelet_count_decreased", None),
            "anemia": getattr(record, "grade_anemia", None),
        }
    return out


def import_bundle(actor: Actor, stream: IO[bytes], *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Import the Bundle in *stream* at the actor's centre and return the report.

    Raises :class:`BundleRefused` (nothing written) for a document that is not an importable
    Bundle, one over the bounds, or one naming a patient of another centre.
    """
    actor.require(Perm.WRITE_ASSESSMENTS)
    assert actor.centre is not None  # WRITE_ASSESSMENTS is a centre role's
    centre = actor.centre
    already = dict(ImportedResource.objects.filter(centre=centre).values_list("identity", "sha256"))
    zone = timezone.get_default_timezone()  # the centre's zone (settings.TIME_ZONE)
    plan = plan_import(iter_entries(stream, max_bytes=max_bytes), centre.code, already, zone)
    if plan.foreign:
        raise BundleRefused(plan.foreign)
    patients = _patients(actor, plan)
    unmapped = list(plan.unmapped)
    built: list[tuple[str, m.PatientRecord, Row]] = []
    for kind_name, rows, draft in (("crs", plan.days, True), ("labs", plan.labs, False)):
        for row in rows.values():
            patient = patients.get(row.patient_id or "")
            if patient is None:
                unmapped += _unregistered(row.sources, row.patient_id, centre.code)
                continue
            record, refused = _build(actor, records.KINDS[kind_name], patient, row, draft=draft)
            unmapped += refused
            if record is not None:
                built.append((kind_name, record, row))
    checked = 0
    ledger: list[ImportedResource] = []
    for check in plan.conditions:
        patient = patients.get(check.patient_id or "")
        if patient is None:
            unmapped += _unregistered([check.source], check.patient_id, centre.code)
        elif patient.diagnosis != check.diagnosis:
            unmapped.append(
                Unmapped(check.source.index, "Condition", check.source.identity,
                         f"diagnosis {check.diagnosis} differs from the registered "
                         f"{patient.diagnosis}: not changed (correct it on the patient form)")
            )  # fmt: skip
        else:
            checked += 1
            ledger.append(
                ImportedResource(centre=centre, identity=check.source.identity,
                                 sha256=check.source.sha256, record_model="patient",
                                 record_id=patient.pk, imported_by=actor.user)
            )  # fmt: skip
    with transaction.atomic():
        journey = store_journey(actor, plan)
        if journey is not None:
            unmapped += journey.unmapped
            ledger += journey.ledger
        records.save_new(actor, *(record for _, record, _ in built))
        for kind_name, record, row in built:
            ledger += [
                ImportedResource(centre=centre, identity=s.identity, sha256=s.sha256,
                                 record_model=kind_name, record_id=record.pk,
                                 imported_by=actor.user)
                for s in row.sources
            ]  # fmt: skip
        for item in ledger:
            item.save()
    unmapped.sort(key=lambda u: u.index)
    return {
        "centre": centre.code,
        "resources": plan.total,
        "stored": {
            "crs_drafts": sum(1 for k, _, _ in built if k == "crs"),
            "labs": sum(1 for k, _, _ in built if k == "labs"),
            "conditions_checked": checked,
        },
        "already_imported": plan.already_imported,
        "unmapped": [u.to_dict() for u in unmapped],
        "records": [_record_summary(k, r, row) for k, r, row in built],
        "journey": journey.report() if journey is not None else None,
        "note": "CRS assessments are drafts (form status incomplete): a nurse confirms each, "
        "recording hypotension and the oxygen support, which are never inferred",
    }
