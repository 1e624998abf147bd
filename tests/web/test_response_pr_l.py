"""Contract v2 item 4 in the web app: the response form and API take the B-lymphocyte count
and ``bcr_inhibitor_ongoing``, the stored response can be PR-L, and the patient page shows it
(one engine: the values are the CLI's, tests/spec/test_iwcll_vignettes.py V2_VIGNETTES)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import client_for

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
