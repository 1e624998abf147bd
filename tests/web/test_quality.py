"""Data-quality rules: hard date order (refused on the field), soft flags, °F hints, and the
form status (incomplete / complete / verified) with its reason-for-change rule."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from tests.web.conftest import CRS_ROW, PATIENT_ROW, actor_of, client_for

from cartwatch.clinical.errors import ClinicalInputError

pytestmark = pytest.mark.django_db


def _kind(name: str) -> Any:
    from cartwatch.web.services import records

    return records.KINDS[name]


def _paths(exc: ClinicalInputError) -> dict[str, str]:
    return dict(exc.problems)


def test_assessment_before_infusion_is_refused_on_its_field(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records

    nurse = actor_of(cast, "nurse_a")
    with pytest.raises(ClinicalInputError) as caught:
        records.create_record(
            nurse, _kind("crs"), patient_a, {**CRS_ROW, "observed_at": "2025-06-30T23:59:00"}
        )
    assert _paths(caught.value)["observed_at"].startswith(
        "2025-06-30 is before the infusion on 2025-07-01"
    )
    # The infusion day itself is allowed (day 0).
    records.create_record(
        nurse, _kind("crs"), patient_a, {**CRS_ROW, "observed_at": "2025-07-01T20:00:00"}
    )


def test_assessment_without_an_infusion_says_what_is_missing(cast: Any) -> None:
    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    patient = records.create_patient(physician, {**PATIENT_ROW, "patient_id": "A-009"})
    with pytest.raises(ClinicalInputError) as caught:
        records.create_record(physician, _kind("crs"), patient, CRS_ROW)
    assert "no date of the infusion is recorded yet" in _paths(caught.value)["observed_at"]


def test_infusion_before_apheresis_and_records_after_death(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    course = {"product": "liso-cel", "apheresis_date": "2025-06-01", "infusion_date": "2025-05-31"}
    with pytest.raises(ClinicalInputError) as caught:
        records.create_record(physician, _kind("cell-therapy"), patient_a, course)
    assert _paths(caught.value)["infusion_date"] == (
        "2025-05-31 is before the apheresis on 2025-06-01"
    )
    death = {"event_date": "2025-07-10", "event": "death", "death_cause": "infection"}
    records.create_record(physician, _kind("followup"), patient_a, death)
    late = {**CRS_ROW, "observed_at": "2025-07-11T08:00:00"}
    with pytest.raises(ClinicalInputError) as caught:
        records.create_record(physician, _kind("crs"), patient_a, late)
    assert _paths(caught.value)["observed_at"] == "2025-07-11 is after the death on 2025-07-10"
    on_the_day = {**CRS_ROW, "observed_at": "2025-07-10T06:00:00"}
    records.create_record(physician, _kind("crs"), patient_a, on_the_day)


def test_record_before_diagnosis_is_refused(cast: Any) -> None:
    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    patient = records.create_patient(
        physician, {**PATIENT_ROW, "patient_id": "A-010", "diagnosis_date": "2024-01-10"}
    )
    course = {"product": "liso-cel", "apheresis_date": "2024-01-09"}
    with pytest.raises(ClinicalInputError) as caught:
        records.create_record(physician, _kind("cell-therapy"), patient, course)
    assert _paths(caught.value)["apheresis_date"] == (
        "2024-01-09 is before the diagnosis on 2024-01-10"
    )
    records.create_record(physician, _kind("cell-therapy"), patient, {**course,
                          "apheresis_date": "2024-01-10"})  # fmt: skip


def _diagnosed_on_2024_01_10(cast: Any) -> Any:
    from cartwatch.web.services import records

    return records.create_patient(
        actor_of(cast, "physician_a"),
        {**PATIENT_ROW, "patient_id": "A-010", "diagnosis_date": "2024-01-10"},
    )


def test_prior_line_before_the_diagnosis_is_refused_in_the_form(cast: Any) -> None:
    patient = _diagnosed_on_2024_01_10(cast)
    client = client_for("physician_a")
    url = "/patients/A-010/prior-lines/new/"
    line = {"line_number": "1", "agents": "ibrutinib", "outcome": "refractory"}
    refused = client.post(url, {**line, "start_date": "2024-01-09"})
    assert refused.status_code == 422
    body = refused.content.decode()
    summary = body[body.index('id="error-summary"') :]
    assert (
        '<a href="#f-start-date">Start</a>: 2024-01-09 is before the diagnosis on 2024-01-10'
        in summary
    )
    assert not patient.priorlines.exists()
    assert client.post(url, {**line, "start_date": "2024-01-10"}).status_code == 302
    assert patient.priorlines.get().start_date.isoformat() == "2024-01-10"


def test_prior_line_before_the_diagnosis_is_refused_by_the_api(cast: Any, api: Any) -> None:
    patient = _diagnosed_on_2024_01_10(cast)
    url = "/api/patients/A-010/prior-lines"
    line = {"line_number": 1, "agents": ["ibrutinib"], "end_date": "2024-06-01"}
    refused = api("physician_a", "POST", url, {"data": {**line, "start_date": "2024-01-09"}})
    assert refused.status_code == 422
    assert [(p["path"], p["msg"]) for p in refused.json()["detail"]] == [
        ("start_date", "2024-01-09 is before the diagnosis on 2024-01-10")
    ]
    assert not patient.priorlines.exists()
    stored = api("physician_a", "POST", url, {"data": {**line, "start_date": "2024-01-10"}})
    assert stored.status_code == 201
    # Correcting it to a day before the diagnosis is refused the same way.
    moved = {"data": {**line, "start_date": "2024-01-09"}, "version": stored.json()["version"],
             "reason": "date from the referral letter"}  # fmt: skip
    again = api("physician_a", "PUT", f"{url}/{stored.json()['id']}", moved)
    assert again.status_code == 422
    assert [p["path"] for p in again.json()["detail"]] == ["start_date"]


def test_post_infusion_response_on_the_infusion_day_is_refused(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    with pytest.raises(ClinicalInputError) as caught:
        records.create_record(
            physician,
            _kind("responses"),
            patient_a,
            {"assessed_at": "2025-07-01", "timepoint": "post", "lymph_nodes_spd_cm2": 4},
        )
    assert "on or before the infusion on 2025-07-01" in _paths(caught.value)["assessed_at"]


def test_soft_flags_temperature_and_lab_jumps(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.patients.models import Lab
    from cartwatch.web.services import quality, records

    nurse = actor_of(cast, "nurse_a")
    cold = records.create_record(
        nurse, _kind("crs"), patient_a, {**CRS_ROW, "observed_at": "2025-07-03T08:00:00",
                                         "temperature_c": 34.2})  # fmt: skip
    [flag] = quality.soft_flags(cold)
    assert flag.field == "temperature_c" and "below 35 °C" in flag.message
    normal = patient_a.crsassessments.order_by("observed_at").first()
    assert quality.soft_flags(normal) == []
    for when, platelets in (("2025-07-02T08:00:00", 150), ("2025-07-03T08:00:00", 15),
                            ("2025-07-09T08:00:00", 150)):  # fmt: skip
        records.create_record(
            nurse, _kind("labs"), patient_a, {"observed_at": when, "platelets_10e9_l": platelets}
        )
    flags = quality.lab_jumps(Lab.objects.filter(patient=patient_a).order_by("observed_at"))
    # 150 → 15 within 24 h is flagged; 15 → 150 six days later is a recovery, not a typo.
    assert [f.message for f in flags] == [
        "platelets went from 150 to 15 within 24 hours: please check both values and their units"
    ]


def test_fahrenheit_hint() -> None:
    from cartwatch.web.patients.models import CrsAssessment, Lab
    from cartwatch.web.services import quality

    assert quality.hints(CrsAssessment, {"temperature_c": 102}) == [
        ("temperature_c", "102 looks like °F: that is 38.9 °C?")
    ]
    assert quality.hints(CrsAssessment, {"temperature_c": 50}) == []
    assert quality.hints(Lab, {"temperature_c": 102}) == []


def test_verify_then_edit_makes_the_record_complete_again(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records
    from cartwatch.web.services.errors import ReasonRequired

    row = patient_a.crsassessments.get()
    assert row.form_status == "complete"
    with pytest.raises(PermissionDenied):  # a nurse may not verify
        records.verify_record(actor_of(cast, "nurse_a"), row, version=row.version)
    records.verify_record(actor_of(cast, "data_manager_a"), row, version=row.version)
    row.refresh_from_db()
    assert row.form_status == "verified" and row.verified_by.username == "data_manager_a"
    assert row.history.latest().history_change_reason == "verified against the source"
    with pytest.raises(ReasonRequired):
        records.update_record(actor_of(cast, "nurse_a"), _kind("crs"), row, CRS_ROW,
                              version=row.version)  # fmt: skip
    changed = records.update_record(
        actor_of(cast, "nurse_a"), _kind("crs"), row, {**CRS_ROW, "temperature_c": 38.1},
        version=row.version, reason="misread the chart",
    )  # fmt: skip
    assert changed.form_status == "complete" and changed.verified_by is None


def test_a_draft_changes_without_reason_and_cannot_be_verified(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records

    nurse = actor_of(cast, "nurse_a")
    draft = records.create_record(
        nurse, _kind("labs"), patient_a, {"observed_at": "2025-07-02T08:00:00"}, completed=False
    )
    assert draft.form_status == "incomplete"
    with pytest.raises(ClinicalInputError):
        records.verify_record(actor_of(cast, "physician_a"), draft, version=draft.version)
    done = records.update_record(
        nurse, _kind("labs"), draft, {"observed_at": "2025-07-02T08:00:00",
                                      "neutrophils_10e9_l": 0.4},
        version=draft.version, form_status="complete",
    )  # fmt: skip
    assert done.form_status == "complete" and done.grade_neutrophil_count_decreased == 4


@pytest.mark.parametrize(
    ("field", "value", "flagged"),
    [
        ("temperature_c", 34.9, True),
        ("temperature_c", 35.0, False),
        ("temperature_c", 41.5, False),
        ("temperature_c", 41.6, True),
        ("hemoglobin_g_dl", 20.0, False),
        ("hemoglobin_g_dl", 20.1, True),
    ],
)
def test_soft_rule_bounds_on_each_side(field: str, value: float, flagged: bool) -> None:
    """The soft bounds (quality.SOFT_RULES): the bound itself is not unusual, one step past
    it is."""
    from cartwatch.web.patients.models import CrsAssessment, Lab
    from cartwatch.web.services import quality

    record = (
        CrsAssessment(temperature_c=value)
        if field == "temperature_c"
        else Lab(hemoglobin_g_dl=value)
    )
    assert bool(quality.soft_flags(record)) is flagged
