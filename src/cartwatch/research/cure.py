"""Mixture cure model by maximum likelihood: is there a long-term remission plateau?

research-contract.md, ``cartwatch fit cure``. S(t) = π + (1 − π)·S_u(t): a fraction π is
cured (never has the event) and the others follow a parametric latency S_u:

* ``weibull``:     S_u(t) = exp(−(t/λ)^ρ)              (lifelines ``WeibullFitter``)
* ``exponential``: S_u(t) = exp(−t/λ)
* ``lognormal``:   S_u(t) = 1 − Φ((log t − μ)/σ)

Log-likelihood: Σ_events log((1 − π)·f_u(t)) + Σ_censored log(π + (1 − π)·S_u(t)),
maximised over (logit π, log λ, log ρ) or (logit π, μ, log σ) with BFGS from several
starts. The cure-fraction CI is Wald on the logit scale, from the observed information (a
central-difference Hessian at the optimum), transformed back (Farewell 1982; Peng &
Taylor 2014). AIC is compared with the latency model without cure (π = 0).

``km_plateau`` is the Kaplan–Meier estimate at the last event time. Whether follow-up can
support a plateau follows the sufficient-follow-up idea of Maller & Zhou (1996, "Survival
Analysis with Long-Term Survivors", §4): the longest follow-up must extend well beyond the
last event. A warning is given when the plateau after the last event is shorter than
:data:`PLATEAU_MIN_SHARE` of the time to the last event, or fewer than
:data:`PLATEAU_MIN_AT_RISK` patients are followed beyond it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit, log_ndtr, logit
from scipy.stats import norm

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.outcomes.survival import kaplan_meier
from cartwatch.research.inputs import LATENCIES

__all__ = [
    "LATENCIES",
    "PLATEAU_MIN_AT_RISK",
    "PLATEAU_MIN_SHARE",
    "CureFit",
    "cure_survival",
    "fit_cure",
]

Latency = Literal["weibull", "exponential", "lognormal"]
FloatArray = npt.NDArray[np.float64]

# Project heuristics, not published cut-offs: Maller & Zhou (1996) give the idea (follow-up
# well beyond the last event) and a test statistic, not these numbers. They only decide
# whether a warning is printed, never the fit.
#: The plateau after the last event must last at least this share of the last event time.
PLATEAU_MIN_SHARE = 0.5
#: … and this many patients must be followed beyond the last event.
PLATEAU_MIN_AT_RISK = 5
#: A cure-fraction CI wider than this says the data cannot tell whether there is a plateau.
WIDE_CI = 0.8
CI_METHOD = "wald on the logit scale (observed information)"
Z95 = float(norm.ppf(0.975))


def _log_latency(
    latency: Latency, params: FloatArray, t: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(log f_u(t), log S_u(t)) for the latency with unconstrained *params*."""
    if latency == "lognormal":
        mu, log_sigma = params
        sigma = math.exp(log_sigma)
        z = (np.log(t) - mu) / sigma
        log_s = log_ndtr(-z)
        log_f = -0.5 * z**2 - 0.5 * math.log(2 * math.pi) - log_sigma - np.log(t)
        return log_f, log_s
    log_lam = params[0]
    log_rho = params[1] if latency == "weibull" else 0.0
    rho = math.exp(log_rho)
    log_ratio = np.log(t) - log_lam
    cum = np.exp(rho * log_ratio)  # (t/λ)^ρ
    log_f = log_rho - log_lam + (rho - 1.0) * log_ratio - cum
    return log_f, -cum


def _neg_loglik(
    theta: FloatArray, latency: Latency, t: FloatArray, d: FloatArray, cure: bool
) -> float:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _neg_loglik_raw(theta, latency, t, d, cure)


def _neg_loglik_raw(
    theta: FloatArray, latency: Latency, t: FloatArray, d: FloatArray, cure: bool
) -> float:
    if cure:
        log_pi = -np.logaddexp(0.0, -theta[0])  # log expit
        log_1m = -np.logaddexp(0.0, theta[0])  # log(1 − expit)
        params = theta[1:]
    else:
        log_pi, log_1m, params = -np.inf, 0.0, theta
    log_f, log_s = _log_latency(latency, params, t)
    event_part = d * (log_1m + log_f)
    censor_part = (1.0 - d) * np.logaddexp(log_pi, log_1m + log_s)
    value = -float(np.sum(event_part + censor_part))
    return value if math.isfinite(value) else 1e300


