"""Synthetic TRANSCEND-CLL-004-like centre data: raw observations, not grades.

``synthesize(n, seed)`` draws ``n`` leukapheresed patients from the marginals in
:mod:`cartwatch.synth.calibration` (cited ``[S#]``; UNVERIFIED items and modelling assumptions
are flagged there). ``synthesize(..., published=True)`` ignores ``n`` and builds the primary
analysis of TRANSCEND CLL 004 (clinical-standards.md §3): 137 leukapheresed, 117 infused
(safety set), with counts that the clinical engines reproduce *exactly*:

* CRS, ASTCT 2019 maximum grade per patient (``crs.grade_crs_episode`` over the patient's
  ``crs_observations``): grade 1/2/3 = 43/46/10, 18 without CRS [S14].
* Neurotoxicity, ASTCT 2019 maximum grade (``icans.grade_icans_episode``): grade 1/2/3/4 =
  13/18/21/1, 64 without [S14]. (The trial reported investigator-identified neurological
  events, not ASTCT ICANS, §0.3; the synthetic observations are built so that the ASTCT
  grader reproduces the published grade counts.)
* Onset (days after infusion, infusion = day 0, as ``adam`` ONSDYINF counts) and duration
  (onset to resolution) of each patient's episode: CRS 4 (IQR 1–7) and 6 (4–11), neurological
  events 7 (4–11) and 7 (4–16), median (IQR) with R type-7 quartiles [S14]. The values are
  built (:func:`exact_sample`), not drawn, then shuffled onto patients; every episode
  resolves before the patient's last observation.
* Management [S14]: CRS tocilizumab only / steroids only / both = 41/2/35, tocilizumab doses
  per treated patient median 1 (IQR 1–2); neurotoxicity steroids only / both = 31/8.
* Prolonged cytopenia 63 [S14]: grade ≥3 at the blood count nearest day 28 in exactly those
  63 patients (others stay at grade ≤2 from day 21; ``adam`` PROLCYFL definition).
* Label efficacy population n = 65 [S19][S26]: best overall response (iwCLL 2018,
  ``iwcll.assess_response`` per post-infusion assessment against the baseline, then
  ``iwcll.best_overall_response`` in date order) 13 CR, 16 PR, 26 SD, 5 PD, 5 NE:
  CR 20.0 %, ORR 44.6 %.

How an analysis layer identifies the **label efficacy population** (all five must hold; the
reference implementation is :func:`label_population_reasons`):

1. infused: ``cell_therapy.infusion_date`` is present;
2. label dose: ``90 <= cell_therapy.dose_10e6_car_t_cells <= 110`` [S21][S26];
3. label prior therapy: ≥2 rows in ``prior_lines.csv`` and, across them, at least one BTK
   inhibitor and one BCL-2 inhibitor (agent names classified with
   ``cartwatch.clinical.labels.classify_agent``; cli-contract.md ``eligibility``);
4. measurable disease at baseline: the ``timepoint == "baseline"`` assessment has
   ``largest_node_cm >= 1.5`` or ``lymphocytes_10e9_l >= 5.0`` (project definition: a node
   that iwCLL calls abnormal [S41], or the CLL diagnostic lymphocytosis; the trial's exact
   definition is UNVERIFIED, §3.2);
5. evaluable: at least one ``timepoint == "post"`` assessment.

Other analysis sets: **enrolled** = every patient with a ``cell_therapy`` row (leukapheresed);
**safety** = infused (criterion 1). In published mode the 52 infused patients outside the
label population fail exactly one criterion each: 9 at dose level 1 (50 × 10⁶ [S16]), 20 without
a prior BCL-2 inhibitor, 11 without measurable disease at baseline, 12 without a post-baseline
assessment (left the study before day 30). ``patients``/``cell_therapy`` carry no such flag:
the analysis must derive it from the raw data, as for a real centre.

Every generated date lies on or before :data:`DATA_CUT`, so an analysis's default cut-off
(the latest date in the data) is the documented one. Every prior line starts on or after the
patient's diagnosis date (the centre pages refuse a record dated before the diagnosis).

Assessments are on days 30, 60, 90, 180, 270, 365 and then every 180 days until progression,
death or the data cut; a progression is a PD assessment (new lesion, node SPD +60 %) plus a
``followup`` ``progression`` event on the same date. Every measurement series is monotone
until progression, so PD "from the nadir" is never triggered before the intended date,
whichever nadir the analysis passes. PFS/OS follow the response-group model in calibration.py
(UNVERIFIED, a modelling assumption).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import numpy as np
from pydantic import BaseModel

from cartwatch.centre import records as r
from cartwatch.centre.loader import CentreData, gc_paused
from cartwatch.clinical.crs import OxygenDevice, Vasopressor
from cartwatch.clinical.icans import Consciousness
from cartwatch.clinical.iwcll import Marrow, MrdResultKind
from cartwatch.clinical.labels import DrugClass, classify_agent
from cartwatch.schemas.cytopenia import LowerLimitsIn
from cartwatch.synth import calibration as cal

Rng = np.random.Generator
K = TypeVar("K")
M = TypeVar("M", bound=BaseModel)

#: Data cut of the synthetic cohorts: a fixed past date, so every output is reproducible and
#: no date lies in the future (the loader refuses future dates).
DATA_CUT = dt.date(2025, 6, 30)
_DAY = dt.timedelta(days=1)
_MONTH_DAYS = 30.4375
VISIT_DAYS: tuple[int, ...] = (30, 60, 90, 180, 270, 365)
_VISIT_STEP_AFTER_YEAR = 180
_MAX_FOLLOWUP_DAYS = 1200  # infusions lie 90..1200 days before the cut (median ≈ 21 months)
CENTRES = ("C01", "C02", "C03", "C04", "C05")

BTKI_AGENTS = ("ibrutinib", "acalabrutinib", "zanubrutinib", "pirtobrutinib")
OTHER_LINES: tuple[tuple[str, ...], ...] = (
    ("fludarabine", "cyclophosphamide", "rituximab"),
    ("bendamustine", "rituximab"),
    ("chlorambucil", "obinutuzumab"),
    ("idelalisib", "rituximab"),
    ("duvelisib",),
    ("alemtuzumab",),
    ("rituximab", "cyclophosphamide", "doxorubicin", "vincristine", "prednisone"),
    ("obinutuzumab",),
)


# ---------------------------------------------------------------------------------------------
# Random draws and row construction (performance: benchmarks/synth_load.py)


class _Draws:
    """Scalar random numbers served from blocks of uniforms drawn with one numpy call.

    A scalar ``Generator`` call costs about a microsecond of call overhead, more than the
    number is worth, and a 1,000-patient cohort needs ~150,000 of them. The distributions
    are unchanged: every draw below is the exact inverse-CDF transform of a uniform.
    """

    _BLOCK = 1 << 16

    def __init__(self, rng: Rng) -> None:
        self._rng = rng
        self._it: Iterator[float] = iter(())

    def random(self) -> float:
        """Uniform on [0, 1)."""
        try:
            return next(self._it)
        except StopIteration:
            self._it = iter(self._rng.random(self._BLOCK).tolist())
            return next(self._it)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def integers(self, low: int, high: int) -> int:
        """Uniform integer in [low, high) (numpy's convention)."""
        # min(): (high - low) * u may round up to high - low for u just below 1.
        return min(high - 1, low + int((high - low) * self.random()))

    def exponential(self, scale: float) -> float:
        return -scale * math.log1p(-self.random())

    def choice(self, weights: _Weights[K]) -> K:
        i = bisect.bisect_right(weights.cumulative, self.random() * weights.cumulative[-1])
        return weights.keys[min(i, weights.last)]


@dataclass(frozen=True)
class _Weights(Generic[K]):
    """Keys with cumulative weights for :meth:`_Draws.choice` (computed once, not per draw)."""

    keys: tuple[K, ...]
    cumulative: tuple[float, ...]
    last: int  # index of the last key with a positive weight (float rounding guard)


def _weights(probs: Mapping[K, float]) -> _Weights[K]:
    keys = tuple(probs)
    cumulative = tuple(float(c) for c in np.cumsum([float(probs[k]) for k in keys]))
    last = max(i for i, k in enumerate(keys) if probs[k] > 0)
    return _Weights(keys, cumulative, last)


_object_setattr = object.__setattr__


class _Trusted(Generic[M]):
    """Rows of *model* from values this module built, without running pydantic on them.

    Why: validating ~70,000 generated rows was most of ``synthesize``'s time and checks
    values that are correct by construction here (enum members, floats, naive date-times,
    ranges by design). The honest check is in tests/unit/synth/test_cohort.py: a synthesized
    cohort is written and re-loaded through the full loader (every row validated, every
    engine check, every cross-file rule) with zero problems, and the reloaded rows equal the
    generated ones value for value, type for type.

    The result is what ``model.model_construct(**values)`` gives (defaults filled in,
    ``model_fields_set`` = the given names), with the field table computed once per model
    instead of per row. Unknown or missing required names are still refused.
    """

    def __init__(self, model: type[M]) -> None:
        fields = model.model_fields
        assert not model.__private_attributes__ and not model.__pydantic_post_init__
        assert all(f.alias is None and f.validation_alias is None for f in fields.values())
        self._model = model
        self._required = frozenset(n for n, f in fields.items() if f.is_required())
        self._names = frozenset(fields)
        # Zero-argument factories only (e.g. ``list``), looked up once: FieldInfo.get_default
        # inspects the factory's signature on every call.
        self._factories: tuple[tuple[str, Callable[[], Any]], ...] = tuple(
            (n, cast("Callable[[], Any]", f.default_factory))
            for n, f in fields.items()
            if f.default_factory is not None
        )
        assert not any(f.default_factory_takes_validated_data for f in fields.values())
        # Every field, in model order, so that __dict__ keeps the order validation gives.
        self._template = {
            n: None if f.is_required() or f.default_factory else f.default
            for n, f in fields.items()
        }

    def __call__(self, **values: Any) -> M:
        if not (self._required <= values.keys() <= self._names):
            raise TypeError(f"{self._model.__name__}: fields {sorted(values)} do not fit")
        data = self._template.copy()
        data.update(values)
        for name, factory in self._factories:
            if name not in values:  # a fresh list per row, as validation would give
                data[name] = factory()
        row = self._model.__new__(self._model)
        _object_setattr(row, "__dict__", data)
        _object_setattr(row, "__pydantic_fields_set__", set(values))
        _object_setattr(row, "__pydantic_extra__", None)
        _object_setattr(row, "__pydantic_private__", None)
        return row


_PATIENT = _Trusted(r.PatientRow)
_PRIOR_LINE = _Trusted(r.PriorLineRow)
_CELL_THERAPY = _Trusted(r.CellTherapyRow)
_CRS = _Trusted(r.CrsObservationRow)
_ICANS = _Trusted(r.IcansObservationRow)
_TREATMENT = _Trusted(r.TreatmentRow)
_LAB = _Trusted(r.LabRow)
_LLN = _Trusted(LowerLimitsIn)
_ASSESSMENT = _Trusted(r.ResponseAssessmentRow)
_MRD = _Trusted(r.MrdRow)
_FOLLOWUP = _Trusted(r.FollowupRow)

_BEST_RESPONSE = _weights(cal.BEST_RESPONSE_DL2.value)
_CRS_TREATMENT = {g: _weights(p) for g, p in cal.CRS_TREATMENT_BY_GRADE.value.items()}
_NT_TREATMENT = {g: _weights(p) for g, p in cal.NT_TREATMENT_BY_GRADE.value.items()}
_CR_DAYS = _weights({60: 0.3, 90: 0.45, 180: 0.25})
_CR_DAYS_PROLONGED = _weights({90: 0.6, 180: 0.4})
_OTHER_DEATH_CAUSES = _weights(
    {
        r.DeathCause.INFECTION: 0.6,
        r.DeathCause.SECOND_PRIMARY_MALIGNANCY: 0.2,
        r.DeathCause.OTHER: 0.2,
    }
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


# ---------------------------------------------------------------------------------------------
# Row builders


@dataclass
class _Rows:
    patients: list[r.PatientRow] = field(default_factory=list)
    prior_lines: list[r.PriorLineRow] = field(default_factory=list)
    cell_therapy: list[r.CellTherapyRow] = field(default_factory=list)
    crs_observations: list[r.CrsObservationRow] = field(default_factory=list)
    icans_observations: list[r.IcansObservationRow] = field(default_factory=list)
    treatments: list[r.TreatmentRow] = field(default_factory=list)
    labs: list[r.LabRow] = field(default_factory=list)
    response_assessments: list[r.ResponseAssessmentRow] = field(default_factory=list)
    mrd: list[r.MrdRow] = field(default_factory=list)
    followup: list[r.FollowupRow] = field(default_factory=list)

    def data(self) -> CentreData:
        return CentreData(
            patients=tuple(self.patients),
            prior_lines=tuple(self.prior_lines),
            cell_therapy=tuple(self.cell_therapy),
            crs_observations=tuple(self.crs_observations),
            icans_observations=tuple(self.icans_observations),
            treatments=tuple(self.treatments),
            labs=tuple(self.labs),
            response_assessments=tuple(self.response_assessments),
            mrd=tuple(self.mrd),
            followup=tuple(self.followup),
        )


@functools.cache
def _clock(day: int, hour: int, minute: int) -> dt.timedelta:
    """Offset from day 0 at midnight (a handful of distinct values, built once each)."""
    return dt.timedelta(days=day, hours=hour, minutes=minute)


@dataclass(frozen=True)
class _Timeline:
    """Day 0 = infusion (or apheresis when not infused); ``end`` = last day with data."""

    day0: dt.date
    end: int  # days after day0: death or data cut
    death: bool
    cut: int

    @functools.cached_property
    def _midnight(self) -> dt.datetime:
        return dt.datetime.combine(self.day0, dt.time())

    def date(self, day: int) -> dt.date:
        return self.day0 + day * _DAY

    def at(self, day: int, hour: int, minute: int = 0) -> dt.datetime:
        return self._midnight + _clock(day, hour, minute)


@dataclass(frozen=True)
class _PatientDraws:
    """A patient's own draws, taken before the course; the row waits for the first prior
    line's date, which the diagnosis precedes by ``lead_days``."""

    fields: dict[str, Any]
    lead_days: int

    @property
    def male(self) -> bool:
        return bool(self.fields["sex"] is r.Sex.M)

    def row(self, first_line: dt.date) -> r.PatientRow:
        return _PATIENT(**self.fields, diagnosis_date=first_line - self.lead_days * _DAY)


def _patient(plan: _Plan, d: _Draws) -> _PatientDraws:
    markers = _markers(d)
    # Keyword order is draw order: the random stream, hence every other value, is unchanged.
    centre_id = CENTRES[d.integers(0, len(CENTRES))]
    sex = r.Sex.M if d.random() < cal.P_MALE.value else r.Sex.F
    diagnosis = r.Diagnosis.SLL if d.random() < cal.P_SLL.value else r.Diagnosis.CLL
    lead_days = d.integers(*cal.DIAGNOSIS_TO_FIRST_LINE_DAYS.value)
    fields = {
        "patient_id": plan.pid,
        "centre_id": centre_id,
        "age_years": plan.age,
        "sex": sex,
        "diagnosis": diagnosis,
        "bulky_disease": d.random() < cal.P_BULKY.value,
        "ecog": d.integers(0, 2),
        "consent_research": True,
        **markers,
    }
    return _PatientDraws(fields, lead_days)


def _markers(d: _Draws) -> dict[str, bool | None]:
    """High-risk markers; ≥1 present in P_HIGH_RISK of patients [S17][S18b]."""
    names = ("del17p", "tp53_mutated", "complex_karyotype", "ighv_unmutated")
    if d.random() >= cal.P_HIGH_RISK.value:
        return dict.fromkeys(names, False)
    shares = cal.HIGH_RISK_MARKER_SHARES.value
    p = [shares["del17p"], shares["tp53_mutated"], shares["complex_karyotype"], shares["ighv"]]
    present = [d.random() < x for x in p]
    if not any(present):
        present[d.integers(0, 4)] = True
    return dict(zip(names, present, strict=True))


def _prior_lines(plan: _Plan, d: _Draws, rows: _Rows, apheresis: dt.date) -> dt.date:
    """Median 5 prior lines (range 2–12), all with a BTKi [S18b][S17]; venetoclax per plan.
    Returns the first line's start date."""
    n = plan.n_lines
    lines: list[tuple[tuple[str, ...], r.LineOutcome]] = []
    n_other = n - 1 - int(plan.venetoclax)
    for k in range(n_other):
        lines.append(
            (OTHER_LINES[(k + d.integers(0, 3)) % len(OTHER_LINES)], r.LineOutcome.PROGRESSION)
        )
    btki_refractory = d.random() < cal.P_BTKI_REFRACTORY.value
    btki = BTKI_AGENTS[0] if d.random() < 0.8 else BTKI_AGENTS[d.integers(1, 4)]
    outcome = r.LineOutcome.REFRACTORY if btki_refractory else r.LineOutcome.INTOLERANCE
    lines.insert(min(len(lines), 1 + d.integers(0, 2)), ((btki,), outcome))
    if plan.venetoclax:
        partner = "rituximab" if d.random() < 0.6 else "obinutuzumab"
        lines.append((("venetoclax", partner), r.LineOutcome.REFRACTORY))
    first = start = apheresis - (len(lines) * 300 + 60) * _DAY
    for number, (agents, outcome) in enumerate(lines, start=1):
        end = start + d.integers(120, 280) * _DAY
        rows.prior_lines.append(
            _PRIOR_LINE(
                patient_id=plan.pid,
                line_number=number,
                agents=list(agents),
                start_date=start,
                end_date=end,
                outcome=outcome,
            )
        )
        start = end + d.integers(10, 20) * _DAY
    return first


def _cell_therapy(plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline) -> dt.date:
    if not plan.infused:
        apheresis = tl.day0
        rows.cell_therapy.append(
            _CELL_THERAPY(patient_id=plan.pid, product="liso-cel", apheresis_date=apheresis)
        )
        return apheresis
    lo, hi = cal.LD_TO_INFUSION_DAYS.value
    ld_start = tl.date(-(d.integers(lo, hi + 1) + 2))  # 3 LD days, then 2–7 days [S26]
    apheresis = ld_start - d.integers(21, 35) * _DAY
    dose = round(plan.dose * d.uniform(0.94, 1.06), 1)
    rows.cell_therapy.append(
        _CELL_THERAPY(
            patient_id=plan.pid,
            product="liso-cel",
            apheresis_date=apheresis,
            lymphodepletion_start=ld_start,
            lymphodepletion_regimen="fludarabine/cyclophosphamide",
            infusion_date=tl.day0,
            lot=f"LOT-{d.integers(10**5, 10**6)}",
            dose_10e6_car_t_cells=dose,
        )
    )
    return apheresis


# ---------------------------------------------------------------------------------------------
# CRS and neurotoxicity: daily raw observations whose ASTCT grade peaks at the planned grade


#: Last day of the CRS / neurotoxicity episode window (day 0 = infusion); patients who leave
#: before day 30 (early_exit, followed to day 21–28) are watched to day 20.
_CRS_LAST_DAY = 60
_NT_LAST_DAY = 90
_CRS_LAST_DAY_EARLY_EXIT = _NT_LAST_DAY_EARLY_EXIT = 20
#: Published mode: latest resolution day of a planned episode. Every infused patient who
#: stays is followed to day ≥31, and _timeline keeps a patient alive until the planned
#: resolution; capping it before the day-60 visit means that never adds a response visit.
_PUBLISHED_LAST_RESOLUTION = VISIT_DAYS[1] - 1


@dataclass(frozen=True)
class _Episode:
    onset: int  # day of the first observation with grade ≥1
    length: int  # days from onset to the first grade-0 observation (the resolution)
    peak: int

    @property
    def resolution(self) -> int:
        return self.onset + self.length


def _episode(
    d: _Draws,
    grade: int,
    onset_q: cal.MedianIqr,
    dur_q: cal.MedianIqr,
    last_day: int,
    planned: tuple[int, int] | None,
) -> _Episode | None:
    if grade == 0:
        return None
    if planned is not None:  # published mode: fits last_day by construction (_assign_episodes)
        onset, length = planned
    else:
        onset = min(_quantile_draw(d, onset_q), last_day - 2)
        length = min(_quantile_draw(d, dur_q), last_day - 1 - onset)
    peak = onset if grade == 1 else onset + d.integers(0, min(2, length - 1) + 1)
    return _Episode(onset, max(1, length), peak)


def _crs_treatment(plan: _Plan, d: _Draws, published_counts: dict[str, list[str]]) -> str:
    if plan.crs_grade == 0:
        return "none"
    queue = published_counts.get(f"crs{plan.crs_grade}")
    if queue:
        return queue.pop()
    return d.choice(_CRS_TREATMENT[plan.crs_grade])


def _crs_rows(
    plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, treat: str, second_doses: list[str]
) -> None:
    """Daily 08:00 observations from day 1 to ≥ day 14 (label monitoring, §3B).

    Grade 1: fever only. Peak grade 2: fever + hypotension without vasopressor, or nasal
    cannula ≤6 L/min; grade 3: fever + one vasopressor (norepinephrine), or nasal cannula
    >6 L/min / high-flow (ASTCT 2019, cli-contract.md). After the peak a grade-2 finding
    persists until resolution; tocilizumab/steroids are given after the 08:00 observation, so
    ``antipyretic_or_anticytokine_given`` is true from the next observation on.
    """
    last_day = _CRS_LAST_DAY_EARLY_EXIT if plan.early_exit else _CRS_LAST_DAY
    ep = _episode(
        d,
        plan.crs_grade,
        cal.CRS_ONSET_DAYS.value,
        cal.CRS_DURATION_DAYS.value,
        last_day,
        plan.crs_episode,
    )
    treated_at = _crs_treat(plan, d, rows, tl, treat, ep, second_doses)
    last = max(14, ep.resolution if ep else 0)
    step_down = _grade2_finding(d)
    peak_finding = _peak_finding(d, plan.crs_grade)
    pid, append, rand = plan.pid, rows.crs_observations.append, d.random
    for day in range(1, min(last, tl.end) + 1):
        at = tl.at(day, 8)
        flag = treated_at is not None and at > treated_at
        fields: dict[str, Any] = {"temperature_c": round(36.5 + 0.9 * rand(), 1)}
        if ep and ep.onset <= day < ep.resolution:
            fever = not flag or day <= ep.peak
            if fever:
                fields["temperature_c"] = round(38.2 + 1.4 * rand(), 1)
            if day == ep.peak:
                fields.update(peak_finding)
            elif day > ep.peak and plan.crs_grade >= 2:
                fields.update(step_down)
        if "vasopressors" in fields:  # a list per row: rows never share a mutable value
            fields["vasopressors"] = list(fields["vasopressors"])
        fields["antipyretic_or_anticytokine_given"] = flag
        append(_CRS(patient_id=pid, observed_at=at, **fields))


def _grade2_finding(d: _Draws) -> dict[str, Any]:
    if d.random() < 0.6:
        return {"hypotension": True}
    return {
        "oxygen_device": OxygenDevice.NASAL_CANNULA,
        "oxygen_flow_l_min": float(d.integers(1, 5)),
    }


def _peak_finding(d: _Draws, grade: int) -> dict[str, Any]:
    if grade <= 1:
        return {}
    if grade == 2:
        return _grade2_finding(d)
    if d.random() < 0.6:
        return {"hypotension": True, "vasopressors": (Vasopressor.NOREPINEPHRINE,)}
    if d.random() < 0.5:
        return {"oxygen_device": OxygenDevice.HIGH_FLOW_NASAL_CANNULA, "oxygen_flow_l_min": 40.0}
    return {"oxygen_device": OxygenDevice.NASAL_CANNULA, "oxygen_flow_l_min": 8.0}


def _crs_treat(
    plan: _Plan,
    d: _Draws,
    rows: _Rows,
    tl: _Timeline,
    treat: str,
    ep: _Episode | None,
    second_doses: list[str],
) -> dt.datetime | None:
    """CRS treatments [S14] (tocilizumab 8 mg/kg, dexamethasone 10 mg; §3B, UNVERIFIED doses).

    *second_doses*: published mode's queue ("2" = second tocilizumab dose), empty otherwise.
    """
    if ep is None or treat == "none":
        return None
    day = ep.peak if plan.crs_grade >= 2 else ep.resolution - 1
    first = tl.at(day, 10)
    tocilizumab, crs = r.TreatmentAgent.TOCILIZUMAB, r.Indication.CRS
    if treat in ("tocilizumab", "both"):
        _give(rows, plan, first, tocilizumab, crs, 8.0, r.DoseUnit.MG_PER_KG)
        second = (
            second_doses.pop() == "2"
            if second_doses
            else d.random() < cal.P_SECOND_TOCILIZUMAB.value
        )
        if second:
            _give(rows, plan, tl.at(day, 18), tocilizumab, crs, 8.0, r.DoseUnit.MG_PER_KG)
    if treat in ("steroids", "both"):
        for s in range(day, max(day + 1, ep.resolution if plan.crs_grade >= 3 else day + 1)):
            steroid = r.TreatmentAgent.DEXAMETHASONE
            _give(rows, plan, tl.at(s, 11), steroid, crs, 10.0, r.DoseUnit.MG)
    return first


def _give(
    rows: _Rows,
    plan: _Plan,
    at: dt.datetime,
    agent: r.TreatmentAgent,
    indication: r.Indication,
    dose: float,
    unit: r.DoseUnit,
) -> None:
    rows.treatments.append(
        _TREATMENT(
            patient_id=plan.pid,
            given_at=at,
            agent=agent,
            indication=indication,
            dose=dose,
            dose_unit=unit,
        )
    )


def _nt_treatment(plan: _Plan, d: _Draws, published_counts: dict[str, list[str]]) -> str:
    if plan.nt_grade == 0:
        return "none"
    queue = published_counts.get(f"nt{plan.nt_grade}")
    if queue:
        return queue.pop()
    return d.choice(_NT_TREATMENT[plan.nt_grade])


def _icans_rows(plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, age: int, treat: str) -> None:
    """Daily 09:00 neurological assessments (ICE score, consciousness), ASTCT 2019 grading:
    ICE 7–9 → 1, 3–6 → 2, 0–2 → 3, unarousable → 4 (cli-contract.md ``grade icans``)."""
    last_day = _NT_LAST_DAY_EARLY_EXIT if plan.early_exit else _NT_LAST_DAY
    ep = _episode(
        d,
        plan.nt_grade,
        cal.NT_ONSET_DAYS.value,
        cal.NT_DURATION_DAYS.value,
        last_day,
        plan.nt_episode,
    )
    last = max(14, ep.resolution if ep else 0)
    peak_ice = {1: d.integers(7, 10), 2: d.integers(3, 7), 3: d.integers(0, 3)}
    pid, append, age_years = plan.pid, rows.icans_observations.append, float(age)
    for day in range(1, min(last, tl.end) + 1):
        fields: dict[str, Any] = {"ice_score": 10}
        if ep and ep.onset <= day < ep.resolution:
            fields["ice_score"] = d.integers(7, 10)
            if day == ep.peak and plan.nt_grade == 4:
                fields = {"ice_score": None, "consciousness": Consciousness.UNAROUSABLE}
            elif day == ep.peak:
                fields["ice_score"] = peak_ice[plan.nt_grade]
        append(_ICANS(patient_id=pid, observed_at=tl.at(day, 9), age_years=age_years, **fields))
    if ep is None or treat == "none":
        return
    steroid = r.TreatmentAgent.DEXAMETHASONE
    dose, unit = 10.0, r.DoseUnit.MG
    if plan.nt_grade == 4:  # methylprednisolone 1 g/day for grade 4 (§3B, UNVERIFIED)
        steroid, dose = r.TreatmentAgent.METHYLPREDNISOLONE, 1000.0
    days = range(ep.peak, max(ep.peak + 1, ep.resolution)) if plan.nt_grade >= 3 else [ep.peak]
    for day in days:
        _give(rows, plan, tl.at(day, 12), steroid, r.Indication.ICANS, dose, unit)
    if treat == "both":
        _give(
            rows,
            plan,
            tl.at(ep.peak, 12, 30),
            r.TreatmentAgent.TOCILIZUMAB,
            r.Indication.ICANS,
            8.0,
            r.DoseUnit.MG_PER_KG,
        )


# ---------------------------------------------------------------------------------------------
# iwCLL assessments, MRD, labs


@dataclass(frozen=True)
class _Course:
    """Planned disease course: visit days with their state, progression and death."""

    visits: tuple[tuple[int, str], ...]  # (day, state) with state in CR/PR/SD/PD/NE/PROG
    progression_day: int | None
    clinical_progression: bool  # progression without an iwCLL assessment (NE patients)
    response_day: int


def _baseline(plan: _Plan, d: _Draws, bulky: bool, sll: bool) -> dict[str, Any]:
    """Baseline iwCLL measurements: nodes, spleen, lymphocytosis, cytopenias, marrow CLL."""
    u = d.uniform
    if plan.measurable:
        largest = u(5.0, 8.0) if bulky else u(2.0, 4.9)
        spd = u(15, 80)
        lymph = u(0.8, 3.5) if sll else u(5.0, 80.0)
    else:  # marrow/blood-only disease below the measurable thresholds
        largest, spd, lymph = u(1.0, 1.4), u(1.0, 2.0), u(1.0, 3.5)
    spleen = u(13.5, 20.0) if d.random() < 0.6 else u(9.0, 12.5)
    return {
        "lymph_nodes_spd_cm2": round(spd, 1),
        "largest_node_cm": round(largest, 1),
        "new_lesion": False,
        "spleen_cm": round(spleen, 1),
        "liver_enlarged": d.random() < 0.2,
        "lymphocytes_10e9_l": round(lymph, 2),
        "neutrophils_10e9_l": round(u(1.2, 3.5), 2),
        "platelets_10e9_l": float(round(u(40, 180))),
        "hemoglobin_g_dl": round(u(8.5, 10.8), 1),
        "transfused_or_epo": False,
        "constitutional_symptoms": d.random() < 0.3,
        "marrow": Marrow.CLL_OR_NODULES_PRESENT,
    }


def _states(base: dict[str, Any], d: _Draws) -> dict[str, dict[str, Any]]:
    """Measurements for each state, drawn once per patient so series are monotone."""
    u = d.uniform
    spleen_pr = round(u(10.5, 12.5), 1) if base["spleen_cm"] >= 13 else base["spleen_cm"]
    pr = {
        **base,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * u(0.2, 0.45), 1),
        "largest_node_cm": round(max(1.6, base["largest_node_cm"] * 0.5), 1),
        "spleen_cm": spleen_pr,
        "liver_enlarged": False,
        "lymphocytes_10e9_l": round(u(0.5, 3.0), 2),
        "neutrophils_10e9_l": round(u(1.5, 3.0), 2),
        "platelets_10e9_l": float(round(u(100, 200))),
        "hemoglobin_g_dl": round(u(11.1, 13.0), 1),
        "constitutional_symptoms": False,
        "marrow": Marrow.NOT_DONE,
    }
    cr = {
        **pr,
        "lymph_nodes_spd_cm2": 0.0,
        "largest_node_cm": round(u(0.6, 1.2), 1),
        "platelets_10e9_l": float(round(u(110, 250))),
        "hemoglobin_g_dl": round(u(11.5, 14.0), 1),
        "neutrophils_10e9_l": round(u(1.6, 3.5), 2),
        "marrow": Marrow.NORMOCELLULAR_NO_CLL,
    }
    f = u(0.8, 1.0)
    sd = {
        **base,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * f, 1),
        "largest_node_cm": round(
            max(base["largest_node_cm"] * f, min(base["largest_node_cm"], 1.6)), 1
        ),
        "spleen_cm": round(base["spleen_cm"] * u(1.0, 1.08), 1),
        "lymphocytes_10e9_l": round(base["lymphocytes_10e9_l"] * u(0.9, 1.2), 2),
        "platelets_10e9_l": float(round(base["platelets_10e9_l"] * u(0.95, 1.1))),
        "hemoglobin_g_dl": round(base["hemoglobin_g_dl"] + u(-0.3, 0.3), 1),
        "marrow": Marrow.NOT_DONE,
    }
    pd_ = {
        **base,
        "new_lesion": True,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * 1.6, 1),
        "largest_node_cm": round(base["largest_node_cm"] * 1.2, 1),
        "marrow": Marrow.NOT_DONE,
    }
    ne = {**sd, "spleen_cm": None}  # spleen not measured: PD cannot be excluded → NE
    return {"CR": cr, "PR": pr, "SD": sd, "PD": pd_, "NE": ne, "PROG": pd_}


