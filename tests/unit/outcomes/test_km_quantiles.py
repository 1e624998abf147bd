"""Medians as R prints them, quantiles as R ``quantile()``, and why a value is not given.

Numbers here are worked by hand from the step function (the R goldens of every case are in
tests/golden/test_km_r_goldens.py).
"""

from __future__ import annotations

import pytest

from cartwatch.outcomes.km_quantiles import (
    MEDIAN_RULE,
    QUANTILE_RULE,
    STATUS_LABELS,
    display,
    km_median_ci,
    km_quantile,
)
from cartwatch.outcomes.survival import kaplan_meier


def test_curve_ending_on_a_flat_at_half_prints_the_flats_start() -> None:
    """1, 2, 3 die, 4, 5, 6 censored: S = 0.5 from 3 to the end. Printed 3; quantile 4.5."""
    km = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0], "log")
    assert km_median_ci(km).estimate == 3.0
    assert km_quantile(km, 0.5).estimate == 4.5


def test_inner_flat_at_half_takes_the_midpoint_with_the_next_drop_in_both_rules() -> None:
    """S = 0.5 on [3, 5), then a death at 5: median (3 + 5) / 2 = 4 printed and quantile."""
    km = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 0], "log")
    assert km_median_ci(km).estimate == 4.0 == km_quantile(km, 0.5).estimate


def test_just_above_and_below_half() -> None:
    """Boundary on both sides of S = 0.5: 4/7 > 0.5 is not the median, 3/7 < 0.5 is."""
    km = kaplan_meier([1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 0, 0, 0], "log")
    # S: 6/7, 5/7, 4/7, 3/7 at 1..4; the first S <= 0.5 is at 4.
    assert km_median_ci(km).estimate == 4.0


def test_aml_log_upper_limit_is_the_first_band_crossing() -> None:
    """R aml, conf.type log: print shows 27 (18, 45); quantile() says 48 for the upper limit
    (the upper band rises again after 45: 0.458 at 45, 0.462 at 48)."""
    time = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
    status = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    km = kaplan_meier(time, status, "log")
    q = km_median_ci(km)
    assert (q.estimate, q.lower, q.upper) == (27.0, 18.0, 45.0)
    assert km_quantile(km, 0.5).upper == 48.0


def test_every_subject_has_the_event_limit_not_estimable() -> None:
    """A best-response PD group: everyone progresses, S reaches 0, the upper band never falls
    to 0.5 before it becomes undefined: NE, not NR."""
    km = kaplan_meier([1, 2, 4, 4, 6, 9], [1, 1, 1, 1, 1, 1], "log")
    q = km_median_ci(km)
    assert (q.estimate, q.lower, q.upper) == (4.0, 2.0, None)
    assert (q.estimate_status, q.lower_status, q.upper_status) == (
        "estimated",
        "estimated",
        "not_estimable",
    )
    assert display(q.upper, q.upper_status) == "NE"


def test_one_death_both_limits_not_estimable() -> None:
    q = km_median_ci(kaplan_meier([5], [1], "log-log"))
    assert (q.estimate, q.lower, q.upper) == (5.0, None, None)
    assert (q.lower_status, q.upper_status) == ("not_estimable", "not_estimable")


def test_curve_above_half_is_not_reached() -> None:
    q = km_median_ci(kaplan_meier([1, 2, 3, 4, 5, 6, 7, 8], [1, 0, 0, 1, 0, 0, 0, 0], "log"))
    assert q.estimate is None and q.estimate_status == "not_reached"
    assert q.upper is None and q.upper_status == "not_reached"
    assert display(q.estimate, q.estimate_status) == "NR"
    assert display(q.lower, q.lower_status, lambda v: f"{v:.1f}") == "4.0"


def test_json_names_the_rule_and_the_status() -> None:
    km = kaplan_meier([1, 2, 4, 4, 6, 9], [1, 1, 1, 1, 1, 1], "plain")
    d = km_median_ci(km).to_dict()
    assert d["rule"] == MEDIAN_RULE and "print.survfit" in MEDIAN_RULE
    assert d["ci_status"] == ["estimated", "estimated"]
    assert d["estimate_status"] == "estimated"
    assert km_quantile(km, 0.25).to_dict()["rule"] == QUANTILE_RULE
    assert set(STATUS_LABELS.values()) == {"NR", "NE"}


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_quantile_probability_outside_the_open_interval_is_refused(p: float) -> None:
    with pytest.raises(ValueError, match="p: must be strictly between 0 and 1"):
        km_quantile(kaplan_meier([1, 2], [1, 1]), p)
