"""``design single-arm``: exact single-stage and Simon two-stage designs.

Checked against Simon R. "Optimal two-stage designs for phase II clinical trials", Control
Clin Trials 1989;10:1-10, Table 1 (alpha 0.05, beta 0.20: rows below as printed there:
r1/n1, r/n, EN(p0), PET(p0)), the contract's classic check, and an exhaustive search written
independently here (plain loops over every (n, n1, r1, r) with scipy's binomial).
"""

from __future__ import annotations

import itertools

import pytest
from scipy.stats import binom

from cartwatch.research.single_arm import (
    exact_design,
    simon_characteristics,
    simon_designs,
)

# (p0, p1): optimal (r1, n1, r, n, EN0, PET0), minimax (same) — Simon 1989, Table 1.
SIMON_1989 = {
    (0.05, 0.25): ((0, 9, 2, 17, 12.0, 0.63), (0, 12, 2, 16, 13.8, 0.54)),
    (0.10, 0.30): ((1, 10, 5, 29, 15.0, 0.74), (1, 15, 5, 25, 19.5, 0.55)),
    (0.20, 0.40): ((3, 13, 12, 43, 20.6, 0.75), (4, 18, 10, 33, 22.3, 0.72)),
    (0.30, 0.50): ((5, 15, 18, 46, 23.6, 0.72), (6, 19, 16, 39, 25.7, 0.67)),
    (0.50, 0.70): ((8, 15, 26, 43, 23.5, 0.70), (12, 23, 23, 37, 27.7, 0.66)),
    (0.60, 0.80): ((7, 11, 30, 43, 20.5, 0.70), (8, 13, 25, 35, 20.8, 0.65)),
    (0.70, 0.90): ((4, 6, 22, 27, 14.8, 0.58), (19, 23, 21, 26, 23.2, 0.95)),
}


def _as_row(d: object) -> tuple[int, int, int, int, float, float]:
    return (d.r1, d.n1, d.r, d.n, round(d.en0, 1), round(d.pet0, 2))  # type: ignore[attr-defined]


@pytest.mark.parametrize(("rates", "expected"), SIMON_1989.items(), ids=str)
def test_simon_1989_table_1(rates: tuple[float, float], expected: tuple) -> None:
    result = simon_designs(rates[0], rates[1], 0.05, 0.80, 150)
    assert _as_row(result.optimal) == expected[0]
    assert _as_row(result.minimax) == expected[1]


def test_contract_classic_check() -> None:
    d = simon_designs(0.1, 0.3, 0.05, 0.8, 150).to_dict()
    assert d["method"].startswith("Simon (1989)")
    opt, mm = d["optimal"], d["minimax"]
    assert (opt["r1"], opt["n1"], opt["r"], opt["n"]) == (1, 10, 5, 29)
    assert round(opt["en0"], 1) == 15.0 and round(opt["pet0"], 2) == 0.74
    assert (mm["r1"], mm["n1"], mm["r"], mm["n"]) == (1, 15, 5, 25)
    assert round(mm["en0"], 1) == 19.5 and round(mm["pet0"], 2) == 0.55
    assert opt["alpha_actual"] < 0.05 and opt["power_actual"] > 0.8


def _brute_force(p0: float, p1: float, alpha: float, power: float, n_max: int) -> list[tuple]:
    """Per n, the clinfun choice: min EN0, first in (n1 asc, r1 desc, r desc) order."""
    pmf = {
        (m, p): [float(binom.pmf(x, m, p)) for x in range(m + 1)]
        for m in range(n_max + 1)
        for p in (p0, p1)
    }

    def above(k: int, m: int, p: float) -> float:  # P(X > k), X ~ Binomial(m, p)
        return sum(pmf[m, p][k + 1 :]) if k >= 0 else 1.0

    def reject(r1: int, n1: int, r: int, n: int, p: float) -> float:
        return sum(pmf[n1, p][x] * above(r - x, n - n1, p) for x in range(r1 + 1, n1 + 1))

    rows = []
    for n in range(2, n_max + 1):
        best, best_en = None, float(n)
        for n1 in range(1, n):
            for r1 in range(n1, -1, -1):
                en = n1 + (1 - sum(pmf[n1, p0][: r1 + 1])) * (n - n1)
                for r in range(r1 + n - n1, r1 - 1, -1):
                    a, b = reject(r1, n1, r, n, p0), reject(r1, n1, r, n, p1)
                    if a < alpha and 1 - b < 1 - power and en < best_en:
                        best, best_en = (r1, n1, r, n), en
        if best is not None:
            rows.append((best, best_en))
    return rows


