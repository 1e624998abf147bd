"""The pure FHIR journey export (interop/fhir_export.py, fhir_resources.py, fhir_fields.py):
every resource validates against the fhir.resources R4B models, grades are the value with
their standard and reasons (never 0 for not gradable), codes come from the cited tables,
AdverseEvent severity on both sides of each boundary, and fields read back exactly."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartwatch.interop import fhir_codes as codes
from cartwatch.interop.fhir_export import (
    InvalidExport,
    Journey,
    StoredRecord,
    build_bundle,
    validate_resource,
    write_bundle,
)
from cartwatch.interop.fhir_fields import components, flatten, plain_value, unflatten
from cartwatch.interop.fhir_journey import JourneyPlan, SourceRef, journey_kind

ZONE = dt.timezone(dt.timedelta(hours=2))
NOW = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


def _journey(crs_grade: int | None = 3, **crs_fields: Any) -> Journey:
    patient = StoredRecord(
        "patient",
        1,
        "P-1",
        {
            "patient_id": "P-1",
            "age_years": 70,
            "sex": "M",
            "diagnosis": "CLL",
            "diagnosis_date": dt.date(2015, 1, 2),
            "del17p": None,
            "consent_research": True,
        },
    )
    course = StoredRecord(
        "cell-therapy",
        2,
        "P-1",
        {
            "product": "liso-cel",
            "apheresis_date": dt.date(2025, 6, 1),
            "infusion_date": dt.date(2025, 7, 1),
            "lot": "L1",
            "dose_10e6_car_t_cells": 99.5,
        },
    )
    not_gradable = StoredRecord(
        "crs",
        3,
        "P-1",
        {"observed_at": dt.datetime(2025, 7, 2, 8, 0)},
        result={
            "grade": None,
            "standard": "ASTCT 2019",
            "reasons": ["not gradable: no temperature recorded"],
        },
    )
    graded = StoredRecord(
        "crs",
        4,
        "P-1",
        {
            "observed_at": dt.datetime(2025, 7, 3, 8, 0),
            "temperature_c": 39.5,
            "vasopressors": ["norepinephrine", "vasopressin"],
            **crs_fields,
        },
        result={"grade": crs_grade, "standard": "ASTCT 2019", "reasons": ["fever 39.5"]},
    )
    dose = StoredRecord(
        "treatments",
        5,
        "P-1",
        {
            "given_at": dt.datetime(2025, 7, 3, 9, 0),
            "agent": "tocilizumab",
            "indication": "crs",
            "dose": 8.0,
            "dose_unit": "mg/kg",
        },
    )
    return Journey(patient, [course, not_gradable, graded, dose])


def _bundle(journey: Journey | None = None) -> dict[str, Any]:
    return build_bundle("C-1", [journey or _journey()], zone=ZONE, now=NOW, export_id="e-1")


def _by_id(bundle: dict[str, Any], suffix: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"].endswith(suffix))


def test_every_resource_validates_and_is_marked_as_a_journey_resource() -> None:
    bundle = _bundle()
    assert bundle["type"] == "collection" and bundle["timestamp"] == NOW.isoformat()
    assert bundle["identifier"] == {"system": codes.EXPORT_SYSTEM, "value": "e-1"}
    types = sorted(e["resource"]["resourceType"] for e in bundle["entry"])
    assert types == [
        "AdverseEvent",
        "Condition",
        "MedicationAdministration",
        "Observation",
        "Observation",
        "Patient",
        "Procedure",
        "Procedure",
        "Procedure",
    ]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        validate_resource(resource)
        kind = journey_kind(resource)
        assert kind is not None
        assert resource["meta"]["profile"] == [codes.PROFILE_PREFIX + kind]


def test_a_not_gradable_crs_has_no_value_and_says_why() -> None:
    obs = _by_id(_bundle(), "-crs-3")
    assert "valueInteger" not in obs
    assert obs["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert "not gradable" in obs["dataAbsentReason"]["text"]
    assert obs["method"] == {"text": "ASTCT 2019"}
    assert obs["note"] == [{"text": "not gradable: no temperature recorded"}]


def test_grade_zero_is_a_value_not_an_absence() -> None:
    obs = _by_id(_bundle(_journey(crs_grade=0)), "-crs-4")
    assert obs["valueInteger"] == 0 and "dataAbsentReason" not in obs


def test_codes_from_the_cited_tables() -> None:
    bundle = _bundle()
    temperature = next(
        c
        for c in _by_id(bundle, "-crs-4")["component"]
        if c["code"]["coding"][0]["code"] == "temperature_c"
    )
    assert {"system": codes.LOINC, "code": "8310-5"} in temperature["code"]["coding"]
    assert temperature["valueQuantity"] == {
        "value": 39.5,
        "unit": "Cel",
        "system": codes.UCUM,
        "code": "Cel",
    }
    dose = _by_id(bundle, "-treatments-5")
    assert dose["medicationCodeableConcept"]["coding"][0] == {
        "system": codes.ATC,
        "code": "L04AC07",
    }
    condition = _by_id(bundle, "-condition")
    assert {"system": codes.SNOMED, "code": "92814006"} in condition["code"]["coding"]
    patient = _by_id(bundle, "-patient-1")
    assert patient["managingOrganization"]["identifier"] == {
        "system": codes.CENTRE_SYSTEM,
        "value": "C-1",
    }
    assert patient["identifier"][0] == {"system": codes.PATIENT_ID_SYSTEM, "value": "P-1"}


def test_times_carry_the_centres_offset() -> None:
    obs = _by_id(_bundle(), "-crs-4")
    assert obs["effectiveDateTime"] == "2025-07-03T08:00:00+02:00"


@pytest.mark.parametrize(
    ("grade", "severity"),
    [(1, "mild"), (2, "moderate"), (3, "severe"), (4, "severe"), (5, "severe")],
)
def test_adverse_event_severity_keeps_the_exact_grade(grade: int, severity: str) -> None:
    event = _by_id(_bundle(_journey(crs_grade=grade)), "-adverse-event-1-crs")
    assert event["severity"]["coding"][0]["code"] == severity
    extensions = {x["url"]: x for x in event["extension"]}
    assert extensions[codes.GRADE_EXTENSION]["valueInteger"] == grade
    assert event["date"] == "2025-07-03T08:00:00+02:00"  # onset: the first at grade >= 1
    assert event["suspectEntity"][0]["instance"]["reference"].endswith("-infusion")


def test_no_adverse_event_below_grade_1() -> None:
    bundle = _bundle(_journey(crs_grade=0))
    assert not [e for e in bundle["entry"] if e["resource"]["resourceType"] == "AdverseEvent"]
    with pytest.raises(ValueError, match="not an adverse event"):
        codes.ae_severity(0)


def test_an_invalid_resource_stops_the_export_and_nothing_is_written(tmp_path: Path) -> None:
    broken = _journey()
    broken = Journey(broken.patient, [StoredRecord("crs", 9, "P-1", {"observed_at": "yesterday"})])
    with pytest.raises(InvalidExport, match="not valid FHIR R4"):
        _bundle(broken)
    target = tmp_path / "b.json"
    size = write_bundle(_bundle(), target)
    assert size == target.stat().st_size and json.loads(target.read_text())["id"] == "e-1"
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_the_records_read_back_with_their_fields_and_results() -> None:
    plan = JourneyPlan()
    for i, entry in enumerate(_bundle()["entry"]):
        resource = entry["resource"]
        kind = journey_kind(resource)
        assert kind is not None
        ident = f"{resource['resourceType']}/{resource['id']}"
        assert plan.add(resource, kind, SourceRef(ident, "sha", i), ZONE) is None
    course = plan.records["C-1/cell-therapy/2"]
    assert len(course.sources) == 3  # apheresis, lymphodepletion, infusion: one record
    assert course.fields() == {
        "product": "liso-cel",
        "apheresis_date": "2025-06-01",
        "infusion_date": "2025-07-01",
        "lot": "L1",
        "dose_10e6_car_t_cells": 99.5,
    }
    crs = plan.records["C-1/crs/4"]
    assert crs.fields() == {
        "observed_at": "2025-07-03T08:00:00",
        "temperature_c": 39.5,
        "vasopressors": ["norepinephrine", "vasopressin"],
    }
    assert crs.exported == {"grade": 3, "standard": "ASTCT 2019", "reasons": ["fever 39.5"]}
    assert plan.records["C-1/crs/3"].exported["grade"] is None
    patient = plan.records["C-1/patient/1"]
    assert patient.fields()["diagnosis_date"] == "2015-01-02" and "del17p" not in patient.fields()
    assert [(e.term, e.grade) for e in plan.adverse_events] == [("crs", 3)]


_scalars = st.one_of(
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(min_size=1, max_size=5).filter(lambda t: "[" not in t),
)
_names = st.from_regex(r"[a-z][a-z_]{0,6}", fullmatch=True)
_rows = st.dictionaries(
    _names,
    st.one_of(
        _scalars,
        st.lists(_scalars, min_size=1, max_size=3),
        st.dictionaries(_names, _scalars, min_size=1, max_size=3),
    ),
    max_size=6,
)


@given(_rows)
def test_any_row_reads_back_exactly(row: dict[str, Any]) -> None:
    back = unflatten(
        [
            (c["code"]["coding"][0]["code"], plain_value(c, ZONE, c["code"]["coding"][0]["code"]))
            for c in components(row, ZONE)
        ]
    )
    expected = {path: (float(v) if isinstance(v, float) else v) for path, v in flatten(row)}
    assert dict(flatten(back)) == expected
