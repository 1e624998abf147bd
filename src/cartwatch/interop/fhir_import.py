"""FHIR R4 import, the pure part: Bundle entries → what would be stored, and what is not.

Nothing here writes; ``cartwatch.web.services.fhir_import`` stores the plan through the
record services (centre-scoped, audited). Rules (interop-contract.md, FHIR R4):

* Observations of the vital-signs code table (``fhir_codes.MEASUREMENTS``) and
  MedicationAdministrations of the drug tables become one **draft** CRS assessment per
  patient and calendar day (the centre's, in its time zone): the day's
  highest temperature with its time (a fever is never hidden by a later normal value), the
  vasopressors given that day, and whether an antipyretic or anti-cytokine was given. The
  grade is computed on save (ASTCT 2019) and the nurse confirms the draft. Hypotension and
  the oxygen support are left for the nurse (``fhir_codes.NOT_MAPPED`` says why); a draft
  without a temperature is stored as not gradable, never grade 0.
* Laboratory Observations become lab records, one per patient and observation time
  (neutrophils, platelets, haemoglobin, lymphocytes converted to the stored units; CTCAE
  grades computed on save).
* Conditions are checked against the registered patient's diagnosis (SNOMED CT / ICD-10).
* Patients are matched to the centre's registered patients by the cartwatch pseudonym
  (identifier system ``urn:cartwatch:patient-id``, else the resource id); a Patient whose
  ``managingOrganization`` names another centre refuses the whole import.
* cartwatch journey resources (``fhir export``; ``meta.tag`` system
  ``fhir_codes.JOURNEY_TAG``) are read back as the records they were
  (``fhir_journey.JourneyPlan``), whatever their resource type; the web service stores them.
* Every other resource, and every resource that cannot be used (unknown code, unit not
  convertible, no time, no subject, entered in error, a request rather than an
  administration…), is reported with the reason. Resources already imported (same identity,
  same content) are skipped, so re-importing a bundle changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cartwatch.interop import fhir_codes as codes
from cartwatch.interop.fhir_bundle import Entry, validate
from cartwatch.interop.fhir_journey import JourneyPlan, SourceRef, journey_kind
from cartwatch.interop.fhir_units import UCUM_SYSTEM, UnitProblem, convert

IMPORTED_TYPES = ("Patient", "Condition", "Observation", "MedicationAdministration")
USABLE_STATUS = {
    "Observation": ("final", "amended", "corrected"),
    "MedicationAdministration": ("completed", "in-progress"),
    "Condition": None,
    "Patient": None,
}
NOT_IMPORTED = {
    "MedicationRequest": "a MedicationRequest is an order, not a dose given: only "
    "MedicationAdministration is imported",
    "Procedure": "an EHR Procedure is not imported in this version: the CAR-T course (apheresis, "
    "lymphodepletion, infusion) is entered on the course form",
}


@dataclass(frozen=True)
class Unmapped:
    index: int
    resource_type: str
    identity: str | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {
            "entry": self.index,
            "resourceType": self.resource_type,
            "id": self.identity,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Source:
    """One imported resource: its identity, content hash and entry index."""

    identity: str
    sha256: str
    index: int


@dataclass
class PatientInfo:
    patient_id: str
    centre: str | None  # the centre code the resource names, if any
    index: int


@dataclass
class Row:
    """One record to store: a lab draw or a daily CRS draft, with the resources behind it."""

    subject: str  # reference as written (Patient/x, urn:uuid:…) or "#pseudonym"
    observed_at: dt.datetime
    values: dict[str, Any] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was converted / chosen, in words
    patient_id: str | None = None  # resolved at the end


@dataclass
class ConditionCheck:
    subject: str
    diagnosis: str
    source: Source
    patient_id: str | None = None


@dataclass
class ImportPlan:
    total: int = 0
    patients: dict[str, PatientInfo] = field(default_factory=dict)  # by reference
    labs: dict[tuple[str, dt.datetime], Row] = field(default_factory=dict)
    days: dict[tuple[str, dt.date], Row] = field(default_factory=dict)
    conditions: list[ConditionCheck] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    already_imported: int = 0
    foreign: list[str] = field(default_factory=list)  # problems that refuse the import
    journey: JourneyPlan = field(default_factory=JourneyPlan)  # cartwatch journey records


def _codings(concept: Any) -> list[tuple[str, str, str]]:
    if concept is None:
        return []
    return [
        (c.system or "", c.code or "", c.display or "") for c in (concept.coding or []) if c.code
    ]


def _when(value: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """A full date-time with its offset as the centre's local wall-clock time (how cartwatch
    stores times), or None: a date alone does not say which dose or draw it was, and a time
    without an offset does not say which instant."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(zone).replace(tzinfo=None)
    return None