def _visit_days(end: int) -> list[int]:
    days = [d for d in VISIT_DAYS if d <= end]
    d = VISIT_DAYS[-1] + _VISIT_STEP_AFTER_YEAR
    while d <= end:
        days.append(d)
        d += _VISIT_STEP_AFTER_YEAR
    return days


def _response_day(plan: _Plan, d: _Draws) -> int:
    """Day of the best response: CR at 60/90/180 (median 3.0 months [S19]), others day 30
    (time to first response median 1.1 months [S19])."""
    if plan.best != "CR":
        return VISIT_DAYS[0]
    return d.choice(_CR_DAYS_PROLONGED if plan.prolonged_cytopenia else _CR_DAYS)


def _pfs_day(plan: _Plan, d: _Draws, response_day: int) -> int:
    """Progression day from the response-group model (UNVERIFIED, calibration.py)."""
    if plan.best == "PD":
        return VISIT_DAYS[0]
    median = cal.PFS_MEDIAN_MONTHS_BY_RESPONSE.value[plan.best] * _MONTH_DAYS
    return response_day + 1 + int(d.exponential(median / math.log(2)))


def _course(plan: _Plan, tl: _Timeline, response_day: int, pfs_day: int) -> _Course:
    visits: list[tuple[int, str]] = []
    progression: int | None = None
    clinical = plan.best == "NE"
    for day in _visit_days(tl.end):
        if day >= pfs_day:
            if not clinical:
                visits.append((day, "PROG" if plan.best != "PD" else "PD"))
                progression = day
            break
        state = plan.best
        if plan.best == "CR" and day < response_day:
            state = "PR"
        visits.append((day, state))
    if clinical and pfs_day <= tl.end:
        progression = pfs_day
    return _Course(tuple(visits), progression, clinical, response_day)


