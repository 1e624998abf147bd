"""Each synthetic patient's plan: who they are in the published cohort or a random one,
with the published onset/duration quartiles built exactly (:func:`exact_sample`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cartwatch.synth import calibration as cal
from cartwatch.synth.draws import (
    _BEST_RESPONSE,
    _CRS_LAST_DAY_EARLY_EXIT,
    _NT_LAST_DAY_EARLY_EXIT,
    _PUBLISHED_LAST_RESOLUTION,
    Rng,
    _Draws,
)

# ---------------------------------------------------------------------------------------------
# The per-patient plan


@dataclass
class _Plan:
    """Intended truth for one patient; the rows are generated from it."""

    index: int
    infused: bool = True
    dose: float = cal.DOSE_LEVEL_2.value
    venetoclax: bool = True
    measurable: bool = True
    early_exit: bool = False  # leaves before the first post-baseline visit
    crs_grade: int = 0
    nt_grade: int = 0
    best: str = "SD"
    label_reason: str | None = None
    prolonged_cytopenia: bool = False
    # Published mode: (onset day, days to resolution) of the CRS / neurotoxicity episode,
    # assigned by _assign_episodes so the cohort's median (IQR) is exact; None = draw it.
    crs_episode: tuple[int, int] | None = None
    nt_episode: tuple[int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Set by _cohort_draws once the order of the plans is final:
    pid: str = ""
    age: int = 65
    n_lines: int = 5


def _published_plans(rng: Rng, d: _Draws) -> list[_Plan]:
    """137 plans whose engine-derived counts equal the published ones (module docstring)."""
    lab = cal.LABEL_POPULATION.value
    rest = lab["n"] - lab["CR"] - lab["PR"]  # 36 non-responders: SD/PD/NE in 39:7:7 [S18]
    n_pd = n_ne = round(rest * 7 / 53)
    label_best = ["CR"] * lab["CR"] + ["PR"] * lab["PR"]
    label_best += ["SD"] * (rest - n_pd - n_ne) + ["PD"] * n_pd + ["NE"] * n_ne
    plans = [_Plan(0, best=b) for b in label_best]
    exclusions = (
        ("dose level 1", 9),
        ("no BCL-2 inhibitor", 20),
        ("no measurable disease", 11),
        ("no post-baseline assessment", 12),
    )
    for reason, count in exclusions:
        plans += [_Plan(0, label_reason=reason) for _ in range(count)]
    n_infused = cal.SAFETY_SET_PUBLISHED.value
    assert len(plans) == n_infused
    crs = [g for g, k in cal.CRS_GRADE_COUNTS.value.items() for _ in range(k)]
    nt = [g for g, k in cal.NT_GRADE_COUNTS.value.items() for _ in range(k)]
    n_prolonged = cal.PROLONGED_CYTOPENIA_COUNT.value
    prolonged = [True] * n_prolonged + [False] * (n_infused - n_prolonged)
    for plan, c, t, p in zip(
        plans, rng.permutation(crs), rng.permutation(nt), rng.permutation(prolonged), strict=True
    ):
        plan.crs_grade, plan.nt_grade, plan.prolonged_cytopenia = int(c), int(t), bool(p)
        _apply_exclusion(plan, d)
    n_not_infused = cal.ENROLLED_PUBLISHED.value - n_infused
    plans += [_Plan(0, infused=False, label_reason="not infused") for _ in range(n_not_infused)]
    order = rng.permutation(len(plans))
    shuffled = [plans[i] for i in order]
    for i, plan in enumerate(shuffled):
        plan.index = i
    return shuffled


def _apply_exclusion(plan: _Plan, d: _Draws) -> None:
    reason = plan.label_reason
    if reason is None:
        return
    plan.best = d.choice(_BEST_RESPONSE)
    if reason == "dose level 1":
        plan.dose = cal.DOSE_LEVEL_1.value
    elif reason == "no BCL-2 inhibitor":
        plan.venetoclax = False
    elif reason == "no measurable disease":
        plan.measurable = False
    elif reason == "no post-baseline assessment":
        plan.early_exit = True


def _random_plans(n: int, rng: Rng) -> list[_Plan]:
    """*n* plans from the marginals, each attribute drawn for the whole cohort at once."""

    def bernoulli(p: float) -> list[bool]:
        out: list[bool] = (rng.random(n) < p).tolist()
        return out

    def categorical(probs: Mapping[Any, float]) -> list[Any]:
        keys = list(probs)
        p = np.array([probs[k] for k in keys], dtype=np.float64)
        return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum()).tolist()]

    infused = bernoulli(cal.P_INFUSED.value)
    dose_level_1 = bernoulli(cal.P_DOSE_LEVEL_1.value)
    venetoclax = bernoulli(cal.P_PRIOR_VENETOCLAX.value)
    measurable = bernoulli(0.95)  # modelling assumption
    crs = categorical(cal.CRS_GRADE_COUNTS.value)
    nt = categorical(cal.NT_GRADE_COUNTS.value)
    best = categorical(cal.BEST_RESPONSE_DL2.value)
    prolonged = bernoulli(cal.PROLONGED_CYTOPENIA.value)
    return [
        _Plan(
            i,
            infused=infused[i],
            dose=cal.DOSE_LEVEL_1.value if dose_level_1[i] else cal.DOSE_LEVEL_2.value,
            venetoclax=venetoclax[i],
            measurable=measurable[i],
            crs_grade=int(crs[i]),
            nt_grade=int(nt[i]),
            best=str(best[i]),
            prolonged_cytopenia=prolonged[i],
        )
        for i in range(n)
    ]


def _cohort_draws(plans: Sequence[_Plan], rng: Rng) -> None:
    """Pseudonym, age and number of prior lines of every plan: one numpy call per cohort."""
    n = len(plans)
    ages = np.round(rng.normal(cal.MEDIAN_AGE_YEARS.value, cal.AGE_SD_YEARS.value, n))
    spec = cal.PRIOR_LINES.value  # median 5 (range 2–12) [S18b][S17]
    lines = spec["min"] + rng.poisson(spec["median"] - spec["min"], n)
    for plan, age, k in zip(
        plans, np.clip(ages, 35, 85).tolist(), np.clip(lines, 2, spec["max"]).tolist(), strict=True
    ):
        plan.pid = f"SYN-{plan.index + 1:04d}"
        plan.age = int(age)
        plan.n_lines = int(k)


def _quantile_value(q: cal.MedianIqr, u: float) -> float:
    """Piecewise-linear quantile function through (0, 1 day), the quartiles and
    (1, 3 × Q3) (tails: calibration.EPISODE_* modelling assumptions) at *u* in [0, 1]."""
    lo = float(cal.EPISODE_MIN_DAYS.value)
    knots = (lo, q.q1, q.median, q.q3, cal.EPISODE_TAIL_FACTOR.value * q.q3)
    u4 = 4 * u
    k = min(int(u4), 3)
    return knots[k] + (knots[k + 1] - knots[k]) * (u4 - k)


def _quantile_draw(d: _Draws, q: cal.MedianIqr) -> int:
    """Whole days drawn from :func:`_quantile_value`: random mode, the published median and
    IQR in expectation only."""
    return max(cal.EPISODE_MIN_DAYS.value, round(_quantile_value(q, d.random())))


def _type7_positions(n: int, p: float) -> tuple[int, int]:
    """Order statistics (0-based) that R ``quantile(type = 7)`` interpolates between."""
    h = (n - 1) * p
    return math.floor(h), math.ceil(h)


def exact_sample(n: int, q: cal.MedianIqr) -> list[int]:
    """*n* whole days, sorted, whose R type-7 median and quartiles are exactly *q*.

    Why not draws: 99 CRS / 53 neurotoxicity patients are too few for drawn values to hit the
    published median (IQR) [S14] (the report showed 3 (1–6) for 4 (1–7)). The values are the
    quantile function of :func:`_quantile_value` at evenly spaced probabilities, rounded; the
    order statistics that type 7 reads are then set to the target and the others clamped
    between the neighbouring targets, which keeps the list sorted. Needs whole-day targets.
    """
    targets = ((0.25, q.q1), (0.5, q.median), (0.75, q.q3))
    if n < 1 or any(t != int(t) for _, t in targets):
        raise ValueError(f"exact_sample: n={n} and whole-day quartiles needed, got {q}")
    lo = cal.EPISODE_MIN_DAYS.value
    values = [max(lo, round(_quantile_value(q, (i + 0.5) / n))) for i in range(n)]
    bounds = [(-1, lo)]  # (last index already fixed, lowest value allowed after it)
    for p, target in targets:
        a, b = _type7_positions(n, p)
        first, floor = bounds[-1]
        for i in range(first + 1, a):
            values[i] = min(max(values[i], floor), int(target))
        values[a] = values[b] = int(target)
        bounds.append((b, int(target)))
    last, floor = bounds[-1]
    for i in range(last + 1, n):
        values[i] = max(values[i], floor)
    return values


def _assign_episodes(plans: Sequence[_Plan], rng: Rng) -> None:
    """Published mode: give every infused patient with CRS / neurotoxicity an (onset, length)
    from :func:`exact_sample`, so the derived first-episode onset (ADAE.ONSDYINF, day 0 =
    infusion, the same day count as the synthetic observations) and duration (ADURN) have
    exactly the [S14] Table 4 median (IQR). Every episode resolves within the patient's
    observation (an unresolved one has no duration and would leave the summary)."""
    for grade_of, target, onset_q, dur_q in (
        ("crs_grade", "crs_episode", cal.CRS_ONSET_DAYS.value, cal.CRS_DURATION_DAYS.value),
        ("nt_grade", "nt_episode", cal.NT_ONSET_DAYS.value, cal.NT_DURATION_DAYS.value),
    ):
        who = [p for p in plans if p.infused and getattr(p, grade_of) >= 1]
        onsets = [int(x) for x in rng.permutation(exact_sample(len(who), onset_q))]
        lengths = [int(x) for x in rng.permutation(exact_sample(len(who), dur_q))]
        early = min(_CRS_LAST_DAY_EARLY_EXIT, _NT_LAST_DAY_EARLY_EXIT) - 1
        limits = [early if p.early_exit else _PUBLISHED_LAST_RESOLUTION for p in who]
        _fit_pairs(onsets, lengths, limits)
        for plan, onset, length in zip(who, onsets, lengths, strict=True):
            setattr(plan, target, (onset, length))


def _fit_pairs(onsets: list[int], lengths: list[int], limits: Sequence[int]) -> None:
    """Swap lengths or onsets between patients until onset + length ≤ limit for each.

    Swaps keep both multisets, so the exact median (IQR) of each is untouched. Tightest
    limits first; each step takes the swap that shortens the patient's episode most among
    those after which the partner still fits, so every step makes progress.
    """
    n = len(onsets)
    for i in sorted(range(n), key=lambda k: limits[k]):
        while onsets[i] + lengths[i] > limits[i]:
            best: tuple[int, int, bool] | None = None  # (gain, partner, swap onsets)
            for j in range(n):
                gains = (
                    (lengths[i] - lengths[j], onsets[j] + lengths[i] <= limits[j], False),
                    (onsets[i] - onsets[j], onsets[i] + lengths[j] <= limits[j], True),
                )
                for gain, fits, swap_onsets in gains:
                    if j != i and gain > 0 and fits and (best is None or gain > best[0]):
                        best = (gain, j, swap_onsets)
            if best is None:  # pragma: no cover - the calibrated tails leave ample room
                raise RuntimeError(f"no episode fits day {limits[i]}")
            _, j, swap_onsets = best
            if swap_onsets:
                onsets[i], onsets[j] = onsets[j], onsets[i]
            else:
                lengths[i], lengths[j] = lengths[j], lengths[i]


def _planned_resolution(plan: _Plan) -> int:
    """Latest planned resolution day (published mode), 0 when nothing is planned."""
    eps = [e for e in (plan.crs_episode, plan.nt_episode) if e is not None]
    return max((onset + length for onset, length in eps), default=0)