def _subject(model: Any) -> str | None:
    ref = getattr(model, "subject", None) or getattr(model, "patient", None)
    if ref is None:
        return None
    if ref.reference:
        return str(ref.reference)
    ident = ref.identifier
    if ident is not None and ident.system == codes.PATIENT_ID_SYSTEM and ident.value:
        return f"#{ident.value}"
    return None


class _Planner:
    def __init__(self, already: Mapping[str, str], zone: dt.tzinfo) -> None:
        self.plan = ImportPlan()
        self.already = already
        self.zone = zone

    def skip(self, entry: Entry, reason: str) -> None:
        self.plan.unmapped.append(
            Unmapped(entry.index, entry.resource_type, entry.identity, reason)
        )

    def add(self, entry: Entry) -> None:
        self.plan.total += 1
        rtype = entry.resource_type
        kind = journey_kind(entry.resource)
        if kind is None and rtype in NOT_IMPORTED:
            return self.skip(entry, NOT_IMPORTED[rtype])
        if kind is None and rtype not in IMPORTED_TYPES:
            return self.skip(entry, f"resourceType {rtype!r} is not imported")
        identity = entry.identity
        if identity is None:
            return self.skip(entry, "no id and no fullUrl: a re-import could not be recognised")
        sha = entry.sha256
        if self.already.get(identity) == sha:
            return self.already_imported(entry, journey=kind is not None)
        if identity in self.already:
            return self.skip(
                entry,
                "changed since it was imported: not imported again (correct the stored record "
                "with a reason for change)",
            )
        model, problem = validate(entry)
        if model is None:
            return self.skip(entry, problem or "not valid FHIR R4")
        if kind is not None:
            return self.journey(entry, model, kind, SourceRef(identity, sha, entry.index))
        return self.ehr(entry, model, Source(identity, sha, entry.index))

    def ehr(self, entry: Entry, model: Any, source: Source) -> None:
        """A resource of an EHR export (not a cartwatch journey resource)."""
        rtype = entry.resource_type
        statuses = USABLE_STATUS[rtype]
        status = getattr(model, "status", None)
        if statuses is not None and status not in statuses:
            return self.skip(entry, f"status {status!r}: only {', '.join(statuses)} is imported")
        if rtype == "Patient":
            return self.patient(entry, model)
        subject = _subject(model)
        if subject is None:
            return self.skip(entry, "no subject: the patient it belongs to is not named")
        if rtype == "Condition":
            return self.condition(entry, model, subject, source)
        if rtype == "Observation":
            return self.observation(entry, model, subject, source)
        return self.administration(entry, model, subject, source)

    def already_imported(self, entry: Entry, *, journey: bool) -> None:
        self.plan.already_imported += 1
        if journey and entry.resource_type == "Patient":
            # Still needed: new records of the bundle may belong to this patient.
            model, _ = validate(entry)
            if model is not None:
                self.patient(entry, model)

    def journey(self, entry: Entry, model: Any, kind: str, source: SourceRef) -> None:
        """A cartwatch journey resource (``fhir export``): read back as the record it was,
        not as EHR data (fhir_journey.py)."""
        if entry.resource_type == "Patient":
            self.patient(entry, model)
        problem = self.plan.journey.add(entry.resource, kind, source, self.zone)
        if problem is not None:
            self.skip(entry, problem)

    def patient(self, entry: Entry, model: Any) -> None:
        pseudonym = next(
            (i.value for i in model.identifier or [] if i.system == codes.PATIENT_ID_SYSTEM),
            model.id,
        )
        if not pseudonym:
            return self.skip(entry, "Patient without a cartwatch patient id or resource id")
        org = model.managingOrganization
        centre = None
        ident = org.identifier if org is not None else None
        if ident is not None and ident.system == codes.CENTRE_SYSTEM:
            centre = ident.value
        info = PatientInfo(str(pseudonym), centre, entry.index)
        for ref in (f"Patient/{model.id}" if model.id else None, entry.full_url):
            if ref:
                self.plan.patients[ref] = info
        return None

    def condition(self, entry: Entry, model: Any, subject: str, source: Source) -> None:
        for system, code, _ in _codings(model.code):
            diagnosis = codes.DIAGNOSES.get((system, code))
            if diagnosis:
                self.plan.conditions.append(ConditionCheck(subject, diagnosis, source))
                return None
        shown = ", ".join(f"{s}|{c}" for s, c, _ in _codings(model.code)) or "no code"
        return self.skip(entry, f"diagnosis {shown} is not CLL/SLL in cartwatch's code table")

    def observation(self, entry: Entry, model: Any, subject: str, source: Source) -> None:
        loinc = [c for s, c, _ in _codings(model.code) if s == codes.LOINC]
        known = next((codes.MEASUREMENTS[c] for c in loinc if c in codes.MEASUREMENTS), None)
        if known is None:
            reason = next((codes.NOT_MAPPED[c] for c in loinc if c in codes.NOT_MAPPED), None)
            shown = ", ".join(loinc) or "no LOINC code"
            return self.skip(entry, reason or f"LOINC {shown} is not in cartwatch's code table")
        when = _when(model.effectiveDateTime, self.zone)
        if when is None:
            return self.skip(entry, "effectiveDateTime: a date-time with its time zone is needed")
        q = model.valueQuantity
        if q is None or q.value is None:
            return self.skip(entry, "valueQuantity: a measured value is needed")
        if q.system != UCUM_SYSTEM or not q.code:
            return self.skip(entry, f"valueQuantity: the unit must be UCUM-coded (got {q.unit!r})")
        try:
            value = convert(float(q.value), q.code, known.unit)
        except UnitProblem as exc:
            return self.skip(entry, f"valueQuantity.code: {exc}")
        note = f"{known.display} {q.value} {q.code}"
        note += f" = {value:g} {known.unit}" if q.code != known.unit else ""
        if known.target is codes.Target.TEMPERATURE_C:
            row = self._day(subject, when)
            best = row.values.get("temperature_c")
            if best is None or value > best:
                row.values["temperature_c"] = value
                row.observed_at = when
        else:
            row = self.plan.labs.setdefault((subject, when), Row(subject, when))
            if known.target.value in row.values and row.values[known.target.value] != value:
                return self.skip(
                    entry,
                    f"a second {known.display} at the same time with another value "
                    f"({row.values[known.target.value]:g}): not guessed which is right",
                )
            row.values[known.target.value] = value
        row.sources.append(source)
        row.notes.append(f"{note} ({source.identity})")
        return None

    def _day(self, subject: str, when: dt.datetime) -> Row:
        row = self.plan.days.get((subject, when.date()))
        if row is None:
            row = Row(subject, when, {"vasopressors": set(), "antipyretic": False})
            self.plan.days[(subject, when.date())] = row
        return row

    def administration(self, entry: Entry, model: Any, subject: str, source: Source) -> None:
        concept = model.medicationCodeableConcept
        if concept is None:
            return self.skip(
                entry,
                "medication: only medicationCodeableConcept (RxNorm or ATC) is read, not a "
                "medicationReference",
            )
        drug = next(
            (
                codes.DRUG_TABLES[s][c]
                for s, c, _ in _codings(concept)
                if s in codes.DRUG_TABLES and c in codes.DRUG_TABLES[s]
            ),
            None,
        )
        if drug is None:
            shown = ", ".join(f"{s}|{c}" for s, c, _ in _codings(concept)) or "no code"
            return self.skip(entry, f"medication {shown} is not in cartwatch's drug tables")
        when = _when(model.effectiveDateTime, self.zone) or (
            _when(model.effectivePeriod.start, self.zone) if model.effectivePeriod else None
        )
        if when is None:
            return self.skip(entry, "effective[x]: a date-time with its time zone is needed")
        row = self._day(subject, when)
        if drug.role is codes.DrugRole.VASOPRESSOR:
            row.values["vasopressors"].add(drug.name)
        else:
            row.values["antipyretic"] = True
        rate = model.dosage.rateQuantity if model.dosage is not None else None
        rate_text = f" at {rate.value} {rate.code or rate.unit}" if rate is not None else ""
        row.sources.append(source)
        row.notes.append(f"{drug.name} given {when.isoformat()}{rate_text} ({source.identity})")
        return None


