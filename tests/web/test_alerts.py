"""The work list's rules (services/alerts.py), each on both sides of its cut-off.

Patient A-001 (conftest ``patient_a``): liso-cel infused 2025-07-01, after the REMS removal
of 2025-06-26, so both obligations end 2025-07-15 (2 weeks, clinical/schedule.py); one CRS
assessment, grade 2, at 2025-07-02T08:00. Time zone UTC, daily-assessment window 14 days,
obligation warning 3 days (settings).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from tests.web.conftest import PATIENT_ROW, actor_of, infused_patient

from cartwatch.web.services import records
from cartwatch.web.services.alerts import Alert, work_list


def at(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


def alerts(cast: Any, now: str, rule: str | None = None) -> list[Alert]:
    found = work_list(actor_of(cast, "nurse_a"), now=at(now))
    return [a for a in found if rule is None or a.rule == rule]


def add(cast: Any, patient: Any, kind: str, row: dict[str, Any]) -> None:
    records.create_record(actor_of(cast, "physician_a"), records.KINDS[kind], patient, row)


def crs(observed_at: str, temperature_c: float, **more: Any) -> dict[str, Any]:
    return {"observed_at": observed_at, "temperature_c": temperature_c, **more}


def icans(observed_at: str, ice_score: int) -> dict[str, Any]:
    return {"observed_at": observed_at, "age_years": 64, "ice_score": ice_score}


@pytest.mark.parametrize(
    ("now", "expected"),
    [("2025-07-04T08:00:00", 1), ("2025-07-04T08:00:01", 0)],
    ids=["exactly-48h", "48h-and-1s"],
)
def test_grade_2_alerts_for_48_hours(cast: Any, patient_a: Any, now: str, expected: int) -> None:
    found = alerts(cast, now, "crs_grade_ge2")
    assert len(found) == expected
    if found:
        assert found[0].patient_id == "A-001" and found[0].message == "CRS grade 2"


def test_grade_1_latest_does_not_alert_but_a_rise_does(cast: Any, patient_a: Any) -> None:
    add(cast, patient_a, "crs", crs("2025-07-02T12:00:00", 38.2))  # grade 1, latest
    assert alerts(cast, "2025-07-02T13:00:00", "crs_grade_ge2") == []
    assert alerts(cast, "2025-07-02T13:00:00", "crs_grade_rose") == []  # 2 → 1 fell
    add(cast, patient_a, "crs", crs("2025-07-02T16:00:00", 38.2))  # 1 → 1: equal
    assert alerts(cast, "2025-07-02T17:00:00", "crs_grade_rose") == []
    add(cast, patient_a, "crs", crs("2025-07-02T20:00:00", 39.0, hypotension=True))  # 1 → 2
    rose = alerts(cast, "2025-07-02T21:00:00", "crs_grade_rose")
    assert [a.message for a in rose] == ["CRS grade rose from 1 to 2"]
    assert rose[0].when == "2025-07-02T20:00:00+00:00"


@pytest.mark.parametrize(
    ("now", "expected"),
    [("2025-07-04T20:00:00", 1), ("2025-07-04T20:00:01", 0)],
    ids=["exactly-48h", "48h-and-1s"],
)
def test_a_rise_alerts_for_48_hours(cast: Any, patient_a: Any, now: str, expected: int) -> None:
    add(cast, patient_a, "crs", crs("2025-07-02T12:00:00", 37.0))  # 2 → 0
    add(cast, patient_a, "crs", crs("2025-07-02T20:00:00", 38.2))  # 0 → 1
    assert len(alerts(cast, now, "crs_grade_rose")) == expected


def test_the_latest_by_observation_time_counts_not_the_latest_entered(
    cast: Any, patient_a: Any
) -> None:
    # Entered after the grade-2 row but observed before it: the grade-2 row stays the latest.
    add(cast, patient_a, "crs", crs("2025-07-01T20:00:00", 37.0))
    rose = alerts(cast, "2025-07-02T09:00:00", "crs_grade_rose")
    assert [a.message for a in rose] == ["CRS grade rose from 0 to 2"]


def test_icans_rules_are_labelled_icans(cast: Any, patient_a: Any) -> None:
    add(cast, patient_a, "icans", icans("2025-07-02T09:00:00", 10))  # grade 0
    add(cast, patient_a, "icans", icans("2025-07-02T10:00:00", 5))  # grade 2
    rules = {(a.rule, a.message) for a in alerts(cast, "2025-07-02T11:00:00")}
    assert ("icans_grade_ge2", "ICANS grade 2") in rules
    assert ("icans_grade_rose", "ICANS grade rose from 0 to 2") in rules


def test_missed_days_are_the_unassessed_days_before_today(cast: Any, patient_a: Any) -> None:
    add(cast, patient_a, "icans", icans("2025-07-03T09:00:00", 10))  # ICANS alone counts
    (missed,) = alerts(cast, "2025-07-05T12:00:00", "missed_assessment")
    # 07-02 (CRS) and 07-03 (ICANS) were assessed; today (07-05) is not yet missed.
    assert missed.message == ("no CRS/ICANS assessment on day 0 (2025-07-01), day 3 (2025-07-04)")
    assert missed.when == "2025-07-04"


@pytest.mark.parametrize(
    ("assess_day_14", "expected"),
    [(False, ["2025-07-14"]), (True, [])],
    ids=["day-14-unassessed", "day-14-assessed"],
)
def test_missed_days_stop_after_the_daily_window(
    cast: Any, patient_a: Any, assess_day_14: bool, expected: list[str]
) -> None:
    # Window 14 days: infusion day 07-01 up to 07-14; 07-15 and later are never "missed".
    days = [dt.date(2025, 7, 1) + dt.timedelta(days=i) for i in range(13)]
    days += [dt.date(2025, 7, 14)] if assess_day_14 else []
    for day in days:
        if day != dt.date(2025, 7, 2):  # the fixture's assessment
            add(cast, patient_a, "crs", crs(f"{day}T08:00:00", 37.0))
    found = alerts(cast, "2025-07-20T12:00:00", "missed_assessment")
    assert [a.when for a in found] == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2025-07-11", False),  # 4 days before the end: outside the 3-day warning
        ("2025-07-12", True),  # 3 days before
        ("2025-07-15", True),  # the last day
        ("2025-07-16", False),  # over
    ],
)
def test_obligations_alert_in_their_last_three_days(
    cast: Any, patient_a: Any, today: str, expected: bool
) -> None:
    found = alerts(cast, f"{today}T12:00:00", "obligation_ending")
    messages = sorted(a.message for a in found)
    if expected:
        assert messages == [
            "no driving until 2025-07-15 (" + messages[0].split("(", 1)[1],
            "stay near the centre until 2025-07-15 (" + messages[1].split("(", 1)[1],
        ]
        assert all(a.when == "2025-07-15" for a in found)
    else:
        assert found == []


def _centre_with(cast: Any, n: int) -> None:
    physician = actor_of(cast, "physician_a")
    for i in range(n):
        patient = infused_patient(physician, patient_id=f"A-{100 + i}")
        add(cast, patient, "crs", crs("2025-07-02T09:00:00", 39.0, hypotension=True))


def test_each_alert_names_its_own_patient_and_no_foreign_one(cast: Any, patient_a: Any) -> None:
    _centre_with(cast, 3)
    found = alerts(cast, "2025-07-02T10:00:00", "crs_grade_ge2")
    assert sorted(a.patient_id for a in found) == ["A-001", "A-100", "A-101", "A-102"]
    foreign = work_list(actor_of(cast, "physician_b"), now=at("2025-07-02T10:00:00"))
    assert foreign == []


def test_the_work_list_reads_a_fixed_number_of_queries(
    cast: Any, patient_a: Any, django_assert_num_queries: Any
) -> None:
    # Four reads (patients, CRS, ICANS, courses) however many patients and assessments:
    # the list is the first page a nurse sees and must not grow a query per patient.
    nurse = actor_of(cast, "nurse_a")
    with django_assert_num_queries(4):
        work_list(nurse, now=at("2025-07-02T10:00:00"))
    _centre_with(cast, 5)
    with django_assert_num_queries(4):
        work_list(nurse, now=at("2025-07-02T10:00:00"))


@pytest.mark.parametrize(
    ("today", "listed"), [("2025-07-21", True), ("2025-07-22", False)], ids=["grace", "after"]
)
def test_missed_days_stay_listed_a_week_after_the_window(
    cast: Any, patient_a: Any, today: str, listed: bool
) -> None:
    # Window 07-01..07-14 (14 days), then 7 days' grace to chart late: up to 07-21.
    found = alerts(cast, f"{today}T12:00:00", "missed_assessment")
    assert bool(found) is listed


@pytest.mark.parametrize(
    ("today", "listed"),
    [("2024-03-06", True), ("2024-03-07", False)],
    ids=["8-weeks", "8-weeks-and-a-day"],
)
def test_an_unavailable_schedule_is_listed_only_while_an_obligation_could_run(
    cast: Any, today: str, listed: bool
) -> None:
    # Infused 2024-01-10, before the first label version cartwatch holds: no schedule. The
    # longest obligation of any version held is 8 weeks (no driving, REMS era): 2024-03-06.
    physician = actor_of(cast, "physician_a")
    patient = records.create_patient(physician, {**PATIENT_ROW, "patient_id": "A-050"})
    course = {"product": "liso-cel", "apheresis_date": "2023-12-01", "infusion_date": "2024-01-10"}
    records.create_record(physician, records.KINDS["cell-therapy"], patient, course)
    found = alerts(cast, f"{today}T12:00:00", "schedule_unavailable")
    assert [a.patient_id for a in found] == (["A-050"] if listed else [])


# --- not gradable CRS (contract v2 item 1): a null is an alert of its own, never a 0 ----------
def no_temperature(observed_at: str, **findings: Any) -> dict[str, Any]:
    return {"observed_at": observed_at, **findings}


@pytest.mark.parametrize(
    ("findings", "words"),
    [
        ({"hypotension": True}, "hypotension"),
        ({"vasopressors": ["norepinephrine"]}, "vasopressor norepinephrine"),
        ({"oxygen_device": "face_mask"}, "oxygen by face mask"),
    ],
)
def test_not_gradable_with_hypotension_or_hypoxia_is_its_own_alert(
    cast: Any, patient_a: Any, findings: dict[str, Any], words: str
) -> None:
    add(cast, patient_a, "crs", no_temperature("2025-07-02T12:00:00", **findings))
    found = alerts(cast, "2025-07-02T13:00:00", "crs_not_gradable")
    assert [a.message for a in found] == [
        f"CRS not gradable: temperature missing ({words} recorded; with a fever this is grade ≥2)"
    ]
    # the earlier grade 2 is still the latest gradable one: its alert stays, no "rise" or
    # "fall" is read from a null
    assert [a.message for a in alerts(cast, "2025-07-02T13:00:00", "crs_grade_ge2")] == [
        "CRS grade 2"
    ]
    assert alerts(cast, "2025-07-02T13:00:00", "crs_grade_rose") == []


@pytest.mark.parametrize(
    ("now", "expected"),
    [("2025-07-04T12:00:00", 1), ("2025-07-04T12:00:01", 0)],
    ids=["exactly-48h", "48h-and-1s"],
)
def test_not_gradable_alerts_for_48_hours(
    cast: Any, patient_a: Any, now: str, expected: int
) -> None:
    add(cast, patient_a, "crs", no_temperature("2025-07-02T12:00:00", hypotension=True))
    assert len(alerts(cast, now, "crs_not_gradable")) == expected


def test_not_gradable_without_findings_or_superseded_does_not_alert(
    cast: Any, patient_a: Any
) -> None:
    add(cast, patient_a, "crs", no_temperature("2025-07-02T12:00:00"))  # nothing recorded
    assert alerts(cast, "2025-07-02T13:00:00", "crs_not_gradable") == []
    explained = {"hypotension": True, "hypotension_attributable_to_other_cause": True}
    add(cast, patient_a, "crs", no_temperature("2025-07-02T12:30:00", **explained))
    assert alerts(cast, "2025-07-02T13:00:00", "crs_not_gradable") == []  # with fever: 1
    add(cast, patient_a, "crs", no_temperature("2025-07-02T14:00:00", hypotension=True))
    add(cast, patient_a, "crs", crs("2025-07-02T16:00:00", 38.4, hypotension=True))  # graded
    assert alerts(cast, "2025-07-02T17:00:00", "crs_not_gradable") == []


def test_a_blank_crs_assessment_is_stored_with_a_null_grade(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.patients import models as m

    add(cast, patient_a, "crs", no_temperature("2025-07-02T12:00:00", hypotension=True))
    stored = m.CrsAssessment.objects.get(observed_at=at("2025-07-02T12:00:00"))
    assert stored.grade is None
    assert stored.reasons[-1] == (
        "not gradable: temperature not recorded; with fever ≥38.0 °C this is grade 2"
    )
