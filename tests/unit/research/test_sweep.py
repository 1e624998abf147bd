"""``simulate sweep``: grid cells, spawned seeds, identical serially and on Dask, bad grids."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from cartwatch.cli.app import app
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.research import sweep as sweep_module
from cartwatch.research.inputs import SimulateSurvivalIn, SweepIn, parse
from cartwatch.research.simulate import simulate_survival
from cartwatch.research.sweep import SweepError, build_sweep, run_sweep

BASE: dict[str, Any] = {
    "replicates": 400,
    "seed": 3,
    "subjects": 217,
    "accrual_months": 24,
    "analysis": {"month": 48},
    "arms": {
        "control": {"cure_fraction": 0.0, "median_months": 12},
        "treatment": {"cure_fraction": 0.3, "median_months": 12},
    },
    "alpha": 0.025,
    "tests": ["logrank", "milestone"],
    "milestone_months": 24,
}
DOC: dict[str, Any] = {
    "base": BASE,
    "grid": {"subjects": [120, 200], "arms.treatment.cure_fraction": [0.1, 0.3]},
    "scheduler": None,
    "workers": 2,
}


def _sweep(**changes: Any) -> Any:
    return build_sweep(parse(SweepIn, {**copy.deepcopy(DOC), **changes}))


def test_cells_in_grid_order_with_spawned_seeds() -> None:
    sweep = _sweep()
    assert sweep.values == ((120, 0.1), (120, 0.3), (200, 0.1), (200, 0.3))
    children = np.random.SeedSequence(3).spawn(4)
    assert sweep.seeds == tuple(int(c.generate_state(1, np.uint64)[0] >> 1) for c in children)
    assert sweep.documents[3]["arms"]["treatment"]["cure_fraction"] == 0.3
    assert sweep.documents[3]["subjects"] == 200 and sweep.documents[3]["seed"] == sweep.seeds[3]
    assert BASE["subjects"] == 217  # the base document is not changed


def test_a_cell_equals_simulate_survival_with_its_seed() -> None:
    sweep = _sweep()
    result = run_sweep(sweep, serial=True)
    cell = result["cells"][2]
    alone = simulate_survival(parse(SimulateSurvivalIn, sweep.documents[2]))
    assert cell["power"] == alone.power and cell["seed"] == alone.seed
    assert result["scheduler"] == "serial"


@pytest.mark.slow
def test_identical_serially_and_on_a_two_process_local_cluster() -> None:
    sweep = _sweep()
    serial = run_sweep(sweep, serial=True)
    ticks: list[int] = []
    on_dask = run_sweep(sweep, done=lambda: ticks.append(1))
    assert on_dask["cells"] == serial["cells"]
    assert on_dask["workers"] == 2 and on_dask["scheduler"] == "local cluster"
    assert len(ticks) == 4


def test_analysis_key_in_the_grid_replaces_the_other_cut() -> None:
    sweep = _sweep(grid={"analysis.events": [100, 150]})
    assert sweep.documents[0]["analysis"] == {"events": 100}


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        ({"subjectz": [1]}, ("grid.subjectz", "not a field of the simulate survival document")),
        (
            {"arms.control.cure": [0.1]},
            ("grid.arms.control.cure", "not a field of the simulate survival document"),
        ),
        ({"arms": [1]}, ("grid.arms", "not a numeric field (give one of its numeric fields)")),
        ({"tests": [1]}, ("grid.tests", "not a numeric field (give one of its numeric fields)")),
        (
            {"seed": [1, 2]},
            ("grid.seed", "each cell's seed is spawned from base.seed; vary it there"),
        ),
        (
            {"subjects": [100, 160.5]},
            ("grid.subjects[1]", "must be an integer between 2 and 20000"),
        ),
        (
            {"arms.treatment.cure_fraction": [0.2, 1.0]},
            ("grid.arms.treatment.cure_fraction[1]", "must be a number ≥ 0 and < 1"),
        ),
    ],
)
def test_bad_grid_names_the_key(grid: dict[str, Any], expected: tuple[str, str]) -> None:
    with pytest.raises(ClinicalInputError) as err:
        _sweep(grid=grid)
    assert expected in err.value.problems


def test_bad_base_is_reported_under_base() -> None:
    with pytest.raises(ClinicalInputError) as err:
        _sweep(base={**BASE, "alpha": 2})
    assert ("base.alpha", "must be a number > 0 and < 1") in err.value.problems


def test_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_module, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(SweepError, match=r"scheduler: cannot connect to 'tcp://127.0.0.1:9'"):
        run_sweep(_sweep(scheduler="tcp://127.0.0.1:9"))


def test_cli_writes_the_table_and_the_plot(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "sweep"
    result = runner.invoke(
        app, ["simulate", "sweep", "-", "--serial", "--out", str(out)], input=json.dumps(DOC)
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert [c["subjects"] for c in printed["cells"]] == [120, 120, 200, 200]
    assert {"workers", "scheduler", "elapsed_s", "method"} <= set(printed)
    with open(out / "sweep.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and "power.milestone" in rows[0] and "mc_se.logrank" in rows[0]
    assert json.loads((out / "sweep.json").read_text())["cells"] == printed["cells"]
    assert (out / "sweep_power.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sweep cells" in result.stderr


def test_cli_bad_grid_exits_2() -> None:
    result = CliRunner().invoke(
        app, ["simulate", "sweep", "-"], input=json.dumps({**DOC, "grid": {"nope": [1]}})
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert "grid.nope: not a field of the simulate survival document" in result.stderr


@pytest.mark.slow
def test_an_existing_scheduler_by_address_gives_the_same_cells() -> None:
    from dask.distributed import LocalCluster

    serial = run_sweep(_sweep(), serial=True)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = run_sweep(_sweep(scheduler=cluster.scheduler_address))
    assert remote["cells"] == serial["cells"]
    assert remote["scheduler"] == cluster.scheduler_address and remote["workers"] is None
