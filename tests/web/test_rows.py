"""Stored rows read back through the centre-format row models (services/rows.py).

Regression: ``fields_to_row_dict`` collected every ``ice_*`` column into ``ice_items`` —
``ice_score`` included — so an ICANS assessment scored with an ICE total was stored but could
not be read back: the API answered 500 and every export of the centre failed.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from tests.web.conftest import actor_of

from cartwatch.web.services import records

pytestmark = pytest.mark.django_db
P = "/api/patients/A-001"

ICE_TOTAL = {"observed_at": "2025-07-02T09:00:00", "age_years": 64, "ice_score": 7}
ICE_ITEMS = {
    "observed_at": "2025-07-03T09:00:00",
    "age_years": 64,
    "ice_items": {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1},
}


@pytest.mark.parametrize("row", [ICE_TOTAL, ICE_ITEMS], ids=["ice_score", "ice_items"])
def test_icans_assessment_reads_back_as_saved(patient_a: Any, api: Any, row: Any) -> None:
    created = api("nurse_a", "POST", f"{P}/icans", {"data": row})
    assert created.status_code == 201, created.content
    url = f"{P}/icans/{created.json()['id']}"
    got = api("nurse_a", "GET", url)
    assert got.status_code == 200, got.content
    data = got.json()["data"]
    for key, value in row.items():
        assert data[key] == value
    if "ice_score" in row:
        assert data["ice_items"] is None  # a total only: no invented item scores
    else:
        assert data["ice_score"] is None
    assert got.json()["result"]["grade"] == created.json()["result"]["grade"]
    listed = api("nurse_a", "GET", f"{P}/icans")
    assert listed.status_code == 200 and len(listed.json()) == 1


def test_an_icans_row_with_an_ice_score_can_be_edited(patient_a: Any, api: Any) -> None:
    created = api("nurse_a", "POST", f"{P}/icans", {"data": ICE_TOTAL}).json()
    url = f"{P}/icans/{created['id']}"
    body = {"data": {**ICE_TOTAL, "ice_score": 2}, "version": 1, "reason": "re-scored"}
    updated = api("nurse_a", "PUT", url, body)
    assert updated.status_code == 200, updated.content
    assert updated.json()["data"]["ice_score"] == 2


def test_centre_export_includes_icans_rows_with_an_ice_score(
    cast: Any, patient_a: Any, api: Any
) -> None:
    assert api("nurse_a", "POST", f"{P}/icans", {"data": ICE_TOTAL}).status_code == 201
    assert api("nurse_a", "POST", f"{P}/icans", {"data": ICE_ITEMS}).status_code == 201
    response = api("data_manager_a", "GET", "/api/exports/centre-csv")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        lines = archive.read("icans_observations.csv").decode().splitlines()
    assert len(lines) == 3  # header + both rows
    header = lines[0].split(",")
    first = dict(zip(header, lines[1].split(","), strict=True))
    assert first["ice_score"] == "7" and first["ice_items.orientation"] == ""


def test_every_stored_kind_maps_back_to_its_row_model(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records
    from cartwatch.web.services.rows import ROW_MODELS, to_row

    nurse = actor_of(cast, "nurse_a")
    records.create_record(nurse, records.KINDS["icans"], patient_a, ICE_TOTAL)
    records.create_record(
        nurse,
        records.KINDS["labs"],
        patient_a,
        {
            "observed_at": "2025-07-02T06:00:00",
            "neutrophils_10e9_l": 0.4,
            "lln": {"neutrophils_10e9_l": 1.8, "platelets_10e9_l": 150, "hemoglobin_g_dl": 12},
        },
    )
    for model in ROW_MODELS:
        for instance in model.objects.all():
            to_row(instance)  # raises if a stored row cannot be read back


def test_response_assessment_reads_back(patient_a: Any, api: Any) -> None:
    """ResponseAssessmentRow has an excluded, always-empty ``mrd`` field (MRD lives in
    mrd.csv); reading a stored assessment back must skip it rather than fail."""
    baseline = {"assessed_at": "2025-06-01", "timepoint": "baseline", "lymph_nodes_spd_cm2": 20}
    post = {"assessed_at": "2025-09-01", "timepoint": "post", "lymph_nodes_spd_cm2": 4}
    for row in (baseline, post):
        created = api("physician_a", "POST", f"{P}/responses", {"data": row})
        assert created.status_code == 201, created.content
    got = api("physician_a", "GET", f"{P}/responses/{created.json()['id']}")
    assert got.status_code == 200, got.content
    assert got.json()["data"]["lymph_nodes_spd_cm2"] == 4
    assert "mrd" not in got.json()["data"]


def test_display_rows_equal_the_validated_rows_for_every_kind(
    cast: Any, patient_a: Any, synth_centre: int
) -> None:
    """present() lays rows out from the stored columns without re-validating them; the
    result must be exactly the validated row model's JSON dump (what exports use)."""
    from cartwatch.web.services.rows import ROW_MODELS, stored_row_json, to_row

    records.create_record(actor_of(cast, "nurse_a"), records.KINDS["icans"], patient_a, ICE_ITEMS)
    seen = set()
    for model in ROW_MODELS:
        for instance in model.objects.all():
            assert stored_row_json(instance) == to_row(instance).model_dump(mode="json")
            seen.add(model)
    assert seen == set(ROW_MODELS)  # the cohort has rows of every kind
