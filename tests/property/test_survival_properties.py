"""Invariants of the Kaplan–Meier implementation that must hold for any data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartwatch.outcomes.logrank import logrank_test
from cartwatch.outcomes.survival import CONF_TYPES, kaplan_meier, km_median_ci, km_quantile

# Small integer times produce many ties, flats at exactly 0.5 and curves that reach 0.
samples = st.lists(
    st.tuples(st.integers(min_value=0, max_value=30), st.booleans()), min_size=1, max_size=60
)
conf_types = st.sampled_from(CONF_TYPES)


def _arrays(data: list[tuple[int, bool]]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([t for t, _ in data], dtype=float), np.array([e for _, e in data])


@given(samples, conf_types)
def test_survival_is_non_increasing_within_unit_interval(
    data: list[tuple[int, bool]], conf_type: str
) -> None:
    km = kaplan_meier(*_arrays(data), conf_type=conf_type)
    assert np.all((km.surv >= 0) & (km.surv <= 1))
    assert np.all(np.diff(km.surv) <= 1e-15)
    assert np.all(np.diff(km.time) > 0)
    assert km.n == len(data)


@given(samples, conf_types)
def test_pointwise_ci_contains_the_estimate(data: list[tuple[int, bool]], conf_type: str) -> None:
    km = kaplan_meier(*_arrays(data), conf_type=conf_type)
    defined = ~np.isnan(km.lower) & ~np.isnan(km.upper)
    assert np.all(km.lower[defined] <= km.surv[defined] + 1e-12)
    assert np.all(km.surv[defined] <= km.upper[defined] + 1e-12)
    assert np.all((km.lower[defined] >= 0) & (km.upper[defined] <= 1))


@given(samples, conf_types, st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(
    data: list[tuple[int, bool]], conf_type: str, rnd: object
) -> None:
    shuffled = list(data)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = kaplan_meier(*_arrays(data), conf_type=conf_type)
    b = kaplan_meier(*_arrays(shuffled), conf_type=conf_type)
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_array_equal(a.n_risk, b.n_risk)
    np.testing.assert_array_equal(a.surv, b.surv)
    np.testing.assert_array_equal(a.lower, b.lower)
    assert km_median_ci(a) == km_median_ci(b)


@given(samples, conf_types, st.sampled_from([0.25, 0.5, 0.75]))
def test_quantile_ci_contains_the_quantile_when_both_defined(
    data: list[tuple[int, bool]], conf_type: str, p: float
) -> None:
    q = km_quantile(kaplan_meier(*_arrays(data), conf_type=conf_type), p)
    if q.estimate is not None and q.lower is not None:
        assert q.lower <= q.estimate
    if q.estimate is not None and q.upper is not None:
        assert q.estimate <= q.upper


@given(samples, conf_types)
def test_printed_median_inside_its_ci_when_defined(
    data: list[tuple[int, bool]], conf_type: str
) -> None:
    """The printed rule: each limit is the first crossing of a band that lies below / above S."""
    q = km_median_ci(kaplan_meier(*_arrays(data), conf_type=conf_type))
    if q.estimate is not None and q.lower is not None:
        assert q.lower <= q.estimate
    if q.estimate is not None and q.upper is not None:
        assert q.estimate <= q.upper


@given(samples, conf_types)
def test_printed_median_equals_quantile_unless_the_curve_ends_at_half(
    data: list[tuple[int, bool]], conf_type: str
) -> None:
    """print(survfit) and quantile(fit, .5) differ only for a curve ending on a flat at 0.5,
    where print takes the flat's start and quantile the midpoint with the last follow-up."""
    km = kaplan_meier(*_arrays(data), conf_type=conf_type)
    printed, quantile = km_median_ci(km).estimate, km_quantile(km, 0.5).estimate
    if abs(float(km.surv[-1]) - 0.5) > 1e-8:
        assert printed == quantile
    else:
        assert printed is not None and quantile is not None
        assert printed <= quantile == (printed + float(km.time[-1])) / 2


