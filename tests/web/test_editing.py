"""Optimistic locking, reason for change, and 422 with the contract field path."""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import CRS_ROW, actor_of

pytestmark = pytest.mark.django_db
P = "/api/patients/A-001"


def _crs_url(patient: Any) -> str:
    return f"{P}/crs/{patient.crsassessments.get().pk}"


def test_stored_grade_comes_from_the_engine(patient_a: Any, api: Any) -> None:
    body = api("nurse_a", "GET", _crs_url(patient_a)).json()
    # 38.6 °C with nasal cannula 2 L/min: ASTCT grade 2 (low-flow oxygen).
    assert body["result"]["grade"] == 2
    assert body["result"]["standard"] == "ASTCT 2019"
    assert body["result"]["reasons"]


def test_second_save_with_a_stale_version_is_a_conflict(patient_a: Any, api: Any) -> None:
    url = _crs_url(patient_a)
    first = api("nurse_a", "PUT", url, {"data": CRS_ROW, "version": 1, "reason": "recheck"})
    assert first.status_code == 200 and first.json()["version"] == 2
    second = api(
        "physician_a",
        "PUT",
        url,
        {"data": {**CRS_ROW, "temperature_c": 40.0}, "version": 1, "reason": "mine"},
    )
    assert second.status_code == 409
    assert second.json()["current_version"] == 2
    stored = api("nurse_a", "GET", url).json()
    assert stored["data"]["temperature_c"] == 38.6  # the nurse's save was not overwritten


