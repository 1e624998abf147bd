"""CIBMTR registry export: which forms are due per patient, and one value per form element
with its provenance and status (interop contract, "Registry export").

Pure: centre-format rows (``centre.loader.CentreData``) and a data cut (``as_of``) in, a
:class:`RegistryExport` out; grades come from the clinical engines (ASTCT 2019, CTCAE v5.0,
iwCLL 2018), never from stored copies. The elements and their manual sources are
``cibmtr_forms``; the 4100 follow-up values are ``cibmtr_followup``; the files are written
by ``cibmtr_files``.

Status of a value:

* ``present``: cartwatch has the value; ``provenance`` says from which rows and how.
* ``missing``: the registry needs it and cartwatch has no value (or one that is not
  certain: a not-gradable CRS observation never becomes "No" or grade 0);
  ``provenance`` says what to record.
* ``not_applicable``: the question does not arise (no CRS → no date of CRS diagnosis); why.
* ``not_collected``: the form asks it but cartwatch does not capture it (date of birth,
  comorbidities…): to be entered on FormsNet directly.

Forms due (``forms_due``): 4000, 4003 and 4006 once the infusion is on or before the data
cut; each 4100 time point once its day after the infusion is reached (day 100 is due on
day 100, not day 99), or earlier when the patient died within its period (the form that
reports the death); none after the period in which the patient died; 2900 when a death is
recorded. The 4100 reporting day and the death rule are cartwatch's reading of the manual
(``FORMS["4100"].due``, UNVERIFIED).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cartwatch.centre.loader import FILE_SPECS, CentreData
from cartwatch.centre.records import FollowupEvent, Sex, Timepoint
from cartwatch.interop.cibmtr_forms import DEATH, FOLLOW_UP, PRE_INFUSION, Element, follow_up_points


class Status(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"
    NOT_COLLECTED = "not_collected"


@dataclass(frozen=True)
class SourceRef:
    """A centre-format row a value came from: file stem and 0-based index in CentreData."""

    file: str
    index: int

    def text(self) -> str:
        return f"{self.file} row {self.index + 1}"


@dataclass(frozen=True)
class Value:
    """One element's value for one form instance of one patient."""

    element: Element
    status: Status
    value: str = ""
    provenance: str = ""
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True)
class FormInstance:
    """A form due for a patient: 4000/4003/4006 ("infusion"), 4100 ("100d", "6m", "1y"…)
    over its reporting period, 2900 ("death")."""

    patient_id: str
    form: str
    timepoint: str
    due: dt.date
    period_start: dt.date | None
    period_end: dt.date | None
    values: tuple[Value, ...]

    def of(self, status: Status) -> list[Value]:
        return [v for v in self.values if v.status is status]

    @property
    def required(self) -> int:
        """Elements the registry needs that cartwatch collects and that apply."""
        return len(self.of(Status.PRESENT)) + len(self.of(Status.MISSING))

    @property
    def present(self) -> int:
        return len(self.of(Status.PRESENT))

    @property
    def missing_keys(self) -> list[str]:
        return [v.element.key for v in self.of(Status.MISSING)]

    @property
    def not_collected(self) -> int:
        return len(self.of(Status.NOT_COLLECTED))


@dataclass(frozen=True)
class PatientRegistry:
    patient_id: str
    infusion_date: dt.date | None
    forms: tuple[FormInstance, ...]
    note: str = ""  # why no form is due, when none is


@dataclass(frozen=True)
class RegistryExport:
    as_of: dt.date
    patients: tuple[PatientRegistry, ...]

    @property
    def forms(self) -> list[FormInstance]:
        return [f for p in self.patients for f in p.forms]

    def counts(self) -> dict[str, int]:
        forms = self.forms
        return {
            "patients": len(self.patients),
            "patients_with_forms_due": sum(1 for p in self.patients if p.forms),
            "forms_due": len(forms),
            "required": sum(f.required for f in forms),
            "present": sum(f.present for f in forms),
            "missing": sum(len(f.missing_keys) for f in forms),
            "not_collected": sum(f.not_collected for f in forms),
        }


# --------------------------------------------------------------------------- patient rows


