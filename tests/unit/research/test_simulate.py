"""``simulate survival``: rpact agreement, type I error, single replicates, reproducibility.

* Log-rank power without cure equals rpact ``getSimulationSurvival`` on the same design
  within Monte Carlo error (goldens and R script in tests/golden/data/research).
* With identical arms each test rejects at alpha within Monte Carlo error, with and
  without a cure fraction.
* One replicate's statistics equal an independent computation: log-rank z² = the k-group
  log-rank chi-square of :mod:`cartwatch.outcomes.survival` (as R survdiff), KM milestone
  and Greenwood variance from ``kaplan_meier`` (as R survfit), RMST and its variance from a
  plain loop over that KM (the survRM2 formula), and lifelines' KM and RMST point values.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from cartwatch.outcomes.logrank import logrank_test
from cartwatch.outcomes.survival import kaplan_meier
from cartwatch.research.examples import simulation
from cartwatch.research.inputs import SimulateSurvivalIn, parse
from cartwatch.research.simulate import (
    BLOCK,
    allocation_pattern,
    observe,
    simulate_survival,
    statistics,
)

GOLDEN = (
    Path(__file__).parents[2] / "golden" / "data" / "research" / "rpact_simulation_survival.json"
)
RPACT: list[dict[str, Any]] = json.loads(GOLDEN.read_text())["designs"]

BASE: dict[str, Any] = simulation(replicates=4000, seed=7)


def _spec(**changes: Any) -> SimulateSurvivalIn:
    return parse(SimulateSurvivalIn, {**BASE, **changes})


@pytest.mark.slow
@pytest.mark.parametrize("row", RPACT, ids=[r["name"] for r in RPACT])
def test_logrank_power_equals_rpact_simulation(row: dict[str, Any]) -> None:
    spec = parse(SimulateSurvivalIn, row["input"])
    ours = simulate_survival(spec)
    theirs = row["rpact_power"]
    n = row["iterations"]
    se = math.sqrt(
        ours.power["logrank"] * (1 - ours.power["logrank"]) / spec.replicates
        + theirs * (1 - theirs) / n
    )
    assert abs(ours.power["logrank"] - theirs) <= 4 * se, (ours.power, theirs)
    assert ours.mean_analysis_month == pytest.approx(row["rpact_analysis_month"], rel=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("cure", [0.0, 0.3])
@pytest.mark.parametrize(("alpha", "sided"), [(0.025, 1), (0.05, 2)])
def test_identical_arms_reject_at_alpha(cure: float, alpha: float, sided: int) -> None:
    # RMST and milestone are Wald tests: with ~100 patients per arm their z has SD ~1.013
    # (measured), i.e. two-sided size ~0.054 at 0.05, and worse when few remain at risk at
    # the milestone; 200 per arm followed ≥ 24 months is within Monte Carlo error.
    arm = {"cure_fraction": cure, "median_months": 12}
    spec = _spec(
        replicates=20000,
        subjects=400,
        seed=11,
        alpha=alpha,
        sided=sided,
        arms={"control": arm, "treatment": arm},
        analysis={"month": 48},
    )
    result = simulate_survival(spec)
    se = math.sqrt(alpha * (1 - alpha) / spec.replicates)
    assert result.events_not_reached == 0
    for test, power in result.power.items():
        assert abs(power - alpha) <= 4 * se, (test, power)


def _one_replicate(spec: SimulateSurvivalIn, seed: int) -> tuple[Any, dict[str, Any]]:
    obs = observe(spec, np.random.default_rng(seed), 1)
    z = {k: float(v[0]) for k, v in statistics(spec, obs).z.items()}
    keep = obs.included[0]
    return (obs.time[0][keep], obs.event[0][keep], obs.treat[keep]), z


def _greenwood_rmst(time: Any, event: Any, tau: float) -> tuple[float, float]:
    """RMST and its variance by a plain loop over the R-equal KM (survRM2's formula)."""
    km = kaplan_meier(time, event)
    times = [t for t in km.time if t <= tau]
    surv_before, area, pieces = 1.0, 0.0, []
    last = 0.0
    for t, s in zip(km.time, km.surv, strict=True):
        if t > tau:
            break
        area += surv_before * (t - last)
        pieces.append(area)
        surv_before, last = s, t
    total = area + surv_before * (tau - last)
    var = 0.0
    for k, _ in enumerate(times):
        n, d = km.n_risk[k], km.n_event[k]
        if d and n > d:
            var += (total - pieces[k]) ** 2 * d / (n * (n - d))
    return total, var


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_replicate_equals_independent_computation(seed: int) -> None:
    spec = _spec(dropout_rate=0.1)
    (time, event, treat), z = _one_replicate(spec, seed)
    lr = logrank_test(time, event, np.where(treat, "T", "C"))
    assert z["logrank"] ** 2 == pytest.approx(lr.chisq, rel=1e-9)
    observed_c = lr.observed[lr.groups.index("C")]
    expected_c = lr.expected[lr.groups.index("C")]
    assert math.copysign(1, z["logrank"]) == math.copysign(1, observed_c - expected_c)

    m, tau = spec.milestone_months, spec.tau_months
    assert m is not None and tau is not None
    arms = [(time[treat], event[treat]), (time[~treat], event[~treat])]
    estimates = []
    for t, e in arms:
        km = kaplan_meier(t, e)
        k = int(np.searchsorted(km.time, m, side="right")) - 1
        estimates.append((km.surv[k], km.std_err[k] ** 2))
    z_milestone = (estimates[0][0] - estimates[1][0]) / math.sqrt(estimates[0][1] + estimates[1][1])
    assert z["milestone"] == pytest.approx(z_milestone, rel=1e-9)

    rmst = [_greenwood_rmst(t, e, tau) for t, e in arms]
    z_rmst = (rmst[0][0] - rmst[1][0]) / math.sqrt(rmst[0][1] + rmst[1][1])
    assert z["rmst"] == pytest.approx(z_rmst, rel=1e-9)


def test_one_replicate_point_values_equal_lifelines() -> None:
    lifelines = pytest.importorskip("lifelines")
    from lifelines.utils import restricted_mean_survival_time

    spec = _spec()
    (time, event, treat), _ = _one_replicate(spec, 5)
    for arm in (treat, ~treat):
        fitter = lifelines.KaplanMeierFitter().fit(time[arm], event[arm])
        ours = _greenwood_rmst(time[arm], event[arm], 24.0)[0]
        assert restricted_mean_survival_time(fitter, t=24.0) == pytest.approx(ours, rel=1e-9)
        km = kaplan_meier(time[arm], event[arm])
        k = int(np.searchsorted(km.time, 24.0, side="right")) - 1
        assert float(fitter.predict(24.0)) == pytest.approx(km.surv[k], rel=1e-12)


def test_same_seed_same_result_and_blocks_are_fixed() -> None:
    spec = _spec(replicates=2 * BLOCK + 10)
    first, again = simulate_survival(spec).to_dict(), simulate_survival(spec).to_dict()
    assert first == again
    other = simulate_survival(_spec(replicates=2 * BLOCK + 10, seed=8)).to_dict()
    assert other["power"] != first["power"]
    # The first block's stream does not depend on how many replicates follow it.
    one = simulate_survival(_spec(replicates=BLOCK, tests=["logrank"]))
    stream = np.random.SeedSequence(7).spawn(3)[0]
    obs = observe(spec, np.random.Generator(np.random.PCG64(stream)), BLOCK)
    z = statistics(_spec(tests=["logrank"]), obs).z["logrank"]
    assert one.power["logrank"] == float(np.mean(z >= norm.ppf(0.975)))


def test_calendar_cut() -> None:
    result = simulate_survival(_spec(analysis={"month": 36}, replicates=500))
    assert result.mean_analysis_month == 36
    assert result.events_not_reached == 0
    assert 0 < result.mean_events < 217


def test_unreachable_event_target_is_counted_and_noted() -> None:
    cured = {"cure_fraction": 0.5, "median_months": 6}
    result = simulate_survival(
        _spec(arms={"control": cured, "treatment": cured}, analysis={"events": 150}, replicates=300)
    )
    assert result.events_not_reached > 0.99
    assert all(p <= 0.01 for p in result.power.values())
    assert any("never reached 150 events" in note for note in result.notes)


def test_allocation_pattern_matches_rpact_blocks() -> None:
    assert allocation_pattern(5, 1).tolist() == [True, False, True, False, True]
    assert allocation_pattern(6, 2).tolist() == [True, True, False, True, True, False]
    assert allocation_pattern(4, 0.5).tolist() == [True, False, False, True]


def test_power_is_higher_with_a_cure_fraction_for_milestone_than_without() -> None:
    no_cure = {"cure_fraction": 0.0, "median_months": 20}
    with_cure = simulate_survival(_spec(replicates=2000, analysis={"month": 48}))
    without = simulate_survival(
        _spec(replicates=2000, analysis={"month": 48}, arms={**BASE["arms"], "treatment": no_cure})
    )
    assert with_cure.power["milestone"] > without.power["milestone"]


@pytest.mark.slow
def test_proportional_hazards_power_is_close_to_schoenfeld() -> None:
    from cartwatch.research.simulate import schoenfeld_power

    no_cure = {"cure_fraction": 0.0, "median_months": 20}
    spec = _spec(replicates=10000, tests=["logrank"], arms={**BASE["arms"], "treatment": no_cure})
    analytic = schoenfeld_power(spec)
    # rpact getPowerSurvival (same design, maxNumberOfEvents 161) prints 0.8998788.
    assert analytic == pytest.approx(0.8998788, abs=1e-7)
    assert abs(simulate_survival(spec).power["logrank"] - analytic) < 0.015
