"""UCUM conversion of the FHIR import on both sides of the thresholds it feeds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartwatch.interop.fhir_units import UnitProblem, convert


@pytest.mark.parametrize(
    ("value", "unit", "target", "expected"),
    [
        (100.4, "[degF]", "Cel", 38.0),  # ASTCT fever threshold, exactly
        (100.3, "[degF]", "Cel", 37.944444),  # just below: no fever
        (0.5, "10*3/uL", "10*9/L", 0.5),  # CTCAE ANC grade 4 boundary
        (499, "/uL", "10*9/L", 0.499),  # just below it
        (500, "/uL", "10*9/L", 0.5),
        (80, "g/L", "g/dL", 8.0),  # CTCAE anaemia grade 3 boundary
        (79, "g/L", "g/dL", 7.9),
        (25, "10*9/L", "10*9/L", 25),  # stored unit: unchanged
    ],
)
def test_conversions_land_on_the_right_side(
    value: float, unit: str, target: str, expected: float
) -> None:
    assert convert(value, unit, target) == expected


@pytest.mark.parametrize("unit", ["%", "mg", "mm[Hg]", "K/uL", "not a unit"])
def test_units_of_another_dimension_or_not_ucum_are_refused(unit: str) -> None:
    with pytest.raises(UnitProblem):
        convert(1.0, unit, "10*9/L")


@settings(max_examples=200, deadline=None)
@given(a=st.floats(90.0, 110.0), b=st.floats(90.0, 110.0))
def test_a_hotter_reading_never_converts_cooler(a: float, b: float) -> None:
    if a <= b:
        assert convert(a, "[degF]", "Cel") <= convert(b, "[degF]", "Cel")
