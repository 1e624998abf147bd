"""``design survival`` equals rpact ``getSampleSizeSurvival`` (kMax 1) to 1e-6 relative.

Goldens: ``data/research/rpact_sample_size_survival.json``, written by the R script beside it
(400 designs drawn from a grid over method, hazard ratio, sidedness, power, allocation,
dropout, accrual/follow-up and control median).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cartwatch.research.inputs import SurvivalDesignIn, parse
from cartwatch.research.survival_design import survival_design

GOLDEN = Path(__file__).parent / "data" / "research" / "rpact_sample_size_survival.json"
DESIGNS: list[dict[str, Any]] = json.loads(GOLDEN.read_text())["designs"]


@pytest.mark.parametrize("row", DESIGNS, ids=[str(i) for i in range(len(DESIGNS))])
def test_equals_rpact(row: dict[str, Any]) -> None:
    spec = parse(SurvivalDesignIn, row["input"])
    got = survival_design(**spec.model_dump())
    assert got.events == pytest.approx(row["events"], rel=1e-6)
    assert got.subjects == pytest.approx(row["subjects"], rel=1e-6)
    assert got.analysis_month == pytest.approx(row["analysis_month"], rel=1e-12)


def test_the_grid_covers_both_methods_and_sides() -> None:
    seen = {
        (r["input"]["method"], r["input"]["sided"], r["input"]["hazard_ratio"] > 1) for r in DESIGNS
    }
    assert len(seen) == 8


def test_contract_example() -> None:
    d = survival_design(
        hazard_ratio=0.6,
        alpha=0.025,
        sided=1,
        power=0.9,
        allocation_ratio=1,
        method="schoenfeld",
        control_median_months=12,
        accrual_months=24,
        follow_up_months=24,
        dropout_rate=0.05,
        dropout_months=12,
    ).to_dict()
    assert round(d["events"], 4) == 161.0686
    assert round(d["subjects"], 4) == 216.9569
    assert (d["events_ceil"], d["subjects_ceil"], d["analysis_month"]) == (162, 217, 48)
    assert "Schoenfeld" in d["method"]
