"""Random draws and validated row construction for the synthetic cohorts (module
cohort.py says what the cohorts are).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import numpy as np
from pydantic import BaseModel

from cartwatch.centre import records as r
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

#: Last day of the CRS / neurotoxicity episode window (day 0 = infusion); patients who leave
#: before day 30 (early_exit, followed to day 21–28) are watched to day 20.
_CRS_LAST_DAY = 60
_NT_LAST_DAY = 90
_CRS_LAST_DAY_EARLY_EXIT = _NT_LAST_DAY_EARLY_EXIT = 20
#: Published mode: latest resolution day of a planned episode. Every infused patient who
#: stays is followed to day ≥31, and _timeline keeps a patient alive until the planned
#: resolution; capping it before the day-60 visit means that never adds a response visit.
_PUBLISHED_LAST_RESOLUTION = VISIT_DAYS[1] - 1

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
