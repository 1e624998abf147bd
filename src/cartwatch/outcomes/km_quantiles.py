"""Kaplan–Meier medians and quantiles with their CIs, as R ``survival`` (≥ 3.5) prints them.

Two R rules exist and differ in two corners; cartwatch follows each where R shows it, and every
result names its rule (``rule`` in the JSON):

* **Median and its CI: what ``print(survfit)`` shows** (``summary(fit)$table``, R
  ``survival:::survmean``), which is what publications quote. The median is the first time with
  S(t) ≤ 0.5 (S compared with 0.5 within sqrt(machine eps), as R); when S equals 0.5 over a
  flat stretch that a later drop ends, the midpoint of the flat's start and that drop (veteran
  trt = 2 → 52.5); when the curve *ends* on the flat at 0.5, the flat's start (pharmaverse Low
  Dose PFS → 61; ``quantile()`` would say 62.5). Each CI limit is the same rule applied to the
  lower / upper pointwise band: the first time the band falls to ≤ 0.5, even where the band is
  not monotone (aml overall, conf-type log: 27 (18, 45); ``quantile()`` says 48) [3].
* **Other quantiles (first and third quartile, any p ≠ 0.5): ``quantile(fit, p)``**, the only R
  function that prints them (as tern's ``s_surv_time`` takes the median from
  ``summary(fit)$table`` and the quartiles from ``quantile()``). The first time with S ≤ 1−p;
  the midpoint with the next drop on a flat at exactly 1−p; the midpoint with the last
  follow-up time when the curve ends on that flat; the CI by the same rule on each band, with
  R's treatment of a non-monotone band. ``km_quantile(km, 0.5)`` therefore equals R's
  ``quantile(fit, 0.5)``, which can differ from the printed median in those two corners.

A value that cannot be given is ``None`` with a reason (``estimate_status``/``ci_status``):

* ``not_reached`` (tables print **NR**): the curve or band never falls to the level;
* ``not_estimable`` (tables print **NE**): the curve reached 0, where the pointwise band is
  undefined (R gives NA: the Greenwood variance is infinite once everyone at risk has had the
  event), so the time the band would have crossed the level is unknown.

References
----------
3. Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics
   1982;38:29–41.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # only the type: survival.py imports this module
    from cartwatch.outcomes.survival import KaplanMeier

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MEDIAN_RULE = (
    "R print.survfit / summary(fit)$table (survival >= 3.5): first time S <= 0.5; on a flat "
    "at exactly 0.5 the midpoint with the next drop, or the flat's start when the curve ends "
    "on it; each CI limit is the first time its pointwise band falls to <= 0.5"
)
QUANTILE_RULE = (
    "R quantile.survfit (survival >= 3.5): first time S <= 1-p; on a flat at exactly 1-p the "
    "midpoint with the next drop, or with the last follow-up time when the curve ends on it; "
    "CI limits by the same rule on each pointwise band"
)
CI_METHOD = "Brookmeyer-Crowley (pointwise band crossing)"
VARIANCE = "greenwood"

Status = Literal["estimated", "not_reached", "not_estimable"]
#: How tables print a value that is not given.
STATUS_LABELS: dict[str, str] = {"not_reached": "NR", "not_estimable": "NE"}
STATUS_FOOTNOTE = (
    "NR = not reached (the curve or its confidence band never falls to 50%); NE = not "
    "estimable (the curve reached 0, where the confidence band is undefined)."
)

# R compares S with the level using all.equal's tolerance, sqrt(machine eps).
_TOL = math.sqrt(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class QuantileEstimate:
    """Survival-time quantile (time where S reaches 1−p) with its CI.

    ``None`` values carry their reason in ``estimate_status`` / ``lower_status`` /
    ``upper_status`` (see the module docstring). ``rule`` names the R rule used.
    """

    estimate: float | None
    lower: float | None
    upper: float | None
    p: float = 0.5
    conf_type: str = "log-log"
    conf_level: float = 0.95
    rule: str = MEDIAN_RULE
    estimate_status: Status = "estimated"
    lower_status: Status = "estimated"
    upper_status: Status = "estimated"

    def to_dict(self) -> dict[str, object]:
        return {
            "estimate": self.estimate,
            "ci": [self.lower, self.upper],
            "estimate_status": self.estimate_status,
            "ci_status": [self.lower_status, self.upper_status],
            "p": self.p,
            "method": "kaplan-meier",
            "variance": VARIANCE,
            "conf_type": self.conf_type,
            "conf_level": self.conf_level,
            "rule": self.rule,
            "ci_method": CI_METHOD,
        }


def display(value: float | None, status: str, fmt: Any = str) -> str:
    """*value* formatted by *fmt*, or NR / NE for a value that is not given."""
    return fmt(value) if value is not None else STATUS_LABELS.get(status, "NR")


def _status(km: KaplanMeier, value: float | None) -> Status:
    if value is not None:
        return "estimated"
    reached_zero = km.surv.size > 0 and float(km.surv[-1]) == 0.0
    return "not_estimable" if reached_zero else "not_reached"


def _estimate(
    km: KaplanMeier, est: float | None, lo: float | None, hi: float | None, p: float, rule: str
) -> QuantileEstimate:
    return QuantileEstimate(
        estimate=est,
        lower=lo,
        upper=hi,
        p=p,
        conf_type=km.conf_type,
        conf_level=km.conf_level,
        rule=rule,
        estimate_status=_status(km, est),
        lower_status=_status(km, lo),
        upper_status=_status(km, hi),
    )


# --------------------------------------------------------------------------- printed median


def _first_at_half(time: FloatArray, y: FloatArray) -> float | None:
    """Port of ``minmin`` in R ``survival:::survmean`` (what ``print(survfit)`` shows).

    Among the rows where *y* (the curve or a band; NaN = R's NA, skipped) is < 0.5 + tol, in
    time order: the first one's time; when that value equals 0.5 within tol and a later kept
    value is lower, the midpoint of its time and the first such lower value's time. O(n), no
    copies: the comparisons are False for NaN, as R's ``!is.na(y) & y < 0.5 + tol``.
    """
    with np.errstate(invalid="ignore"):
        below = y < 0.5 + _TOL
    i = int(np.argmax(below))
    if not below[i]:
        return None
    first = float(y[i])
    if abs(first - 0.5) < _TOL:
        with np.errstate(invalid="ignore"):
            lower = y[i + 1 :] < first
        j = int(np.argmax(lower)) if lower.size else 0
        if lower.size and lower[j]:
            return (float(time[i]) + float(time[i + 1 + j])) / 2.0
    return float(time[i])


def km_median_ci(km: KaplanMeier) -> QuantileEstimate:
    """Median survival time with its CI as R ``print(survfit)`` / ``summary(fit)$table``.

    Parameters
    ----------
    km : KaplanMeier

    Returns
    -------
    QuantileEstimate
        ``estimate`` = first time with S ≤ 0.5 (midpoint rule on an inner flat at 0.5, the
        flat's start on a final one); ``lower``/``upper`` = first time the lower/upper band
        falls to ≤ 0.5 [3]; ``None`` with status ``not_reached`` or ``not_estimable``.
    """
    est = _first_at_half(km.time, km.surv)
    lo = _first_at_half(km.time, km.lower)
    hi = _first_at_half(km.time, km.upper)
    return _estimate(km, est, lo, hi, 0.5, MEDIAN_RULE)


# --------------------------------------------------------------------------- quantile()


def _first_index_at_least(values: FloatArray, idx: IntArray, target: float) -> int | None:
    """R ``approx(values, idx, target, method="constant", f=1)``: index of the smallest value
    ≥ target (NA outside the range). ``values`` are de-duplicated and NaN-free."""
    order = np.argsort(values, kind="stable")
    sv = values[order]
    if sv.size == 0 or target < sv[0] or target > sv[-1]:
        return None
    j = int(np.searchsorted(sv, target, side="left"))
    return int(idx[order[j]])


def _findq(x: FloatArray, y: FloatArray, p: float) -> float | None:
    """Port of R ``survival:::findq``: x = c(0, time), y = c(0, 1 - curve)."""
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return None
    xmax = float(x[-1])
    missing = np.isnan(y)
    pos = np.flatnonzero(~missing)
    yv = y[pos]
    if np.all(yv[1:] >= yv[:-1]):
        return _findq_monotone(x, p, missing, pos, yv, xmax)
    # General (non-monotone band) path, literally as R.
    # duplicated(y): keep the first occurrence of each value (censor rows repeat the level).
    _, first = np.unique(y, return_index=True, equal_nan=True)
    keep = np.sort(first)
    xd, yd = x[keep], y[keep]
    ok = ~np.isnan(yd)
    pos = np.flatnonzero(ok).astype(np.int64)
    i1 = _first_index_at_least(yd[ok] + _TOL, pos, p)
    i2 = _first_index_at_least(yd[ok] - _TOL, pos, p)
    quant = None if i1 is None or i2 is None else (float(xd[i1]) + float(xd[i2])) / 2.0
    if not math.isnan(yd[-1]) and abs(p - yd[-1]) < _TOL and i1 is not None:
        # The curve ends on a flat exactly at 1-p: midpoint with the last follow-up time.
        quant = (float(xd[i1]) + xmax) / 2.0
    return quant


def _findq_monotone(
    x: FloatArray,
    p: float,
    missing: npt.NDArray[np.bool_],
    pos: IntArray,
    yv: FloatArray,
    xmax: float,
) -> float | None:
    """``_findq`` for a non-decreasing curve (every KM curve, and its bands in practice).

    Without sorting: for sorted values the first element ≥ a target is also that value's first
    occurrence, which is what R's de-duplication keeps. O(log n) after the NaN scan.
    """
    # approx(rule = 1) is NA outside [min, max] of the shifted values y ± tol.
    j1 = int(np.searchsorted(yv, p - _TOL, side="left"))
    j2 = int(np.searchsorted(yv, p + _TOL, side="left"))
    i1 = int(pos[j1]) if j1 < yv.size and p >= yv[0] + _TOL else None
    i2 = int(pos[j2]) if j2 < yv.size and p >= yv[0] - _TOL else None
    quant = None if i1 is None or i2 is None else (float(x[i1]) + float(x[i2])) / 2.0
    # R's y[n] after duplicated(): the last value to appear for the first time. That is NaN
    # when the first NaN comes after the first occurrence of the largest value.
    last_first = int(pos[int(np.searchsorted(yv, yv[-1], side="left"))])
    nan_idx = np.flatnonzero(missing)
    nan_last = nan_idx.size > 0 and int(nan_idx[0]) > last_first
    if not nan_last and abs(p - float(yv[-1])) < _TOL and i1 is not None:
        quant = (float(x[i1]) + xmax) / 2.0
    return quant


def km_quantile(km: KaplanMeier, p: float = 0.5) -> QuantileEstimate:
    """Time at which the survival curve reaches ``1 − p``, with its CI (R ``quantile.survfit``).

    Parameters
    ----------
    km : KaplanMeier
    p : float
        Cumulative-incidence probability in (0, 1): 0.25 = first quartile (S = 0.75), 0.75 =
        third quartile (S = 0.25). For the median as publications print it use
        :func:`km_median_ci` (``print(survfit)``); this is R's ``quantile(fit, p)``.

    Returns
    -------
    QuantileEstimate
        ``estimate`` = first time with S ≤ 1−p, midpoint of the flat stretch when S equals
        1−p exactly (with the last follow-up time on a final flat); ``lower``/``upper`` = the
        same rule on the lower/upper pointwise band [3]; ``None`` with its status.
    """
    if not (isinstance(p, float | int) and 0.0 < float(p) < 1.0):
        raise ValueError(f"p: must be strictly between 0 and 1, got {p!r}")
    x = np.concatenate(([0.0], km.time))
    est = _findq(x, np.concatenate(([0.0], 1.0 - km.surv)), float(p))
    lo = _findq(x, np.concatenate(([0.0], 1.0 - km.lower)), float(p))
    hi = _findq(x, np.concatenate(([0.0], 1.0 - km.upper)), float(p))
    return _estimate(km, est, lo, hi, float(p), QUANTILE_RULE)
