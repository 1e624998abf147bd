"""The ADaM derivation's shortcuts give what the long way gives.

Each shortcut (performance work, benchmarks/adam_derive.py) is checked against the path it
replaces: ``ascii_text`` against the original translate/NFKD algorithm written out here,
``_char_column``'s plain-str shortcut against the general conversion, the skipped cut-off
against ``apply_cutoff`` itself, and the empty cut-off (nobody infused yet) end to end.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from enum import StrEnum

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal, assert_series_equal

from cartwatch.adam import common, xpt
from cartwatch.adam.derive import apply_cutoff, derive_adam, latest_date
from cartwatch.adam.metadata import DATASETS
from cartwatch.centre.loader import CentreData
from cartwatch.synth.cohort import synthesize

_TABLE = str.maketrans(common._ASCII)


_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺"


def _ascii_text_reference(text: str) -> str:
    """``ascii_text`` the long way: superscripts one character at a time (a caret before each
    run), then per-character translate, NFKD, drop the rest."""
    chars = []
    for i, ch in enumerate(text):
        if ch in _SUPERSCRIPTS:
            if i == 0 or text[i - 1] not in _SUPERSCRIPTS:
                chars.append("^")
            ch = "0123456789-+"[_SUPERSCRIPTS.index(ch)]
        chars.append(ch)
    out = "".join(chars)
    if not out.isascii():
        out = unicodedata.normalize("NFKD", out.translate(_TABLE)).translate(_TABLE)
        out = out.encode("ascii", "ignore").decode("ascii")
    return " ".join(out.split())


_SYMBOLS = "".join(common._ASCII) + _SUPERSCRIPTS + "éüñçÅ ﬁ½\u00a0\t\n"


@given(st.text(alphabet=st.sampled_from(_SYMBOLS) | st.characters(), max_size=300))
def test_ascii_text_equals_the_original_algorithm(text: str) -> None:
    assert common.ascii_text(text) == _ascii_text_reference(text)


def test_ascii_text_engine_reasons() -> None:
    reason = "ICE score 6 (≥3 and ≤6) → grade 2; temperature 38.5 °C × 2 – “fever”"
    assert common.ascii_text(reason) == _ascii_text_reference(reason)


class _Colour(StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    "values",
    [
        ["a", "", "b"],  # plain str: the shortcut
        ["a", None, float("nan")],  # missing values become ""
        [_Colour.RED, "x"],  # a str subclass takes the general way
        [1, "x"],
    ],
)
def test_char_column_shortcut_equals_the_general_conversion(values: list[object]) -> None:
    s = pd.Series(values, dtype=object, index=[3, 1, 2][: len(values)], name="V")
    general = s.astype(object)
    general = general.where(general.notna(), "").astype(str).astype(object)
    got = xpt._char_column(s)
    assert_series_equal(got, general)
    assert [type(v) for v in got] == [type(v) for v in general]
    assert got is not s


@pytest.fixture(scope="module")
def cohort() -> CentreData:
    return synthesize(40, seed=11)


def test_default_cutoff_drops_nothing(cohort: CentreData) -> None:
    """Why derive_adam may skip apply_cutoff at the latest date: it is the identity there."""
    latest = latest_date(cohort)
    assert latest is not None
    assert apply_cutoff(cohort, latest) == cohort


def test_explicit_latest_cutoff_equals_default(cohort: CentreData) -> None:
    default = derive_adam(cohort)
    explicit = derive_adam(cohort, latest_date(cohort))
    for (spec, a), (_, b) in zip(default.items(), explicit.items(), strict=True):
        assert_frame_equal(a, b, check_exact=True, obj=spec.name)


def test_cutoff_before_any_course_gives_empty_conformed_datasets(cohort: CentreData) -> None:
    first = min(c.apheresis_date for c in cohort.cell_therapy)
    adam = derive_adam(cohort, first - dt.timedelta(days=1))
    assert len(adam.adsl) == len(cohort.patients)
    assert set(adam.adsl["SAFFL"]) == {"N"}
    for spec, df in adam.items():
        if spec.name == "ADSL":
            continue
        assert len(df) == 0
        assert list(df.columns) == list(DATASETS[spec.name].names)
        dates = [v.name for v in DATASETS[spec.name].variables if v.is_date]
        assert all(df[name].dtype == "datetime64[ns]" for name in dates)
