"""Properties of the research designs that must hold for any valid input.

* exact single-arm: the design meets both error rates, and no smaller n can;
* Simon: both designs meet the errors; minimax n ≤ optimal n and optimal EN(p0) ≤ minimax's;
* survival sample size: more dropout, a smaller effect or more power never needs fewer
  events or subjects, and subjects ≥ events.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from cartwatch.research.single_arm import exact_design, simon_designs
from cartwatch.research.survival_design import survival_design

rate = st.floats(0.05, 0.8)
gap = st.floats(0.15, 0.35)
alpha = st.sampled_from([0.025, 0.05, 0.1])
power = st.sampled_from([0.8, 0.85, 0.9])


@given(p0=rate, gap=gap, a=alpha, pw=power)
def test_exact_design_meets_both_errors_with_the_smallest_n(
    p0: float, gap: float, a: float, pw: float
) -> None:
    p1 = p0 + gap
    assume(p1 < 0.97)
    d = exact_design(p0, p1, a, pw, 150)
    assume(d.feasible)
    assert d.n is not None and d.r is not None
    assert binom.sf(d.r, d.n, p0) <= a and binom.sf(d.r, d.n, p1) >= pw
    smaller = d.n - 1
    assert not any(
        binom.sf(r, smaller, p0) <= a and binom.sf(r, smaller, p1) >= pw for r in range(smaller + 1)
    )


@settings(max_examples=25)
@given(p0=rate, gap=gap, a=alpha, pw=power)
def test_simon_designs_meet_the_errors_and_are_ordered(
    p0: float, gap: float, a: float, pw: float
) -> None:
    p1 = p0 + gap
    assume(p1 < 0.97)
    result = simon_designs(p0, p1, a, pw, 80)
    assume(result.feasible)
    opt, mm = result.optimal, result.minimax
    assert opt is not None and mm is not None
    for d in (opt, mm):
        assert d.alpha_actual < a and d.power_actual > pw
        assert 0 <= d.r1 < d.n1 < d.n and d.r1 <= d.r
    assert mm.n <= opt.n and opt.en0 <= mm.en0


design = {
    "alpha": 0.025,
    "sided": 1,
    "allocation_ratio": 1.0,
    "method": "schoenfeld",
    "control_median_months": 12.0,
    "accrual_months": 24.0,
    "follow_up_months": 12.0,
    "dropout_months": 12.0,
}


@given(
    hr=st.floats(0.3, 0.9),
    pw=st.floats(0.6, 0.95),
    dropout=st.floats(0.0, 0.3),
    method=st.sampled_from(["schoenfeld", "freedman"]),
)
def test_survival_design_is_monotone(hr: float, pw: float, dropout: float, method: str) -> None:
    base = survival_design(
        **{**design, "method": method}, hazard_ratio=hr, power=pw, dropout_rate=dropout
    )
    assert base.subjects >= base.events
    more_dropout = survival_design(
        **{**design, "method": method}, hazard_ratio=hr, power=pw, dropout_rate=dropout + 0.05
    )
    assert more_dropout.events == base.events and more_dropout.subjects > base.subjects
    weaker = survival_design(
        **{**design, "method": method},
        hazard_ratio=min(hr + 0.05, 0.95),
        power=pw,
        dropout_rate=dropout,
    )
    assert weaker.events > base.events
    stronger_power = survival_design(
        **{**design, "method": method},
        hazard_ratio=hr,
        power=min(pw + 0.02, 0.97),
        dropout_rate=dropout,
    )
    assert stronger_power.events > base.events and stronger_power.subjects > base.subjects
