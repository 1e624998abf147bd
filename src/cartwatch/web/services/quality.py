"""Data-quality rules of the web app: hard (refused) and soft (saved, flagged), as data.

A row model (``centre/records.py`` with the CLI's schemas) already refuses what one record
cannot be on its own: out-of-range numbers, unknown values and implausible dates (the shared
date plausibility in ``schemas/``). The rules here need the patient's other records:

* **hard** (``DATE_ORDER``): a date before the diagnosis (a prior line too: it cannot
  treat a disease not yet diagnosed; a referral letter that dates the diagnosis later than
  the first treatment means the diagnosis date needs correcting), a course whose infusion precedes
  its apheresis or lymphodepletion, a daily assessment (or a CRS/ICANS dose) before the
  infusion, a post-infusion response on or before it, a baseline response after it,
  anything dated after the death. The same order as the centre-format loader's cross-file
  rules (docs/centre-data-format.md), checked here against the stored records of one
  patient when one record is saved. Refused with a ``ClinicalInputError`` on the field.
* **soft** (``SOFT_RULES`` and ``LAB_JUMPS``): unusual but possible values — a temperature
  below 35 °C or above 41.5 °C, a blood count that changed more than a set factor within a
  few days. Saved, then listed on the data-quality page until someone corrects or verifies
  the record.
* **hints** (``hints``): when a value was refused, a likely cause in words, e.g. a
  temperature typed in °F ("102 looks like °F: 38.9 °C?").

Every message is a sentence for a nurse: no field codes, patterns or internal names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.errors import ROOT_PATH
from cartwatch.web.access import Actor, Perm
from cartwatch.web.patients import models as m

# --------------------------------------------------------------------------- hard rules

#: The date fields of each record kind.
DATE_FIELDS: Mapping[type[m.AuditedModel], tuple[str, ...]] = {
    m.PriorLine: ("start_date", "end_date"),
    m.CellTherapy: ("apheresis_date", "lymphodepletion_start", "infusion_date"),
    m.CrsAssessment: ("observed_at",),
    m.IcansAssessment: ("observed_at",),
    m.Treatment: ("given_at",),
    m.Lab: ("observed_at",),
    m.ResponseAssessment: ("assessed_at",),
    m.MrdResult: ("sampled_at",),
    m.FollowUp: ("event_date",),
    m.EligibilityCheck: ("as_of",),
}


@dataclass(frozen=True)
class Order:
    """*field* of *model* must be on or after (``after``) / on or before (``before``) the
    *anchor* date; ``strict`` excludes the anchor day itself. ``when`` restricts the rule to
    some records (e.g. post-infusion responses); ``required`` refuses a record that needs
    the anchor when it is not recorded."""

    model: type[m.AuditedModel]
    field: str
    relation: str  # "after" or "before"
    anchor: str  # a key of Anchors.dates
    strict: bool = False
    when: Callable[[Mapping[str, Any]], bool] | None = None
    required: bool = False
    why: str = ""


def _crs_or_icans_dose(values: Mapping[str, Any]) -> bool:
    return values.get("indication") in ("crs", "icans")


def _post(values: Mapping[str, Any]) -> bool:
    return values.get("timepoint") == m.Timepoint.POST


def _baseline(values: Mapping[str, Any]) -> bool:
    return values.get("timepoint") == m.Timepoint.BASELINE


WHY_TOXICITY = "it grades the toxicity of the infusion"

DATE_ORDER: tuple[Order, ...] = (
    Order(m.CellTherapy, "lymphodepletion_start", "after", "apheresis"),
    Order(m.CellTherapy, "infusion_date", "after", "apheresis"),
    Order(m.CellTherapy, "infusion_date", "after", "lymphodepletion"),
    Order(m.CrsAssessment, "observed_at", "after", "infusion", required=True, why=WHY_TOXICITY),
    Order(m.IcansAssessment, "observed_at", "after", "infusion", required=True, why=WHY_TOXICITY),
    Order(m.Treatment, "given_at", "after", "infusion", when=_crs_or_icans_dose, required=True,
          why="a dose for CRS or ICANS follows the infusion"),
    Order(m.ResponseAssessment, "assessed_at", "after", "infusion", strict=True, when=_post,
          required=True, why="a post-infusion response is assessed after the infusion"),
    Order(m.ResponseAssessment, "assessed_at", "before", "infusion", when=_baseline,
          why="the baseline is assessed before the infusion"),
)  # fmt: skip

ANCHOR_WORDS = {
    "diagnosis": "the diagnosis",
    "apheresis": "the apheresis",
    "lymphodepletion": "the start of lymphodepletion",
    "infusion": "the infusion",
    "death": "the death",
}


@dataclass(frozen=True)
class Anchors:
    """The dates a record is checked against: the patient's, and its own course's."""

    dates: Mapping[str, dt.date | None]


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value if isinstance(value, dt.date) else None


def anchors(
    patient: m.Patient, model: type[m.AuditedModel], values: Mapping[str, Any], pk: int | None
) -> Anchors:
    """The patient's anchor dates, the record being saved (*values*, id *pk*) taken as it
    will be: its own course dates when it is the course, never its old stored self."""
    courses = m.CellTherapy.objects.filter(patient=patient)
    deaths = m.FollowUp.objects.filter(patient=patient, event=m.FollowUpEvent.DEATH)
    if pk is not None:
        courses = courses.exclude(pk=pk) if model is m.CellTherapy else courses
        deaths = deaths.exclude(pk=pk) if model is m.FollowUp else deaths
    course = values if model is m.CellTherapy else None
    if course is None:
        stored = courses.order_by("infusion_date", "pk").first()
        course = (
            {
                "apheresis_date": stored.apheresis_date,
                "lymphodepletion_start": stored.lymphodepletion_start,
                "infusion_date": stored.infusion_date,
            }
            if stored
            else {}
        )
    death = deaths.order_by("event_date").values_list("event_date", flat=True).first()
    return Anchors(
        {
            "diagnosis": patient.diagnosis_date,
            "apheresis": _day(course.get("apheresis_date")),
            "lymphodepletion": _day(course.get("lymphodepletion_start")),
            "infusion": _day(course.get("infusion_date")),
            "death": death,
        }
    )


#: How a broken (relation, strict) rule reads: "after" the anchor was required, so the date
#: is "before" it.
BROKEN_WORDS = {
    ("after", False): "before",
    ("after", True): "on or before",
    ("before", False): "after",
    ("before", True): "on or after",
}


def _broken(day: dt.date, anchor: dt.date, relation: str, strict: bool) -> bool:
    if relation == "after":
        return day < anchor or (strict and day == anchor)
    return day > anchor or (strict and day == anchor)


def date_problems(
    patient: m.Patient, model: type[m.AuditedModel], values: Mapping[str, Any], pk: int | None
) -> list[tuple[str, str]]:
    """``(field, problem)`` for every hard date rule the record (*values*) would break."""
    if model not in DATE_FIELDS:
        return []
    known = anchors(patient, model, values, pk)
    return [(name, problem) for name, _, problem in _problems(model, values, known)]


def _problems(
    model: type[m.AuditedModel], values: Mapping[str, Any], known: Anchors
) -> list[tuple[str, str, str]]:
    """``(field, anchor, problem)`` for every hard date rule a record of *model* with
    *values* breaks against the anchor dates *known*."""
    problems: list[tuple[str, str, str]] = []
    diagnosis, death = known.dates["diagnosis"], known.dates["death"]
    is_the_death = model is m.FollowUp and values.get("event") == m.FollowUpEvent.DEATH
    for name in DATE_FIELDS.get(model, ()):
        day = _day(values.get(name))
        if day is None:
            continue
        if diagnosis is not None and day < diagnosis:
            problems.append(
                (name, "diagnosis",
                 f"{day.isoformat()} is before the diagnosis on {diagnosis.isoformat()}")
            )  # fmt: skip
        if death is not None and day > death and not is_the_death:
            problems.append(
                (name, "death", f"{day.isoformat()} is after the death on {death.isoformat()}")
            )
    for rule in DATE_ORDER:
        if rule.model is not model or (rule.when and not rule.when(values)):
            continue
        day = _day(values.get(rule.field))
        anchor = known.dates[rule.anchor]
        words = ANCHOR_WORDS[rule.anchor]
        because = f" ({rule.why})" if rule.why else ""
        if day is None:
            continue
        if anchor is None:
            if rule.required:
                problems.append(
                    (rule.field, rule.anchor, f"no date of {words} is recorded yet{because}")
                )
            continue
        if _broken(day, anchor, rule.relation, rule.strict):
            word = BROKEN_WORDS[(rule.relation, rule.strict)]
            problems.append(
                (
                    rule.field,
                    rule.anchor,
                    f"{day.isoformat()} is {word} {words} on {anchor.isoformat()}{because}",
                )
            )
    return problems


# --------------------------------------------------------------------------- moved anchors

#: The field of the record kind that sets each anchor date. Saving (or deleting) one of
#: these moves a date the patient's *other* records were checked against when they were saved.
ANCHOR_FIELDS: Mapping[str, tuple[type[m.AuditedModel], str]] = {
    "diagnosis": (m.Patient, "diagnosis_date"),
    "apheresis": (m.CellTherapy, "apheresis_date"),
    "lymphodepletion": (m.CellTherapy, "lymphodepletion_start"),
    "infusion": (m.CellTherapy, "infusion_date"),
    "death": (m.FollowUp, "event_date"),
}

#: Besides its dates, what a stored record's rules read (``Order.when``, the death rule).
_RULE_INPUTS: Mapping[type[m.AuditedModel], tuple[str, ...]] = {
    m.Treatment: ("indication",),
    m.ResponseAssessment: ("timepoint",),
    m.FollowUp: ("event",),
}


def _stored_anchors(patient: m.Patient) -> Anchors:
    return anchors(patient, m.Patient, {}, None)


def _anchors_after(
    patient: m.Patient,
    model: type[m.AuditedModel],
    values: Mapping[str, Any] | None,
    pk: int | None,
) -> Anchors:
    """The patient's anchor dates once the record (*values*, id *pk*) is saved, or deleted
    when *values* is None."""
    if values is None:  # deleted: what remains is the stored anchors without it
        known = dict(anchors(patient, model, {}, pk).dates)
        if model is m.CellTherapy:
            known.update(apheresis=None, lymphodepletion=None, infusion=None)
        if model is m.Patient:
            known["diagnosis"] = None
        return Anchors(known)
    known = dict(anchors(patient, model, values, pk).dates)
    if model is m.Patient:
        known["diagnosis"] = _day(values.get("diagnosis_date"))
    if model is m.FollowUp and values.get("event") == m.FollowUpEvent.DEATH:
        day = _day(values.get("event_date"))
        if day is not None and (known["death"] is None or day < known["death"]):
            known["death"] = day
    return Anchors(known)


def _label(model: type[m.AuditedModel], values: Mapping[str, Any]) -> str:
    days = [d for f in DATE_FIELDS.get(model, ()) if (d := _day(values.get(f))) is not None]
    name = str(model._meta.verbose_name)
    return f"the {name} of {days[0].isoformat()}" if days else f"the {name}"


def moved_anchor_problems(
    patient: m.Patient,
    model: type[m.AuditedModel],
    values: Mapping[str, Any] | None,
    pk: int | None,
) -> list[tuple[str, str]]:
    """``(field, problem)`` for each of the patient's other stored records that the save
    (or, with *values* None, the deletion) of this record would put out of date order: a
    diagnosis date moved after a prior line, an infusion moved after a CRS assessment, a
    death dated before a blood count, a course deleted under its daily assessments.

    Each record was checked against the anchors when it was saved; moving an anchor must
    not silently break them (they would be refused if typed now, and the engines would
    grade toxicity of an infusion that had not happened). Only the breaks this change
    makes are reported: a record that was already out of order is listed on the
    data-quality page and does not block unrelated corrections."""
    if not any(model is holder for holder, _ in ANCHOR_FIELDS.values()):
        return []
    second_course = model is m.CellTherapy and pk is None
    if second_course and m.CellTherapy.objects.filter(patient=patient).exists():
        return []  # a second course is refused as such, with its reason (records.py)
    before = _stored_anchors(patient)
    after = _anchors_after(patient, model, values, pk)
    if after == before:
        return []
    moved = {a for a in after.dates if after.dates[a] != before.dates[a]}
    problems: list[tuple[str, str]] = []
    for other, fields in DATE_FIELDS.items():
        rows = other.objects.filter(patient=patient)  # type: ignore[misc]
        if other is model and pk is not None:
            rows = rows.exclude(pk=pk)
        for row in rows.values(*fields, *_RULE_INPUTS.get(other, ())):
            was = {(f, a) for f, a, _ in _problems(other, row, before)}
            for name, anchor, problem in _problems(other, row, after):
                if anchor not in moved or (name, anchor) in was:
                    continue
                holder, field = ANCHOR_FIELDS[anchor]
                at = field if holder is model and values is not None else ROOT_PATH
                problems.append(
                    (at, f"{_label(other, row)} would be out of order: {problem}; "
                         "correct or delete that record first")
                )  # fmt: skip
    return list(dict.fromkeys(problems))


def refuse_moved_anchors(
    patient: m.Patient,
    model: type[m.AuditedModel],
    values: Mapping[str, Any] | None,
    pk: int | None,
) -> None:
    problems = moved_anchor_problems(patient, model, values, pk)
    if problems:
        raise ClinicalInputError(problems)


def refuse_bad_dates(
    patient: m.Patient, model: type[m.AuditedModel], values: Mapping[str, Any], pk: int | None
) -> None:
    problems = date_problems(patient, model, values, pk)
    if problems:
        raise ClinicalInputError(problems)


# --------------------------------------------------------------------------- soft rules


@dataclass(frozen=True)
class Soft:
    """A value that is possible but unusual: saved, listed on the data-quality page."""

    model: type[m.AuditedModel]
    field: str
    unusual: Callable[[float], bool]
    message: Callable[[float], str]


def _fahrenheit_hint(value: float) -> str:
    celsius = (value - 32) * 5 / 9
    return f"{value:g} looks like °F: that is {celsius:.1f} °C"


# Data-entry plausibility checks, not clinical grading rules: no guideline defines them, so
# they only flag (never refuse, never grade). The bounds are the project's choice, set where
# a value is possible but more often a typing or unit slip: body temperature outside
# 35.0–41.5 °C (below 35 °C is hypothermia; above 41.5 °C is rare even in high-grade CRS),
# haemoglobin above 20 g/dL (typed in g/L). The grading thresholds live in clinical/.
SOFT_RULES: tuple[Soft, ...] = (
    Soft(m.CrsAssessment, "temperature_c", lambda t: t < 35.0,
         lambda t: f"{t:g} °C is below 35 °C: hypothermia, or a typing error?"),
    Soft(m.CrsAssessment, "temperature_c", lambda t: t > 41.5,
         lambda t: f"{t:g} °C is above 41.5 °C: please check the reading"),
    Soft(m.Lab, "hemoglobin_g_dl", lambda h: h > 20.0,
         lambda h: f"haemoglobin {h:g} g/dL is unusually high: was it entered in g/L?"),
)  # fmt: skip


@dataclass(frozen=True)
class Jump:
    """A blood count that changed by more than *factor* (either way) between two draws at
    most *within* apart: a likely unit or typing error in one of them."""

    field: str
    words: str
    factor: float
    within: dt.timedelta


# Project choices as above (no guideline): a change beyond these factors within two days is
# more often a unit or typing slip than biology, so it is listed for a second look.
LAB_JUMPS: tuple[Jump, ...] = (
    Jump("platelets_10e9_l", "platelets", 5.0, dt.timedelta(days=2)),
    Jump("neutrophils_10e9_l", "neutrophils", 10.0, dt.timedelta(days=2)),
    Jump("hemoglobin_g_dl", "haemoglobin", 2.0, dt.timedelta(days=2)),
)


@dataclass(frozen=True)
class Flag:
    """One soft data-quality finding on one stored record."""

    record: m.AuditedModel
    field: str
    message: str


def soft_flags(record: m.AuditedModel) -> list[Flag]:
    """The per-value soft rules for one stored record."""
    out = []
    for rule in SOFT_RULES:
        if type(record) is not rule.model:
            continue
        value = getattr(record, rule.field)
        if value is not None and rule.unusual(float(value)):
            out.append(Flag(record, rule.field, rule.message(float(value))))
    return out


def _ratio(a: float, b: float) -> float:
    low, high = sorted((a, b))
    return float("inf") if low <= 0 < high else (high / low if low > 0 else 1.0)


def lab_jumps(labs: Iterable[m.Lab]) -> list[Flag]:
    """Jumps in each patient's lab series (*labs* in time order per patient)."""
    out: list[Flag] = []
    last: dict[tuple[int, str], m.Lab] = {}
    for lab in labs:
        for jump in LAB_JUMPS:
            value = getattr(lab, jump.field)
            if value is None:
                continue
            key = (lab.patient_id, jump.field)
            before = last.get(key)
            last[key] = lab
            if before is None or lab.observed_at - before.observed_at > jump.within:
                continue
            previous = getattr(before, jump.field)
            if _ratio(float(previous), float(value)) > jump.factor:
                out.append(
                    Flag(
                        lab,
                        jump.field,
                        f"{jump.words} went from {previous:g} to {value:g} within "
                        f"{_hours(lab.observed_at - before.observed_at)}: please check both "
                        "values and their units",
                    )
                )
    return out