def _starts(latency: Latency, t: FloatArray, d: FloatArray, cure: bool) -> list[FloatArray]:
    scale = float(np.log(np.mean(t)))
    log_t = np.log(t[d > 0]) if d.any() else np.log(t)
    if latency == "lognormal":
        spread = math.log(max(float(np.std(log_t)), 0.1))
        latencies = [[float(np.mean(log_t)), spread], [scale, 0.0]]
    elif latency == "weibull":
        latencies = [[scale, 0.0], [float(np.mean(log_t)), 0.5], [scale, -0.5]]
    else:
        latencies = [[scale], [float(np.mean(log_t))]]
    if not cure:
        return [np.array(p, dtype=np.float64) for p in latencies]
    censored_share = float(np.clip(1.0 - d.mean(), 0.05, 0.95))
    pis = [logit(censored_share * 0.5), logit(0.1), logit(censored_share)]
    return [np.array([pi, *p], dtype=np.float64) for pi in pis for p in latencies]


def _maximise(
    latency: Latency, t: FloatArray, d: FloatArray, cure: bool
) -> tuple[FloatArray, float]:
    """BFGS from each start, then the best polished by Nelder–Mead to a tight tolerance."""

    def objective(theta: FloatArray) -> float:
        return _neg_loglik(theta, latency, t, d, cure)

    best: tuple[FloatArray, float] | None = None
    for start in _starts(latency, t, d, cure):
        res = minimize(objective, start, method="BFGS", options={"maxiter": 2000})
        if best is None or res.fun < best[1]:
            best = (np.asarray(res.x, dtype=np.float64), float(res.fun))
    assert best is not None
    polished = minimize(
        objective,
        best[0],
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000},
    )
    if polished.fun <= best[1]:
        best = (np.asarray(polished.x, dtype=np.float64), float(polished.fun))
    return best


def _hessian(f: Callable[[FloatArray], float], x: FloatArray) -> FloatArray:
    """Central-difference Hessian of *f* at *x*."""
    k = x.size
    h = 1e-4 * (1.0 + np.abs(x))
    out = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            e_i, e_j = np.zeros(k), np.zeros(k)
            e_i[i], e_j[j] = h[i], h[j]
            value = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (
                4.0 * h[i] * h[j]
            )
            out[i, j] = out[j, i] = value
    return out


@dataclass(frozen=True)
class CureFit:
    group: str
    n: int
    events: int
    latency_name: Latency
    cure_fraction: float
    ci: tuple[float | None, float | None]
    latency: dict[str, float]
    loglik: float
    aic: float
    loglik_no_cure: float
    aic_no_cure: float
    km_plateau: float | None
    last_event: float | None
    last_follow_up: float
    at_risk_after_last_event: int
    notes: tuple[str, ...]
    theta: tuple[float, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "n": self.n,
            "events": self.events,
            "cure_fraction": self.cure_fraction,
            "ci": list(self.ci),
            "ci_method": CI_METHOD,
            "latency": {"distribution": self.latency_name, **self.latency},
            "loglik": self.loglik,
            "aic": self.aic,
            "loglik_no_cure": self.loglik_no_cure,
            "aic_no_cure": self.aic_no_cure,
            "aic_prefers": "cure" if self.aic < self.aic_no_cure else "no cure",
            "km_plateau": self.km_plateau,
            "last_event_time": self.last_event,
            "last_follow_up_time": self.last_follow_up,
            "at_risk_after_last_event": self.at_risk_after_last_event,
            "method": f"mixture cure model, {self.latency_name} latency, maximum likelihood",
            "notes": list(self.notes),
        }

    def survival(self, t: FloatArray) -> FloatArray:
        """The fitted S(t) = π + (1 − π)·S_u(t)."""
        return cure_survival(self.latency_name, np.asarray(self.theta), t)


def cure_survival(latency: Latency, theta: FloatArray, t: FloatArray) -> FloatArray:
    pi = float(expit(theta[0]))
    safe = np.maximum(np.asarray(t, dtype=np.float64), 1e-12)
    _, log_s = _log_latency(latency, theta[1:], safe)
    return np.asarray(pi + (1.0 - pi) * np.exp(log_s))


