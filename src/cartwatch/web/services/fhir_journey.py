"""Store the cartwatch journey records of an imported Bundle (``fhir export`` read back).

Called by ``services.fhir_import.import_bundle`` inside its transaction. Each record goes
through the one write path (``services.records``): validated by the row models, graded by
the engines on save, audited. Rules:

* a journey Patient creates the patient when the centre has no such patient yet; records
  of a patient registered here by hand (not by a journey import: no ledger entry) are not
  added from a bundle — that would duplicate what the centre entered — and are reported;
* records keep their form status, except *verified*, which becomes *complete*: verifying is
  an act of a user of the receiving centre against its source;
* the grade (and every other result) is computed again here; where it differs from the
  grade the exporting centre had stored, the record is stored with the engine's grade and
  the difference is reported per record — never overwritten silently, never dropped;
* the AdverseEvents are derived, not stored: their maximum grade is checked against the
  records as stored here, and a difference is reported the same way.

Records are stored kind by kind in the centre-format order (patient, prior lines, course,
CRS, ICANS, doses, labs, responses with baselines first, MRD, follow-up, eligibility) and,
within a kind, in time order and then the exporting centre's record order: a CRS grade
depends on the earlier assessments of the course, a response on the baseline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pydantic
from django.db import transaction

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.interop.fhir_export import adverse_event_summaries
from cartwatch.interop.fhir_fields import FieldProblem
from cartwatch.interop.fhir_import import ImportPlan, PatientInfo, Unmapped
from cartwatch.interop.fhir_journey import (
    RECORD_KINDS,
    JourneyRecord,
    SourceRef,
    same_result,
)
from cartwatch.schemas.errors import problems_from
from cartwatch.web.access import Actor, Perm
from cartwatch.web.imports.models import ImportedResource
from cartwatch.web.patients import models as m
from cartwatch.web.services import records
from cartwatch.web.services.fhir_export import journeys

_TIME_FIELD = {
    "crs": "observed_at",
    "icans": "observed_at",
    "labs": "observed_at",
    "treatments": "given_at",
    "mrd": "sampled_at",
    "followup": "event_date",
    "eligibility": "as_of",
    "prior-lines": "line_number",
}


@dataclass
class JourneyResult:
    stored: Counter[str] = field(default_factory=Counter)
    patients_created: int = 0
    verified_now_complete: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    adverse_events_checked: int = 0
    unmapped: list[Unmapped] = field(default_factory=list)
    ledger: list[ImportedResource] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {
            "records": {k: self.stored[k] for k in RECORD_KINDS if self.stored[k]},
            "patients_created": self.patients_created,
            "verified_now_complete": self.verified_now_complete,
            "adverse_events_checked": self.adverse_events_checked,
            "grade_differences": self.differences,
        }


def _refuse(sources: list[SourceRef], reason: str) -> list[Unmapped]:
    return [Unmapped(s.index, s.identity.split("/")[0], s.identity, reason) for s in sources]


def _order(record: JourneyRecord, fields: dict[str, Any]) -> tuple[Any, ...]:
    kind = record.kind
    when = str(fields.get(_TIME_FIELD.get(kind, "assessed_at"), ""))
    baseline_first = kind == "responses" and fields.get("timepoint") != "baseline"
    return (RECORD_KINDS.index(kind), baseline_first, when.zfill(4), record.source_id)


class _Store:
    def __init__(self, actor: Actor, plan: ImportPlan) -> None:
        assert actor.centre is not None
        self.actor, self.plan, self.centre = actor, plan, actor.centre
        self.result = JourneyResult()
        self.patients: dict[str, m.Patient] = {}  # pseudonym → patient records may go to
        self.blocked: dict[str, str] = {}  # pseudonym → why its records are not imported
        self.registered = {p.patient_id: p for p in actor.patients()}
        refs = [r.subject for r in plan.journey.records.values() if r.kind == "patient"]
        refs += [ref for ref, info in plan.patients.items() if info.patient_id in self.registered]
        known = set(
            ImportedResource.objects.filter(
                centre=self.centre, record_model="patient", identity__in=[r for r in refs if r]
            ).values_list("record_id", flat=True)
        )
        for patient in self.registered.values():
            if patient.pk in known:
                self.patients[patient.patient_id] = patient  # made by an earlier import

    def ledger(self, sources: list[SourceRef], model: str, pk: int) -> None:
        self.result.ledger += [
            ImportedResource(
                centre=self.centre,
                identity=s.identity,
                sha256=s.sha256,
                record_model=model,
                record_id=pk,
                imported_by=self.actor.user,
            )
            for s in sources
        ]

    def run(self) -> JourneyResult:
        ordered: list[tuple[tuple[Any, ...], JourneyRecord, dict[str, Any]]] = []
        for record in self.plan.journey.records.values():
            try:
                fields = record.fields()
            except FieldProblem as exc:
                record.problems.append(str(exc))
                fields = {}
            if record.problems:
                self.result.unmapped += _refuse(record.sources, "; ".join(record.problems))
                continue
            ordered.append((_order(record, fields), record, fields))
        for _, record, fields in sorted(ordered, key=lambda item: item[0]):
            try:
                with transaction.atomic():
                    self.store(record, fields)
            except (pydantic.ValidationError, ClinicalInputError) as exc:
                reason = f"{record.kind} {record.key} refused: " + "; ".join(problems_from(exc))
                self.result.unmapped += _refuse(record.sources, reason)
        self.check_adverse_events()
        return self.result

    def store(self, record: JourneyRecord, fields: dict[str, Any]) -> None:
        completed = record.form_status != m.FormStatus.INCOMPLETE
        if record.form_status == m.FormStatus.VERIFIED:
            self.result.verified_now_complete += 1
        if record.kind == "patient":
            return self.create_patient(record, fields, completed)
        info = self.plan.patients.get(record.subject or "")
        pseudonym = info.patient_id if info is not None else None
        patient = self.patients.get(pseudonym or "")
        if patient is None:
            why = self.blocked.get(pseudonym or "") or (
                f"patient {pseudonym or record.subject} is not in the bundle and not imported "
                f"before at centre {self.centre.code}: nothing of theirs was imported"
            )
            self.result.unmapped += _refuse(record.sources, why)
            return None
        instance: m.AuditedModel
        if record.kind == "eligibility":
            if not self.actor.can(Perm.EDIT_ELIGIBILITY):
                reason = "an eligibility decision is a physician's: not imported for this role"
                self.result.unmapped += _refuse(record.sources, reason)
                return None
            instance = records.create_eligibility(self.actor, patient, fields)
        else:
            instance = records.create_record(
                self.actor, records.KINDS[record.kind], patient, fields, completed=completed
            )
        self.result.stored[record.kind] += 1
        self.compare(record, instance, pseudonym or "")
        self.ledger(record.sources, record.kind, instance.pk)
        return None

    def create_patient(self, record: JourneyRecord, fields: dict[str, Any], done: bool) -> None:
        pseudonym = str(fields.get("patient_id"))
        if pseudonym in self.patients:  # imported before: its Patient resource changed
            return None
        if pseudonym in self.registered:
            self.blocked[pseudonym] = (
                f"patient {pseudonym} is already registered at centre {self.centre.code} "
                "(not by a FHIR import): not changed, and none of their records imported from "
                "this bundle (they would duplicate what the centre entered)"
            )
            self.result.unmapped += _refuse(record.sources, self.blocked[pseudonym])
            return None
        patient = records.create_patient(self.actor, fields, completed=done)
        self.patients[pseudonym] = patient
        self.result.stored["patient"] += 1
        self.result.patients_created += 1
        self.ledger(record.sources, "patient", patient.pk)
        return None

    def compare(self, record: JourneyRecord, instance: Any, pseudonym: str) -> None:
        for name, exported in record.exported.items():
            stored = getattr(instance, name, None)
            if not same_result(exported, stored):
                self.result.differences.append(
                    {
                        "record": record.key,
                        "kind": record.kind,
                        "patient_id": pseudonym,
                        "field": name,
                        "exported": exported,
                        "stored": stored,
                        "note": "stored as computed here (the engines' result); the exported "
                        "value was not used",
                    }
                )

    def check_adverse_events(self) -> None:
        events = self.plan.journey.adverse_events
        if not events:
            return
        subjects = {e.subject for e in events}
        infos: dict[str, PatientInfo] = {
            s: self.plan.patients[s] for s in subjects if s in self.plan.patients
        }
        wanted = {i.patient_id for i in infos.values()} & set(self.patients)
        found = {
            j.patient.patient_id: j
            for j in journeys(
                m.Patient.objects.filter(pk__in=[self.patients[p].pk for p in wanted]),
                identifiable=True,
            )[0]
        }
        for event in events:
            info = infos.get(event.subject or "")
            journey = found.get(info.patient_id) if info is not None else None
            if journey is None:
                why = self.blocked.get(info.patient_id if info is not None else "") or (
                    f"the patient {event.subject} was not imported, so it cannot be checked"
                )
                self.result.unmapped += _refuse([event.source], why)
                continue
            here = {s.term: s.grade for s in adverse_event_summaries(journey)}
            if here.get(event.term) != event.grade:
                self.result.differences.append(
                    {
                        "record": event.source.identity,
                        "kind": "adverse-event",
                        "patient_id": journey.patient.patient_id,
                        "field": f"{event.term} grade",
                        "exported": event.grade,
                        "stored": here.get(event.term),
                        "note": "adverse events are derived from the records as stored here",
                    }
                )
            self.result.adverse_events_checked += 1
            self.ledger(
                [event.source], "adverse-event", self.patients[journey.patient.patient_id].pk
            )


def store_journey(actor: Actor, plan: ImportPlan) -> JourneyResult | None:
    """Store *plan*'s journey records at the actor's centre (inside the caller's
    transaction); None when the bundle has none. Needs the permissions to register patients
    and enter assessments (NotPermitted before anything is written)."""
    if not plan.journey:
        return None
    actor.require(Perm.WRITE_PATIENTS)
    actor.require(Perm.WRITE_ASSESSMENTS)
    return _Store(actor, plan).run()