@pytest.mark.parametrize(
    ("p0", "p1", "alpha", "power"),
    [(0.05, 0.25, 0.05, 0.8), (0.2, 0.6, 0.1, 0.9), (0.1, 0.4, 0.05, 0.8)],
)
def test_simon_equals_exhaustive_search(p0: float, p1: float, alpha: float, power: float) -> None:
    n_max = 24
    rows = _brute_force(p0, p1, alpha, power, n_max)
    assert rows, "the brute force found nothing: pick a feasible case"
    minimax = rows[0][0]
    optimal = min(rows, key=lambda row: row[1])[0]
    result = simon_designs(p0, p1, alpha, power, n_max)
    assert result.minimax is not None and result.optimal is not None
    assert _as_row(result.minimax)[:4] == minimax
    assert _as_row(result.optimal)[:4] == optimal


def test_operating_characteristics_are_the_binomial_sums() -> None:
    d = simon_designs(0.2, 0.4, 0.05, 0.8, 60).optimal
    assert d is not None
    size, pet = simon_characteristics(d.r1, d.n1, d.r, d.n, 0.2)
    assert size == pytest.approx(d.alpha_actual, abs=1e-12)
    assert pet == pytest.approx(d.pet0, abs=1e-12)
    assert d.en0 == pytest.approx(d.n1 + (1 - pet) * (d.n - d.n1), abs=1e-9)


def test_exact_design_is_the_smallest_n() -> None:
    d = exact_design(0.1, 0.3, 0.05, 0.8, 150)
    assert (d.n, d.r) == (25, 5)
    assert d.alpha_actual == pytest.approx(binom.sf(5, 25, 0.1))
    assert d.power_actual == pytest.approx(binom.sf(5, 25, 0.3))
    # No smaller n has any cut-off meeting both errors.
    for n, r in itertools.product(range(1, 25), range(0, 25)):
        if r <= n:
            assert not (binom.sf(r, n, 0.1) <= 0.05 and binom.sf(r, n, 0.3) >= 0.8)


def test_exact_uses_the_smallest_admissible_cutoff() -> None:
    d = exact_design(0.2, 0.4, 0.05, 0.8, 150)
    assert d.r is not None and d.n is not None
    assert binom.sf(d.r, d.n, 0.2) <= 0.05 < binom.sf(d.r - 1, d.n, 0.2)


def test_infeasible_within_n_max_says_so() -> None:
    exact = exact_design(0.1, 0.3, 0.05, 0.8, 20).to_dict()
    assert exact["feasible"] is False and exact["n"] is None
    assert "n_max (20)" in exact["reasons"][0]
    simon = simon_designs(0.1, 0.3, 0.05, 0.8, 15).to_dict()
    assert simon["feasible"] is False and simon["optimal"] is None


def test_rejection_curves_pass_through_the_operating_characteristics() -> None:
    import numpy as np

    from cartwatch.research.single_arm import rejection_curves

    simon = simon_designs(0.1, 0.3, 0.05, 0.8, 60)
    curves = rejection_curves(simon, np.array([0.1, 0.3]))
    (reject, stop) = curves["optimal: ≤ 1/10 stop, > 5/29 reject"]
    assert simon.optimal is not None and stop is not None
    assert reject[0] == pytest.approx(simon.optimal.alpha_actual)
    assert reject[1] == pytest.approx(simon.optimal.power_actual)
    assert stop[0] == pytest.approx(simon.optimal.pet0)
    exact = exact_design(0.1, 0.3, 0.05, 0.8, 60)
    (reject, stop) = rejection_curves(exact, np.array([0.1]))["exact: > 5/25"]
    assert stop is None and reject[0] == pytest.approx(exact.alpha_actual)
