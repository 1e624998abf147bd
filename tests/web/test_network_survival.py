"""The network reviewer's pooled PFS/OS: centre shares pooled exactly, small cells hidden.

Centre A holds a 12-patient synthetic cohort, centre B a 3-patient one (a small cell); the
overall row must equal a Kaplan–Meier fit of both centres' rows together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.web.conftest import actor_of, client_for

pytestmark = pytest.mark.django_db


def _load(cast: Any, sizes: dict[str, tuple[int, int]]) -> None:
    """Synthetic cohorts (n, seed) stored at each centre through the services."""
    from cartwatch.synth.cohort import synthesize
    from cartwatch.web.services.imports import load_centre_data

    users = {"A": "data_manager_a", "B": "physician_b"}
    for code, (n, seed) in sizes.items():
        load_centre_data(actor_of(cast, users[code]), synthesize(n, seed=seed))


def _tte(code: str) -> dict[str, Any]:
    from cartwatch.adam.derive import derive_adam
    from cartwatch.outcomes import tables as t
    from cartwatch.web.centres.models import Centre
    from cartwatch.web.patients import models as m
    from cartwatch.web.services.exports import rows_of

    centre = Centre.objects.get(code=code)
    ds = derive_adam(rows_of(m.Patient.objects.filter(centre=centre), identifiable=False))
    eff = t.primary_efficacy_flag(ds.adsl)
    return {d.paramcd: d for d in t.tte_data(ds.adsl, ds.adrs, ds.adtte, eff)}


def test_overall_is_the_fit_of_all_rows(cast: Any) -> None:
    from cartwatch.outcomes.survival import kaplan_meier, km_median_ci
    from cartwatch.web.services.network_survival import network_survival

    _load(cast, {"A": (24, 7), "B": (20, 11)})
    result = network_survival(actor_of(cast, "reviewer"))
    assert result.problems == []
    assert [t.paramcd for t in result.endpoints] == ["PFS", "OS"]
    a, b = _tte("A"), _tte("B")
    for table in result.endpoints:
        rows = {r["centre"]: r for r in table.rows}
        d_a, d_b = a[table.paramcd], b[table.paramcd]
        fit = kaplan_meier(
            np.concatenate([d_a.months, d_b.months]), np.concatenate([d_a.event, d_b.event])
        )
        med = km_median_ci(fit)
        assert rows["A"]["n"] == d_a.months.size >= 5
        assert rows["B"]["n"] == d_b.months.size >= 5
        overall = rows["Overall"]
        assert overall["n"] == fit.n
        assert overall["median"] == med.estimate
        assert overall["ci"] == [med.lower, med.upper]


def test_a_small_centre_is_hidden_and_cannot_be_worked_out(cast: Any) -> None:
    from cartwatch.web.services.network_survival import network_survival

    _load(cast, {"A": (12, 7), "B": (3, 11)})
    for table in network_survival(actor_of(cast, "reviewer")).endpoints:
        rows = {r["centre"]: r for r in table.rows}
        assert rows["B"]["n"] == "<5" and rows["B"]["median"] is None
        # A shown next to the overall count would give B away (overall − A): one is hidden.
        shown = [rows[c]["n"] for c in ("A", "Overall") if isinstance(rows[c]["n"], int)]
        assert len(shown) <= 1
        hidden = [rows[c] for c in ("A", "Overall") if not isinstance(rows[c]["n"], int)]
        assert hidden and all(r["median"] is None for r in hidden)


def test_the_page_shows_pooled_pfs_and_os(cast: Any) -> None:
    _load(cast, {"A": (12, 7), "B": (3, 11)})
    body = client_for("reviewer").get("/network/").content.decode()
    assert 'id="survival-pfs"' in body and 'id="survival-os"' in body
    assert "not shown (small cell)" in body
    assert "exact pooling of per-centre counts" in body


def test_one_centre_large_enough_shows_its_median(cast: Any) -> None:
    from cartwatch.web.services.network_survival import network_survival

    _load(cast, {"A": (12, 7)})
    table = network_survival(actor_of(cast, "reviewer")).endpoints[0]
    rows = {r["centre"]: r for r in table.rows}
    assert isinstance(rows["A"]["n"], int) and rows["A"]["n"] >= 5
    assert rows["A"]["n"] == rows["Overall"]["n"]
    assert rows["A"]["median_text"] == rows["Overall"]["median_text"]


def test_other_roles_cannot_see_the_network_page(cast: Any) -> None:
    assert client_for("physician_a").get("/network/").status_code == 403
