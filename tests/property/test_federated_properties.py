"""Federated pool = the whole, over random data and random splits into centres (1e-12)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.interop.test_federated import assert_same_result, split_shares, whole


@st.composite
def _split(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 60))
    # Few distinct times, so ties of events and censorings across centres are common.
    time = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    event = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    group = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    centre = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    return (
        np.asarray(time, dtype=np.float64) / 2,
        np.asarray(event, dtype=bool),
        np.asarray(group, dtype=object),
        np.asarray(centre),
    )


@settings(max_examples=150, deadline=None)
@given(data=_split(), conf_type=st.sampled_from(["log-log", "log", "plain"]))
def test_any_split_pools_to_the_fit_on_all_rows(
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], conf_type: str
) -> None:
    from cartwatch.interop import federated as fed

    time, event, group, centre = data
    got = fed.pool(split_shares(time, event, group, centre), conf_type)
    assert_same_result(got, whole(time, event, group, conf_type))