def _assessment_rows(
    plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, course: _Course, base: dict[str, Any]
) -> dict[int, dict[str, Any]]:
    """Baseline (day −12, before lymphodepletion) and post-infusion assessments."""
    states = _states(base, d)
    rows.response_assessments.append(
        _ASSESSMENT(
            patient_id=plan.pid, assessed_at=tl.date(-12), timepoint=r.Timepoint.BASELINE, **base
        )
    )
    by_day: dict[int, dict[str, Any]] = {}
    for day, state in course.visits:
        values = dict(states[state])
        if state == "PR" and plan.prolonged_cytopenia and day == VISIT_DAYS[0]:
            values["platelets_10e9_l"] = float(round(d.uniform(60, 95)))  # still recovering
        by_day[day] = values
        rows.response_assessments.append(
            _ASSESSMENT(
                patient_id=plan.pid, assessed_at=tl.date(day), timepoint=r.Timepoint.POST, **values
            )
        )
    return by_day


def _mrd_rows(plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, course: _Course) -> None:
    """Blood MRD at the response visit, marrow at the CR visit or day 90 (10^-4 NGS [S16]);
    uMRD probabilities by response group (calibration.py, modelling assumption)."""
    if plan.best not in ("CR", "PR", "SD"):
        return
    days = {day for day, s in course.visits if s != "PROG"}
    blood_day = course.response_day
    marrow_day = course.response_day if plan.best == "CR" else 90
    for sample, day, probs in (
        (r.MrdSample.BLOOD, blood_day, cal.UMRD_BY_RESPONSE_BLOOD.value),
        (r.MrdSample.MARROW, marrow_day, cal.UMRD_BY_RESPONSE_MARROW.value),
    ):
        if day not in days:
            continue
        forced = plan.extra.get(f"umrd_{sample.value}")
        undetectable = forced if forced is not None else d.random() < probs[plan.best]
        level = None if undetectable else round(10 ** d.uniform(-3.5, -1.5), 6)
        rows.mrd.append(
            _MRD(
                patient_id=plan.pid,
                sampled_at=tl.date(day),
                sample=sample,
                result=MrdResultKind.UNDETECTABLE if undetectable else MrdResultKind.DETECTABLE,
                sensitivity=cal.MRD_SENSITIVITY.value,
                method=cal.MRD_METHOD.value,
                level=level,
            )
        )