def _latency_dict(latency: Latency, params: FloatArray) -> dict[str, float]:
    if latency == "lognormal":
        return {"mu": float(params[0]), "sigma": float(math.exp(params[1]))}
    out = {"lambda": float(math.exp(params[0]))}
    if latency == "weibull":
        out["rho"] = float(math.exp(params[1]))
    return out


def _check(time: FloatArray, event: FloatArray) -> None:
    problems: list[tuple[str, str]] = []
    if time.size == 0:
        problems.append(("time", "no observations"))
    elif not np.all(np.isfinite(time)) or np.any(time <= 0):
        problems.append(
            (
                "time",
                "every time must be a finite number > 0 (a parametric latency has no density at 0)",
            )
        )
    if not np.all((event == 0) | (event == 1)):
        problems.append(("event", "must be 0/1"))
    elif time.size and event.sum() < 2:
        problems.append(
            ("event", f"at least 2 events are needed to fit a latency, got {int(event.sum())}")
        )
    if problems:
        raise ClinicalInputError(problems)


def fit_cure(
    time: npt.ArrayLike, event: npt.ArrayLike, latency: Latency = "weibull", group: str = "all"
) -> CureFit:
    """Fit the mixture cure model (and the latency alone, for the AIC comparison)."""
    t = np.asarray(time, dtype=np.float64)
    d = np.asarray(event, dtype=np.float64)
    _check(t, d)
    theta, nll = _maximise(latency, t, d, cure=True)
    _, nll0 = _maximise(latency, t, d, cure=False)
    k = theta.size
    info = _hessian(lambda x: _neg_loglik(x, latency, t, d, True), theta)
    notes: list[str] = []
    ci: tuple[float | None, float | None] = (None, None)
    try:
        cov = np.linalg.inv(info)
        se = math.sqrt(cov[0, 0]) if cov[0, 0] > 0 else math.nan
    except np.linalg.LinAlgError:
        se = math.nan
    if math.isfinite(se):
        ci = (float(expit(theta[0] - Z95 * se)), float(expit(theta[0] + Z95 * se)))
        if ci[1] - ci[0] > WIDE_CI:
            notes.append(
                f"the 95% CI ({ci[0]:.3f}, {ci[1]:.3f}) spans most of (0, 1): these data do "
                "not identify a cure fraction"
            )
    else:
        notes.append(
            "the information matrix is singular at the optimum: no CI (the cure "
            "fraction is not identified by these data)"
        )
    pi = float(expit(theta[0]))
    plateau = _plateau(t, d, notes)
    if pi < 1e-4:
        notes.append("the estimated cure fraction is ~0: the data show no plateau")
    return CureFit(
        group=group,
        n=int(t.size),
        events=int(d.sum()),
        latency_name=latency,
        cure_fraction=pi,
        ci=ci,
        latency=_latency_dict(latency, theta[1:]),
        loglik=-nll,
        aic=2 * k + 2 * nll,
        loglik_no_cure=-nll0,
        aic_no_cure=2 * (k - 1) + 2 * nll0,
        km_plateau=plateau[0],
        last_event=plateau[1],
        last_follow_up=float(t.max()),
        at_risk_after_last_event=plateau[2],
        notes=tuple(notes),
        theta=tuple(float(x) for x in theta),
    )


def _plateau(t: FloatArray, d: FloatArray, notes: list[str]) -> tuple[float, float, int]:
    km = kaplan_meier(t, d)
    last_event = float(t[d > 0].max())
    level = float(km.surv[np.searchsorted(km.time, last_event)])
    beyond = int(np.sum(t > last_event))
    tail = float(t.max()) - last_event
    if tail < PLATEAU_MIN_SHARE * last_event or beyond < PLATEAU_MIN_AT_RISK:
        notes.append(
            f"warning: follow-up may not support a plateau: the KM is flat for {tail:.1f} "
            f"after the last event at {last_event:.1f} with {beyond} patient(s) followed "
            f"beyond it (sufficient follow-up needs ≥ {PLATEAU_MIN_SHARE:g} × the last event "
            f"time and ≥ {PLATEAU_MIN_AT_RISK} patients; Maller & Zhou 1996)"
        )
    return level, last_event, beyond
