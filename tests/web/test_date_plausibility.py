"""Implausible dates are refused at the web's boundary (contract v2 item 7, issue 12 finding 2):
API 422 with the field path, a page error on the field, nothing stored. The rule is the
shared one of schemas/dates.py (its boundaries are pinned in
tests/unit/schemas/test_plausible_dates.py); these tests pin that every web write path
reaches it, with the clock on both sides of 24 h.

Uses ``patient_a`` (A-001, infused 2025-07-01) from tests/web/conftest.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from tests.web.conftest import PATIENT_ROW, client_for

pytestmark = pytest.mark.django_db
P = "/api/patients/A-001"


@pytest.fixture()
def clock(settings: Any) -> Any:
    """The centre's clock at 2025-07-10 12:00 local time."""
    now = dt.datetime(2025, 7, 10, 12, 0, tzinfo=ZoneInfo(settings.TIME_ZONE))
    with time_machine.travel(now, tick=False) as traveller:
        yield traveller


def _paths(response: Any) -> list[str]:
    return [p["path"] for p in response.json()["detail"]]


@pytest.mark.parametrize(
    ("observed_at", "status"), [("2025-07-11T12:00", 201), ("2025-07-11T12:01", 422)]
)
def test_a_lab_more_than_24_h_ahead_is_422_on_observed_at(
    clock: Any, patient_a: Any, api: Any, observed_at: str, status: int
) -> None:
    body = {"data": {"observed_at": observed_at, "neutrophils_10e9_l": 0.4}}
    response = api("nurse_a", "POST", f"{P}/labs", body)
    assert response.status_code == status, response.content
    if status == 422:
        assert _paths(response) == ["observed_at"]
        assert "is in the future" in response.json()["detail"][0]["msg"]
        assert not patient_a.labs.exists()


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("cell-therapy", {"product": "liso-cel", "apheresis_date": "2025-06-01",
                          "infusion_date": "9999-12-31"}, "infusion_date"),
        ("followup", {"event_date": "0001-01-01", "event": "last_contact"}, "event_date"),
        ("crs", {"observed_at": "2027-01-20T08:00", "temperature_c": 39.0}, "observed_at"),
        ("treatments", {"given_at": "2025-07-12T08:00", "agent": "tocilizumab",
                        "indication": "crs"}, "given_at"),
        ("responses", {"assessed_at": "2025-07-12", "timepoint": "post"}, "assessed_at"),
    ],
    ids=["infusion-9999", "followup-0001", "crs-2027", "treatment", "response"],
)  # fmt: skip
def test_every_record_kind_refuses_an_implausible_date(
    clock: Any, cast: Any, api: Any, kind: str, data: dict[str, Any], field: str
) -> None:
    created = api("physician_a", "POST", "/api/patients", {"data": PATIENT_ROW})
    assert created.status_code == 201
    response = api("physician_a", "POST", f"{P}/{kind}", {"data": data})
    assert response.status_code == 422, response.content
    assert _paths(response) == [field]


def test_a_patient_diagnosed_in_year_1_is_422(clock: Any, cast: Any, api: Any) -> None:
    body = {"data": {**PATIENT_ROW, "diagnosis_date": "0001-01-01"}}
    response = api("physician_a", "POST", "/api/patients", body)
    assert response.status_code == 422 and _paths(response) == ["diagnosis_date"]


def test_live_grading_refuses_a_future_observation(clock: Any, cast: Any, api: Any) -> None:
    doc = {"temperature_c": 38.5, "observed_at": "2025-07-20T08:00"}
    response = api("nurse_a", "POST", "/api/grade/crs", doc)
    assert response.status_code == 422 and _paths(response) == ["observed_at"]


def test_the_assessment_page_names_the_date_and_stores_nothing(clock: Any, patient_a: Any) -> None:
    from cartwatch.web.patients.models import CrsAssessment

    form = {"observed_at": "2027-01-20T08:00", "crs.temperature_c": "39.5"}
    response = client_for("nurse_a").post("/patients/A-001/assessment/new/", form)
    assert response.status_code == 422
    body = response.content.decode()
    assert "is in the future" in body
    assert 'aria-describedby="f-observed-at-err"' in body  # the error sits on the date input
    assert CrsAssessment.objects.filter(patient=patient_a).count() == 1  # the fixture's only


def test_a_schedule_may_still_plan_ahead(clock: Any, cast: Any, api: Any) -> None:
    from cartwatch.schemas.schedule import ScheduleIn

    assert ScheduleIn.model_validate({"product": "liso-cel", "infusion_date": "2026-03-01"})