_LLN_NEUTROPHILS = 1.8  # typical laboratory reference limits (modelling assumption)
_HB_GRADE_3_BELOW = 8.0  # CTCAE v5.0 anaemia grade 3: Hb <8.0 g/dL; transfusion indicated
_LLN_PLATELETS = 150.0


def _lab_rows(
    plan: _Plan,
    d: _Draws,
    rows: _Rows,
    tl: _Timeline,
    base: dict[str, Any] | None,
    visits: dict[int, dict[str, Any]],
    male: bool,
) -> None:
    """Blood counts: day −7, daily days 0–14, days 21 and 28, then at every assessment.

    Lymphodepletion drives an early neutrophil nadir; ``prolonged_cytopenia`` patients stay
    at grade ≥3 (neutrophils <1.0 or platelets <50) at day 28 (definition UNVERIFIED [S14])."""
    lln = {
        "neutrophils_10e9_l": _LLN_NEUTROPHILS,
        "platelets_10e9_l": _LLN_PLATELETS,
        "hemoglobin_g_dl": 13.0 if male else 12.0,
    }
    b = base or {
        "neutrophils_10e9_l": 2.5,
        "platelets_10e9_l": 150.0,
        "hemoglobin_g_dl": 11.0,
        "lymphocytes_10e9_l": 10.0,
    }
    anc0, plt0, hb0 = b["neutrophils_10e9_l"], b["platelets_10e9_l"], b["hemoglobin_g_dl"]
    nadir = d.uniform(0.05, 0.4)
    days = [-7, *range(15), 21, 28] if plan.infused else [-7]
    for day in days:
        if day > tl.end:
            break
        if day < 0:
            anc, plt, hb, lym = anc0, plt0, hb0, b["lymphocytes_10e9_l"]
        else:
            anc, plt = _early_counts(day, anc0, plt0, nadir, plan.prolonged_cytopenia, d)
            # From day 21 (the day-28 ± 7 window of the prolonged-cytopenia flag) Hb of the
            # others stays ≥8.0 g/dL (CTCAE grade ≤2): a grade-3 anaemia there would make
            # them "prolonged" too (the published cohort showed 66 for [S14]'s 63).
            floor = 7.5 if plan.prolonged_cytopenia or day < 21 else _HB_GRADE_3_BELOW
            hb, lym = max(floor, hb0 - d.uniform(0, 1.0)), d.uniform(0.1, 0.8)
        _lab(rows, plan, tl, day, anc, plt, hb, lym, lln)
    for day, m in sorted(visits.items()):
        if day > tl.end:
            break
        _lab(
            rows,
            plan,
            tl,
            day,
            m["neutrophils_10e9_l"],
            m["platelets_10e9_l"],
            m["hemoglobin_g_dl"],
            m["lymphocytes_10e9_l"],
            lln,
        )


