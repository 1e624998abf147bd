"""Issue 12 (an attack on a two-centre install): every finding fixed here, replayed.

One test (or one parametrised family) per finding, each failing without its fix. The module
runs on SQLite and, under ``scripts/test``'s second pass (``DATABASE_URL``), on PostgreSQL.
Findings 1–3 and 9 are pinned by the modules of the engineers who fixed them.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import actor_of, client_for, infused_patient

pytestmark = pytest.mark.django_db


# --- finding 4: the network reviewer never sees a count of 1–4 ---------------------------


def _counts(row: dict[str, Any]) -> list[Any]:
    out = [row["patients"], row["infused"]]
    for key in ("crs_any", "crs_grade_3_plus", "icans_any", "icans_grade_3_plus"):
        out += [row[key]["k"], row[key]["n"]]
    return out


def _network(api: Any) -> dict[str, Any]:
    response = api("reviewer", "GET", "/api/network")
    assert response.status_code == 200
    return dict(response.json())


def test_network_one_patient_reads_less_than_5(patient_a: Any, api: Any) -> None:
    body = _network(api)
    pooled = body["pooled"]
    assert pooled["patients"] == "<5" and pooled["infused"] == "<5"
    assert pooled["crs_any"] == {
        "k": "<5", "n": "<5", "rate": None, "ci": None, "method": "clopper-pearson",
    }  # fmt: skip
    for row in [pooled, *body["centres"]]:
        assert not any(isinstance(v, int) and 1 <= v <= 4 for v in _counts(row)), row
    assert "1–4" in body["suppression"]["rule"]


def test_network_total_does_not_reveal_the_small_centre(cast: Any, api: Any) -> None:
    """Centre A: 6 infused patients; centre B: 2. Pooled patients shown with A's would give
    B's 2 away, so one more count is hidden."""
    for i in range(6):
        infused_patient(actor_of(cast, "physician_a"), patient_id=f"A-{i:03}")
    for i in range(2):
        infused_patient(actor_of(cast, "physician_b"), patient_id=f"B-{i:03}")
    body = _network(api)
    a, b = body["centres"]
    pooled = body["pooled"]
    assert b["patients"] == "<5"
    assert not (isinstance(a["patients"], int) and isinstance(pooled["patients"], int))
    for row in (a, b, pooled):
        assert not any(isinstance(v, int) and 1 <= v <= 4 for v in _counts(row)), row
        for key in ("crs_any", "icans_any"):  # a rate only with both parts shown
            rate = row[key]
            assert (rate["rate"] is None) or (
                isinstance(rate["k"], int) and isinstance(rate["n"], int)
            )


def test_network_page_states_the_rule(patient_a: Any) -> None:
    page = client_for("reviewer").get("/network/").content.decode()
    assert 'id="suppression-rule"' in page and "1–4" in page
    assert "&lt;5" in page
    assert "1/1" not in page
