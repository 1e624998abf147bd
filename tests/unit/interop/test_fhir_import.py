"""The pure FHIR import plan: what each EHR-shaped resource becomes, and every refusal."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.interop import fhir_samples as fs

from cartwatch.interop.fhir_bundle import BundleRefused, iter_entries
from cartwatch.interop.fhir_import import crs_payload, lab_payload, plan_import
from cartwatch.interop.fhir_units import convert

BERLIN = ZoneInfo("Europe/Berlin")  # the bundles' times are +02:00 (summer time there)


def _plan(doc: Any, centre: str = "A", **kw: Any) -> Any:
    stream = io.BytesIO(json.dumps(doc).encode())
    return plan_import(iter_entries(stream), centre, zone=BERLIN, **kw)


def test_an_ehr_export_becomes_daily_drafts_and_lab_records() -> None:
    plan = _plan(fs.ehr_bundle())
    days = {day: row for (_, day), row in plan.days.items()}
    fever = crs_payload(days[dt.date(2025, 7, 2)])
    assert fever == {
        "observed_at": "2025-07-02T14:00:00",  # the day's highest, with its own time
        "temperature_c": 38.5,  # 101.3 °F
        "vasopressors": ["norepinephrine"],
        "antipyretic_or_anticytokine_given": True,  # tocilizumab
    }
    assert [lab_payload(r) for r in plan.labs.values()] == [
        {
            "observed_at": "2025-07-03T07:00:00",  # local wall-clock time at the centre
            "neutrophils_10e9_l": 0.4,
            "platelets_10e9_l": 42.0,
            "hemoglobin_g_dl": 7.9,
        }
    ]
    assert all(r.patient_id == "A-001" for r in [*plan.days.values(), *plan.labs.values()])
    assert [c.diagnosis for c in plan.conditions] == ["CLL"]
    reasons = {u.identity: u.reason for u in plan.unmapped}
    assert "hypotension is a clinical judgement" in reasons["Observation/bp-1"]
    assert "not a dose given" in reasons["MedicationRequest/mr-1"]
    assert plan.foreign == []
    assert plan.total == 13


def test_100_4_f_is_exactly_a_fever() -> None:
    s = "Patient/pt-A-001"
    plan = _plan(
        fs.bundle(fs.patient("A-001"), fs.temperature("t", s, "2025-07-02T06:00:00Z", 100.4))
    )
    assert next(iter(plan.days.values())).values["temperature_c"] == 38.0


def test_already_imported_resources_are_skipped() -> None:
    first = _plan(fs.ehr_bundle())
    already = {
        s.identity: s.sha256
        for r in [*first.days.values(), *first.labs.values()]
        for s in r.sources
    }
    again = _plan(fs.ehr_bundle(), already=already)
    assert again.days == {} and again.labs == {}
    assert again.already_imported == len(already)


def test_a_changed_resource_is_reported_not_reimported() -> None:
    first = _plan(fs.ehr_bundle())
    already = {s.identity: s.sha256 for r in first.labs.values() for s in r.sources}
    doc = fs.ehr_bundle()
    doc["entry"][9]["resource"]["valueQuantity"]["value"] = 0.9
    plan = _plan(doc, already=already)
    assert any("changed since it was imported" in u.reason for u in plan.unmapped)


def test_a_patient_of_another_centre_refuses_the_import() -> None:
    plan = _plan(fs.ehr_bundle(centre="B"))
    assert plan.foreign == ["entry[0]: Patient A-001 belongs to centre B, not A: nothing imported"]


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        ({**fs.temperature("t", "Patient/pt-A-001", "yesterday", 99.0)}, "not valid FHIR R4"),
        (
            fs.temperature("t", "Patient/nobody", "2025-07-02T06:00:00Z", 99.0),
            "subject Patient/nobody is not a Patient of the bundle",
        ),
        (
            {
                **fs.temperature("t", "Patient/pt-A-001", "2025-07-02T06:00:00Z", 99.0),
                "subject": None,
            },
            "no subject",
        ),
        ({**fs.temperature("t", "Patient/pt-A-001", "2025-07-02", 99.0)}, "time zone"),
        (
            fs.neutrophils("n", "Patient/pt-A-001", "2025-07-02T06:00:00Z", 40, code="%"),
            "cannot be converted",
        ),
        (
            {
                **fs.neutrophils("n", "Patient/pt-A-001", "2025-07-02T06:00:00Z", 1),
                "status": "entered-in-error",
            },
            "status 'entered-in-error'",
        ),
        ({"resourceType": "Encounter", "id": "e", "status": "finished"}, "is not imported"),
        ({"resourceType": "Bogus", "id": "b"}, "'Bogus' is not imported"),
    ],
)
def test_unusable_resources_are_reported_with_the_reason(resource: Any, reason: str) -> None:
    if resource.get("subject") is None:
        resource.pop("subject", None)
    plan = _plan(fs.bundle(fs.patient("A-001"), resource))
    assert plan.days == {} and plan.labs == {}
    assert len(plan.unmapped) == 1 and reason in plan.unmapped[0].reason, plan.unmapped


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (b"{", "input: not valid JSON"),
        (json.dumps({"resourceType": "Patient"}).encode(), "resourceType: must be 'Bundle'"),
        (json.dumps({"resourceType": "Bundle", "type": "document"}).encode(), "type: must be one"),
    ],
)
def test_a_document_that_is_not_an_importable_bundle_is_refused(doc: bytes, problem: str) -> None:
    with pytest.raises(BundleRefused) as err:
        list(iter_entries(io.BytesIO(doc)))
    assert problem in err.value.problems[0]


def test_bounds_refuse_a_bundle_too_large() -> None:
    doc = json.dumps(fs.ehr_bundle()).encode()
    with pytest.raises(BundleRefused, match="larger than the limit of 1,000 bytes"):
        list(iter_entries(io.BytesIO(doc), max_bytes=1000))
    with pytest.raises(BundleRefused, match="more than 3 entries"):
        list(iter_entries(io.BytesIO(doc), max_entries=3))


def test_times_become_the_centres_wall_clock_and_days_its_calendar_days() -> None:
    s = "Patient/pt-A-001"
    doc = fs.bundle(
        fs.patient("A-001"),
        fs.temperature("t1", s, "2025-07-02T23:30:00Z", 100.9),  # 01:30 on the 3rd in Berlin
        fs.temperature("t2", s, "2025-07-03T06:00:00+02:00", 98.0),
    )
    plan = _plan(doc)
    assert list(plan.days) == [(s, dt.date(2025, 7, 3))]
    assert crs_payload(plan.days[(s, dt.date(2025, 7, 3))])["observed_at"] == "2025-07-03T01:30:00"


@settings(max_examples=60, deadline=None)
@given(temps=st.lists(st.floats(95.0, 106.0).map(lambda t: round(t, 1)), min_size=1, max_size=8))
def test_the_days_draft_keeps_its_hottest_reading(temps: list[float]) -> None:
    """A worse finding never lowers the draft: the day's temperature is its maximum."""
    s = "Patient/pt-A-001"
    readings = [
        fs.temperature(f"t{i}", s, f"2025-07-02T{i + 8:02d}:00:00+02:00", t)
        for i, t in enumerate(temps)
    ]
    plan = _plan(fs.bundle(fs.patient("A-001"), *readings))
    day = plan.days[(s, dt.date(2025, 7, 2))]
    assert day.values["temperature_c"] == max(convert(t, "[degF]", "Cel") for t in temps)
