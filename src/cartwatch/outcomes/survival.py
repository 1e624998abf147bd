"""Kaplan–Meier estimation, quantile (median) CIs and landmark rates.

Everything follows R ``survival`` (``survfit``, ``quantile.survfit``, ``summary.survfit``,
``survdiff``) so that centre reports reproduce TRANSCEND CLL 004 / label-style outputs and the
golden values in ``../shared/data/reference/expected_values.json``:

* Product-limit estimate [1] over every distinct observed time (event or censoring), as in the
  ``survfit`` table; ties: events before censorings at the same time (everyone with time ≥ t is
  at risk at t).
* Greenwood variance [2]. ``KaplanMeier.std_err_log`` is R's ``fit$std.err`` (the standard error
  of −log S, i.e. on the cumulative-hazard scale); ``KaplanMeier.std_err`` is on the survival
  scale (``S · std_err_log``), which is what ``summary(fit)`` prints as ``std.err``.
* Pointwise CIs as R ``survfit_confint``: ``log`` = exp(log S ± z·se) with the upper limit
  capped at 1 (R's default); ``log-log`` [4] = S^exp(±z·se/|log S|) (SAS PROC LIFETEST's default
  and cartwatch's); ``plain`` = S ± z·S·se clipped to [0, 1]. Where R gives NA we give NaN:
  S = 0 for every type (the Greenwood sum is infinite once everyone at risk has died) and
  S = 1 for log-log (the transform is undefined). After the last event the limits are carried
  forward unchanged over the censored tail, exactly as in R.
* Medians and quantiles with their CIs [3] live in :mod:`cartwatch.outcomes.km_quantiles`
  (re-exported here): the median as R ``print(survfit)`` shows it, other quantiles as R
  ``quantile()``; a value not given says whether it was not reached (NR) or is not
  estimable because the curve reached 0 (NE).
* The log-rank test is in :mod:`cartwatch.outcomes.logrank`.

References
----------
1. Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc
   1958;53:457–481.
2. Greenwood M. The natural duration of cancer. Reports on Public Health and Medical Subjects
   1926;33:1–26.
3. Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics
   1982;38:29–41.
4. Borgan Ø, Liestøl K. A note on confidence intervals and bands for the survival function
   based on transformations. Scand J Stat 1990;17:35–41.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from cartwatch.outcomes.km_quantiles import (
    MEDIAN_RULE,
    QUANTILE_RULE,
    VARIANCE,
    QuantileEstimate,
    km_median_ci,
    km_quantile,
)
from cartwatch.outcomes.rates import validate_conf_level

__all__ = [
    "CONF_TYPES",
    "MEDIAN_RULE",
    "QUANTILE_RULE",
    "KaplanMeier",
    "LandmarkEstimate",
    "MedianIQR",
    "QuantileEstimate",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "kaplan_meier_from_counts",
    "km_median_ci",
    "km_quantile",
    "median_iqr",
    "numbers_at_risk",
    "survival_at",
]

ConfType = Literal["log-log", "log", "plain"]
CONF_TYPES: tuple[str, ...] = ("log-log", "log", "plain")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _list(a: npt.NDArray[Any]) -> list[Any]:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in a.tolist()]


def _readonly(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """A Kaplan–Meier table, one row per distinct observed time (events and censorings).

    Arrays are read-only. ``std_err`` is on the survival scale (R ``summary(fit)$std.err``);
    ``std_err_log`` is R's ``fit$std.err`` (se of −log S). ``lower``/``upper`` hold NaN where R
    gives NA (see the module docstring).
    """

    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    surv: FloatArray
    std_err: FloatArray
    std_err_log: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_type: str
    conf_level: float
    variance: str = VARIANCE
    method: str = "kaplan-meier"

    @property
    def n(self) -> int:
        """Number of subjects."""
        return int(self.n_risk[0]) if self.n_risk.size else 0

    @property
    def events(self) -> int:
        """Total number of events."""
        return int(self.n_event.sum())

    def to_dict(self) -> dict[str, object]:
        """The table as JSON-ready lists (NaN → null) with the method named."""
        return {
            "method": self.method,
            "variance": self.variance,
            "conf_type": self.conf_type,
            "conf_level": self.conf_level,
            "std_err_scale": "survival (S·se(log S)), as summary.survfit prints",
            "n": self.n,
            "events": self.events,
            "time": _list(self.time),
            "n_risk": self.n_risk.tolist(),
            "n_event": self.n_event.tolist(),
            "n_censor": self.n_censor.tolist(),
            "surv": _list(self.surv),
            "std_err": _list(self.std_err),
            "lower": _list(self.lower),
            "upper": _list(self.upper),
        }


@dataclass(frozen=True)
class LandmarkEstimate:
    """KM survival at a fixed time with its pointwise CI and the number at risk at that time."""

    time: float
    surv: float
    std_err: float | None
    lower: float | None
    upper: float | None
    n_risk: int
    conf_type: str
    conf_level: float

    def to_dict(self) -> dict[str, object]:
        return {
            "time": self.time,
            "surv": self.surv,
            "std_err": self.std_err,
            "ci": [self.lower, self.upper],
            "n_risk": self.n_risk,
            "method": "kaplan-meier",
            "variance": VARIANCE,
            "conf_type": self.conf_type,
            "conf_level": self.conf_level,
        }


@dataclass(frozen=True)
class MedianIQR:
    """Median and quartiles of a sample (onset/duration summaries)."""

    n: int
    n_missing: int
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    method: str = "R quantile type 7 (linear interpolation, numpy 'linear')"

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "n_missing": self.n_missing,
            "median": self.median,
            "q1": self.q1,
            "q3": self.q3,
            "min": self.minimum,
            "max": self.maximum,
            "method": self.method,
        }


# --------------------------------------------------------------------------- validation


def _validate_conf_type(conf_type: str) -> str:
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type: must be one of {', '.join(CONF_TYPES)}, got {conf_type!r}")
    return conf_type


def _as_time(time: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(time)
    if arr.ndim != 1:
        raise ValueError("time: must be one-dimensional")
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise ValueError(f"time: must be numeric, got dtype {arr.dtype}")
    out = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(out)
    if bad.any():
        raise ValueError(f"time: {int(bad.sum())} missing or infinite value(s)")
    if (out < 0).any():
        raise ValueError(f"time: {int((out < 0).sum())} negative value(s)")
    return out


def _as_event(event: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    arr = np.asarray(event)
    if arr.ndim != 1:
        raise ValueError("event: must be one-dimensional")
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"event: must be 0/1 or boolean, got dtype {arr.dtype}")
    ok = (arr == 0) | (arr == 1)
    if not ok.all():
        raise ValueError(f"event: {int((~ok).sum())} value(s) not 0/1 (missing values included)")
    return np.asarray(arr == 1, dtype=np.bool_)


def validate_time_event(time: npt.ArrayLike, event: npt.ArrayLike) -> tuple[FloatArray, Any]:
    t = _as_time(time)
    e = _as_event(event)
    if t.shape != e.shape:
        raise ValueError(f"event: length {e.size} does not match time length {t.size}")
    if t.size == 0:
        raise ValueError("time: no observations")
    return t, e


# --------------------------------------------------------------------------- Kaplan–Meier


#: From this many subjects on, a heavily tied series is counted by hashing (see below).
HASH_MIN_SUBJECTS = 50_000
#: Share of distinct values in a sample below which a series counts as heavily tied.
HASH_MAX_DISTINCT_SHARE = 0.5
_SAMPLE = 20_000


def tied_counts(
    t: FloatArray, e: npt.NDArray[np.bool_]
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Distinct times, subjects at risk, events and censorings at each time.

    Two ways to the same counts, chosen for speed only: sorting (any data), or, for a large
    series with many ties (follow-up in days, say), hashing each time to its distinct value,
    which is O(n) where the sort is O(n log n); with mostly distinct times hashing is slower,
    so a sample decides. tests/property checks that both give identical counts.
    """
    if t.size >= HASH_MIN_SUBJECTS:
        sample = t[:: max(1, t.size // _SAMPLE)]
        if np.unique(sample).size < HASH_MAX_DISTINCT_SHARE * sample.size:
            return _tied_counts_hashed(t, e)
    return _tied_counts_sorted(t, e)


def _tied_counts_sorted(
    t: FloatArray, e: npt.NDArray[np.bool_]
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Two unstable value sorts (all times, event times) and binary searches: O(n log n) and
    several times faster than an index argsort on a million rows, since only counts are needed.
    """
    ts = np.sort(t)
    n = ts.size
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(ts[1:], ts[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    utime = ts[starts]
    counts = np.diff(np.append(starts, n)).astype(np.int64)
    te = np.sort(t[e])
    n_event = (
        np.searchsorted(te, utime, side="right") - np.searchsorted(te, utime, side="left")
    ).astype(np.int64)
    # At risk at t_i = everyone whose time is >= t_i = n minus those with earlier times.
    n_risk = (n - starts).astype(np.int64)
    return utime, n_risk, n_event, counts - n_event


def _tied_counts_hashed(
    t: FloatArray, e: npt.NDArray[np.bool_]
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """The same counts by hashing (pandas.factorize), then sorting the distinct times only."""
    import pandas as pd  # only here: the CLI's survival commands start without pandas

    # + 0.0 turns -0.0 into 0.0, so that it is one time with 0.0 as in the sorted path.
    codes, uniques = pd.factorize(t + 0.0, sort=False)
    counts = np.bincount(codes, minlength=uniques.size).astype(np.int64)
    events = np.bincount(codes[e], minlength=uniques.size).astype(np.int64)
    order = np.argsort(uniques, kind="stable")
    utime = np.asarray(uniques, dtype=np.float64)[order]
    counts, n_event = counts[order], events[order]
    n_risk = (t.size - np.concatenate(([0], np.cumsum(counts)[:-1]))).astype(np.int64)
    return utime, n_risk, n_event, counts - n_event


def _confint(
    surv: FloatArray, se_log: FloatArray, conf_type: str, conf_level: float
) -> tuple[FloatArray, FloatArray]:
    """Pointwise limits as R ``survfit_confint`` (NaN where R returns NA)."""
    z = float(ndtri(1.0 - (1.0 - conf_level) / 2.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = z * se_log * surv  # 0·inf = NaN at S = 0, as R
            lower = np.maximum(surv - half, 0.0)
            upper = np.minimum(surv + half, 1.0)
        elif conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.exp(np.log(xx) - z * se_log)
            upper = np.minimum(np.exp(np.log(xx) + z * se_log), 1.0)
        else:  # log-log: se of log(-log S) is se_log / |log S|
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            w = z * se_log / np.abs(np.log(xx))
            lower = np.exp(np.log(xx) * np.exp(w))
            upper = np.exp(np.log(xx) * np.exp(-w))
    return lower.astype(np.float64), upper.astype(np.float64)


def kaplan_meier(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> KaplanMeier:
    """Kaplan–Meier estimate with Greenwood standard errors and pointwise CIs (R ``survfit``).

    Parameters
    ----------
    time : array-like of float
        Follow-up times, finite and ≥ 0.
    event : array-like of 0/1 or bool
        1/True = event, 0/False = censored.
    conf_type : {"log-log", "log", "plain"}
        Transform for the pointwise CI [4]. R's default is "log"; cartwatch defaults to
        "log-log" (SAS PROC LIFETEST), so the transform is always named in outputs.
    conf_level : float
        Two-sided level in (0, 1).

    Returns
    -------
    KaplanMeier
        One row per distinct time. Vectorised: one stable sort plus cumulative sums, O(n log n).

    Raises
    ------
    ValueError
        Non-numeric/NaN/infinite/negative times, events other than 0/1, length mismatch, no
        observations, unknown conf_type, conf_level outside (0, 1).

    References
    ----------
    1. Kaplan & Meier 1958. 2. Greenwood 1926. 4. Borgan & Liestøl 1990.
    """
    conf_type = _validate_conf_type(conf_type)
    level = validate_conf_level(conf_level)
    t, e = validate_time_event(time, event)
    utime, n_risk, n_event, n_censor = tied_counts(t, e)
    return _km_from_counts(utime, n_risk, n_event, n_censor, conf_type, level)


def kaplan_meier_from_counts(
    time: npt.ArrayLike,
    n_event: npt.ArrayLike,
    n_censor: npt.ArrayLike,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> KaplanMeier:
    """The same estimate from the counts it depends on: distinct times (strictly increasing)
    with the number of events and of censorings at each.

    KM, Greenwood and the CIs depend on the data only through these counts, so this equals
    :func:`kaplan_meier` on any rows with these counts exactly (the same integers reach the
    same floating-point operations); the federated pool (``cartwatch.interop``) relies on it.
    """
    conf_type = _validate_conf_type(conf_type)
    level = validate_conf_level(conf_level)
    utime = _as_time(time)
    d = np.asarray(n_event, dtype=np.int64)
    c = np.asarray(n_censor, dtype=np.int64)
    if d.shape != utime.shape or c.shape != utime.shape:
        raise ValueError("n_event, n_censor: one count per time is needed")
    if utime.size == 0:
        raise ValueError("time: no observations")
    if utime.size > 1 and not (np.diff(utime) > 0).all():
        raise ValueError("time: distinct times must be strictly increasing")
    if (d < 0).any() or (c < 0).any():
        raise ValueError("n_event, n_censor: counts must not be negative")
    counts = d + c
    if (counts == 0).any():
        raise ValueError("n_event, n_censor: every time needs at least one subject")
    n_risk = (int(counts.sum()) - np.concatenate(([0], np.cumsum(counts)[:-1]))).astype(np.int64)
    return _km_from_counts(utime, n_risk, d, c, conf_type, level)


def _km_from_counts(
    utime: FloatArray,
    n_risk: IntArray,
    n_event: IntArray,
    n_censor: IntArray,
    conf_type: str,
    level: float,
) -> KaplanMeier:
    nr = n_risk.astype(np.float64)
    nd = n_event.astype(np.float64)
    surv: FloatArray = np.cumprod(1.0 - nd / nr, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Greenwood increments d / (n (n - d)); infinite once everyone at risk dies (S = 0),
        # which R keeps (std.err Inf) and which turns every CI limit into NA there.
        inc = np.where(n_event > 0, nd / (nr * (nr - nd)), 0.0)
        se_log = np.sqrt(np.cumsum(inc))
        se_surv = np.where(np.isinf(se_log), np.nan, surv * se_log)
    lower, upper = _confint(surv, se_log, conf_type, level)
    return KaplanMeier(
        time=_readonly(utime),
        n_risk=_readonly(n_risk),
        n_event=_readonly(n_event),
        n_censor=_readonly(n_censor),
        surv=_readonly(surv),
        std_err=_readonly(se_surv),
        std_err_log=_readonly(se_log),
        lower=_readonly(lower),
        upper=_readonly(upper),
        conf_type=conf_type,
        conf_level=level,
    )


def _py(value: object) -> object:
    """numpy scalar → Python scalar (JSON-friendly labels)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def group_codes(group: npt.ArrayLike, n: int) -> tuple[list[object], IntArray]:
    g = np.asarray(group)
    if g.ndim != 1:
        raise ValueError("group: must be one-dimensional")
    if g.size != n:
        raise ValueError(f"group: length {g.size} does not match time length {n}")
    if g.dtype.kind == "f" and np.isnan(g).any():
        raise ValueError("group: missing values; drop those rows first (R drops them too)")
    if g.dtype.kind == "O" and any(
        v is None or (isinstance(v, float) and math.isnan(v)) for v in g.tolist()
    ):
        raise ValueError("group: missing values; drop those rows first (R drops them too)")
    try:
        labels, codes = np.unique(g, return_inverse=True)
    except TypeError as exc:  # mixed, unorderable labels
        raise ValueError(f"group: labels cannot be ordered ({exc})") from exc
    return [_py(v) for v in labels.tolist()], codes.reshape(-1).astype(np.int64)


def kaplan_meier_by_group(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    group: npt.ArrayLike,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> dict[object, KaplanMeier]:
    """One Kaplan–Meier fit per group label, in sorted label order (R factor level order)."""
    t, e = validate_time_event(time, event)
    labels, codes = group_codes(group, t.size)
    return {
        _py(label): kaplan_meier(t[codes == i], e[codes == i], conf_type, conf_level)
        for i, label in enumerate(labels)
    }


# --------------------------------------------------------------------------- landmarks


def survival_at(km: KaplanMeier, t: float) -> LandmarkEstimate:
    """KM estimate at time *t* (R ``summary(fit, times = t)``).

    The estimate is the step function's value at *t* (last row with time ≤ t); ``n_risk`` is
    the number still under observation at *t* (time ≥ t). Before the first row S = 1 with
    limits (1, 1), as R. Past the last follow-up the last value is carried forward with
    ``n_risk = 0`` (R ``extend = TRUE``).
    """
    if not math.isfinite(float(t)):
        raise ValueError(f"t: must be finite, got {t!r}")
    t = float(t)
    i = int(np.searchsorted(km.time, t, side="right")) - 1
    n_risk = numbers_at_risk(km, [t])[0]
    if i < 0:
        return LandmarkEstimate(t, 1.0, 0.0, 1.0, 1.0, n_risk, km.conf_type, km.conf_level)
    return LandmarkEstimate(
        time=t,
        surv=float(km.surv[i]),
        std_err=_nan_to_none(float(km.std_err[i])),
        lower=_nan_to_none(float(km.lower[i])),
        upper=_nan_to_none(float(km.upper[i])),
        n_risk=n_risk,
        conf_type=km.conf_type,
        conf_level=km.conf_level,
    )


def numbers_at_risk(km: KaplanMeier, times: Sequence[float] | npt.ArrayLike) -> list[int]:
    """Subjects still at risk (time ≥ t) at each requested time, for risk tables under plots."""
    ts = np.asarray(times, dtype=np.float64)
    if ts.ndim != 1 or not np.isfinite(ts).all():
        raise ValueError("times: must be a one-dimensional sequence of finite numbers")
    j = np.searchsorted(km.time, ts, side="left")
    padded = np.append(km.n_risk, 0)
    return [int(v) for v in padded[j]]


# --------------------------------------------------------------------------- descriptive


def median_iqr(values: Sequence[float | None] | npt.ArrayLike) -> MedianIQR:
    """Median, quartiles and range of a sample such as CRS onset days or durations.

    Quartiles use R's default ``quantile(type = 7)`` (numpy ``method="linear"``): linear
    interpolation between order statistics at (n − 1)·p. Missing values (None/NaN) are
    dropped and counted in ``n_missing``; all statistics are None for an empty sample.
    """
    obj = np.asarray(values, dtype=object)
    if obj.ndim != 1:
        raise ValueError("values: must be one-dimensional")
    try:
        raw = np.array([np.nan if v is None else float(v) for v in obj.tolist()], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"values: must be numbers or missing ({exc})") from exc
    missing = np.isnan(raw)
    if np.isinf(raw).any():
        raise ValueError("values: infinite value(s)")
    x = raw[~missing]
    if x.size == 0:
        return MedianIQR(0, int(missing.sum()), None, None, None, None, None)
    q1, med, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75], method="linear"))
    return MedianIQR(
        n=int(x.size),
        n_missing=int(missing.sum()),
        median=med,
        q1=q1,
        q3=q3,
        minimum=float(x.min()),
        maximum=float(x.max()),
    )
