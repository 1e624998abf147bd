"""The centre's work list: patients needing attention today.

Rules (each alert names its rule and the observed value):
* ``crs_grade_ge2`` / ``icans_grade_ge2``: the latest assessment, in the last 48 hours, has
  grade ≥2 (ASTCT grade 2 is where tocilizumab/steroids are considered);
* ``crs_grade_rose`` / ``icans_grade_rose``: the latest assessment, in the last 48 hours, has
  a higher grade than the one before (without the window, a patient whose last assessment
  of the episode was a rise would stay on the list for good);
* ``crs_not_gradable``: the latest CRS assessment, in the last 48 hours, is not gradable
  (no temperature, so fever can be neither shown nor excluded: contract v2 item 1) while
  hypotension, a vasopressor or oxygen is recorded (not attributed to another cause) — with
  a fever that is grade ≥2, so it is raised on its own ("temperature missing") instead of
  reading as nothing. The grade rules above look at the gradable assessments only (a null
  is not a grade 0);
* ``missed_assessment``: a day in the first N days after infusion (default 14, setting
  ``CARTWATCH_DAILY_ASSESSMENT_DAYS``) before today without any CRS or ICANS assessment,
  listed until M days after that window closes (default 7, ``CARTWATCH_MISSED_GRACE_DAYS``:
  time to chart it late) — the list is about patients in care now, not old gaps. Which
  courses count and which days are due is services/daily_window.py, shared with the
  completeness list so the two never disagree;
* ``obligation_ending``: stay-near-centre or no-driving date from the label in force (via
  ``clinical.schedule.post_infusion_schedule``) within the next days (default 3).
  ``schedule_unavailable`` when no label version applies, only while an obligation could
  still be running under any version (``latest_possible_obligation_end``);
* ``record_problem``: a stored course or CRS/ICANS assessment whose date fails the shared
  plausibility rule (years 1900–2100, not more than 24 h ahead: contract v2 item 7), or a
  second CAR-T course. Such a row was written before the rules existed or outside the app;
  it is named here and left out of the other rules, so one bad date (9999-12-31) neither
  takes the list down nor hides today's alerts behind a "latest" assessment in the future.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.schedule import latest_possible_obligation_end, post_infusion_schedule
from cartwatch.web.access import Actor, Perm
from cartwatch.web.patients import models as m
from cartwatch.web.services.daily_window import (
    CourseProblem,
    date_problem,
    due_days,
    infused_courses,
    infusion_of,
    is_listed,
)
from cartwatch.web.services.records import ONE_COURSE_PROBLEM

RECENT = dt.timedelta(hours=48)
RECORD_PROBLEM = "record_problem"


@dataclass(frozen=True)
class Alert:
    patient_id: str
    rule: str
    message: str
    when: str  # ISO date or date-time the alert refers to

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Graded(NamedTuple):
    observed_at: dt.datetime
    grade: int | None  # None: not gradable
    findings: str = ""  # hypotension/vasopressors/oxygen recorded (CRS), for the null alert


#: The CRS columns _crs_findings reads, in its argument order.
CRS_FINDINGS = (
    "hypotension",
    "vasopressors",
    "hypotension_attributable_to_other_cause",
    "oxygen_device",
    "hypoxia_attributable_to_other_cause",
)


def _crs_findings(
    hypotension: bool,
    vasopressors: list[str],
    hypotension_other_cause: bool,
    device: str,
    hypoxia_other_cause: bool,
) -> str:
    """The cardiorespiratory findings of a CRS row that count towards its grade, in words
    ("" when none): each is grade ≥2 with a fever (ASTCT 2019, clinical/crs.py)."""
    words: list[str] = []
    if not hypotension_other_cause:
        words += ["hypotension"] if hypotension else []
        words += [f"vasopressor {v}" for v in vasopressors or ()]
    if device and device != "none" and not hypoxia_other_cause:
        words.append(f"oxygen by {device.replace('_', ' ')}")
    return ", ".join(words)


def _not_gradable_alert(
    patient_id: str, label: str, rows: list[_Graded], now: dt.datetime
) -> list[Alert]:
    latest = rows[-1] if rows else None
    if latest is None or latest.grade is not None or not latest.findings:
        return []
    if now - latest.observed_at > RECENT:
        return []
    message = (
        f"{label.upper()} not gradable: temperature missing ({latest.findings} recorded; "
        "with a fever this is grade ≥2)"
    )
    return [Alert(patient_id, f"{label}_not_gradable", message, latest.observed_at.isoformat())]


def _grade_alerts(
    patient_id: str, label: str, all_rows: list[_Graded], now: dt.datetime
) -> list[Alert]:
    rows = [r for r in all_rows if r.grade is not None]
    if not rows:
        return []
    latest = rows[-1]
    assert latest.grade is not None
    out: list[Alert] = []
    when = latest.observed_at.isoformat()
    if latest.grade >= 2 and now - latest.observed_at <= RECENT:
        out.append(
            Alert(patient_id, f"{label}_grade_ge2", f"{label.upper()} grade {latest.grade}", when)
        )
    previous = rows[-2].grade if len(rows) >= 2 else None
    if previous is not None and latest.grade > previous and now - latest.observed_at <= RECENT:
        out.append(
            Alert(
                patient_id,
                f"{label}_grade_rose",
                f"{label.upper()} grade rose from {previous} to {latest.grade}",
                when,
            )
        )
    return out


def _days_after_infusion(infusion: dt.date, days: list[dt.date]) -> str:
    """The post-infusion days a nurse counts by (the infusion day is day 0), each with its
    date: ``day 0 (2025-07-01), day 3 (2025-07-04)``."""
    return ", ".join(f"day {(d - infusion).days} ({d.isoformat()})" for d in days)


def _obligation_alerts(patient_id: str, course: m.CellTherapy, today: dt.date) -> list[Alert]:
    assert course.infusion_date is not None
    try:
        schedule = post_infusion_schedule(course.product, course.infusion_date)
    except ClinicalInputError as exc:
        return [
            Alert(patient_id, "schedule_unavailable", str(exc), course.infusion_date.isoformat())
        ]
    horizon = today + dt.timedelta(days=settings.CARTWATCH_OBLIGATION_WARNING_DAYS)
    out = []
    for what, until in (
        ("stay near the centre", schedule.stay_near_centre_until),
        ("no driving", schedule.no_driving_until),
    ):
        if today <= until <= horizon:
            out.append(
                Alert(
                    patient_id,
                    "obligation_ending",
                    f"{what} until {until.isoformat()} ({schedule.label_version})",
                    until.isoformat(),
                )
            )
    return out


def _graded_by_patient(
    model: type[m.CrsAssessment | m.IcansAssessment],
    patient_pks: list[int],
    in_window: set[int],
    since: dt.datetime,
    findings: tuple[str, ...] = (),
) -> dict[int, list[_Graded]]:
    """Each patient's (observed_at, grade) pairs in time order, for the patients a rule can
    fire for: those assessed since *since* (the grade rules look at a latest assessment that
    recent) and those *in_window* (the missed-day rule). Only these columns are read: whole
    rows (JSON inputs and reasons) of every patient made the list grow with the registry."""
    out: dict[int, list[_Graded]] = {pk: [] for pk in patient_pks}
    recent = model.objects.filter(patient_id__in=patient_pks, observed_at__gte=since)
    rows = (
        model.objects.filter(
            Q(patient_id__in=sorted(in_window)) | Q(patient_id__in=recent.values("patient_id"))
        )
        .order_by("patient_id", "observed_at", "id")
        .values_list("patient_id", "observed_at", "grade", *findings)
    )
    for patient_pk, observed_at, grade, *found in rows:
        words = _crs_findings(*found) if found and grade is None else ""
        out[patient_pk].append(_Graded(observed_at, grade, words))
    return out


def _problem_alert(patient_id: str, what: str, value: dt.date, problem: str) -> Alert:
    message = f"{what}: {problem}; left out of the work list rules until corrected"
    return Alert(patient_id, RECORD_PROBLEM, message, value.isoformat())


def _plausible_rows(
    patient_id: str, label: str, rows: list[_Graded], now: dt.datetime
) -> tuple[list[_Graded], list[Alert]]:
    """*rows* whose time passes the date rule, and a problem alert for each other one."""
    kept: list[_Graded] = []
    problems: list[Alert] = []
    for row in rows:
        problem = date_problem(row.observed_at, now)
        if problem is None:
            kept.append(row)
        else:
            what = f"{label.upper()} assessment observed_at"
            problems.append(_problem_alert(patient_id, what, row.observed_at, problem))
    return kept, problems


def _course_problems(
    patient_id: str, courses: list[m.CellTherapy], implausible: list[CourseProblem]
) -> list[Alert]:
    """A problem alert per implausible infusion date, and one for a second course."""
    what = "CAR-T course infusion_date"
    problems = [_problem_alert(patient_id, what, p.infusion, p.problem) for p in implausible]
    if len(courses) > 1:
        # Listed, and each course still runs the rules below: a nurse sees both.
        message = f"{len(courses)} infused CAR-T courses recorded: {ONE_COURSE_PROBLEM}"
        problems.append(Alert(patient_id, RECORD_PROBLEM, message, str(courses[-1].infusion_date)))
    return problems


def work_list(actor: Actor, now: dt.datetime | None = None) -> list[Alert]:
    actor.require(Perm.CENTRE_ANALYTICS)
    now = now or timezone.now()
    today = timezone.localdate(now)
    patients = list(actor.patients().values_list("pk", "patient_id"))
    pks = [pk for pk, _ in patients]
    infused = infused_courses(pks, now)
    courses_of = infused.by_patient
    alerts: list[Alert] = []
    for pk, patient_id in patients:
        implausible = [p for p in infused.problems if p.patient_pk == pk]
        alerts += _course_problems(patient_id, courses_of[pk], implausible)

    in_window = set(infused.current(today))
    since = now - RECENT  # the grade rules need the latest assessment at or after this
    crs_of = _graded_by_patient(m.CrsAssessment, pks, in_window, since, CRS_FINDINGS)
    icans_of = _graded_by_patient(m.IcansAssessment, pks, in_window, since)
    for pk, patient_id in patients:
        crs, crs_problems = _plausible_rows(patient_id, "crs", crs_of[pk], now)
        icans, icans_problems = _plausible_rows(patient_id, "icans", icans_of[pk], now)
        alerts += crs_problems + icans_problems
        alerts += _grade_alerts(patient_id, "crs", crs, now)
        alerts += _not_gradable_alert(patient_id, "crs", crs, now)
        alerts += _grade_alerts(patient_id, "icans", icans, now)
        if not courses_of[pk]:
            continue
        assessed = {timezone.localdate(a.observed_at) for a in crs + icans}
        for course in courses_of[pk]:
            infusion = infusion_of(course)
            missed = [d for d in due_days(infusion, today) if d not in assessed]
            if missed and is_listed(infusion, today):
                alerts.append(
                    Alert(
                        patient_id,
                        "missed_assessment",
                        "no CRS/ICANS assessment on " + _days_after_infusion(infusion, missed),
                        missed[-1].isoformat(),
                    )
                )
            if today <= latest_possible_obligation_end(infusion):
                alerts += _obligation_alerts(patient_id, course, today)
    return alerts
