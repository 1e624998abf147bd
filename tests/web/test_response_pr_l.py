"""Contract v2 item 4 in the web app: the response form and API take the B-lymphocyte count
and ``bcr_inhibitor_ongoing``, the stored response can be PR-L, and the patient page shows it
(one engine: the values are the CLI's, tests/spec/test_iwcll_vignettes.py V2_VIGNETTES)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db
P = "/api/patients/A-001"
BASELINE = {
    "assessed_at": "2025-06-01",
    "timepoint": "baseline",
    "lymph_nodes_spd_cm2": 40,
    "lymphocytes_10e9_l": 8,
    "b_lymphocytes_10e9_l": 7,
    "platelets_10e9_l": 60,
}
# Nodes −75 %, platelets up, B lymphocytes 7 → 14 (+100 %, ≥5): PD, or PR-L on a BTKi.
POST = {
    "assessed_at": "2025-09-01",
    "timepoint": "post",
    "lymph_nodes_spd_cm2": 10,
    "lymphocytes_10e9_l": 16,
    "b_lymphocytes_10e9_l": 14,
    "platelets_10e9_l": 120,
}


@pytest.mark.parametrize(("bcr_inhibitor_ongoing", "expected"), [(False, "PD"), (True, "PR-L")])
def test_stored_response_follows_the_engine(
    patient_a: Any, api: Any, bcr_inhibitor_ongoing: bool, expected: str
) -> None:
    assert api("physician_a", "POST", f"{P}/responses", {"data": BASELINE}).status_code == 201
    post = {**POST, "bcr_inhibitor_ongoing": bcr_inhibitor_ongoing}
    created = api("physician_a", "POST", f"{P}/responses", {"data": post})
    assert created.status_code == 201, created.content
    body = api("physician_a", "GET", f"{P}/responses/{created.json()['id']}").json()
    assert body["data"]["b_lymphocytes_10e9_l"] == 14
    assert body["data"]["bcr_inhibitor_ongoing"] is bcr_inhibitor_ongoing
    assert body["result"]["response"] == expected
    page = client_for("physician_a").get("/patients/A-001/")
    assert page.status_code == 200
    assert f">{expected}<" in page.content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"b_lymphocytes_10e9_l": -1}, "b_lymphocytes_10e9_l"),
        ({"bcr_inhibitor_ongoing": "yes"}, "bcr_inhibitor_ongoing"),
    ],
)
def test_bad_values_are_422_naming_the_field(
    patient_a: Any, api: Any, change: dict[str, Any], field: str
) -> None:
    refused = api("physician_a", "POST", f"{P}/responses", {"data": {**BASELINE, **change}})
    assert refused.status_code == 422, refused.content
    assert field in refused.content.decode()


def test_the_response_form_has_the_new_fields(patient_a: Any) -> None:
    page = client_for("physician_a").get("/patients/A-001/responses/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="b_lymphocytes_10e9_l"' in html
    assert 'name="bcr_inhibitor_ongoing"' in html


# --- B lymphocytes are counted within the lymphocytes: B > total is refused ------------------

B_ABOVE_TOTAL = "B lymphocytes (8.5 ×10⁹/L) cannot exceed total lymphocytes (8 ×10⁹/L)"


def test_a_b_count_above_the_total_is_422_on_its_field(patient_a: Any, api: Any) -> None:
    from cartwatch.web.patients import models as m

    data = {**BASELINE, "b_lymphocytes_10e9_l": 8.5}
    refused = api("physician_a", "POST", f"{P}/responses", {"data": data})
    assert refused.status_code == 422, refused.content
    [problem] = refused.json()["detail"]
    assert (problem["path"], problem["msg"]) == ("b_lymphocytes_10e9_l", B_ABOVE_TOTAL)
    assert problem["loc"] == ["body", "data", "b_lymphocytes_10e9_l"]
    assert not m.ResponseAssessment.objects.filter(patient=patient_a).exists()
    equal = api(
        "physician_a", "POST", f"{P}/responses", {"data": {**data, "lymphocytes_10e9_l": 8.5}}
    )
    assert equal.status_code == 201, equal.content


def test_a_correction_to_b_above_the_total_is_422(patient_a: Any, api: Any) -> None:
    created = api("physician_a", "POST", f"{P}/responses", {"data": BASELINE}).json()
    body = {"data": {**BASELINE, "lymphocytes_10e9_l": 6.9}, "version": created["version"],
            "reason": "total retyped"}  # fmt: skip
    refused = api("physician_a", "PUT", f"{P}/responses/{created['id']}", body)
    assert refused.status_code == 422, refused.content
    assert [p["path"] for p in refused.json()["detail"]] == ["b_lymphocytes_10e9_l"]


def test_the_response_form_shows_b_above_the_total_at_the_top(patient_a: Any) -> None:
    form = {"assessed_at": "2025-06-20", "timepoint": "baseline", "lymphocytes_10e9_l": "8",
            "b_lymphocytes_10e9_l": "8.5"}  # fmt: skip
    response = client_for("physician_a").post("/patients/A-001/responses/new/", form)
    assert response.status_code == 422
    body = response.content.decode()
    summary = body[body.index('id="error-summary"') :]
    assert (
        f'<a href="#f-b-lymphocytes-10e9-l">B lymphocytes (flow)</a>: {B_ABOVE_TOTAL}' in summary
    ), summary[:2000]