def day_of(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


#: The date field of each centre-format file (None: patients, prior lines, the course).
DATE_FIELDS = {spec.stem: spec.time_field for spec in FILE_SPECS}


@dataclass
class PatientRows:
    """One patient's rows on or before the data cut, each with its SourceRef."""

    patient_id: str
    rows: dict[str, list[tuple[SourceRef, Any]]] = field(default_factory=lambda: defaultdict(list))

    def of(self, stem: str) -> list[tuple[SourceRef, Any]]:
        return self.rows.get(stem, [])

    def first(self, stem: str) -> tuple[SourceRef, Any] | None:
        rows = self.of(stem)
        return rows[0] if rows else None

    def dated(self) -> Iterable[tuple[dt.date, SourceRef]]:
        """Every dated row (any contact with the patient: observations, labs, doses,
        assessments, MRD samples, follow-up events)."""
        for stem, rows in self.rows.items():
            name = DATE_FIELDS.get(stem)
            if name is None:
                continue
            for ref, row in rows:
                yield day_of(getattr(row, name)), ref

    def death(self) -> tuple[SourceRef, Any] | None:
        deaths = [(ref, r) for ref, r in self.of("followup") if r.event is FollowupEvent.DEATH]
        return min(deaths, key=lambda d: d[1].event_date) if deaths else None


def group_rows(data: CentreData, as_of: dt.date) -> dict[str, PatientRows]:
    """Rows per patient; a dated row after *as_of* is left out (the data cut)."""
    out: dict[str, PatientRows] = {}
    for spec in FILE_SPECS:
        name = spec.time_field
        for index, row in enumerate(data.rows(spec.stem)):
            if name is not None and day_of(getattr(row, name)) > as_of:
                continue
            pid: str = row.patient_id  # type: ignore[attr-defined]
            patient = out.setdefault(pid, PatientRows(pid))
            patient.rows[spec.stem].append((SourceRef(spec.stem, index), row))
    return out


# --------------------------------------------------------------------------- forms due


@dataclass(frozen=True)
class Due:
    form: str
    timepoint: str
    due: dt.date
    start: dt.date | None = None
    end: dt.date | None = None
    target_day: int | None = None


def forms_due(infusion: dt.date | None, as_of: dt.date, death: dt.date | None) -> list[Due]:
    """The form instances due by *as_of* for an infusion (see the module docstring)."""
    if infusion is None or infusion > as_of:
        return []
    out = [Due(form, "infusion", infusion) for form in ("4000", "4003", "4006")]
    years = max(1, (as_of - infusion).days // 365 + 1)
    start = infusion
    for label, day in follow_up_points(years):
        target = infusion + dt.timedelta(days=day)
        if death is not None and death < start:
            break  # died in an earlier period: that period's form reported it
        died_here = death is not None and death <= target and death <= as_of
        if target <= as_of or died_here:
            end = death if died_here and death is not None else target
            out.append(Due("4100", label, min(target, end), start, end, day))
        if target > as_of:
            break
        start = target + dt.timedelta(days=1)
    if death is not None and death <= as_of:
        out.append(Due("2900", "death", death))
    return out


# --------------------------------------------------------------------------- values


def present(e: Element, value: object, provenance: str, *refs: SourceRef) -> Value:
    sources = tuple(refs)
    where = "; ".join(r.text() for r in sources)
    text = f"{provenance} ({where})" if where and where not in provenance else provenance
    return Value(e, Status.PRESENT, str(value), text, sources)


def missing(e: Element, why: str, *refs: SourceRef) -> Value:
    return Value(e, Status.MISSING, "", why, tuple(refs))


def not_applicable(e: Element, why: str, *refs: SourceRef) -> Value:
    return Value(e, Status.NOT_APPLICABLE, "", why, tuple(refs))


def not_collected(e: Element) -> Value:
    return Value(e, Status.NOT_COLLECTED, "", e.note or "not captured by cartwatch")


_SEX = {Sex.F: "Female", Sex.M: "Male"}
_DISEASE = {"CLL": "Chronic lymphocytic leukaemia (CLL)", "SLL": "Small lymphocytic lymphoma (SLL)"}


class _PreInfusion:
    """The 4000/4003/4006 elements from the patient, prior-line and course rows."""

    def __init__(self, p: PatientRows, infusion: dt.date) -> None:
        patient, course = p.first("patients"), p.first("cell_therapy")
        assert patient is not None and course is not None  # forms are due only for a course
        self.p = p
        self.infusion = infusion
        self.pref, self.prow = patient
        self.cref, self.crow = course

    def value(self, e: Element) -> Value:
        if not e.collected:
            return not_collected(e)
        result: Value = getattr(self, f"_{e.key}")(e)
        return result

    def _sex(self, e: Element) -> Value:
        sex = _SEX.get(self.prow.sex)
        if sex is None:
            return missing(e, "sex recorded as U (unknown): record the patient's sex", self.pref)
        return present(e, sex, f"patients.csv sex {self.prow.sex.value}", self.pref)

    def _primary_disease(self, e: Element) -> Value:
        return present(e, _DISEASE[self.prow.diagnosis.value], "patients.csv diagnosis", self.pref)

    def _date_of_diagnosis(self, e: Element) -> Value:
        when = self.prow.diagnosis_date
        if when is None:
            return missing(e, "no diagnosis date: record it on the registration", self.pref)
        return present(e, when.isoformat(), "patients.csv diagnosis_date", self.pref)

    def _prior_systemic_therapy(self, e: Element) -> Value:
        return _prior_lines(e, self.p)

    def _disease_assessed_prior(self, e: Element) -> Value:
        baselines = [
            (ref, r)
            for ref, r in self.p.of("response_assessments")
            if r.timepoint is Timepoint.BASELINE and r.assessed_at <= self.infusion
        ]
        if not baselines:
            return missing(
                e,
                "no pre-infusion (baseline) iwCLL assessment on or before the infusion "
                f"{self.infusion.isoformat()}: record it, or answer No/Unknown on FormsNet",
            )
        ref, row = max(baselines, key=lambda b: b[1].assessed_at)
        return present(e, "Yes", f"baseline iwCLL assessment of {row.assessed_at}", ref)

    def _lymphodepleting_therapy(self, e: Element) -> Value:
        regimen, start = self.crow.lymphodepletion_regimen, self.crow.lymphodepletion_start
        if regimen is None:
            return missing(
                e, "no lymphodepletion regimen on the CAR-T course: record it", self.cref
            )
        when = f", started {start.isoformat()}" if start else " (start date not recorded)"
        return present(e, f"{regimen}{when}", "CAR-T course", self.cref)

    def _performance_status(self, e: Element) -> Value:
        if self.prow.ecog is None:
            return missing(e, "no ECOG performance status: record it", self.pref)
        return present(e, f"ECOG {self.prow.ecog}", "patients.csv ecog", self.pref)

    def _collection_date(self, e: Element) -> Value:
        day = self.crow.apheresis_date.isoformat()
        return present(e, day, "CAR-T course apheresis date", self.cref)

    def _product_name(self, e: Element) -> Value:
        return present(e, self.crow.product, "CAR-T course product", self.cref)

    def _lot_number(self, e: Element) -> Value:
        if self.crow.lot is None:
            return missing(
                e, "no lot number on the CAR-T course: record it from the RFI", self.cref
            )
        return present(e, self.crow.lot, "CAR-T course lot", self.cref)

    def _infusion_date(self, e: Element) -> Value:
        return present(e, self.infusion.isoformat(), "CAR-T course infusion date", self.cref)

    def _cells_infused(self, e: Element) -> Value:
        dose = self.crow.dose_10e6_car_t_cells
        if dose is None:
            return missing(e, "no infused dose on the CAR-T course: record it", self.cref)
        text = f"{dose:g} × 10^6 CAR-positive viable T cells"
        return present(e, text, "CAR-T course dose (viable CAR+ T cells; see the note)", self.cref)


def _prior_lines(e: Element, p: PatientRows) -> Value:
    lines = sorted(p.of("prior_lines"), key=lambda lr: lr[1].line_number)
    if not lines:
        return missing(e, "no prior line of therapy recorded: record the prior lines")
    parts = []
    for _, row in lines:
        when = f" from {row.start_date.isoformat()}" if row.start_date else ""
        parts.append(f"line {row.line_number}: {' + '.join(row.agents)}{when} ({row.outcome})")
    return present(
        e,
        f"{len(lines)} line(s): " + "; ".join(parts),
        f"{len(lines)} prior_lines row(s)",
        *(ref for ref, _ in lines),
    )


def _death_values(p: PatientRows) -> tuple[Value, ...]:
    death = p.death()
    assert death is not None
    ref, row = death
    date_e, cause_e = DEATH
    cause = row.death_cause.value.replace("_", " ")
    return (
        present(date_e, row.event_date.isoformat(), "follow-up event death", ref),
        present(cause_e, cause, "follow-up death_cause (cartwatch's list, see the note)", ref),
    )


def derive_patient(p: PatientRows, as_of: dt.date) -> PatientRegistry:
    from cartwatch.interop.cibmtr_followup import FollowUpContext

    course = p.first("cell_therapy")
    infusion = course[1].infusion_date if course else None
    death = p.death()
    death_day = death[1].event_date if death else None
    if course is None:
        return PatientRegistry(p.patient_id, None, (), "no CAR-T course recorded: no form due")
    if infusion is None or infusion > as_of:
        return PatientRegistry(
            p.patient_id, None, (), f"not infused by {as_of.isoformat()}: no form due"
        )
    forms: list[FormInstance] = []
    context = FollowUpContext(p, infusion, as_of)
    for due in forms_due(infusion, as_of, death_day):
        values: Sequence[Value]
        if due.form == "4100":
            assert due.start is not None and due.end is not None and due.target_day is not None
            values = context.values(FOLLOW_UP, due.timepoint, due.start, due.end, due.target_day)
        elif due.form == "2900":
            values = _death_values(p)
        else:
            pre = _PreInfusion(p, infusion)
            values = [pre.value(e) for e in PRE_INFUSION if e.form == due.form]
        forms.append(
            FormInstance(
                p.patient_id, due.form, due.timepoint, due.due, due.start, due.end, tuple(values)
            )
        )
    return PatientRegistry(p.patient_id, infusion, tuple(forms))


def derive_registry(data: CentreData, as_of: dt.date) -> RegistryExport:
    """Every patient's due forms and element values on *as_of* (see the module docstring)."""
    grouped = group_rows(data, as_of)
    patients = [derive_patient(grouped[row.patient_id], as_of) for row in data.patients]
    return RegistryExport(as_of, tuple(sorted(patients, key=lambda r: r.patient_id)))