def _hours(delta: dt.timedelta) -> str:
    hours = round(delta.total_seconds() / 3600)
    return f"{hours} hour" if hours == 1 else f"{hours} hours"


# --------------------------------------------------------------------------- hints


#: A refused number's likely cause: (model, field, range where the cause applies, hint).
HINTS: tuple[tuple[type[m.AuditedModel], str, tuple[float, float], Callable[[float], str]], ...] = (
    (m.CrsAssessment, "temperature_c", (86.0, 113.0), _fahrenheit_hint),
)


def hints(model: type[m.AuditedModel], payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field, hint)`` for refused values with a likely cause, e.g. °F for °C."""
    out = []
    for hint_model, name, (low, high), hint in HINTS:
        value = payload.get(name)
        if hint_model is model and isinstance(value, int | float) and low <= value <= high:
            out.append((name, hint(float(value)) + "?"))
    return out


def centre_flags(actor: Actor) -> list[Flag]:
    """Every soft finding on the centre's records not yet verified (a verified record was
    checked against the source: its unusual value is real)."""
    actor.require(Perm.VERIFY_RECORDS)
    models = {rule.model for rule in SOFT_RULES}
    out: list[Flag] = []
    for model in sorted(models, key=lambda mdl: mdl.__name__):
        rows = actor.records(model).exclude(form_status=m.FormStatus.VERIFIED)
        for record in rows:
            out += soft_flags(record)
    labs = actor.records(m.Lab).order_by("patient_id", "observed_at", "pk")
    out += [f for f in lab_jumps(labs) if f.record.form_status != m.FormStatus.VERIFIED]
    return out