def _early_counts(
    day: int, anc0: float, plt0: float, nadir: float, prolonged: bool, d: _Draws
) -> tuple[float, float]:
    if day <= 3:
        anc = anc0 - (anc0 - nadir) * day / 4 if day else anc0 * 0.6
    elif day <= 10:
        anc = nadir
    elif not prolonged:
        anc = {11: 0.8, 12: 1.0, 13: 1.1, 14: 1.2, 21: 1.8, 28: 2.0}[day]
    else:
        anc = {11: 0.3, 12: 0.3, 13: 0.4, 14: 0.4, 21: 0.5, 28: 0.7}[day]
    if day <= 14:
        plt = plt0 * (1 - 0.5 * min(day, 7) / 7)
    elif prolonged:
        plt = d.uniform(25, 45) if day == 28 else plt0 * 0.5
    else:
        plt = max(plt0 * 0.8, 76.0)
    return anc, plt


def _lab(
    rows: _Rows,
    plan: _Plan,
    tl: _Timeline,
    day: int,
    anc: float,
    plt: float,
    hb: float,
    lym: float,
    lln: dict[str, float],
) -> None:
    hb_row = float(round(hb, 1))
    rows.labs.append(
        _LAB(
            patient_id=plan.pid,
            observed_at=tl.at(day, 7),
            neutrophils_10e9_l=float(round(anc, 2)),
            platelets_10e9_l=float(round(plt)),
            hemoglobin_g_dl=hb_row,
            lymphocytes_10e9_l=float(round(lym, 2)),
            lln=_LLN(**lln),  # one per row: the nested model is mutable
            # From the value written, not the unrounded one: 7.96 is written as 8.0 and must
            # not carry a transfusion flag (CTCAE grade 3) that the row itself contradicts.
            transfusion_indicated=hb_row < _HB_GRADE_3_BELOW,
        )
    )


