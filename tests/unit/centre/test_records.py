"""Row models of the centre data format (centre/records.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from cartwatch.centre import records as r
from cartwatch.clinical.crs import grade_crs
from cartwatch.clinical.iwcll import Mrd, MrdResultKind
from cartwatch.schemas.crs import CrsObservationIn
from cartwatch.schemas.icans import IcansObservationIn
from cartwatch.schemas.response import MeasurementsIn

PATIENT = {
    "patient_id": "SYN-0001",
    "centre_id": "C01",
    "age_years": 65,
    "sex": "F",
    "diagnosis": "CLL",
    "consent_research": True,
}


def test_patient_valid_and_unknown_field_rejected() -> None:
    assert r.PatientRow.model_validate(PATIENT).del17p is None  # empty = unknown
    with pytest.raises(ValidationError, match="surname"):
        r.PatientRow.model_validate({**PATIENT, "surname": "Doe"})


@pytest.mark.parametrize("pid", ["Jane Doe", "", "-x", "a" * 65])
def test_patient_id_must_be_a_pseudonym(pid: str) -> None:
    with pytest.raises(ValidationError, match="patient_id"):
        r.PatientRow.model_validate({**PATIENT, "patient_id": pid})


def test_strict_booleans() -> None:
    with pytest.raises(ValidationError, match="del17p"):
        r.PatientRow.model_validate({**PATIENT, "del17p": "yes"})


def test_observation_rows_extend_the_clinical_schemas() -> None:
    assert issubclass(r.CrsObservationRow, CrsObservationIn)
    assert issubclass(r.IcansObservationRow, IcansObservationIn)
    assert issubclass(r.ResponseAssessmentRow, MeasurementsIn)
    crs_fields = set(CrsObservationIn.model_fields)
    assert set(r.CrsObservationRow.model_fields) == crs_fields | {"patient_id"}


def test_observed_at_required_and_without_offset() -> None:
    base = {"patient_id": "P1", "temperature_c": 38.5}
    with pytest.raises(ValidationError, match="observed_at"):
        r.CrsObservationRow.model_validate(base)
    with pytest.raises(ValidationError, match="UTC offset"):
        r.CrsObservationRow.model_validate({**base, "observed_at": "2024-05-01T08:00+02:00"})
    row = r.CrsObservationRow.model_validate(
        {**base, "observed_at": "2024-05-01", "vasopressors": ["Noradrenaline"]}
    )
    assert row.observed_at == dt.date(2024, 5, 1)
    assert grade_crs(row.to_domain()).grade == 3


def test_response_row_has_no_mrd_column_but_can_attach_one() -> None:
    row = r.ResponseAssessmentRow.model_validate(
        {"patient_id": "P1", "assessed_at": "2024-05-01", "timepoint": "post", "spleen_cm": 12.0}
    )
    assert row.to_domain().spleen_cm == 12.0
    mrd = Mrd(MrdResultKind.UNDETECTABLE, sensitivity=1e-4)
    assert row.measurements(mrd).mrd == mrd
    assert "mrd" not in row.model_dump()


def test_model_level_messages_name_their_field() -> None:
    with pytest.raises(ValidationError, match="death_cause: required"):
        r.FollowupRow.model_validate(
            {"patient_id": "P1", "event_date": "2024-01-01", "event": "death"}
        )
    with pytest.raises(ValidationError, match="dose_unit"):
        r.TreatmentRow.model_validate(
            {
                "patient_id": "P1",
                "given_at": "2024-01-01T10:00",
                "agent": "tocilizumab",
                "indication": "crs",
                "dose": 8,
            }
        )


def test_lab_row_lymphocytes_only_is_allowed_but_empty_is_not() -> None:
    row = r.LabRow.model_validate(
        {"patient_id": "P1", "observed_at": "2024-01-01", "lymphocytes_10e9_l": 0.4}
    )
    row.check_domain()
    empty = r.LabRow.model_validate({"patient_id": "P1", "observed_at": "2024-01-01"})
    with pytest.raises(ValueError):
        empty.check_domain()


@pytest.mark.parametrize("value", [0, 1_700_000_000, 20250701.0, True, "2025-07-01T08:00"])
def test_dates_are_iso_text_or_dates_never_numbers_or_date_times(value: object) -> None:
    # Pydantic's lax mode would read 0 as 1970-01-01 and cut a date-time to its day.
    line = {"line_number": 1, "agents": ["ibrutinib"], "patient_id": "SYN-0001"}
    with pytest.raises(ValidationError, match="end_date"):
        r.PriorLineRow.model_validate({**line, "end_date": value})
    course = {"patient_id": "SYN-0001", "product": "liso-cel"}
    with pytest.raises(ValidationError, match="apheresis_date"):
        r.CellTherapyRow.model_validate({**course, "apheresis_date": value})


def test_dates_accept_iso_text_dates_and_empty() -> None:
    line = {"line_number": 1, "agents": ["ibrutinib"], "patient_id": "SYN-0001"}
    assert r.PriorLineRow.model_validate({**line, "end_date": "2025-07-01"}).end_date == dt.date(
        2025, 7, 1
    )
    assert r.PriorLineRow.model_validate({**line, "end_date": dt.date(2025, 7, 1)}).end_date
    assert r.PriorLineRow.model_validate({**line, "end_date": None}).end_date is None


@pytest.mark.parametrize("value", [0, 1.5e9, False])
def test_a_dose_time_is_never_a_number(value: object) -> None:
    dose = {
        "patient_id": "SYN-0001",
        "agent": "tocilizumab",
        "indication": "crs",
        "dose": 8,
        "dose_unit": "mg/kg",
    }
    assert r.TreatmentRow.model_validate({**dose, "given_at": "2025-07-02T10:00"}).given_at
    with pytest.raises(ValidationError, match="given_at"):
        r.TreatmentRow.model_validate({**dose, "given_at": value})


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m"])
def test_free_text_refuses_control_characters(text: str) -> None:
    event = {"patient_id": "SYN-0001", "event_date": "2025-01-01", "event": "last_contact"}
    with pytest.raises(ValidationError, match="control character"):
        r.FollowupRow.model_validate({**event, "detail": text})


@pytest.mark.parametrize("text", ["seen by Dr Jones", "tab\there", "two\nlines", "ünïcødé"])
def test_free_text_keeps_printable_text_tabs_and_line_breaks(text: str) -> None:
    event = {"patient_id": "SYN-0001", "event_date": "2025-01-01", "event": "last_contact"}
    assert r.FollowupRow.model_validate({**event, "detail": text}).detail == text
