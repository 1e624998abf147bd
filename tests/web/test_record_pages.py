"""Correct, verify and delete saved records from the pages; each record's history page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db
PID = "A-001"


def _crs(patient: Any) -> Any:
    return patient.crsassessments.get()


def _edit_post(row: Any, **changes: str) -> dict[str, str]:
    data = {
        "observed_at": "2025-07-02T08:00",
        "crs.temperature_c": "38.6",
        "crs.oxygen_device": "nasal_cannula",
        "crs.oxygen_flow_l_min": "2",
        "change.form_status": "complete",
        "change.version": str(row.version),
        "change.reason": "",
    }
    data.update(changes)
    return data


def test_every_saved_row_links_to_its_record_page(patient_a: Any) -> None:
    body = client_for("nurse_a").get(f"/patients/{PID}/").content.decode()
    crs = _crs(patient_a)
    assert f'href="/patients/{PID}/records/crs/{crs.pk}/"' in body
    assert 'class="status status-complete"' in body
    # A pseudonymised role sees the status but no link to the history.
    body = client_for("researcher_a").get(f"/patients/{PID}/").content.decode()
    assert "/records/crs/" not in body


def test_a_correction_needs_a_reason_shown_at_the_top_linked_to_its_field(patient_a: Any) -> None:
    row = _crs(patient_a)
    url = f"/patients/{PID}/records/crs/{row.pk}/edit/"
    client = client_for("nurse_a")
    form = client.get(url).content.decode()
    assert 'value="38.6"' in form and 'name="change.version" value="1"' in form
    response = client.post(url, _edit_post(row, **{"crs.temperature_c": "37.2"}))
    assert response.status_code == 422
    body = response.content.decode()
    summary = body[body.index('id="error-summary"') :]
    assert '<a href="#f-change-reason">Reason for change</a>: a reason for change is required' in (
        summary
    )
    row.refresh_from_db()
    assert row.temperature_c == 38.6 and row.version == 1


def test_a_correction_with_a_reason_regrades_and_lands_in_the_history(patient_a: Any) -> None:
    row = _crs(patient_a)
    client = client_for("nurse_a")
    response = client.post(
        f"/patients/{PID}/records/crs/{row.pk}/edit/",
        _edit_post(row, **{"crs.temperature_c": "37.2", "crs.oxygen_device": "none",
                           "crs.oxygen_flow_l_min": "", "change.reason": "misread the chart"}),
    )  # fmt: skip
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.temperature_c, row.grade, row.version) == (37.2, 0, 2)
    history = client.get(f"/patients/{PID}/records/crs/{row.pk}/").content.decode()
    assert "misread the chart" in history
    assert "<strong>Highest temperature</strong>: 38.6 → 37.2" in history
    assert "<strong>Grade</strong>: 2 → 0" in history
    assert "nurse_a" in history


def test_a_stale_version_shows_both_versions(patient_a: Any) -> None:
    row = _crs(patient_a)
    url = f"/patients/{PID}/records/crs/{row.pk}/edit/"
    first = client_for("nurse_a").post(
        url, _edit_post(row, **{"crs.temperature_c": "39.1", "change.reason": "recheck"})
    )
    assert first.status_code == 302
    second = client_for("physician_a").post(
        url, _edit_post(row, **{"crs.temperature_c": "38.0", "change.reason": "mine"})
    )
    assert second.status_code == 409
    body = second.content.decode()
    assert "Changed by someone else" in body
    assert re.search(r"<th scope=\"row\">Highest temperature</th><td>38.0</td><td>39.1</td>", body)
    assert 'name="change.version" value="2"' in body  # saving again is a deliberate choice
    row.refresh_from_db()
    assert row.temperature_c == 39.1


def test_verify_is_for_physicians_and_data_managers(patient_a: Any) -> None:
    row = _crs(patient_a)
    url = f"/patients/{PID}/records/crs/{row.pk}/verify/"
    assert client_for("nurse_a").post(url, {"version": "1"}).status_code == 403
    page = client_for("data_manager_a").get(f"/patients/{PID}/records/crs/{row.pk}/")
    assert "Verify against the source" in page.content.decode()
    assert client_for("data_manager_a").post(url, {"version": "1"}).status_code == 302
    row.refresh_from_db()
    assert row.form_status == "verified"
    body = client_for("nurse_a").get(f"/patients/{PID}/records/crs/{row.pk}/").content.decode()
    assert "verified</span>" in body and "by data_manager_a" in body


def test_delete_needs_a_reason_and_keeps_the_history(patient_a: Any) -> None:
    row = _crs(patient_a)
    url = f"/patients/{PID}/records/crs/{row.pk}/delete/"
    assert client_for("nurse_a").get(url).status_code == 403
    client = client_for("data_manager_a")
    assert client.post(url, {"version": "1", "reason": ""}).status_code == 422
    assert client.post(url, {"version": "1", "reason": "wrong patient"}).status_code == 302
    assert not patient_a.crsassessments.exists()
    history = client.get(f"/patients/{PID}/records/crs/{row.pk}/").content.decode()
    assert "deleted" in history and "wrong patient" in history


def test_the_patient_row_is_corrected_with_the_same_pages(patient_a: Any) -> None:
    client = client_for("physician_a")
    form = client.get(f"/patients/{PID}/edit/").content.decode()
    assert 'name="age_years"' in form and 'value="64"' in form
    response = client.post(
        f"/patients/{PID}/edit/",
        {"patient_id": PID, "age_years": "65", "sex": "F", "diagnosis": "CLL",
         "hospital_number": "MRN-123", "consent_research": "true", "change.form_status":
         "complete", "change.version": "1", "change.reason": "age from the passport"},
    )  # fmt: skip
    assert response.status_code == 302
    history = client.get(f"/patients/{PID}/history/").content.decode()
    assert "<strong>Age</strong>: 64 → 65" in history


def test_future_date_is_refused_at_the_top(patient_a: Any) -> None:
    response = client_for("nurse_a").post(
        f"/patients/{PID}/assessment/new/",
        {"observed_at": "2025-06-20T08:00", "crs.temperature_c": "38.2"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert (
        '<a href="#f-observed-at">Observed at (local time)</a>: 2025-06-20 is before the '
        "infusion on 2025-07-01" in body
    )


def test_fahrenheit_temperature_gets_a_hint(patient_a: Any) -> None:
    response = client_for("nurse_a").post(
        f"/patients/{PID}/assessment/new/",
        {"observed_at": "2025-07-03T08:00", "crs.temperature_c": "102"},
    )
    body = response.content.decode()
    assert "must be a number between 25 and 45 — 102 looks like °F: that is 38.9 °C?" in body


ELIGIBILITY_FORM = {
    "product": "liso-cel",
    "diagnosis": "CLL",
    "age_years": "64",
    "prior_lines": "ibrutinib\nvenetoclax; rituximab",
    "as_of": "2025-06-01",
}


def test_eligibility_has_no_default_for_relapsed_or_refractory(patient_a: Any) -> None:
    client = client_for("physician_a")
    form = client.get(f"/patients/{PID}/eligibility/new/").content.decode()
    select = form[form.index('name="relapsed_or_refractory"') :].split("</select>")[0]
    assert "selected" not in select  # nothing pre-chosen
    response = client.post(f"/patients/{PID}/eligibility/new/", ELIGIBILITY_FORM)
    assert response.status_code == 422
    assert "choose yes, no, or derive it from the recorded prior lines" in response.content.decode()
    derive = {**ELIGIBILITY_FORM, "relapsed_or_refractory": "derive"}
    response = client.post(f"/patients/{PID}/eligibility/new/", derive)
    assert response.status_code == 422  # no prior line recorded: nothing to derive from
    assert "cannot be derived" in response.content.decode()


def test_eligibility_derived_from_prior_lines_and_rerun_after_a_correction(
    cast: Any, patient_a: Any
) -> None:
    from tests.web.conftest import actor_of

    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    line = records.create_record(
        physician, records.KINDS["prior-lines"], patient_a,
        {"line_number": 1, "agents": ["ibrutinib"], "outcome": "completed"},
    )  # fmt: skip
    client = client_for("physician_a")
    derive = {**ELIGIBILITY_FORM, "relapsed_or_refractory": "derive"}
    assert client.post(f"/patients/{PID}/eligibility/new/", derive).status_code == 422
    no = {**ELIGIBILITY_FORM, "relapsed_or_refractory": "no"}
    assert client.post(f"/patients/{PID}/eligibility/new/", no).status_code == 302
    check = patient_a.eligibilitychecks.get()
    assert check.eligible is False and check.input["relapsed_or_refractory"] is False
    # The line's outcome was mistyped: it progressed. Corrected, then the decision re-run.
    records.update_record(
        physician, records.KINDS["prior-lines"], line,
        {"line_number": 1, "agents": ["ibrutinib"], "outcome": "progression"},
        version=line.version, reason="outcome from the referral letter",
    )  # fmt: skip
    response = client.post(
        f"/patients/{PID}/records/eligibility/{check.pk}/rerun/",
        {"version": str(check.version), "reason": "prior line corrected"},
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.input["relapsed_or_refractory"] is True
    assert check.input["prior_lines"] == [{"agents": ["ibrutinib"]}]
    history = client.get(f"/patients/{PID}/records/eligibility/{check.pk}/").content.decode()
    assert "prior line corrected" in history


def test_audit_log_names_records_in_words(patient_a: Any) -> None:
    body = client_for("data_manager_a").get("/audit/").content.decode()
    assert "CRS assessment, day 1, patient A-001" in body
    assert "CAR-T course, patient A-001" in body
    assert "patient A-001" in body and "sign-in" in body
    assert "patients.CrsAssessment" not in body


def test_dashboard_says_1_patient_not_1_patients(patient_a: Any) -> None:
    body = client_for("physician_a").get("/dashboard/").content.decode()
    assert "1 patient recorded" in body


def test_km_axis_ticks_are_whole_months_even_with_little_follow_up() -> None:
    from cartwatch.web.ui.analytics import month_ticks

    assert month_ticks(0.4) == [0.0, 1.0]
    assert month_ticks(2.6) == [0.0, 1.0, 2.0, 3.0]
    assert month_ticks(8.0) == [float(i) for i in range(9)]
    assert month_ticks(17.0) == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0]
    assert all(t == int(t) for t in month_ticks(50.3))


ROWS = {
    "prior-lines": {"line_number": 1, "agents": ["ibrutinib"], "outcome": "progression"},
    "icans": {"observed_at": "2025-07-02T09:00:00", "age_years": 64, "ice_score": 8},
    "treatments": {"given_at": "2025-07-02T10:00:00", "agent": "tocilizumab",
                   "indication": "crs", "dose": 8, "dose_unit": "mg/kg"},
    "labs": {"observed_at": "2025-07-02T06:00:00", "neutrophils_10e9_l": 0.4,
             "lln": {"neutrophils_10e9_l": 1.8}},
    "responses": {"assessed_at": "2025-06-20", "timepoint": "baseline",
                  "lymph_nodes_spd_cm2": 12.0},
    "mrd": {"sampled_at": "2025-08-01", "sample": "blood", "result": "undetectable",
            "sensitivity": 0.0001, "method": "flow"},
    "followup": {"event_date": "2025-08-02", "event": "last_contact", "detail": "phone call"},
}  # fmt: skip


@pytest.mark.parametrize("kind", [*ROWS, "cell-therapy", "crs"])
def test_every_kind_reopens_with_its_values_and_saves_unchanged_with_a_reason(
    cast: Any, patient_a: Any, kind: str
) -> None:
    """The edit form of each kind shows the stored values; posting them back unchanged
    (plus a reason) stores the same row as a new version."""
    from tests.web.conftest import actor_of

    from cartwatch.web.services import records
    from cartwatch.web.services.rows import stored_row_json

    spec = records.KINDS[kind]
    if kind in ROWS:
        row = records.create_record(actor_of(cast, "physician_a"), spec, patient_a, ROWS[kind])
    else:
        row = spec.model.objects.get(patient=patient_a)
    before = stored_row_json(row)
    client = client_for("data_manager_a")
    url = f"/patients/{PID}/records/{kind}/{row.pk}/edit/"
    form = client.get(url)
    assert form.status_code == 200
    from cartwatch.web.ui.edit_forms import CHANGE, EDIT_FORMS
    from cartwatch.web.ui.forms import bind

    html = form.content.decode()
    data: dict[str, Any] = {}
    sections, _ = bind((*EDIT_FORMS[kind], CHANGE), None, None)
    for section in sections:
        for bf in section.fields:
            match = re.search(rf'name="{re.escape(bf.name)}"[^>]*value="([^"]*)"', html)
            if bf.spec.kind == "bool":
                if re.search(rf'name="{re.escape(bf.name)}"[^>]*checked', html):
                    data[bf.name] = "true"
            elif bf.spec.kind in ("choice", "tristate"):
                select = re.search(rf'name="{re.escape(bf.name)}"[^>]*>(.*?)</select>', html, re.S)
                chosen = select and re.search(r'<option value="([^"]*)" selected', select.group(1))
                if chosen and chosen.group(1):
                    data[bf.name] = chosen.group(1)
            elif bf.spec.kind == "multi":
                continue
            elif match and match.group(1):
                data[bf.name] = match.group(1)
    data["change.reason"] = "re-entered unchanged"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    row.refresh_from_db()
    assert row.version == 2
    assert stored_row_json(row) == before