# ---------------------------------------------------------------------------------------------
# Follow-up and assembly


def _followup(plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, course: _Course | None) -> None:
    prog = course.progression_day if course else None
    if prog is not None and prog <= tl.end:
        detail = (
            "clinical progression, no iwCLL assessment"
            if course and course.clinical_progression
            else None
        )
        rows.followup.append(
            _FOLLOWUP(
                patient_id=plan.pid,
                event_date=tl.date(prog),
                event=r.FollowupEvent.PROGRESSION,
                detail=detail,
            )
        )
        new_therapy = prog + d.integers(14, 46)
        if new_therapy <= tl.end:
            rows.followup.append(
                _FOLLOWUP(
                    patient_id=plan.pid,
                    event_date=tl.date(new_therapy),
                    event=r.FollowupEvent.NEW_THERAPY,
                )
            )
    if tl.death:
        cause = _death_cause(plan, d, prog)
        rows.followup.append(
            _FOLLOWUP(
                patient_id=plan.pid,
                event_date=tl.date(tl.end),
                event=r.FollowupEvent.DEATH,
                death_cause=cause,
            )
        )
    else:
        rows.followup.append(
            _FOLLOWUP(
                patient_id=plan.pid, event_date=tl.date(tl.end), event=r.FollowupEvent.LAST_CONTACT
            )
        )


