"""What is missing per day after infusion (patient page, work list) and the data-quality page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from tests.web.conftest import CRS_ROW, PATIENT_ROW, actor_of, client_for

from cartwatch.web.services.completeness import missing_days

D0 = dt.date(2025, 7, 1)


def _day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def test_missing_half_and_drafts_per_day() -> None:
    crs = [(_day(0), "complete"), (_day(1), "complete"), (_day(2), "incomplete")]
    icans = [(_day(0), "complete"), (_day(2), "complete"), (_day(3), "complete")]
    gaps = [g.text for g in missing_days("P", D0, crs, icans, today=_day(4), window=14)]
    assert gaps == [
        "day 1: neurological assessment (ICE or CAPD) missing",
        "day 2: CRS assessment incomplete (draft)",
        "day 3: CRS assessment (temperature, blood pressure, oxygen) missing",
    ]


def test_today_and_days_after_the_window_are_not_missing() -> None:
    assert missing_days("P", D0, [], [], today=D0, window=14) == []
    gaps = missing_days("P", D0, [], [], today=_day(30), window=3)
    assert [g.day for g in gaps] == [0, 1, 2]
    assert gaps[0].text == "day 0: daily assessment missing (CRS and neurological)"


@pytest.mark.django_db
def test_work_list_and_patient_page_say_what_is_missing(cast: Any) -> None:
    from django.utils import timezone
    from tests.web.conftest import infused_patient

    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    patient = infused_patient(physician, patient_id="A-005")
    course = patient.celltherapys.get()
    today = timezone.localdate()
    infusion = today - dt.timedelta(days=2)
    # The CRS assessment moves first: it must never precede the infusion it grades.
    crs = patient.crsassessments.get()
    records.update_record(
        physician, records.KINDS["crs"], crs,
        {**CRS_ROW, "observed_at": f"{(infusion + dt.timedelta(days=1)).isoformat()}T08:00:00"},
        version=crs.version, reason="date",
    )  # fmt: skip
    records.update_record(
        physician, records.KINDS["cell-therapy"], course,
        {"product": "liso-cel", "apheresis_date": (infusion - dt.timedelta(days=30)).isoformat(),
         "infusion_date": infusion.isoformat()},
        version=course.version, reason="infusion date",
    )  # fmt: skip
    work = client_for("nurse_a").get("/worklist/").content.decode()
    assert "day 1: neurological assessment (ICE or CAPD) missing" in work
    assert "day 0: daily assessment missing (CRS and neurological)" in work
    page = client_for("nurse_a").get("/patients/A-005/").content.decode()
    assert "day 1: neurological assessment (ICE or CAPD) missing" in page


@pytest.mark.django_db
def test_data_quality_page_lists_unusual_values_until_verified(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records

    nurse = actor_of(cast, "nurse_a")
    cold = records.create_record(
        nurse, records.KINDS["crs"], patient_a,
        {**CRS_ROW, "observed_at": "2025-07-03T08:00:00", "temperature_c": 34.0},
    )  # fmt: skip
    client = client_for("data_manager_a")
    body = client.get("/data-quality/").content.decode()
    assert "34 °C is below 35 °C: hypothermia, or a typing error?" in body
    assert "Highest temperature" in body  # the field's label, not its column name
    assert "temperature_c" not in body
    records.verify_record(actor_of(cast, "data_manager_a"), cold, version=cold.version)
    assert "34 °C is below 35 °C" not in client.get("/data-quality/").content.decode()


# --- one window for the work list and the completeness list (services/daily_window.py) -------

NOW = "2025-07-20T12:00:00"  # the clock both lists are asked at (UTC, window 14, grace 7)
#: patient → infusion dates of its courses → the due days (day 0 = infusion) with no
#: assessment that both lists must name.
COURSES: dict[str, tuple[tuple[str, ...], list[int]]] = {
    "A-101": (("2025-07-20",), []),  # infused today: day 0 is not over
    "A-102": (("2025-07-21",), []),  # tomorrow (future): nothing is due
    "A-103": (("2025-07-25",), []),  # 5 days ahead: a record problem, nothing is due
    "A-104": (("2025-07-19",), [0]),  # yesterday: day 0 only
    "A-105": (("2025-07-15",), [0, 1, 2, 3, 4]),
    "A-106": (("2025-07-01",), list(range(14))),  # window closed 07-14, listed to 07-21
    # infused 06-30: window to 07-13, listed until 07-20 = today (its last listed day)
    "A-107": (("2025-06-30",), list(range(14))),
    "A-108": (("2025-06-01",), []),  # long ago: past the window and its grace
    # A second course (a record problem the work list names): each course has its window.
    "A-109": (("2025-06-01", "2025-07-17"), [0, 1, 2]),
}


def _store_courses(cast: Any) -> None:
    from cartwatch.web.patients import models as m
    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    for patient_id, (infusions, _) in COURSES.items():
        patient = records.create_patient(physician, {**PATIENT_ROW, "patient_id": patient_id})
        for infusion in infusions:
            day = dt.date.fromisoformat(infusion)
            # Stored directly: a second course and a far-future one are refused by the
            # services, and both lists must still agree on them.
            m.CellTherapy(
                patient=patient,
                product="liso-cel",
                apheresis_date=day - dt.timedelta(days=30),
                infusion_date=day,
            ).save()


def _work_list_days(cast: Any, now: dt.datetime) -> dict[str, list[int]]:
    from cartwatch.web.services.alerts import work_list

    out: dict[str, list[int]] = {p: [] for p in COURSES}
    for alert in work_list(actor_of(cast, "nurse_a"), now=now):
        if alert.rule == "missed_assessment":
            out[alert.patient_id] += [int(n) for n in re.findall(r"day (\d+) \(", alert.message)]
    return out


def _completeness_days(cast: Any, now: dt.datetime) -> dict[str, list[int]]:
    from cartwatch.web.services.completeness import centre_missing

    out: dict[str, list[int]] = {p: [] for p in COURSES}
    for gap in centre_missing(actor_of(cast, "nurse_a"), now):
        if gap.what == "daily assessment missing (CRS and neurological)":
            assert gap.day is not None
            out[gap.patient_id].append(gap.day)
    return out


@pytest.mark.django_db
def test_the_work_list_and_the_completeness_list_name_the_same_days(cast: Any) -> None:
    from django.utils import timezone

    _store_courses(cast)
    now = timezone.make_aware(dt.datetime.fromisoformat(NOW))
    expected = {p: days for p, (_, days) in COURSES.items()}
    assert _work_list_days(cast, now) == expected
    assert _completeness_days(cast, now) == expected


@pytest.mark.django_db
def test_a_course_leaves_both_lists_the_day_after_its_grace(cast: Any) -> None:
    from django.utils import timezone

    _store_courses(cast)
    now = timezone.make_aware(dt.datetime.fromisoformat("2025-07-21T12:00:00"))
    work_list, completeness = _work_list_days(cast, now), _completeness_days(cast, now)
    assert work_list == completeness
    assert work_list["A-107"] == [] and work_list["A-106"] == list(range(14))


@pytest.mark.parametrize(
    ("infusion", "due"),
    [
        (_day(1), []),  # tomorrow
        (_day(0), []),  # today: day 0 is not over
        (_day(-1), [_day(-1)]),  # yesterday: day 0
        (_day(-3), [_day(-3), _day(-2), _day(-1)]),  # window 3: days 0–2, the whole window
        (_day(-4), [_day(-4), _day(-3), _day(-2)]),  # day 3 is past the window
    ],
)
def test_due_days_are_the_window_days_that_are_over(infusion: dt.date, due: list[dt.date]) -> None:
    from cartwatch.web.services.daily_window import due_days

    assert due_days(infusion, today=D0, window=3) == due


@pytest.mark.parametrize(("days_after", "listed"), [(20, True), (21, False)])
def test_a_course_is_listed_to_the_end_of_its_grace(days_after: int, listed: bool) -> None:
    from cartwatch.web.services.daily_window import is_listed, listed_until

    # window 14 (days 0–13) and grace 7: the last listed day is day 20
    assert listed_until(D0) == _day(20)
    assert is_listed(D0, _day(days_after)) is listed
