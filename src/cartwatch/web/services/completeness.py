"""What is missing, per patient and per day after infusion, in words.

The daily post-infusion assessment is a CRS half (vital signs, oxygen, vasopressors) and a
neurological (ICANS) half. For each due day of the daily assessment window (day 0 = the
infusion day up to yesterday, within ``CARTWATCH_DAILY_ASSESSMENT_DAYS``: the days
``services/daily_window.py`` owns, as the work list's missed-assessment rule) this lists the
half that is missing ("day 3: neurological assessment missing") and every form saved as a
draft ("day 2: CRS assessment incomplete (draft)"). Today is not listed: the day is not over.

``missing_days`` is a pure function of dates, so the patient page feeds it the rows it has
already read (no extra query) and the work list one query per kind for the whole centre.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from cartwatch.web.access import Actor, Perm
from cartwatch.web.patients import models as m
from cartwatch.web.services.daily_window import (
    due_days,
    infused_courses,
    infusion_of,
    window_days,
)

CRS_HALF = "CRS assessment (temperature, blood pressure, oxygen)"
NEURO_HALF = "neurological assessment (ICE or CAPD)"


@dataclass(frozen=True)
class Missing:
    patient_id: str
    day: int | None  # days after infusion; None for a form not tied to a day
    what: str

    @property
    def text(self) -> str:
        return f"day {self.day}: {self.what}" if self.day is not None else self.what


#: One saved half of a daily assessment: its local date and form status.
Observed = tuple[dt.date, str]


def missing_days(
    patient_id: str,
    infusion: dt.date,
    crs: Iterable[Observed],
    icans: Iterable[Observed],
    today: dt.date,
    window: int,
) -> list[Missing]:
    """Per day of the window before *today*: the missing half, and the drafts."""
    crs_days: dict[dt.date, list[str]] = {}
    icans_days: dict[dt.date, list[str]] = {}
    for day, status in crs:
        crs_days.setdefault(day, []).append(status)
    for day, status in icans:
        icans_days.setdefault(day, []).append(status)
    out: list[Missing] = []
    for day in due_days(infusion, today, window):
        n = (day - infusion).days
        have_crs, have_icans = day in crs_days, day in icans_days
        if not have_crs and not have_icans:
            out.append(Missing(patient_id, n, "daily assessment missing (CRS and neurological)"))
        elif not have_crs:
            out.append(Missing(patient_id, n, CRS_HALF + " missing"))
        elif not have_icans:
            out.append(Missing(patient_id, n, NEURO_HALF + " missing"))
    for label, days in (("CRS assessment", crs_days), ("neurological assessment", icans_days)):
        for day, statuses in sorted(days.items()):
            if m.FormStatus.INCOMPLETE in statuses and day >= infusion:
                n = (day - infusion).days
                out.append(Missing(patient_id, n, f"{label} incomplete (draft)"))
    return sorted(out, key=lambda x: (x.day if x.day is not None else -1, x.what))


def local_day(value: dt.datetime) -> dt.date:
    return timezone.localdate(value) if timezone.is_aware(value) else value.date()


#: Kinds whose drafts are listed on their own (the daily halves are listed per day above).
DRAFT_KINDS: Sequence[type[m.PatientRecord]] = (
    m.PriorLine, m.CellTherapy, m.Treatment, m.Lab, m.ResponseAssessment, m.MrdResult,
    m.FollowUp, m.EligibilityCheck,
)  # fmt: skip


def centre_missing(actor: Actor, now: dt.datetime | None = None) -> list[Missing]:
    """Every course in or just after its daily window: what is missing per day; and the
    drafts of the other kinds of every patient of the centre."""
    actor.require(Perm.CENTRE_ANALYTICS)
    now = now or timezone.now()
    today = timezone.localdate(now)
    patients = dict(actor.patients().values_list("pk", "patient_id"))
    # A stored infusion date the record-date rule refuses (9999-12-31, far ahead) is left
    # out here; the work list names it as a record to correct (services/alerts.py).
    courses = infused_courses(list(patients), now).current(today)
    current = list(courses)
    halves: dict[type[m.AuditedModel], dict[int, list[Observed]]] = {}
    for model in (m.CrsAssessment, m.IcansAssessment):
        rows = model.objects.filter(patient_id__in=current).values_list(
            "patient_id", "observed_at", "form_status"
        )
        by_patient: dict[int, list[Observed]] = {}
        for pk, when, status in rows:
            by_patient.setdefault(pk, []).append((local_day(when), status))
        halves[model] = by_patient
    out: list[Missing] = []
    for pk, listed in courses.items():
        for course in listed:
            out += missing_days(
                patients[pk],
                infusion_of(course),
                halves[m.CrsAssessment].get(pk, []),
                halves[m.IcansAssessment].get(pk, []),
                today,
                window_days(),
            )
    for draft_model in DRAFT_KINDS:
        drafts = draft_model.objects.filter(
            patient_id__in=list(patients), form_status=m.FormStatus.INCOMPLETE
        ).values_list("patient_id", flat=True)
        what = f"{draft_model._meta.verbose_name} incomplete (draft)"
        out += [Missing(patients[pk], None, what) for pk in drafts]
    return out


def by_patient(actor: Actor) -> list[tuple[str, list[str]]]:
    """:func:`centre_missing` grouped per patient, in pseudonym order (work list, data
    quality page)."""
    grouped: dict[str, list[str]] = {}
    for gap in centre_missing(actor):
        grouped.setdefault(gap.patient_id, []).append(gap.text)
    return sorted(grouped.items())