def _death_cause(plan: _Plan, d: _Draws, progression: int | None) -> r.DeathCause:
    if progression is not None or not plan.infused:
        return r.DeathCause.DISEASE_PROGRESSION
    return d.choice(_OTHER_DEATH_CAUSES)


def _timeline(plan: _Plan, d: _Draws, response_day: int, pfs_day: int) -> _Timeline:
    cut = d.integers(max(90, response_day + 30), _MAX_FOLLOWUP_DAYS + 1)
    day0 = DATA_CUT - cut * _DAY
    if not plan.infused:
        # min(…, cut): the last contact must not lie after the data cut (cut can be < 120).
        if d.random() < 0.4:  # died before infusion (progression)
            return _Timeline(day0, min(d.integers(20, 90), cut), True, cut)
        return _Timeline(day0, min(d.integers(30, 120), cut), False, cut)
    if plan.early_exit:
        return _Timeline(day0, d.integers(21, 29), d.random() < 0.5, cut)
    nrm_rate = cal.NON_RELAPSE_DEATH_PER_YEAR.value / 365.25
    death = 45 + int(d.exponential(1 / nrm_rate))
    after_prog = cal.OS_AFTER_PROGRESSION_MEDIAN_MONTHS.value * _MONTH_DAYS / math.log(2)
    death = min(death, pfs_day + 1 + int(d.exponential(after_prog)))
    # Alive until the planned response and the planned episode resolutions (published mode,
    # ≤ day 59 < the next visit, so no visit is added).
    death = max(death, response_day + 1, _planned_resolution(plan))
    return _Timeline(day0, min(death, cut), death <= cut, cut)


