"""The first run's sample centre is a centre in care today (issue 11 item 8).

``recent_sample`` moves the synthetic cohort (data cut 2025-06-30) so that its newest
infusion is 3 days before today; these tests pin that, that nothing lands after today, and
that each patient's dates keep their order — and that the work list then shows a patient.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pydantic import BaseModel

from cartwatch.centre.loader import CentreData
from cartwatch.synth.cohort import synthesize
from cartwatch.web import firstrun
from cartwatch.web.firstrun import SAMPLE_LATEST_INFUSION_DAYS_AGO, recent_sample

TODAY = dt.date(2026, 12, 6)
STEMS = ("patients", "prior_lines", "cell_therapy", "crs_observations", "icans_observations",
         "treatments", "labs", "response_assessments", "mrd", "followup")  # fmt: skip


def _dates(value: Any) -> list[dt.date]:
    if isinstance(value, dt.date):
        return [value]
    if isinstance(value, BaseModel):
        return [d for name in type(value).model_fields for d in _dates(getattr(value, name))]
    if isinstance(value, list | tuple):
        return [d for v in value for d in _dates(v)]
    return []


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _timelines(data: CentreData) -> dict[str, list[dt.date]]:
    """Per patient: every date and date-time, in file order."""
    out: dict[str, list[dt.date]] = {}
    for stem in STEMS:
        for row in data.rows(stem):
            out.setdefault(row.patient_id, []).extend(_dates(row))  # type: ignore[attr-defined]
    return out


def _is_subsequence(part: list[dt.date], whole: list[dt.date]) -> bool:
    rest = iter(whole)
    return all(any(x == y for y in rest) for x in part)


@pytest.fixture(scope="module")
def cohort() -> CentreData:
    return synthesize(firstrun.SAMPLE_PATIENTS, seed=firstrun.SAMPLE_SEED)


def test_newest_infusion_is_days_ago_and_nothing_after_today(cohort: CentreData) -> None:
    moved = recent_sample(cohort, TODAY)
    infusions = [c.infusion_date for c in moved.cell_therapy if c.infusion_date]
    assert max(infusions) == TODAY - dt.timedelta(days=SAMPLE_LATEST_INFUSION_DAYS_AGO)
    every = [_day(d) for stem in STEMS for row in moved.rows(stem) for d in _dates(row)]
    assert max(every) <= TODAY
    # The cohort itself is untouched (synth, demo and goldens use it).
    assert max(c.infusion_date for c in cohort.cell_therapy if c.infusion_date) < TODAY.replace(
        year=2025
    )


def test_every_patient_kept_with_dates_moved_by_one_shift_in_order(cohort: CentreData) -> None:
    """Each patient's kept dates, moved back by the one shift, are its original dates in
    the same order with only later ones left out: every pairwise order is unchanged."""
    moved = recent_sample(cohort, TODAY)
    shift = max(c.infusion_date for c in moved.cell_therapy if c.infusion_date) - max(
        c.infusion_date for c in cohort.cell_therapy if c.infusion_date
    )
    before, after = _timelines(cohort), _timelines(moved)
    assert set(after) == set(before)  # for this seed no patient starts after today
    for pid, dates in after.items():
        assert _is_subsequence([d - shift for d in dates], before[pid]), pid
        left_out = len(before[pid]) - len(dates)
        assert sorted(before[pid], key=_day)[: len(before[pid]) - left_out] == sorted(
            (d - shift for d in dates), key=_day
        ), pid  # only the latest dates are left out


def test_no_infusion_leaves_the_data_as_is() -> None:
    empty = CentreData()
    assert recent_sample(empty, TODAY) is empty


@pytest.mark.django_db
def test_the_sample_centre_work_list_shows_the_patient_in_care() -> None:
    firstrun.first_run("admin", "correct-horse-battery-42", actor="test")
    client = Client()
    client.force_login(User.objects.get(username="admin"))  # axes needs a request to log in
    page = client.get("/worklist/").content.decode()
    newest = "SYN-0011"  # infused 2024-07-01 in the cohort, 3 days ago in the sample
    # An alert row (today: the infusion day's missed assessment) or a form to complete.
    assert f">{newest}</a></th>" in page or f'data-patient="{newest}"' in page, page
