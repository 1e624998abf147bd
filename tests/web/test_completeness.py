"""What is missing per day after infusion (patient page, work list) and the data-quality page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.web.conftest import CRS_ROW, actor_of, client_for

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
    records.update_record(
        physician, records.KINDS["cell-therapy"], course,
        {"product": "liso-cel", "apheresis_date": (infusion - dt.timedelta(days=30)).isoformat(),
         "infusion_date": infusion.isoformat()},
        version=course.version, reason="infusion date",
    )  # fmt: skip
    crs = patient.crsassessments.get()
    records.update_record(
        physician, records.KINDS["crs"], crs,
        {**CRS_ROW, "observed_at": f"{(infusion + dt.timedelta(days=1)).isoformat()}T08:00:00"},
        version=crs.version, reason="date",
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
