"""Two-arm survival trials with a cure fraction, simulated in numpy over replicates at once.

research-contract.md, ``cartwatch simulate survival``. The trial, as rpact
``getSimulationSurvival`` builds it (rpact 3.3, ``f_simulation_base_survival.cpp``):

* ``subjects`` enter at equally spaced times ``i·A/N`` (i = 1..N) over the accrual time A
  and are assigned in a fixed pattern that keeps the allocation ratio (treatment first:
  T, C, T, C, … for 1:1).
* In each arm a ``cure_fraction`` never has the event; the others have exponential event
  times with the arm's median. Dropout is exponential with P(dropout by
  ``dropout_months``) = ``dropout_rate``, a competing risk in both arms.
* The data cut is the calendar time of the E-th event (``analysis.events``; a replicate
  that never reaches E events is analysed nowhere and counts as not rejecting, as rpact
  counts it) or the calendar ``analysis.month``. Patients entered after the cut are not
  in the analysis; the others are censored at the cut.

Tests, one-sided in favour of treatment (``sided`` 2: either direction at alpha/2):

* ``logrank``: rpact's standardised statistic Σ(d_C·n_T/n − d_T·n_C/n)/√Σ(n_T·n_C/n²) over
  event times (treatment better is positive; rpact's ``directionUpper = FALSE``).
* ``rmst``: difference of Kaplan–Meier restricted means up to ``tau_months``, variance
  Σ_{t_k ≤ τ} (∫_{t_k}^τ S)² d_k/(n_k(n_k − d_k)) per arm (delta method with Greenwood
  weights, as survRM2; a term with n_k = d_k is 0). Not evaluable (not rejecting) when an
  arm's follow-up ends before τ.
* ``milestone``: difference of KM survival at ``milestone_months`` with Greenwood
  variances. Not evaluable when an arm has nobody at risk at the milestone.

Reproducibility: replicates are simulated in blocks of :data:`BLOCK` from
``numpy.random.SeedSequence(seed).spawn(blocks)`` (PCG64), so a seed gives the same
numbers whatever the machine, process count or scheduler.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

from cartwatch.research.inputs import SimulateSurvivalIn
from cartwatch.research.survival_design import dropout_hazard

__all__ = [
    "BLOCK",
    "METHOD",
    "BlockResult",
    "SimulationResult",
    "allocation_pattern",
    "block_statistics",
    "observe",
    "simulate_survival",
    "statistics",
]

#: Replicates per random stream: fixed, so results never depend on how work is split.
BLOCK = 1000
METHOD = (
    "Monte Carlo two-arm trial, mixture cure exponential arms, uniform accrual as rpact "
    "getSimulationSurvival; log-rank (rpact standardised), RMST (KM, Greenwood delta "
    "method), KM milestone (Greenwood)"
)
TESTS = ("logrank", "rmst", "milestone")

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def allocation_pattern(subjects: int, allocation_ratio: float) -> BoolArray:
    """True where subject i (in entry order) is on treatment: treatment first, and after
    every subject the treatment count is ⌈i·a/(1+a)⌉ (T, C, T, C, … for a = 1)."""
    share = allocation_ratio / (1.0 + allocation_ratio)
    counts = np.ceil(np.arange(subjects + 1) * share - 1e-9)
    return np.asarray(np.diff(counts) > 0)


@dataclass(frozen=True)
class BlockResult:
    """Per-replicate statistics of one block (arrays of the block's length)."""

    z: dict[str, FloatArray]  # test statistic, treatment better positive; nan = not evaluable
    events: FloatArray
    cut: FloatArray
    reached: BoolArray


@dataclass
class _Sorted:
    """One block's patients sorted by time on study within each replicate."""

    time: FloatArray
    event: BoolArray
    treat: BoolArray
    at_risk_t: FloatArray  # at risk on treatment just before each position
    at_risk_c: FloatArray


def _draw(
    spec: SimulateSurvivalIn, rng: np.random.Generator, size: int
) -> tuple[FloatArray, BoolArray, FloatArray, FloatArray]:
    """(entry, on-treatment, event time from entry (inf if cured), dropout time)."""
    n = spec.subjects
    treat = allocation_pattern(n, spec.allocation_ratio)
    entry = np.arange(1, n + 1, dtype=np.float64) * (spec.accrual_months / n)
    arms = spec.arms
    median = np.where(treat, arms.treatment.median_months, arms.control.median_months)
    scale = median / math.log(2.0)
    cure = np.where(treat, arms.treatment.cure_fraction, arms.control.cure_fraction)
    event_time: FloatArray = rng.standard_exponential((size, n)) * scale
    if np.any(cure > 0):
        event_time[rng.random((size, n)) < cure] = np.inf
    if spec.dropout_rate > 0:
        rate = dropout_hazard(spec.dropout_rate, spec.dropout_months)
        dropout = rng.standard_exponential((size, n)) / rate
    else:
        dropout = np.full((size, n), np.inf)
    return entry, treat, event_time, dropout


def _cut(
    spec: SimulateSurvivalIn, entry: FloatArray, event_time: FloatArray, dropout: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """The calendar data cut per replicate and whether the target events were reached."""
    size = event_time.shape[0]
    if spec.analysis.month is not None:
        return np.full(size, spec.analysis.month), np.ones(size, dtype=bool)
    target = int(spec.analysis.events or 0)
    calendar = np.where(event_time < dropout, entry + event_time, np.inf)
    cut = np.partition(calendar, target - 1, axis=1)[:, target - 1]
    reached = np.isfinite(cut)
    if not reached.all():
        # Analysed nowhere (not rejecting); statistics at the last event keep arrays finite.
        last = np.where(np.isfinite(calendar), calendar, 0.0).max(axis=1)
        cut = np.where(reached, cut, np.maximum(last, spec.accrual_months))
    return cut, reached


@dataclass(frozen=True)
class Observed:
    """Simulated trials as analysed at their cut, one row per replicate, one column per
    patient in entry order: time on study (inf when entered after the cut), event flag."""

    time: FloatArray
    event: BoolArray
    treat: BoolArray  # per patient (the allocation pattern)
    included: BoolArray
    cut: FloatArray
    reached: BoolArray


def observe(spec: SimulateSurvivalIn, rng: np.random.Generator, size: int) -> Observed:
    """Draw *size* trials from *rng* and censor each at its data cut."""
    entry, treat, event_time, dropout = _draw(spec, rng, size)
    cut, reached = _cut(spec, entry, event_time, dropout)
    window = cut[:, None] - entry[None, :]
    included = window >= 0
    time = np.minimum(np.minimum(event_time, dropout), window)
    # Compare calendar times as the cut was computed, so the E-th event itself is counted.
    event = (event_time < dropout) & (entry[None, :] + event_time <= cut[:, None]) & included
    time[~included] = np.inf
    return Observed(time, event, treat, included, cut, reached)


def _sort(obs: Observed, *, need_time: bool) -> _Sorted:
    order = np.argsort(obs.time, axis=1)
    # One gather of a small code (included, arm, event) instead of one per array.
    arm = 2 * obs.treat.astype(np.int8)[None, :]
    code = (obs.included * (1 + arm + obs.event)).astype(np.int8)
    code = np.take_along_axis(code, order, axis=1)
    sorted_time = np.take_along_axis(obs.time, order, axis=1) if need_time else obs.time
    in_t = code >= 3
    in_c = (code == 1) | (code == 2)
    # At risk just before position k: everyone included at position ≥ k (times are
    # continuous, so there are no ties): the arm's total minus those before k.
    before_t = np.cumsum(in_t, axis=1, dtype=np.int32) - in_t
    before_c = np.cumsum(in_c, axis=1, dtype=np.int32) - in_c
    at_risk_t = (in_t.sum(axis=1, dtype=np.int32)[:, None] - before_t).astype(np.float64)
    at_risk_c = (in_c.sum(axis=1, dtype=np.int32)[:, None] - before_c).astype(np.float64)
    return _Sorted(sorted_time, (code == 2) | (code == 4), in_t, at_risk_t, at_risk_c)


def _logrank(s: _Sorted) -> FloatArray:
    n = s.at_risk_t + s.at_risk_c
    with np.errstate(divide="ignore", invalid="ignore"):
        share_t = np.where(n > 0, s.at_risk_t / n, 0.0)
    # Observed minus expected on control: an event on control adds n_T/n, on treatment -n_C/n.
    score = np.where(s.event, share_t - s.treat, 0.0).sum(axis=1)
    var = np.where(s.event, share_t * (1.0 - share_t), 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(var > 0, score / np.sqrt(var), 0.0))


@dataclass
class _ArmCurve:
    """One arm's KM in the combined sorted order: S just before and after each position."""

    before: FloatArray
    after: FloatArray
    greenwood: FloatArray  # d/(n(n−d)) at the arm's event positions, else 0
    own_event: BoolArray
    last_time: FloatArray  # the arm's largest time on study per replicate


def _arm_curve(s: _Sorted, arm: BoolArray, at_risk: FloatArray) -> _ArmCurve:
    own_event = s.event & arm
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(own_event, 1.0 - 1.0 / at_risk, 1.0)
        term = np.where(own_event & (at_risk > 1), 1.0 / (at_risk * (at_risk - 1.0)), 0.0)
    after = np.cumprod(factor, axis=1, dtype=np.float64)
    before = np.concatenate([np.ones((after.shape[0], 1)), after[:, :-1]], axis=1)
    finite_arm = arm & np.isfinite(s.time)
    last_time = np.where(finite_arm, s.time, -np.inf).max(axis=1)
    return _ArmCurve(before, after, term, own_event, last_time)


def _rmst(s: _Sorted, curve: _ArmCurve, tau: float) -> tuple[FloatArray, FloatArray]:
    """(RMST up to tau, its variance) per replicate."""
    clipped = np.minimum(s.time, tau)
    widths = np.diff(clipped, axis=1, prepend=0.0)
    pieces = curve.before * widths
    partial = np.cumsum(pieces, axis=1)  # ∫_0^{t_k} S
    total = partial[:, -1] + curve.after[:, -1] * (tau - clipped[:, -1])
    remaining = total[:, None] - partial  # ∫_{t_k}^τ S (0 beyond τ)
    var = np.where(s.time <= tau, remaining**2 * curve.greenwood, 0.0).sum(axis=1)
    return total, var


def _milestone(
    s: _Sorted, curve: _ArmCurve, at_risk: FloatArray, month: float
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """(KM at the milestone, Greenwood variance, someone at risk at the milestone)."""
    upto = s.time <= month
    count = upto.sum(axis=1)
    rows = np.arange(s.time.shape[0])
    surv = np.where(count > 0, curve.after[rows, np.maximum(count - 1, 0)], 1.0)
    sum_terms = np.where(upto, curve.greenwood, 0.0).sum(axis=1)
    n_last = s.time.shape[1]
    risk_after = np.where(count < n_last, at_risk[rows, np.minimum(count, n_last - 1)], 0.0)
    return surv, surv**2 * sum_terms, risk_after > 0


def _difference_z(
    treat: tuple[FloatArray, FloatArray],
    control: tuple[FloatArray, FloatArray],
    evaluable: BoolArray,
) -> FloatArray:
    var = treat[1] + control[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (treat[0] - control[0]) / np.sqrt(var)
    return np.asarray(np.where(evaluable & (var > 0), z, np.nan))


def block_statistics(spec: SimulateSurvivalIn, rng: np.random.Generator, size: int) -> BlockResult:
    """The test statistics of *size* simulated trials drawn from *rng*."""
    return statistics(spec, observe(spec, rng, size))


def statistics(spec: SimulateSurvivalIn, obs: Observed) -> BlockResult:
    """The requested test statistics of observed trials (treatment better is positive)."""
    need_time = "rmst" in spec.tests or "milestone" in spec.tests
    s = _sort(obs, need_time=need_time)
    z: dict[str, FloatArray] = {}
    if "logrank" in spec.tests:
        z["logrank"] = _logrank(s)
    if need_time:
        arm_t = _arm_curve(s, s.treat, s.at_risk_t)
        arm_c = _arm_curve(s, ~s.treat & np.isfinite(s.time), s.at_risk_c)
        if spec.tau_months is not None and "rmst" in spec.tests:
            tau = spec.tau_months
            followed = (arm_t.last_time >= tau) & (arm_c.last_time >= tau)
            z["rmst"] = _difference_z(_rmst(s, arm_t, tau), _rmst(s, arm_c, tau), followed)
        if spec.milestone_months is not None and "milestone" in spec.tests:
            m = spec.milestone_months
            st, vt, ok_t = _milestone(s, arm_t, s.at_risk_t, m)
            sc, vc, ok_c = _milestone(s, arm_c, s.at_risk_c, m)
            z["milestone"] = _difference_z((st, vt), (sc, vc), ok_t & ok_c)
    return BlockResult(z, s.event.sum(axis=1).astype(np.float64), obs.cut, obs.reached)


@dataclass(frozen=True)
class SimulationResult:
    replicates: int
    seed: int
    power: dict[str, float]
    mc_se: dict[str, float]
    not_evaluable: dict[str, float]
    mean_events: float
    mean_analysis_month: float
    events_not_reached: float
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "replicates": self.replicates,
            "seed": self.seed,
            "power": dict(self.power),
            "mc_se": dict(self.mc_se),
            "not_evaluable": dict(self.not_evaluable),
            "mean_events": self.mean_events,
            "mean_analysis_month": self.mean_analysis_month,
            "events_not_reached": self.events_not_reached,
            "block": BLOCK,
            "method": METHOD,
            "notes": list(self.notes),
        }


def _critical(alpha: float, sided: int) -> float:
    return float(norm.ppf(1.0 - alpha / sided))


def _rejects(z: FloatArray, crit: float, sided: int) -> BoolArray:
    with np.errstate(invalid="ignore"):
        hit = np.abs(z) >= crit if sided == 2 else z >= crit
    return np.asarray(hit & np.isfinite(z))


def block_sizes(replicates: int) -> list[int]:
    full, rest = divmod(replicates, BLOCK)
    return [BLOCK] * full + ([rest] if rest else [])


def simulate_survival(
    spec: SimulateSurvivalIn,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Power of each requested test over ``spec.replicates`` simulated trials."""
    sizes = block_sizes(spec.replicates)
    streams = np.random.SeedSequence(spec.seed).spawn(len(sizes))
    crit = _critical(spec.alpha, spec.sided)
    tests: list[str] = [t for t in TESTS if t in spec.tests]
    hits = dict.fromkeys(tests, 0)
    missing = dict.fromkeys(tests, 0)
    events = cut_sum = 0.0
    reached_count = 0
    for size, stream in zip(sizes, streams, strict=True):
        block = block_statistics(spec, np.random.Generator(np.random.PCG64(stream)), size)
        for name in tests:
            z = block.z[name]
            hits[name] += int((_rejects(z, crit, spec.sided) & block.reached).sum())
            missing[name] += int((~np.isfinite(z) & block.reached).sum())
        events += float(block.events.sum())
        cut_sum += float(block.cut[block.reached].sum())
        reached_count += int(block.reached.sum())
        if progress is not None:
            progress(size)
    n = spec.replicates
    power = {t: hits[t] / n for t in tests}
    not_reached = 1.0 - reached_count / n
    return SimulationResult(
        replicates=n,
        seed=spec.seed,
        power=power,
        mc_se={t: math.sqrt(p * (1.0 - p) / n) for t, p in power.items()},
        not_evaluable={t: missing[t] / n for t in tests},
        mean_events=events / n,
        mean_analysis_month=cut_sum / reached_count if reached_count else math.nan,
        events_not_reached=not_reached,
        notes=_notes(spec, crit, not_reached, {t: missing[t] / n for t in tests}),
    )


def _notes(
    spec: SimulateSurvivalIn, crit: float, not_reached: float, missing: dict[str, float]
) -> tuple[str, ...]:
    side = "one-sided in favour of treatment" if spec.sided == 1 else "two-sided"
    notes = [
        f"reject when Z ≥ {crit:.4f} ({side}, alpha {spec.alpha:g})",
        f"{spec.subjects} subjects at equally spaced entry over {spec.accrual_months:g} "
        f"months, allocation {spec.allocation_ratio:g}:1 (treatment:control)",
        _cut_note(spec),
        f"streams: numpy SeedSequence({spec.seed}).spawn, PCG64, {BLOCK} replicates each",
    ]
    if not_reached > 0:
        notes.append(
            f"{not_reached:.1%} of trials never reached {spec.analysis.events} events (the "
            "cured never have one): counted as not rejecting, as rpact does"
        )
    for name, share in missing.items():
        if share > 0:
            notes.append(
                f"{name}: not evaluable in {share:.1%} of trials ({_WHY[name]}), "
                "counted as not rejecting"
            )
    analytic = schoenfeld_power(spec)
    if analytic is not None:
        notes.append(
            f"Schoenfeld analytic log-rank power at {spec.analysis.events} events: {analytic:.4f}"
        )
    return tuple(notes)


_WHY = {
    "logrank": "no events",
    "rmst": "an arm's follow-up ends before tau",
    "milestone": "nobody at risk at the milestone in an arm",
}


def _cut_note(spec: SimulateSurvivalIn) -> str:
    if spec.analysis.month is not None:
        return f"data cut at calendar month {spec.analysis.month:g}"
    return f"data cut at the {spec.analysis.events}th event (calendar time)"


def schoenfeld_power(spec: SimulateSurvivalIn) -> float | None:
    """Schoenfeld's power for an event-driven cut without cure (proportional hazards)."""
    arms = spec.arms
    if spec.analysis.events is None or arms.control.cure_fraction or arms.treatment.cure_fraction:
        return None
    hr = arms.control.median_months / arms.treatment.median_months
    a = spec.allocation_ratio
    drift = math.sqrt(spec.analysis.events * a) / (1.0 + a) * abs(math.log(hr))
    return float(norm.cdf(drift - _critical(spec.alpha, spec.sided)))
