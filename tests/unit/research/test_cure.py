"""``fit cure``: the mixture cure model against lifelines, CI coverage, plateau warning."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cartwatch.cli.app import app
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.research.cure import fit_cure


def _cured_sample(seed: int, n: int = 200, cure: float = 0.35, follow: float = 60.0) -> tuple:
    rng = np.random.default_rng(seed)
    event = rng.weibull(1.3, n) * 12.0
    event[rng.random(n) < cure] = np.inf
    censor = rng.uniform(follow / 5, follow, n)
    return np.minimum(event, censor), (event <= censor).astype(float)


def _lifelines_cure(time: np.ndarray, event: np.ndarray) -> float:
    lifelines = pytest.importorskip("lifelines")
    fitter = lifelines.MixtureCureFitter(base_fitter=lifelines.WeibullFitter())
    return float(fitter.fit(time, event).cured_fraction_)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cure_fraction_equals_lifelines_on_simulated_data(seed: int) -> None:
    time, event = _cured_sample(seed)
    ours = fit_cure(time, event, "weibull")
    assert ours.cure_fraction == pytest.approx(_lifelines_cure(time, event), abs=1e-4)


def test_cure_fraction_equals_lifelines_on_colon_recurrence(shared_data: Path) -> None:
    colon = pd.read_csv(shared_data / "survival" / "colon.csv")
    rows = colon[(colon["etype"] == 1) & (colon["rx"] == "Lev+5FU")]
    time, event = rows["time"].to_numpy(float), rows["status"].to_numpy(float)
    ours = fit_cure(time, event, "weibull")
    assert ours.cure_fraction == pytest.approx(_lifelines_cure(time, event), abs=1e-4)
    assert ours.aic < ours.aic_no_cure  # the recurrence curve has a clear plateau


def test_output_keys_and_ci_on_the_logit_scale() -> None:
    time, event = _cured_sample(4)
    out = fit_cure(time, event, "exponential", group="A").to_dict()
    assert {
        "group",
        "n",
        "events",
        "cure_fraction",
        "ci",
        "latency",
        "loglik",
        "aic",
        "aic_no_cure",
        "km_plateau",
        "method",
    } <= set(out)
    lo, hi = out["ci"]
    assert lo < out["cure_fraction"] < hi
    assert out["latency"]["distribution"] == "exponential" and "lambda" in out["latency"]
    assert "logit" in out["ci_method"]
    assert out["aic"] == pytest.approx(2 * 2 - 2 * out["loglik"])
    assert out["aic_no_cure"] == pytest.approx(2 * 1 - 2 * out["loglik_no_cure"])


@pytest.mark.parametrize("latency", ["weibull", "exponential", "lognormal"])
def test_recovers_a_known_cure_fraction(latency: str) -> None:
    rng = np.random.default_rng(3)
    n = 600
    event = rng.lognormal(2.0, 0.6, n) if latency == "lognormal" else rng.exponential(8.0, n)
    event[rng.random(n) < 0.3] = np.inf
    censor = rng.uniform(40, 100, n)
    fit = fit_cure(np.minimum(event, censor), (event <= censor).astype(float), latency)
    lo, hi = fit.ci
    assert lo is not None and hi is not None and lo < 0.3 < hi


def test_no_plateau_prefers_no_cure_and_km_plateau_is_the_last_event_level() -> None:
    rng = np.random.default_rng(5)
    event = rng.exponential(10.0, 150)
    censor = rng.uniform(5, 200, 150)
    time, status = np.minimum(event, censor), (event <= censor).astype(float)
    fit = fit_cure(time, status, "exponential")
    assert fit.aic > fit.aic_no_cure - 1e-6
    assert fit.cure_fraction < 0.05
    last = time[status == 1].max()
    surv = 1.0
    for t in np.unique(time[time <= last]):
        at_risk = np.sum(time >= t)
        surv *= 1 - np.sum((time == t) & (status == 1)) / at_risk
    assert fit.km_plateau == pytest.approx(surv, rel=1e-12)


def test_short_follow_up_warns_that_a_plateau_is_not_supported() -> None:
    time, event = _cured_sample(6, follow=14.0)
    fit = fit_cure(time, event, "weibull")
    assert any(
        note.startswith("warning: follow-up may not support a plateau") for note in fit.notes
    )
    long_time, long_event = _cured_sample(6, follow=120.0)
    assert not any("warning" in n for n in fit_cure(long_time, long_event).notes)


@pytest.mark.parametrize(
    ("time", "event", "problem"),
    [
        (
            [0.0, 1.0, 2.0],
            [1, 1, 0],
            (
                "time",
                "every time must be a finite number > 0 (a parametric latency has no density at 0)",
            ),
        ),
        (
            [1.0, 2.0, 3.0],
            [1, 0, 0],
            ("event", "at least 2 events are needed to fit a latency, got 1"),
        ),
    ],
)
def test_bad_data(time: list[float], event: list[int], problem: tuple[str, str]) -> None:
    with pytest.raises(ClinicalInputError) as err:
        fit_cure(time, event)
    assert problem in err.value.problems


@pytest.mark.slow
def test_ci_coverage_on_simulated_data() -> None:
    covered = 0
    sims = 60
    for seed in range(sims):
        rng = np.random.default_rng(1000 + seed)
        event = rng.exponential(8.0, 200)
        event[rng.random(200) < 0.3] = np.inf
        censor = rng.uniform(30, 90, 200)
        fit = fit_cure(np.minimum(event, censor), (event <= censor).astype(float), "exponential")
        lo, hi = fit.ci
        covered += lo is not None and hi is not None and lo <= 0.3 <= hi
    # Nominal 95 %: 57 of 60 expected; fewer than 52 has probability < 1 % if coverage is 0.95.
    assert covered >= 52, covered


runner = CliRunner()


def test_cli_csv(tmp_path: Path) -> None:
    time, event = _cured_sample(7, n=120)
    path = tmp_path / "pfs.csv"
    pd.DataFrame({"months": time, "progressed": np.where(event == 1, "yes", "no")}).to_csv(
        path, index=False
    )
    png = tmp_path / "cure.png"
    result = runner.invoke(
        app,
        [
            "fit",
            "cure",
            str(path),
            "--time",
            "months",
            "--event",
            "progressed",
            "--event-value",
            "yes",
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["groups"][0]["n"] == 120 and out["groups"][0]["events"] == int(event.sum())
    assert "mixture cure model" in out["method"]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cli_text_format(tmp_path: Path) -> None:
    time, event = _cured_sample(8, n=100)
    path = tmp_path / "pfs.csv"
    pd.DataFrame({"t": time, "e": event.astype(int)}).to_csv(path, index=False)
    result = runner.invoke(
        app, ["fit", "cure", str(path), "--time", "t", "--event", "e", "--format", "text"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "mixture cure model, weibull latency, maximum likelihood (pfs.csv)"
    assert lines[1].startswith(f"all: n 100, events {int(event.sum())}; cure fraction ")
    assert "logit Wald" in lines[1] and "without cure" in lines[1]


def test_cli_adam_adtte(shared_data: Path) -> None:
    path = shared_data / "pharmaverseadam" / "adtte_onco.csv"
    result = runner.invoke(
        app, ["fit", "cure", str(path), "--param", "OS", "--latency", "exponential"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    adtte = pd.read_csv(path)
    rows = adtte[adtte["PARAMCD"] == "OS"]
    assert out["groups"][0]["n"] == len(rows)
    assert out["groups"][0]["events"] == int((rows["CNSR"] == 0).sum())
    assert math.isfinite(out["groups"][0]["cure_fraction"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--time", "t", "--event", "e", "--latency", "gompertz"],
            "latency: must be one of weibull, exponential, lognormal, got 'gompertz'",
        ),
        (["--time", "nope", "--event", "e"], "nope: no such column in data.csv"),
        (["--event", "e"], "time: required (--time COLUMN), or --param for an ADaM ADTTE"),
        (["--param", "PFS"], "PARAMCD: no such variable in data.csv"),
    ],
)
def test_cli_bad_options(tmp_path: Path, args: list[str], expected: str) -> None:
    path = tmp_path / "data.csv"
    path.write_text("t,e\n1,1\n2,0\n3,1\n")
    result = runner.invoke(app, ["fit", "cure", str(path), *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert expected in result.stderr.splitlines()