@given(samples, conf_types, st.sampled_from([0.25, 0.5, 0.75]))
def test_a_missing_value_is_not_estimable_exactly_when_the_curve_reached_zero(
    data: list[tuple[int, bool]], conf_type: str, p: float
) -> None:
    km = kaplan_meier(*_arrays(data), conf_type=conf_type)
    reached_zero = float(km.surv[-1]) == 0.0
    for q in (km_median_ci(km), km_quantile(km, p)):
        pairs = zip(
            (q.estimate, q.lower, q.upper),
            (q.estimate_status, q.lower_status, q.upper_status),
            strict=True,
        )
        for value, status in pairs:
            if value is not None:
                assert status == "estimated"
            else:
                assert status == ("not_estimable" if reached_zero else "not_reached")


@given(samples, st.lists(st.sampled_from(["a", "b", "c"]), min_size=60, max_size=60))
def test_logrank_observed_totals_and_expected_totals_agree(
    data: list[tuple[int, bool]], labels: list[str]
) -> None:
    time, event = _arrays(data)
    groups = np.array(labels[: len(data)])
    if len(set(groups.tolist())) < 2:
        return
    lr = logrank_test(time, event, groups)
    assert sum(lr.observed) == pytest.approx(float(event.sum()))
    assert sum(lr.expected) == pytest.approx(float(event.sum()))
    assert lr.chisq >= -1e-9


@pytest.mark.parametrize(
    ("time", "event", "match"),
    [
        ([1.0, np.nan], [1, 0], "time"),
        ([1.0, -2.0], [1, 0], "negative"),
        ([1.0, 2.0], [1, 2], "not 0/1"),
        ([1.0, 2.0], [1.0, np.nan], "not 0/1"),
        ([1.0, 2.0, 3.0], [1, 0], "length"),
        ([], [], "no observations"),
        (["a", "b"], [1, 0], "numeric"),
    ],
)
def test_invalid_input_raises(time: list[object], event: list[object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        kaplan_meier(time, event)  # type: ignore[arg-type]


def test_unknown_conf_type_and_level_raise() -> None:
    with pytest.raises(ValueError, match="conf_type"):
        kaplan_meier([1.0], [1], conf_type="logit")
    with pytest.raises(ValueError, match="conf_level"):
        kaplan_meier([1.0], [1], conf_level=1.5)


def test_midpoint_rule_on_uncensored_four() -> None:
    """Uncensored 1,2,3,4: S = 0.5 on [2, 3) → R median 2.5 (lifelines 2, statsmodels 3)."""
    assert km_median_ci(kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])).estimate == 2.5


@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.integers(0, 30).map(float),  # heavy ties, as days
                st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
                st.just(-0.0),
                st.just(0.0),
            ),
            st.booleans(),
        ),
        min_size=1,
        max_size=200,
    )
)
def test_counting_by_sorting_and_by_hashing_agree(data: list[tuple[float, bool]]) -> None:
    from cartwatch.outcomes import survival

    t = np.array([d[0] for d in data], dtype=np.float64)
    e = np.array([d[1] for d in data], dtype=bool)
    by_sort = survival._tied_counts_sorted(t, e)
    by_hash = survival._tied_counts_hashed(t, e)
    for a, b in zip(by_sort, by_hash, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def test_a_large_tied_series_is_hashed_and_fits_as_the_sorted_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cartwatch.outcomes import survival

    rng = np.random.default_rng(7)
    n = survival.HASH_MIN_SUBJECTS
    t = rng.integers(0, 400, n).astype(float)  # days: 400 distinct values
    e = rng.random(n) < 0.6
    used: list[str] = []
    for name in ("_tied_counts_sorted", "_tied_counts_hashed"):
        real = getattr(survival, name)
        monkeypatch.setattr(
            survival, name, lambda t, e, real=real, name=name: used.append(name) or real(t, e)
        )
    hashed = kaplan_meier(t, e)
    assert used == ["_tied_counts_hashed"]
    monkeypatch.setattr(survival, "HASH_MIN_SUBJECTS", n + 1)  # force the sorted way
    sorted_ = kaplan_meier(t, e)
    assert used == ["_tied_counts_hashed", "_tied_counts_sorted"]
    np.testing.assert_array_equal(hashed.time, sorted_.time)
    np.testing.assert_array_equal(hashed.surv, sorted_.surv)
    np.testing.assert_array_equal(hashed.lower, sorted_.lower)
