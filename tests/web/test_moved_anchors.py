"""Moving a date other records were checked against (the diagnosis, the CAR-T course, a
death) must not put the patient's stored records out of order (web/services/quality.py,
``moved_anchor_problems``).

Each record is checked against these anchor dates when it is saved. Before this rule, a
diagnosis date corrected to after the first prior line, an infusion moved past the CRS
assessments it is the toxicity of, a death dated before a blood count, or a course deleted
under its daily assessments were all accepted — and the engines then graded toxicity of an
infusion that had not happened. Each case is tested on both sides of its boundary, through
the service, the API and the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.web.conftest import CRS_ROW, PATIENT_ROW, actor_of, client_for

from cartwatch.clinical.errors import ClinicalInputError

pytestmark = pytest.mark.django_db

PID = "A-001"
COURSE = {"product": "liso-cel", "apheresis_date": "2025-06-01", "infusion_date": "2025-07-01"}


def _records() -> Any:
    from cartwatch.web.services import records

    return records


def _problems(caught: pytest.ExceptionInfo[ClinicalInputError]) -> list[tuple[str, str]]:
    return caught.value.problems


def _diagnosed_with_a_prior_line(cast: Any) -> tuple[Any, Any]:
    records = _records()
    physician = actor_of(cast, "physician_a")
    patient = records.create_patient(
        physician, {**PATIENT_ROW, "patient_id": "A-020", "diagnosis_date": "2020-03-01"}
    )
    line = records.create_record(
        physician,
        records.KINDS["prior-lines"],
        patient,
        {"line_number": 1, "agents": ["ibrutinib"], "start_date": "2021-05-10"},
    )
    return patient, line


def test_diagnosis_moved_after_a_prior_line_is_refused_on_the_diagnosis_date(cast: Any) -> None:
    records = _records()
    patient, _ = _diagnosed_with_a_prior_line(cast)
    physician = actor_of(cast, "physician_a")
    row = {**PATIENT_ROW, "patient_id": "A-020"}
    with pytest.raises(ClinicalInputError) as caught:
        records.update_patient(
            physician, patient, {**row, "diagnosis_date": "2021-05-11"}, version=1,
            reason="date from the referral letter",
        )  # fmt: skip
    assert _problems(caught) == [
        (
            "diagnosis_date",
            "the prior line of therapy of 2021-05-10 would be out of order: 2021-05-10 is "
            "before the diagnosis on 2021-05-11; correct or delete that record first",
        )
    ]
    patient.refresh_from_db()
    assert patient.diagnosis_date.isoformat() == "2020-03-01" and patient.version == 1
    # The other side of the boundary: the day of the prior line itself is allowed.
    records.update_patient(
        physician, patient, {**row, "diagnosis_date": "2021-05-10"}, version=1,
        reason="date from the referral letter",
    )  # fmt: skip
    patient.refresh_from_db()
    assert patient.diagnosis_date.isoformat() == "2021-05-10"


def test_a_record_already_out_of_order_does_not_block_other_corrections(cast: Any) -> None:
    """Only the breaks the change makes are refused: a stored record that was already out of
    order (listed on the data-quality page) does not stop someone correcting the age."""
    records = _records()
    patient, line = _diagnosed_with_a_prior_line(cast)
    line.start_date = dt.date(2019, 1, 1)  # straight to the database, past the services
    line.save()
    physician = actor_of(cast, "physician_a")
    row = {**PATIENT_ROW, "patient_id": "A-020", "diagnosis_date": "2020-03-01"}
    records.update_patient(
        physician, patient, {**row, "age_years": 65}, version=1, reason="age from the passport"
    )
    patient.refresh_from_db()
    assert patient.age_years == 65


def test_infusion_moved_after_a_crs_assessment_is_refused(cast: Any, patient_a: Any) -> None:
    records = _records()
    physician = actor_of(cast, "physician_a")
    course = patient_a.celltherapys.get()
    moved = {**COURSE, "infusion_date": "2025-07-03"}  # the CRS assessment is 2025-07-02 08:00
    with pytest.raises(ClinicalInputError) as caught:
        records.update_record(
            physician, records.KINDS["cell-therapy"], course, moved, version=1, reason="typo"
        )
    [(field, problem)] = _problems(caught)
    assert field == "infusion_date"
    assert problem.startswith(
        "the CRS assessment of 2025-07-02 would be out of order: 2025-07-02 is before the "
        "infusion on 2025-07-03 (it grades the toxicity of the infusion)"
    )
    course.refresh_from_db()
    assert course.infusion_date.isoformat() == "2025-07-01"
    # Moved to the day of the assessment (day 0) it is allowed.
    records.update_record(
        physician, records.KINDS["cell-therapy"], course, {**COURSE, "infusion_date": "2025-07-02"},
        version=1, reason="typo",
    )  # fmt: skip


def test_a_death_before_a_stored_record_is_refused_and_on_its_day_allowed(
    cast: Any, patient_a: Any
) -> None:
    records = _records()
    physician = actor_of(cast, "physician_a")
    death = {"event": "death", "death_cause": "infection"}
    with pytest.raises(ClinicalInputError) as caught:
        records.create_record(
            physician, records.KINDS["followup"], patient_a, {**death, "event_date": "2025-07-01"}
        )
    assert _problems(caught) == [
        (
            "event_date",
            "the CRS assessment of 2025-07-02 would be out of order: 2025-07-02 is after the "
            "death on 2025-07-01; correct or delete that record first",
        )
    ]
    assert not patient_a.followups.exists()
    records.create_record(
        physician, records.KINDS["followup"], patient_a, {**death, "event_date": "2025-07-02"}
    )


def test_deleting_the_course_under_its_assessments_is_refused(cast: Any, patient_a: Any) -> None:
    records = _records()
    manager = actor_of(cast, "data_manager_a")
    course = patient_a.celltherapys.get()
    with pytest.raises(ClinicalInputError) as caught:
        records.delete_record(manager, course, version=1, reason="wrong patient")
    [(field, problem)] = _problems(caught)
    assert field == "input"
    assert problem.startswith(
        "the CRS assessment of 2025-07-02 would be out of order: no date of the infusion is "
        "recorded yet"
    )
    assert patient_a.celltherapys.exists()
    # With the assessment deleted first, the course can go.
    assessment = patient_a.crsassessments.get()
    records.delete_record(manager, assessment, version=1, reason="wrong patient")
    records.delete_record(manager, course, version=1, reason="wrong patient")
    assert not patient_a.celltherapys.exists()


def test_the_page_shows_the_moved_diagnosis_problem_at_the_top(cast: Any) -> None:
    _diagnosed_with_a_prior_line(cast)
    client = client_for("physician_a")
    response = client.post(
        "/patients/A-020/edit/",
        {"patient_id": "A-020", "age_years": "64", "sex": "F", "diagnosis": "CLL",
         "diagnosis_date": "2022-01-01", "consent_research": "true",
         "change.form_status": "complete", "change.version": "1",
         "change.reason": "date from the referral letter"},
    )  # fmt: skip
    assert response.status_code == 422
    body = response.content.decode()
    summary = body[body.index('id="error-summary"') :]
    assert '<a href="#f-diagnosis-date">' in summary
    assert "the prior line of therapy of 2021-05-10 would be out of order" in summary


def test_the_delete_page_says_why_the_course_stays(cast: Any, patient_a: Any) -> None:
    course = patient_a.celltherapys.get()
    client = client_for("data_manager_a")
    url = f"/patients/{PID}/records/cell-therapy/{course.pk}/delete/"
    response = client.post(url, {"version": "1", "reason": "wrong patient"})
    assert response.status_code == 422
    assert "no date of the infusion is recorded yet" in response.content.decode()
    assert patient_a.celltherapys.exists()


def test_the_api_answers_422_on_the_moved_field(cast: Any, patient_a: Any, api: Any) -> None:
    course = patient_a.celltherapys.get()
    moved = {"data": {**COURSE, "infusion_date": "2025-07-05"}, "version": 1, "reason": "typo"}
    response = api("physician_a", "PUT", f"/api/patients/{PID}/cell-therapy/{course.pk}", moved)
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["detail"]] == ["infusion_date"]
    assert "out of order" in response.json()["detail"][0]["msg"]


def test_crs_assessment_and_dose_after_moving_within_bounds_are_unaffected(
    cast: Any, patient_a: Any
) -> None:
    """Moving an anchor the other way (an earlier infusion) breaks nothing and is saved."""
    records = _records()
    physician = actor_of(cast, "physician_a")
    records.create_record(
        physician, records.KINDS["crs"], patient_a, {**CRS_ROW, "observed_at": "2025-07-04T08:00"}
    )
    course = patient_a.celltherapys.get()
    records.update_record(
        physician, records.KINDS["cell-therapy"], course, {**COURSE, "infusion_date": "2025-06-20"},
        version=1, reason="typo",
    )  # fmt: skip
    course.refresh_from_db()
    assert course.infusion_date.isoformat() == "2025-06-20"
