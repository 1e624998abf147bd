"""The daily post-infusion assessment window: which courses count, which days are due, and
until when a gap is listed.

One owner for the work list's ``missed_assessment`` rule (services/alerts.py), the
completeness list (services/completeness.py: work list and data-quality pages) and the
patient page, which before each loaded the courses and did the window arithmetic on their
own and could disagree (a course dated more than 24 h ahead was a record problem for one and
a current course for the other; one read every course, the other only the first).

* A course counts when it has an infusion date that passes the shared record-date rule
  against the caller's clock (years 1900–2100, not more than 24 h ahead: contract v2 item 7);
  the others are returned as problems, for the work list to name.
* Day 0 is the infusion day; the window is days 0 … N − 1 (``CARTWATCH_DAILY_ASSESSMENT_DAYS``,
  default 14). A day is *due* once it is over: from day 0 up to yesterday, never past the
  window. So an infusion today or in the future has no due day yet.
* Gaps are listed until ``CARTWATCH_MISSED_GRACE_DAYS`` (default 7) after the window's last
  day, the time to chart an assessment late; after that the course is no longer current.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from cartwatch.schemas.dates import plausible_date_problem
from cartwatch.web.patients import models as m


def window_days() -> int:
    """The length of the daily window in days (day 0 = the infusion day)."""
    return int(settings.CARTWATCH_DAILY_ASSESSMENT_DAYS)


def grace_days() -> int:
    """Days after the window's last day during which its gaps stay listed."""
    return int(settings.CARTWATCH_MISSED_GRACE_DAYS)


def due_days(infusion: dt.date, today: dt.date, window: int | None = None) -> list[dt.date]:
    """The days of the window that are over by *today*: day 0 through yesterday, at most
    through day ``window - 1``; empty for an infusion today or later."""
    length = window_days() if window is None else window
    last = min(today - dt.timedelta(days=1), infusion + dt.timedelta(days=length - 1))
    return [infusion + dt.timedelta(days=n) for n in range((last - infusion).days + 1)]


def listed_until(infusion: dt.date) -> dt.date:
    """The last day the gaps of a course infused on *infusion* are listed."""
    return infusion + dt.timedelta(days=window_days() - 1 + grace_days())


def is_listed(infusion: dt.date, today: dt.date) -> bool:
    """Whether the course's gaps are listed on *today* (it is in or just after its window)."""
    return today <= listed_until(infusion)


@dataclass(frozen=True)
class CourseProblem:
    """A stored infusion date the record-date rule refuses (the course is left out)."""

    patient_pk: int
    infusion: dt.date
    problem: str


@dataclass(frozen=True)
class InfusedCourses:
    """The infused courses of some patients, by patient primary key, in infusion order."""

    by_patient: dict[int, list[m.CellTherapy]]
    problems: tuple[CourseProblem, ...]

    def current(self, today: dt.date) -> dict[int, list[m.CellTherapy]]:
        """The courses whose gaps are listed on *today*, per patient that has one."""
        out: dict[int, list[m.CellTherapy]] = {}
        for pk, courses in self.by_patient.items():
            listed = [c for c in courses if is_listed(infusion_of(c), today)]
            if listed:
                out[pk] = listed
        return out


def infusion_of(course: m.CellTherapy) -> dt.date:
    assert course.infusion_date is not None  # only infused courses are loaded
    return course.infusion_date


def date_problem(value: dt.date, now: dt.datetime) -> str | None:
    """The shared record-date rule against the caller's clock (*now* aware): a date-time
    compares as an instant, a date from its local midnight."""
    if isinstance(value, dt.datetime):
        return plausible_date_problem(value, now=now)
    return plausible_date_problem(value, now=timezone.localtime(now).replace(tzinfo=None))


def infused_courses(patient_pks: Sequence[int], now: dt.datetime) -> InfusedCourses:
    """Every infused course of *patient_pks* (one query), those with an implausible infusion
    date set apart as problems."""
    by_patient: dict[int, list[m.CellTherapy]] = {pk: [] for pk in patient_pks}
    problems: list[CourseProblem] = []
    rows = (
        m.CellTherapy.objects.filter(patient_id__in=list(patient_pks))
        .exclude(infusion_date=None)
        .order_by("patient_id", "infusion_date", "id")
    )
    for course in rows:
        infusion = infusion_of(course)
        problem = date_problem(infusion, now)
        if problem is None:
            by_patient[course.patient_id].append(course)
        else:
            problems.append(CourseProblem(course.patient_id, infusion, problem))
    return InfusedCourses(by_patient, tuple(problems))
