"""Clopper–Pearson intervals against R ``binom.test``, SAS PROC FREQ and the Breyanzi label."""

from __future__ import annotations

import pytest

from cartwatch.outcomes.rates import clopper_pearson


def test_five_of_ten() -> None:
    """R: ``binom.test(5, 10)$conf.int`` = (0.187086, 0.812914).

    Source: cardx _snaps/proportion_ci.md and tern estimate_proportion snapshot (published).
    Tolerance: 5e-7 (6 dp printed).
    """
    est = clopper_pearson(5, 10)
    assert est.rate == 0.5
    assert list(est.ci) == pytest.approx([0.187086, 0.812914], abs=5e-7)
    assert est.method == "clopper-pearson"


def test_zero_of_32_lower_is_exactly_zero() -> None:
    """R: ``binom.test(0, 32)$conf.int`` = (0, 0.1088812). Computed-only (UNVERIFIED) upper.

    Tolerance: exact 0 for the lower limit, 5e-8 for the upper.
    """
    est = clopper_pearson(0, 32)
    assert est.ci[0] == 0.0
    assert est.ci[1] == pytest.approx(0.1088812, abs=5e-8)


def test_32_of_32_upper_is_exactly_one() -> None:
    """R: ``binom.test(32, 32)$conf.int`` = (0.8911188, 1). Computed-only lower.

    Tolerance: exact 1 for the upper limit, 5e-8 for the lower.
    """
    est = clopper_pearson(32, 32)
    assert est.ci[1] == 1.0
    assert est.ci[0] == pytest.approx(0.8911188, abs=5e-8)


def test_sas_proc_freq_341_of_762_at_90_percent() -> None:
    """SAS PROC FREQ, BINOMIAL exact, alpha = 0.1: 341/762 → (0.4174, 0.4779).

    Source: SAS/STAT PROC FREQ documentation example (eye colour). Tolerance: 5e-5 (4 dp).
    """
    est = clopper_pearson(341, 762, conf_level=0.90)
    assert est.rate == pytest.approx(0.4475, abs=5e-5)
    assert list(est.ci) == pytest.approx([0.4174, 0.4779], abs=5e-5)


@pytest.mark.parametrize(
    ("k", "n", "rate_pct", "ci_pct"),
    [(13, 65, 20.0, (11.1, 31.8)), (29, 65, 44.6, (32.3, 57.5))],
    ids=["CR 13/65", "ORR 29/65"],
)
def test_breyanzi_cll_label_rates(
    k: int, n: int, rate_pct: float, ci_pct: tuple[float, float]
) -> None:
    """US Breyanzi label, CLL/SLL: CR 20% (95% CI 11.1–31.8), ORR 45% (32.3–57.5).

    Source: clinical-standards.md §3B/§3.3 [S19]; n = 65 with 13 CR inferred from [S26], 29
    responders from 45% of 65. Tolerance: 0.05 percentage points (1 dp printed).
    """
    est = clopper_pearson(k, n)
    assert est.rate * 100 == pytest.approx(rate_pct, abs=0.05)
    assert [v * 100 for v in est.ci] == pytest.approx(list(ci_pct), abs=0.05)


@pytest.mark.parametrize(
    ("k", "n", "level", "match"),
    [
        (5, 4, 0.95, "exceed"),
        (0, 0, 0.95, "at least 1"),
        (-1, 10, 0.95, "negative"),
        (1, -3, 0.95, "at least 1"),
        (1, 10, 1.0, "between 0 and 1"),
        (1, 10, 0.0, "between 0 and 1"),
    ],
)
def test_invalid_input_raises(k: int, n: int, level: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        clopper_pearson(k, n, level)


def test_to_dict_names_method() -> None:
    d = clopper_pearson(29, 65).to_dict()
    assert d["method"] == "clopper-pearson"
    assert set(d) >= {"rate", "ci", "method"}