def test_service_raises_conflict_for_stale_version(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records
    from cartwatch.web.services.errors import Conflict

    row = patient_a.crsassessments.get()
    with pytest.raises(Conflict):
        records.update_record(
            actor_of(cast, "nurse_a"), records.KINDS["crs"], row, CRS_ROW, version=7, reason="x"
        )


def test_editing_a_completed_assessment_requires_a_reason(patient_a: Any, api: Any) -> None:
    url = _crs_url(patient_a)
    response = api("nurse_a", "PUT", url, {"data": CRS_ROW, "version": 1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["path"] == "reason"


def test_a_draft_can_be_edited_without_a_reason(patient_a: Any, api: Any) -> None:
    created = api("nurse_a", "POST", f"{P}/crs", {"data": CRS_ROW, "completed": False}).json()
    url = f"{P}/crs/{created['id']}"
    response = api("nurse_a", "PUT", url, {"data": CRS_ROW, "version": 1, "completed": True})
    assert response.status_code == 200 and response.json()["completed"] is True


def test_bad_clinical_input_is_422_with_the_field_path(patient_a: Any, api: Any) -> None:
    bad = {**CRS_ROW, "oxygen_flow_l_min": "lots"}
    response = api("nurse_a", "POST", f"{P}/crs", {"data": bad})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["path"] == "oxygen_flow_l_min"
    assert problem["loc"] == ["body", "data", "oxygen_flow_l_min"]


def test_unknown_fields_are_rejected(patient_a: Any, api: Any) -> None:
    response = api("nurse_a", "POST", f"{P}/crs", {"data": {**CRS_ROW, "temprature_c": 39}})
    assert response.status_code == 422
    assert [d["path"] for d in response.json()["detail"]] == ["temprature_c"]
    envelope = api("nurse_a", "POST", f"{P}/crs", {"data": CRS_ROW, "grade": 0})
    assert envelope.status_code == 422
    assert envelope.json()["detail"][0]["path"] == "grade"


def test_contradictory_input_is_422_from_the_engine(patient_a: Any, api: Any) -> None:
    # Nasal cannula without a flow: the engine refuses to guess (ClinicalInputError).
    bad = {k: v for k, v in CRS_ROW.items() if k != "oxygen_flow_l_min"}
    response = api("nurse_a", "POST", f"{P}/crs", {"data": bad})
    assert response.status_code == 422
    assert response.json()["detail"][0]["path"] == "oxygen_flow_l_min"


def test_live_grading_matches_the_cli_contract(cast: Any, api: Any) -> None:
    response = api(
        "nurse_a", "POST", "/api/grade/crs", {"temperature_c": 38.5, "hypotension": True}
    )
    assert response.status_code == 200
    assert response.json()["grade"] == 2 and response.json()["standard"] == "ASTCT 2019"
    icans = api("nurse_a", "POST", "/api/grade/icans", {"age_years": 60, "ice_score": 5})
    assert icans.status_code == 200 and icans.json()["grade"] == 2
    bad = api("nurse_a", "POST", "/api/grade/icans", {"age_years": 60, "ice_score": 11})
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "ice_score"


def test_eligibility_is_stored_with_label_version_and_reasons(patient_a: Any, api: Any) -> None:
    document = {
        "product": "Breyanzi",
        "diagnosis": "CLL",
        "age_years": 64,
        "relapsed_or_refractory": True,
        "prior_lines": [{"agents": ["ibrutinib"]}, {"agents": ["venetoclax", "obinutuzumab"]}],
        "as_of": "2025-06-01",
    }
    response = api("physician_a", "POST", f"{P}/eligibility", document)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"]["eligible"] is True
    assert body["result"]["label_version"]
    assert body["result"]["reasons"]
    assert body["data"]["product"] == "liso-cel"  # the validated input as checked


def test_labs_store_ctcae_grades(patient_a: Any, api: Any) -> None:
    lab = {"observed_at": "2025-07-03T07:00:00", "neutrophils_10e9_l": 0.4, "platelets_10e9_l": 60}
    body = api("nurse_a", "POST", f"{P}/labs", {"data": lab}).json()
    assert body["result"]["grade_neutrophil_count_decreased"] == 4
    assert body["result"]["grade_platelet_count_decreased"] == 2
    assert body["result"]["standard"] == "CTCAE v5.0"


def test_alerts_work_list(cast: Any, patient_a: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from cartwatch.web.services.alerts import work_list

    now = timezone.make_aware(dt.datetime(2025, 7, 3, 12, 0))
    rules = {a.rule for a in work_list(actor_of(cast, "nurse_a"), now=now)}
    # grade 2 on 07-02 (within 48 h); 07-01 had no assessment.
    assert {"crs_grade_ge2", "missed_assessment"} <= rules
    assert work_list(actor_of(cast, "physician_b"), now=now) == []


P_LINES = "/api/patients/A-001/prior-lines"


def _line(number: int) -> dict[str, Any]:
    return {"data": {"line_number": number, "agents": ["ibrutinib"]}}


def test_a_repeated_prior_line_number_is_422_on_the_field_not_a_server_error(
    patient_a: Any, api: Any
) -> None:
    assert api("physician_a", "POST", P_LINES, _line(1)).status_code == 201
    second = api("physician_a", "POST", P_LINES, _line(2)).json()
    again = api("physician_a", "POST", P_LINES, _line(1))
    assert again.status_code == 422
    assert [p["path"] for p in again.json()["detail"]] == ["line_number"]
    moved = {**_line(1), "version": second["version"], "reason": "renumbered"}
    clash = api("physician_a", "PUT", f"{P_LINES}/{second['id']}", moved)
    assert clash.status_code == 422
    assert [row["data"]["line_number"] for row in api("physician_a", "GET", P_LINES).json()] == [
        1,
        2,
    ]


def test_a_unique_clash_lost_in_a_race_is_still_422(
    patient_a: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL two concurrent inserts can both pass the check; the loser's database
    # error must still come back as the field's problem.
    from cartwatch.web.services import records

    assert api("physician_a", "POST", P_LINES, _line(1)).status_code == 201
    real = records._unique_problem
    calls: list[Any] = []

    def blind_first_check(instance: Any) -> Any:
        calls.append(instance)  # the first sees no clash: the other insert is not yet visible
        return None if len(calls) == 1 else real(instance)

    monkeypatch.setattr(records, "_unique_problem", blind_first_check)
    lost = api("physician_a", "POST", P_LINES, _line(1))
    assert len(calls) == 2  # the insert failed in the database and was explained after
    assert lost.status_code == 422
    assert [p["path"] for p in lost.json()["detail"]] == ["line_number"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({**_line(3), "completed": 0}, "completed"),
        ({**_line(3), "data": "line 3"}, "data"),
    ],
)
def test_envelope_fields_are_not_coerced(
    patient_a: Any, api: Any, body: dict[str, Any], path: str
) -> None:
    response = api("physician_a", "POST", P_LINES, body)
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["detail"]] == [path]


def test_a_version_given_as_text_is_refused(patient_a: Any, api: Any) -> None:
    created = api("physician_a", "POST", P_LINES, _line(1)).json()
    update = {**_line(1), "version": str(created["version"]), "reason": "x"}
    response = api("physician_a", "PUT", f"{P_LINES}/{created['id']}", update)
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["detail"]] == ["version"]


def test_a_number_for_a_date_is_422_not_1970(patient_a: Any, api: Any) -> None:
    body = {"data": {"line_number": 1, "agents": ["ibrutinib"], "end_date": 0}}
    response = api("physician_a", "POST", P_LINES, body)
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["detail"]] == ["end_date"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/patients/A-001/followup",
            {"data": {"event_date": "2025-09-01", "event": "last_contact", "detail": "a\u0000b"}},
            "detail",
        ),
        (
            "/api/patients",
            {
                "data": {
                    "patient_id": "A-009", "age_years": 60, "sex": "F", "diagnosis": "CLL",
                    "consent_research": True, "hospital_number": "MRN\u00001",
                }
            },
            "hospital_number",
        ),
        (
            "/api/patients/A-001/eligibility",
            {
                "product": "liso-cel", "diagnosis": "CLL", "age_years": 64,
                "relapsed_or_refractory": True, "prior_lines": [{"agents": ["ibru\u0000tinib"]}],
            },
            "prior_lines[0].agents[0]",
        ),
    ],
    ids=["record", "patient", "eligibility"],
)  # fmt: skip
def test_a_nul_character_is_422_on_its_field_never_a_database_error(
    patient_a: Any, api: Any, path: str, body: dict[str, Any], field: str
) -> None:
    # PostgreSQL text and jsonb cannot hold U+0000: before this check it was a 500 there.
    response = api("physician_a", "POST", path, body)
    assert response.status_code == 422, response.content
    assert [p["path"] for p in response.json()["detail"]] == [field]
    assert "NUL" in response.json()["detail"][0]["msg"]


def test_a_nul_in_a_reason_for_change_is_422(patient_a: Any, api: Any) -> None:
    created = api("physician_a", "POST", P_LINES, _line(1)).json()
    update = {**_line(1), "version": created["version"], "reason": "typo\u0000"}
    response = api("physician_a", "PUT", f"{P_LINES}/{created['id']}", update)
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["detail"]] == ["reason"]
