"""The research commands through the CLI: contract keys, ``method``, exit 2 on bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from cartwatch.cli.app import app
from cartwatch.research.examples import simulation

runner = CliRunner()


def _run(args: list[str], doc: object) -> Any:
    return runner.invoke(app, [*args, "-"], input=json.dumps(doc))


def _ok(args: list[str], doc: object) -> dict[str, Any]:
    result = _run(args, doc)
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    assert out["method"]
    return out


def _problems(args: list[str], doc: object) -> list[str]:
    result = _run(args, doc)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    return result.stderr.strip().splitlines()


SINGLE = {"p0": 0.1, "p1": 0.3, "alpha": 0.05, "power": 0.8, "design": "simon"}


def test_single_arm_simon_and_exact() -> None:
    out = _ok(["design", "single-arm"], SINGLE)
    assert out["optimal"]["n"] == 29 and out["minimax"]["n"] == 25
    assert set(out["optimal"]) >= {
        "r1",
        "n1",
        "r",
        "n",
        "en0",
        "pet0",
        "alpha_actual",
        "power_actual",
    }
    exact = _ok(["design", "single-arm"], {**SINGLE, "design": "exact"})
    assert {k: exact[k] for k in ("design", "n", "r")} == {"design": "exact", "n": 25, "r": 5}


def test_single_arm_infeasible_is_exit_0() -> None:
    out = _ok(["design", "single-arm"], {**SINGLE, "n_max": 20})
    assert out["feasible"] is False and out["reasons"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"p0": 0}, "p0: must be a number > 0 and < 1"),
        ({"p1": 1.0}, "p1: must be a number > 0 and < 1"),
        ({"p1": 0.1}, "p1: must exceed p0 (0.1), got 0.1"),
        ({"power": 0.05}, "power: must exceed alpha (0.05), got 0.05"),
        ({"alpha": "0.05"}, "alpha: must be a number > 0 and < 1"),
        ({"alpha": True}, "alpha: must be a number > 0 and < 1"),
        ({"design": "fleming"}, "design: unknown value 'fleming'; expected 'exact' or 'simon'"),
        ({"n_max": 5000}, "n_max: must be an integer between 2 and 1000"),
        ({"extra": 1}, "extra: unknown field"),
    ],
)
def test_single_arm_bad_input(change: dict[str, object], expected: str) -> None:
    assert expected in _problems(["design", "single-arm"], {**SINGLE, **change})


SURVIVAL = {
    "hazard_ratio": 0.6,
    "alpha": 0.025,
    "sided": 1,
    "power": 0.9,
    "allocation_ratio": 1,
    "method": "schoenfeld",
    "control_median_months": 12,
    "accrual_months": 24,
    "follow_up_months": 24,
    "dropout_rate": 0.05,
    "dropout_months": 12,
}


def test_design_survival_contract_example() -> None:
    out = _ok(["design", "survival"], SURVIVAL)
    assert round(out["events"], 4) == 161.0686 and round(out["subjects"], 4) == 216.9569
    assert {"events_ceil", "subjects_ceil", "analysis_month", "reasons"} <= set(out)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"hazard_ratio": 1}, "hazard_ratio: must differ from 1 (no effect)"),
        ({"sided": 3}, "sided: must be 1 or 2"),
        ({"dropout_rate": 1}, "dropout_rate: must be a number ≥ 0 and < 1"),
        (
            {"method": "lakatos"},
            "method: unknown value 'lakatos'; expected 'schoenfeld' or 'freedman'",
        ),
        ({"accrual_months": -1}, "accrual_months: must be a number > 0 and ≤ 1000000"),
    ],
)
def test_design_survival_bad_input(change: dict[str, object], expected: str) -> None:
    assert expected in _problems(["design", "survival"], {**SURVIVAL, **change})


def test_text_format_shows_the_numbers() -> None:
    result = runner.invoke(
        app, ["design", "survival", "-", "--format", "text"], input=json.dumps(SURVIVAL)
    )
    assert result.exit_code == 0
    assert "Events: 161.069" in result.stdout and "Subjects ceil: 217" in result.stdout


def test_not_json_and_duplicate_keys() -> None:
    result = runner.invoke(app, ["design", "survival", "-"], input='{"alpha": 0.1, "alpha": 0.2}')
    assert result.exit_code == 2 and "alpha: duplicate key" in result.stderr


SIMULATE: dict[str, Any] = simulation(replicates=300, analysis={"events": 120})


def test_simulate_survival_contract_keys() -> None:
    out = _ok(["simulate", "survival"], SIMULATE)
    assert {
        "replicates",
        "seed",
        "power",
        "mc_se",
        "mean_events",
        "mean_analysis_month",
        "notes",
    } <= set(out)
    assert set(out["power"]) == {"logrank", "rmst", "milestone"}
    assert out == _ok(["simulate", "survival"], SIMULATE)  # same seed, same result


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"replicates": 0}, "replicates: must be an integer between 1 and 1000000"),
        ({"replicates": 10**7}, "replicates: must be an integer between 1 and 1000000"),
        (
            {
                "arms": {
                    "control": {"cure_fraction": 1, "median_months": 12},
                    "treatment": {"cure_fraction": 0.3, "median_months": 20},
                }
            },
            "arms.control.cure_fraction: must be a number ≥ 0 and < 1",
        ),
        ({"analysis": {"events": 10, "month": 3}}, "analysis: give exactly one of events or month"),
        ({"analysis": {"events": 300}}, "analysis.events: must not exceed subjects (217), got 300"),
        ({"tests": ["logrank", "logrank"]}, "tests[1]: 'logrank' is listed twice"),
        (
            {"tests": ["cox"]},
            "tests[0]: unknown value 'cox'; expected 'logrank', 'rmst' or 'milestone'",
        ),
        ({"tau_months": None}, "tau_months: required for the rmst test"),
        (
            {"arms": {"control": {"cure_fraction": 0.1, "median_months": 12}}},
            "arms.treatment: required field missing",
        ),
    ],
)
def test_simulate_survival_bad_input(change: dict[str, object], expected: str) -> None:
    assert expected in _problems(["simulate", "survival"], {**SIMULATE, **change})


def test_single_arm_plot(tmp_path: Any) -> None:
    png = tmp_path / "oc.png"
    result = runner.invoke(
        app, ["design", "single-arm", "-", "--plot", str(png)], input=json.dumps(SINGLE)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plot"] == str(png)
    assert png.read_bytes()[:4] == b"\x89PNG"