def _resolve(plan: ImportPlan, subject: str) -> PatientInfo | None:
    if subject.startswith("#"):
        return PatientInfo(subject[1:], None, -1)
    return plan.patients.get(subject)


def plan_import(
    entries: Iterable[Entry],
    centre: str,
    already: Mapping[str, str] | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> ImportPlan:
    """The plan for *centre*'s code from a stream of entries; *already*: identity → sha256
    of the resources imported before (they are skipped); *zone*: the centre's time zone
    (times are stored as its local wall-clock time, days are its calendar days)."""
    planner = _Planner(already or {}, zone)
    for entry in entries:
        planner.add(entry)
    plan = planner.plan
    seen: set[int] = set()
    for info in plan.patients.values():
        if info.centre is not None and info.centre != centre and info.index not in seen:
            seen.add(info.index)
            plan.foreign.append(
                f"entry[{info.index}]: Patient {info.patient_id} belongs to centre "
                f"{info.centre}, not {centre}: nothing imported"
            )
    for rows in (plan.labs, plan.days):
        for key, row in list(rows.items()):
            found = _resolve(plan, row.subject)
            if found is None:
                del rows[key]  # type: ignore[arg-type]
                plan.unmapped.extend(
                    Unmapped(s.index, s.identity.split("/")[0], s.identity,
                             f"subject {row.subject} is not a Patient of the bundle and names "
                             "no cartwatch patient id")
                    for s in row.sources
                )  # fmt: skip
            else:
                row.patient_id = found.patient_id
    for check in list(plan.conditions):
        match = _resolve(plan, check.subject)
        if match is None:
            plan.conditions.remove(check)
            plan.unmapped.append(
                Unmapped(check.source.index, "Condition", check.source.identity,
                         f"subject {check.subject} is not a Patient of the bundle")
            )  # fmt: skip
        else:
            check.patient_id = match.patient_id
    plan.unmapped.sort(key=lambda u: u.index)
    return plan


def crs_payload(row: Row) -> dict[str, Any]:
    """The draft CRS assessment of one patient-day (centre-format CRS row, no patient id)."""
    payload: dict[str, Any] = {
        "observed_at": row.observed_at.isoformat(),
        "vasopressors": sorted(row.values["vasopressors"]),
        "antipyretic_or_anticytokine_given": bool(row.values["antipyretic"]),
    }
    if "temperature_c" in row.values:
        payload["temperature_c"] = row.values["temperature_c"]
    return payload


def lab_payload(row: Row) -> dict[str, Any]:
    return {"observed_at": row.observed_at.isoformat(), **row.values}
