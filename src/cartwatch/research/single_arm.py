"""Single-arm phase II designs on a response rate: exact single-stage and Simon two-stage.

research-contract.md, ``cartwatch design single-arm``. H0: p = p0 against p = p1 > p0,
"reject H0 when responders > r".

* Exact single-stage: the smallest n ≤ n_max with a cut-off r such that
  P(X > r | n, p0) ≤ alpha and P(X > r | n, p1) ≥ power, X ~ Binomial(n, p). For each n the
  smallest r meeting alpha is taken (the most powerful admissible cut-off).
* Simon two-stage (Simon R. Optimal two-stage designs for phase II clinical trials.
  Control Clin Trials 1989;10:1-10): stop after stage 1 when responders ≤ r1 of n1; else
  treat n − n1 more and reject H0 when total responders > r. Searched exhaustively over
  2 ≤ n ≤ n_max, 1 ≤ n1 < n, 0 ≤ r1 < n1, r1 ≤ r ≤ r1 + n − n1 with the rule of clinfun
  ``ph2simon`` (Fortran ``f2bdry``): a design qualifies when its type I error is < alpha
  and its type II error < 1 − power (strict, as clinfun); for each n the qualifying design
  with the smallest EN(p0) is kept (ties: first in the order n1 ascending, r1 descending,
  r descending, i.e. the largest r); *optimal* is the kept design with the smallest EN(p0)
  (smallest n on ties) and *minimax* the one with the smallest n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import binom

__all__ = [
    "EXACT_METHOD",
    "SIMON_METHOD",
    "ExactDesign",
    "SimonDesign",
    "SimonResult",
    "exact_design",
    "rejection_curves",
    "simon_characteristics",
    "simon_designs",
]

EXACT_METHOD = "exact binomial single-stage (smallest n; reject H0 when responders > r)"
SIMON_METHOD = "Simon (1989) two-stage, exhaustive search (clinfun ph2simon semantics)"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ExactDesign:
    """The exact single-stage design (``feasible`` False when none exists within n_max)."""

    feasible: bool
    n: int | None
    r: int | None
    alpha_actual: float | None
    power_actual: float | None
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "design": "exact",
            "feasible": self.feasible,
            "n": self.n,
            "r": self.r,
            "alpha_actual": self.alpha_actual,
            "power_actual": self.power_actual,
            "method": EXACT_METHOD,
            "reasons": list(self.reasons),
        }


def exact_design(p0: float, p1: float, alpha: float, power: float, n_max: int) -> ExactDesign:
    """The smallest single-stage n ≤ *n_max* meeting *alpha* under p0 and *power* under p1."""
    for n in range(1, n_max + 1):
        k = np.arange(n + 1)
        tail0 = binom.sf(k, n, p0)  # P(X > k | p0)
        admissible = np.flatnonzero(tail0 <= alpha)
        if admissible.size == 0:
            continue
        r = int(admissible[0])
        achieved = float(binom.sf(r, n, p1))
        if achieved >= power:
            size = float(tail0[r])
            return ExactDesign(
                True,
                n,
                r,
                size,
                achieved,
                (
                    f"n = {n} is the smallest sample size with a cut-off meeting both errors",
                    f"reject H0 (p ≤ {p0:g}) when responders > {r} of {n}",
                    f"P(X > {r} | p0 = {p0:g}) = {size:.4f} ≤ alpha {alpha:g}",
                    f"P(X > {r} | p1 = {p1:g}) = {achieved:.4f} ≥ power {power:g}",
                ),
            )
    return ExactDesign(
        False,
        None,
        None,
        None,
        None,
        (
            f"no single-stage design with n ≤ n_max ({n_max}) meets alpha {alpha:g} and "
            f"power {power:g} for p0 {p0:g}, p1 {p1:g}; raise n_max",
        ),
    )


@dataclass(frozen=True)
class SimonDesign:
    """One two-stage design and its operating characteristics under p0 and p1."""

    r1: int
    n1: int
    r: int
    n: int
    en0: float
    pet0: float
    alpha_actual: float
    power_actual: float

    def to_dict(self) -> dict[str, object]:
        return {
            "r1": self.r1,
            "n1": self.n1,
            "r": self.r,
            "n": self.n,
            "en0": self.en0,
            "pet0": self.pet0,
            "alpha_actual": self.alpha_actual,
            "power_actual": self.power_actual,
        }

    def describe(self) -> str:
        return (
            f"stage 1: stop if ≤ {self.r1} of {self.n1} respond; overall: reject H0 if > "
            f"{self.r} of {self.n} respond (EN(p0) {self.en0:.1f}, PET(p0) {self.pet0:.2f}, "
            f"alpha {self.alpha_actual:.4f}, power {self.power_actual:.4f})"
        )


@dataclass(frozen=True)
class SimonResult:
    """Optimal and minimax designs (both None when nothing qualifies within n_max)."""

    optimal: SimonDesign | None
    minimax: SimonDesign | None
    n_max: int
    reasons: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return self.optimal is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "design": "simon",
            "feasible": self.feasible,
            "optimal": None if self.optimal is None else self.optimal.to_dict(),
            "minimax": None if self.minimax is None else self.minimax.to_dict(),
            "n_max": self.n_max,
            "method": SIMON_METHOD,
            "reasons": list(self.reasons),
        }


def simon_characteristics(r1: int, n1: int, r: int, n: int, p: float) -> tuple[float, float]:
    """(P(reject H0), P(early termination)) of the design at true response rate *p*."""
    x1 = np.arange(r1 + 1, n1 + 1)
    reject = float(np.sum(binom.pmf(x1, n1, p) * binom.sf(r - x1, n - n1, p)))
    return reject, float(binom.cdf(r1, n1, p))


class _BinomialTables:
    """pmf and upper tails of Binomial(m, p) for every m ≤ n_max, computed once per p."""

    def __init__(self, p: float, n_max: int) -> None:
        m = np.arange(n_max + 1)[:, None]
        self.offset = n_max + 1
        k = np.arange(-self.offset, n_max + 1)[None, :]
        self.pmf: FloatArray = binom.pmf(np.arange(n_max + 1)[None, :], m, p)
        self.sf: FloatArray = binom.sf(k, m, p)  # P(X > k), 1 for negative k
        self.cdf: FloatArray = binom.cdf(np.arange(n_max + 1)[None, :], m, p)

    def reject_by_cutoffs(self, n1: int, n: int) -> FloatArray:
        """``R[r1, r]`` = P(X1 > r1 and X1 + X2 > r) for 0 ≤ r1 ≤ n1, 0 ≤ r ≤ n."""
        x1 = np.arange(n1 + 1)
        shift = np.arange(n + 1)[None, :] - x1[:, None] + self.offset
        joint = self.pmf[n1, : n1 + 1][:, None] * self.sf[n - n1][shift]
        # Sum over x1 > r1: a reverse cumulative sum shifted by one row.
        tail = np.cumsum(joint[::-1], axis=0)[::-1]
        out = np.zeros_like(joint)
        out[:-1] = tail[1:]
        return np.asarray(out, dtype=np.float64)


def _best_for_n(
    n: int, h0: _BinomialTables, h1: _BinomialTables, alpha: float, power: float, bound: float
) -> tuple[float, int, int, int] | None:
    """(EN0, n1, r1, r) of the qualifying design with the smallest EN(p0) < *bound* for n.

    clinfun starts each n with the bound n (a design must have PET(p0) > 0); a caller
    looking only for a smaller EN(p0) than found so far passes that. EN(p0) > n1, so no
    n1 ≥ bound can qualify.
    """
    best: tuple[float, int, int, int] | None = None
    best_en = min(bound, float(n))
    r_index = np.arange(n + 1)[None, :]
    for n1 in range(1, min(n, int(np.ceil(best_en)))):
        n2 = n - n1
        size = h0.reject_by_cutoffs(n1, n)
        ok = size < alpha
        if not ok.any():
            continue
        r1s = np.arange(n1 + 1)[:, None]
        ok &= (1.0 - h1.reject_by_cutoffs(n1, n) < 1.0 - power) & (r_index >= r1s)
        ok &= r_index <= r1s + n2
        rows = np.flatnonzero(ok.any(axis=1))
        if rows.size == 0:
            continue
        en = n1 + (1.0 - h0.cdf[n1, rows]) * n2
        # clinfun visits r1 descending and keeps the first strict improvement.
        for i in rows.size - 1 - np.arange(rows.size):
            if en[i] < best_en:
                best_en = float(en[i])
                r1 = int(rows[i])
                r = int(np.flatnonzero(ok[r1])[-1])  # clinfun visits r descending
                best = (best_en, n1, r1, r)
    return best


def simon_designs(p0: float, p1: float, alpha: float, power: float, n_max: int) -> SimonResult:
    """Simon's optimal and minimax two-stage designs searched over n ≤ *n_max*."""
    per_n: list[SimonDesign] = []
    h0, h1 = _BinomialTables(p0, n_max), _BinomialTables(p1, n_max)
    # After the first (minimax) n, only a design beating the best EN(p0) so far matters:
    # the optimal design is the first n reaching the minimum, as clinfun prints it.
    bound = np.inf
    for n in range(2, n_max + 1):
        found = _best_for_n(n, h0, h1, alpha, power, bound)
        if found is None:
            continue
        en0, n1, r1, r = found
        bound = en0
        size, pet0 = simon_characteristics(r1, n1, r, n, p0)
        reach, _ = simon_characteristics(r1, n1, r, n, p1)
        per_n.append(SimonDesign(r1, n1, r, n, en0, pet0, size, reach))
    if not per_n:
        return SimonResult(
            None,
            None,
            n_max,
            (
                f"no two-stage design with n ≤ n_max ({n_max}) meets alpha {alpha:g} and power "
                f"{power:g} for p0 {p0:g}, p1 {p1:g}; raise n_max",
            ),
        )
    minimax, optimal = per_n[0], per_n[-1]  # each later entry improved EN(p0) strictly
    reasons = [
        f"H0 p ≤ {p0:g} against p1 = {p1:g}; type I error < {alpha:g}, power > {power:g}",
        f"optimal (smallest EN(p0)): {optimal.describe()}",
        f"minimax (smallest n, then EN(p0)): {minimax.describe()}",
    ]
    if optimal.n > n_max - 10:
        reasons.append(f"optimal n {optimal.n} is within 10 of n_max {n_max}: raise n_max")
    return SimonResult(optimal, minimax, n_max, tuple(reasons))


def rejection_curves(
    result: ExactDesign | SimonResult, rates: FloatArray
) -> dict[str, tuple[FloatArray, FloatArray | None]]:
    """Per design: P(reject H0) at each true rate and, for two-stage designs, P(early stop)."""
    out: dict[str, tuple[FloatArray, FloatArray | None]] = {}
    if isinstance(result, ExactDesign):
        if result.n is not None and result.r is not None:
            out[f"exact: > {result.r}/{result.n}"] = (binom.sf(result.r, result.n, rates), None)
        return out
    for name, d in (("optimal", result.optimal), ("minimax", result.minimax)):
        if d is None:
            continue
        pairs = [simon_characteristics(d.r1, d.n1, d.r, d.n, float(p)) for p in rates]
        label = f"{name}: ≤ {d.r1}/{d.n1} stop, > {d.r}/{d.n} reject"
        out[label] = (np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]))
    return out