def _published_treatment_queues(rng: Rng, plans: Sequence[_Plan]) -> dict[str, list[str]]:
    """Exact treatment allocations of the published cohort (CRS/NT management, [S14])."""
    queues: dict[str, list[str]] = {}
    for kind, table, attr in (
        ("crs", cal.CRS_TREATMENT_BY_GRADE.value, "crs_grade"),
        ("nt", cal.NT_TREATMENT_BY_GRADE.value, "nt_grade"),
    ):
        for grade, probs in table.items():
            n = sum(1 for p in plans if p.infused and getattr(p, attr) == grade)
            items: list[str] = []
            for name, share in probs.items():
                items += [name] * round(share * n)
            items = (items + ["none"] * n)[:n]
            queues[f"{kind}{grade}"] = [str(x) for x in rng.permutation(items)] if items else []
    # Tocilizumab doses per CRS patient treated: median 1 (IQR 1–2) [S14]; a fixed number of
    # second doses instead of a draw makes the type-7 quartiles exact (calibration.py).
    n_toci = sum(
        x in ("tocilizumab", "both") for k, q in queues.items() if k.startswith("crs") for x in q
    )
    n_second = round(cal.P_SECOND_TOCILIZUMAB.value * n_toci)
    doses = ["2"] * n_second + ["1"] * (n_toci - n_second)
    queues[_SECOND_DOSES] = [str(x) for x in rng.permutation(doses)] if doses else []
    return queues


_SECOND_DOSES = "crs_tocilizumab_doses"


def _patient_rows(plan: _Plan, d: _Draws, rows: _Rows, queues: dict[str, list[str]]) -> None:
    drawn = _patient(plan, d)
    male = drawn.male
    response_day = _response_day(plan, d)
    pfs_day = _pfs_day(plan, d, response_day)
    tl = _timeline(plan, d, response_day, pfs_day)
    apheresis = _cell_therapy(plan, d, rows, tl)
    patient = drawn.row(first_line=_prior_lines(plan, d, rows, apheresis))
    rows.patients.append(patient)
    if not plan.infused:
        _lab_rows(plan, d, rows, tl, None, {}, male)
        _followup(plan, d, rows, tl, None)
        return
    treat = _crs_treatment(plan, d, queues)
    _crs_rows(plan, d, rows, tl, treat, queues.setdefault(_SECOND_DOSES, []))
    _icans_rows(plan, d, rows, tl, plan.age, _nt_treatment(plan, d, queues))
    base = _baseline(plan, d, bool(patient.bulky_disease), patient.diagnosis is r.Diagnosis.SLL)
    course = _course(plan, tl, response_day, pfs_day)
    visits = _assessment_rows(plan, d, rows, tl, course, base)
    _mrd_rows(plan, d, rows, tl, course)
    _lab_rows(plan, d, rows, tl, base, visits, male)
    _followup(plan, d, rows, tl, course)


def synthesize(n: int, seed: int, published: bool = False) -> CentreData:
    """A synthetic centre data set (module docstring); same ``(n, seed, published)`` → same data.

    ``n`` is the number of leukapheresed patients (ignored when ``published``). The random
    stream is ``numpy.random.Generator(PCG64(SeedSequence(seed)))``: per-cohort draws (the
    plans, ages, numbers of prior lines) come from it directly, per-patient draws from
    blocks of its uniforms (:class:`_Draws`).
    """
    if not published and n < 1:
        raise ValueError("n must be at least 1")
    if seed < 0:
        raise ValueError("seed must be ≥0")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    draws = _Draws(rng)
    plans = _published_plans(rng, draws) if published else _random_plans(n, rng)
    queues = _published_treatment_queues(rng, plans) if published else {}
    if published:
        _assign_episodes(plans, rng)
        label_cr = [p for p in plans if p.label_reason is None and p.best == "CR"]
        for i, p in enumerate(label_cr):  # uMRD in CR: blood 100%, marrow 12/13 [S20][S23]
            p.extra["umrd_blood"] = True
            p.extra["umrd_marrow"] = i > 0
    _cohort_draws(plans, rng)
    rows = _Rows()
    with gc_paused():  # ~70,000 rows for 1,000 patients, no cycles (see loader.gc_paused)
        for plan in plans:
            _patient_rows(plan, draws, rows, queues)
    return rows.data()


# ---------------------------------------------------------------------------------------------
# Reference derivation of the label efficacy population (for tests and the ADaM layer)

MEASURABLE_NODE_CM = 1.5  # iwCLL: a node ≥1.5 cm is abnormal [S41]
MEASURABLE_LYMPHOCYTES_10E9_L = 5.0  # CLL diagnostic B-lymphocytosis (project definition)


def label_population_reasons(data: CentreData) -> dict[str, str | None]:
    """Per patient with a CAR-T course: None when in the label efficacy population, else the
    first criterion (module docstring) that fails."""
    lines: dict[str, list[list[str]]] = {}
    for line in data.prior_lines:
        lines.setdefault(line.patient_id, []).append(list(line.agents))
    baseline = {
        a.patient_id: a for a in data.response_assessments if a.timepoint is r.Timepoint.BASELINE
    }
    post = {a.patient_id for a in data.response_assessments if a.timepoint is r.Timepoint.POST}
    lo, hi = cal.LABEL_DOSE_RANGE.value
    out: dict[str, str | None] = {}
    for course in data.cell_therapy:
        pid = course.patient_id
        classes = {
            agent.drug_class
            for agents in lines.get(pid, [])
            for name in agents
            if (agent := classify_agent(name)) is not None
        }
        b = baseline.get(pid)
        if course.infusion_date is None:
            out[pid] = "not infused"
        elif course.dose_10e6_car_t_cells is None or not lo <= course.dose_10e6_car_t_cells <= hi:
            out[pid] = "dose outside 90–110 × 10⁶"
        elif len(lines.get(pid, [])) < 2 or DrugClass.BTK_INHIBITOR not in classes:
            out[pid] = "fewer than 2 prior lines or no BTK inhibitor"
        elif DrugClass.BCL2_INHIBITOR not in classes:
            out[pid] = "no BCL-2 inhibitor"
        elif b is None or not _measurable(b):
            out[pid] = "no measurable disease at baseline"
        elif pid not in post:
            out[pid] = "no post-baseline assessment"
        else:
            out[pid] = None
    return out


def _measurable(b: r.ResponseAssessmentRow) -> bool:
    node = b.largest_node_cm is not None and b.largest_node_cm >= MEASURABLE_NODE_CM
    lymph = (
        b.lymphocytes_10e9_l is not None and b.lymphocytes_10e9_l >= MEASURABLE_LYMPHOCYTES_10E9_L
    )
    return node or lymph
