"""ASTCT 2019 CRS properties (clinical-standards.md §1.2): a worse finding never lowers the
grade, grades stay in 0..5, and the vectorised column grader agrees with grade_crs on grade
AND reason text for every row."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cartwatch.clinical.crs import (
    OXYGEN_DEVICE_CODES,
    CrsObservation,
    OxygenDevice,
    Vasopressor,
    crs_columns_from_observations,
    grade_crs,
    grade_crs_columns,
)

O2 = OxygenDevice
# Devices ordered by intensity; a later device never needs less support.
DEVICE_LADDER = [
    O2.NONE,
    O2.BLOW_BY,
    O2.HIGH_FLOW_NASAL_CANNULA,
    O2.FACE_MASK,
    O2.NONREBREATHER_MASK,
    O2.VENTURI_MASK,
    O2.CPAP,
    O2.BIPAP,
    O2.MECHANICAL_VENTILATION,
]

# Temperatures on a 0.1 grid plus values hugging the cut-off and rounding halves.
temperatures = st.one_of(
    st.none(),
    st.integers(350, 420).map(lambda t: t / 10),
    st.floats(37.9, 38.1, allow_nan=False),
    st.sampled_from([37.95, 37.96, 37.999, 38.0, 38.05, 38.25, 36.65]),
    st.floats(25.0, 45.0, allow_nan=False),
)
flows = st.one_of(
    st.integers(0, 150).map(lambda f: f / 10),
    st.floats(5.9, 6.1, allow_nan=False),
    st.sampled_from([6.0, 6.04, 6.05, 6.000001, 5.95, 0.25]),
    st.floats(0.0, 60.0, allow_nan=False),
)


# Adversarial values for the column grader's value coding: any finite float (negative, -0.0,
# subnormal, huge, rounding halves) and values one ulp either side of the cut-offs.
adversarial_temperatures = st.one_of(
    temperatures,
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([38.0, 37.95, 0.05, 0.25]).flatmap(
        lambda v: st.sampled_from([math.nextafter(v, -math.inf), v, math.nextafter(v, math.inf)])
    ),
)
adversarial_flows = st.one_of(
    flows,
    st.floats(min_value=0.0, allow_nan=False, allow_infinity=False),
    st.sampled_from([6.0, 6.05, 5.95, 0.05]).flatmap(
        lambda v: st.sampled_from([math.nextafter(v, -math.inf), v, math.nextafter(v, math.inf)])
    ),
)


@st.composite
def observations(
    draw: st.DrawFn,
    temperature_values: st.SearchStrategy[float | None] = temperatures,
    flow_values: st.SearchStrategy[float] = flows,
) -> CrsObservation:
    device = draw(st.sampled_from(list(OxygenDevice)))
    if device is O2.NASAL_CANNULA:
        flow: float | None = draw(flow_values)
    elif device is O2.NONE:
        flow = None
    else:
        flow = draw(st.one_of(st.none(), flow_values))
    drugs = draw(st.sets(st.sampled_from(list(Vasopressor))))
    return CrsObservation(
        temperature_c=draw(temperature_values),
        fever_attributable_to_other_cause=draw(st.booleans()),
        antipyretic_or_anticytokine_given=draw(st.booleans()),
        hypotension=draw(st.booleans()),
        vasopressors=tuple(draw(st.permutations(sorted(drugs)))),
        oxygen_device=device,
        oxygen_flow_l_min=flow,
        hypotension_attributable_to_other_cause=draw(st.booleans()),
        hypoxia_attributable_to_other_cause=draw(st.booleans()),
        death_due_to_crs=draw(st.integers(0, 9)) == 0,  # rare, so the other rules get tested
    )


@given(observations())
def test_grade_in_range(obs: CrsObservation) -> None:
    assert 0 <= grade_crs(obs).grade <= 5


@given(observations(), st.floats(0, 10, allow_nan=False))
def test_higher_temperature_never_lowers_the_grade(obs: CrsObservation, rise: float) -> None:
    if obs.temperature_c is None:
        return
    hotter = dataclasses.replace(obs, temperature_c=obs.temperature_c + rise)
    assert grade_crs(hotter).grade >= grade_crs(obs).grade


@given(observations())
def test_recording_a_temperature_never_lowers_the_grade(obs: CrsObservation) -> None:
    untaken = dataclasses.replace(obs, temperature_c=None)
    assert grade_crs(obs).grade >= grade_crs(untaken).grade


@given(observations(), st.sampled_from(list(Vasopressor)))
def test_another_vasopressor_never_lowers_the_grade(obs: CrsObservation, drug: Vasopressor) -> None:
    if drug in obs.vasopressors:
        return
    more = dataclasses.replace(obs, vasopressors=(*obs.vasopressors, drug))
    assert grade_crs(more).grade >= grade_crs(obs).grade


@given(observations())
def test_hypotension_never_lowers_the_grade(obs: CrsObservation) -> None:
    worse = dataclasses.replace(obs, hypotension=True)
    assert grade_crs(worse).grade >= grade_crs(obs).grade


@given(
    observations(), st.integers(0, len(DEVICE_LADDER) - 1), st.integers(0, len(DEVICE_LADDER) - 1)
)
def test_a_more_intensive_device_never_lowers_the_grade(
    obs: CrsObservation, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    flow = None if DEVICE_LADDER[low] is O2.NONE else obs.oxygen_flow_l_min
    less = dataclasses.replace(obs, oxygen_device=DEVICE_LADDER[low], oxygen_flow_l_min=flow)
    more = dataclasses.replace(obs, oxygen_device=DEVICE_LADDER[high], oxygen_flow_l_min=None)
    assert grade_crs(more).grade >= grade_crs(less).grade


@given(observations(), flows, flows)
def test_higher_nasal_cannula_flow_never_lowers_the_grade(
    obs: CrsObservation, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    base = dataclasses.replace(obs, oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=low)
    more = dataclasses.replace(base, oxygen_flow_l_min=high)
    assert grade_crs(more).grade >= grade_crs(base).grade
    # any nasal cannula is at least blow-by, and at most a high-flow cannula
    blow_by = dataclasses.replace(obs, oxygen_device=O2.BLOW_BY, oxygen_flow_l_min=None)
    hfnc = dataclasses.replace(
        obs, oxygen_device=O2.HIGH_FLOW_NASAL_CANNULA, oxygen_flow_l_min=None
    )
    assert grade_crs(blow_by).grade <= grade_crs(base).grade <= grade_crs(hfnc).grade


@given(observations())
def test_therapy_never_lowers_the_grade(obs: CrsObservation) -> None:
    treated = dataclasses.replace(obs, antipyretic_or_anticytokine_given=True)
    assert grade_crs(treated).grade >= grade_crs(obs).grade


@given(observations())
def test_death_due_to_crs_is_always_5(obs: CrsObservation) -> None:
    assert grade_crs(dataclasses.replace(obs, death_due_to_crs=True)).grade == 5


@given(st.lists(observations(), max_size=40))
def test_column_grader_agrees_with_grade_crs(obs: list[CrsObservation]) -> None:
    # The two paths must agree (see grade_crs_columns): same grade, same reason text.
    cols = crs_columns_from_observations(obs)
    result = grade_crs_columns(cols)
    expected = [grade_crs(o) for o in obs]
    assert result.grades.tolist() == [g.grade for g in expected]
    assert result.reasons.tolist() == ["; ".join(g.reasons) for g in expected]
    for i, o in enumerate(obs):
        assert grade_crs(cols.row(i)) == grade_crs(o)


@given(observations(), st.integers(1, 30))
def test_column_grader_agrees_on_repeated_rows(obs: CrsObservation, n: int) -> None:
    result = grade_crs_columns(crs_columns_from_observations([obs] * n))
    assert set(result.reasons.tolist()) == {"; ".join(grade_crs(obs).reasons)}
    assert np.all(result.grades == grade_crs(obs).grade)


def test_device_ladder_covers_every_device_but_the_flow_graded_cannula() -> None:
    assert set(DEVICE_LADDER) | {O2.NASAL_CANNULA} == set(OXYGEN_DEVICE_CODES)


def _assert_columns_agree(obs: list[CrsObservation]) -> None:
    result = grade_crs_columns(crs_columns_from_observations(obs))
    expected = [grade_crs(o) for o in obs]
    assert result.grades.tolist() == [g.grade for g in expected]
    assert result.reasons.tolist() == ["; ".join(g.reasons) for g in expected]
    # the distinct-text view the CSV writer uses says the same
    assert [result.reason_texts[c] for c in result.reason_codes.tolist()] == (
        result.reasons.tolist()
    )


@given(
    st.lists(observations(adversarial_temperatures, adversarial_flows), min_size=1, max_size=60),
    st.randoms(use_true_random=False),
)
def test_column_grader_agrees_on_adversarial_values(
    obs: list[CrsObservation], rnd: random.Random
) -> None:
    # Repeats of the same records in shuffled order exercise the grouping of equal keys.
    _assert_columns_agree(obs + rnd.sample(obs, len(obs)))


def test_column_grader_agrees_on_every_vasopressor_combination_and_flag() -> None:
    temps = [None, 37.96, 38.0, 39.4]
    hypotension_rows = [
        CrsObservation(
            temperature_c=t,
            fever_attributable_to_other_cause=fa,
            antipyretic_or_anticytokine_given=th,
            hypotension=h,
            vasopressors=tuple(v for i, v in enumerate(Vasopressor) if mask >> i & 1),
            hypotension_attributable_to_other_cause=ha,
            death_due_to_crs=death,
        )
        for mask in range(1 << len(Vasopressor))
        for t, fa, th, h, ha, death in itertools.product(
            temps, *[(False, True)] * 4, (False,) if mask % 7 else (False, True)
        )
    ]
    hypoxia_rows = [
        CrsObservation(
            temperature_c=t,
            antipyretic_or_anticytokine_given=th,
            hypotension=h,
            oxygen_device=device,
            oxygen_flow_l_min=flow,
            hypoxia_attributable_to_other_cause=xa,
        )
        for device in OxygenDevice
        for flow in (
            [None]
            if device is O2.NONE
            else [0.0, 5.5, 6.0, 6.04, 6.05, 7.0, math.nextafter(6.0, 7.0)]
            + ([] if device is O2.NASAL_CANNULA else [None])
        )
        for t, th, h, xa in itertools.product(temps, *[(False, True)] * 3)
    ]
    _assert_columns_agree(hypotension_rows + hypoxia_rows)
