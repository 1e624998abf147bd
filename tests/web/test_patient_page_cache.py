"""The patient page's cached presentation never shows stale clinical data.

Runs with ``transactional_db``: inside the usual per-test transaction the view bypasses
the cache (it never caches uncommitted rows), so these tests are the ones that hit it.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import CRS_ROW, actor_of, client_for

pytestmark = pytest.mark.usefixtures("transactional_db")


def _page(user: str) -> str:
    return str(client_for(user).get("/patients/A-001/").content.decode())


def test_insert_update_and_delete_each_change_what_the_page_shows(
    cast: Any, patient_a: Any
) -> None:
    from cartwatch.web.patients.models import CrsAssessment
    from cartwatch.web.services import records
    from cartwatch.web.ui.views import patients as views

    views._PRESENTATIONS.clear()
    physician = actor_of(cast, "physician_a")
    first = _page("nurse_a")
    _page("nurse_a")  # served from the cache: still one entry
    assert len(views._PRESENTATIONS) == 1
    assert "39.4" not in first

    row = {**CRS_ROW, "observed_at": "2025-07-03T08:00:00", "temperature_c": 39.4}
    records.create_record(physician, records.KINDS["crs"], patient_a, row)
    assert "39.4 °C" in _page("nurse_a")

    stored = CrsAssessment.objects.get(patient=patient_a, temperature_c=39.4)
    changed = {**row, "temperature_c": 37.2}
    records.update_record(
        physician, records.KINDS["crs"], stored, changed, version=stored.version, reason="typo"
    )
    body = _page("nurse_a")
    assert "37.2 °C" in body and "39.4" not in body

    stored.refresh_from_db()
    manager = actor_of(cast, "data_manager_a")
    records.delete_record(manager, stored, version=stored.version, reason="wrong patient")
    assert "37.2" not in _page("nurse_a")


def test_identifiable_and_pseudonymised_roles_never_share_an_entry(patient_a: Any) -> None:
    from cartwatch.web.ui.views import patients as views

    views._PRESENTATIONS.clear()
    _page("nurse_a")
    _page("researcher_a")
    roles = {key[4] for key in views._PRESENTATIONS}
    assert roles == {"nurse", "researcher"}
