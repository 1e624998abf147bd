"""ASTCT 2019 CRS properties (clinical-standards.md §1.2): a worse finding never lowers the
grade, grades stay in 0..5 or are null (not gradable) exactly when no temperature is recorded
and fever is still required, the grade a not-gradable result states "with fever" is the grade
a recorded fever gives, premedication never creates CRS, and the vectorised column grader
agrees with grade_crs on grade (null included) AND reason text for every row.

Comparing a null: a not-gradable result is compared by the grade it states "with fever"
(``potential``). Worsening a finding other than the temperature never changes whether a
result is gradable, so monotonicity compares grades with grades and stated grades with
stated grades."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import random
import re

from hypothesis import given
from hypothesis import strategies as st

from cartwatch.clinical.crs import (
    OXYGEN_DEVICE_CODES,
    CrsGrade,
    CrsObservation,
    OxygenDevice,
    Vasopressor,
    grade_crs,
    grade_crs_episode,
)
from cartwatch.clinical.crs_columns import crs_columns_from_observations, grade_crs_columns

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
    therapy = draw(st.booleans())
    return CrsObservation(
        temperature_c=draw(temperature_values),
        fever_attributable_to_other_cause=draw(st.booleans()),
        antipyretic_or_anticytokine_given=therapy,
        fever_before_therapy=therapy and draw(st.booleans()),
        hypotension=draw(st.booleans()),
        vasopressors=tuple(draw(st.permutations(sorted(drugs)))),
        oxygen_device=device,
        oxygen_flow_l_min=flow,
        hypotension_attributable_to_other_cause=draw(st.booleans()),
        hypoxia_attributable_to_other_cause=draw(st.booleans()),
        death_due_to_crs=draw(st.integers(0, 9)) == 0,  # rare, so the other rules get tested
    )


def stated_with_fever(result: CrsGrade) -> int:
    """The grade a not-gradable result says a fever would give."""
    match = re.fullmatch(
        r"not gradable: temperature not recorded; with fever ≥38\.0 °C this is grade (\d)",
        result.reasons[-1],
    )
    assert match is not None, result.reasons
    return int(match.group(1))


def potential(result: CrsGrade) -> int:
    """The grade, or for a not-gradable result the grade it states with a fever."""
    return stated_with_fever(result) if result.grade is None else result.grade


def fever_required(obs: CrsObservation) -> bool:
    return not (obs.antipyretic_or_anticytokine_given or obs.death_due_to_crs)


@given(observations())
def test_grade_in_range_or_null_exactly_when_the_temperature_is_missing(
    obs: CrsObservation,
) -> None:
    result = grade_crs(obs)
    missing = obs.temperature_c is None and fever_required(obs)
    assert (result.grade is None) == missing
    assert 0 <= potential(result) <= 5


@given(observations(), st.floats(38.0, 45.0, allow_nan=False))
def test_the_stated_with_fever_grade_is_the_grade_a_recorded_fever_gives(
    obs: CrsObservation, fever: float
) -> None:
    untaken = grade_crs(dataclasses.replace(obs, temperature_c=None))
    if untaken.grade is not None:
        return  # fever not required here (therapy, death)
    febrile = dataclasses.replace(obs, temperature_c=fever, fever_attributable_to_other_cause=False)
    assert grade_crs(febrile).grade == stated_with_fever(untaken)


@given(observations())
def test_a_recorded_temperature_gives_the_stated_grade_with_fever_and_0_without(
    obs: CrsObservation,
) -> None:
    # 37.9 °C gives 0, an attributable fever 0, a CRS fever exactly the stated grade.
    untaken = grade_crs(dataclasses.replace(obs, temperature_c=None))
    recorded = grade_crs(obs)
    if untaken.grade is None and recorded.grade is not None:  # fever required, and recorded
        assert recorded.grade == (stated_with_fever(untaken) if obs.crs_fever else 0)


@given(observations(), st.floats(0, 10, allow_nan=False))
def test_higher_temperature_never_lowers_the_grade(obs: CrsObservation, rise: float) -> None:
    if obs.temperature_c is None:
        return
    hotter = dataclasses.replace(obs, temperature_c=obs.temperature_c + rise)
    assert potential(grade_crs(hotter)) >= potential(grade_crs(obs))


@given(observations(), st.sampled_from(list(Vasopressor)))
def test_another_vasopressor_never_lowers_the_grade(obs: CrsObservation, drug: Vasopressor) -> None:
    if drug in obs.vasopressors:
        return
    more = dataclasses.replace(obs, vasopressors=(*obs.vasopressors, drug))
    assert potential(grade_crs(more)) >= potential(grade_crs(obs))


@given(observations())
def test_hypotension_never_lowers_the_grade(obs: CrsObservation) -> None:
    worse = dataclasses.replace(obs, hypotension=True)
    assert potential(grade_crs(worse)) >= potential(grade_crs(obs))


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
    assert potential(grade_crs(more)) >= potential(grade_crs(less))


@given(observations(), flows, flows)
def test_higher_nasal_cannula_flow_never_lowers_the_grade(
    obs: CrsObservation, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    base = dataclasses.replace(obs, oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=low)
    more = dataclasses.replace(base, oxygen_flow_l_min=high)
    assert potential(grade_crs(more)) >= potential(grade_crs(base))
    # any nasal cannula is at least blow-by, and at most a high-flow cannula
    blow_by = dataclasses.replace(obs, oxygen_device=O2.BLOW_BY, oxygen_flow_l_min=None)
    hfnc = dataclasses.replace(
        obs, oxygen_device=O2.HIGH_FLOW_NASAL_CANNULA, oxygen_flow_l_min=None
    )
    grades = [potential(grade_crs(o)) for o in (blow_by, base, hfnc)]
    assert grades == sorted(grades)


@given(observations())
def test_therapy_never_lowers_the_grade(obs: CrsObservation) -> None:
    before = grade_crs(obs)
    treated = grade_crs(dataclasses.replace(obs, antipyretic_or_anticytokine_given=True))
    assert treated.grade is not None
    if before.grade is not None:
        assert treated.grade >= before.grade
    else:
        # No temperature: therapy makes it gradable by hypotension/hypoxia alone, which is
        # the stated grade except that fever alone (grade 1) no longer counts.
        assert treated.grade == stated_with_fever(before) or (
            stated_with_fever(before) == 1 and treated.grade == 0
        )


@given(observations())
def test_death_due_to_crs_is_always_5(obs: CrsObservation) -> None:
    assert grade_crs(dataclasses.replace(obs, death_due_to_crs=True)).grade == 5


@given(st.lists(observations(), min_size=1, max_size=8))
def test_episode_grade_is_the_maximum_of_the_gradable_observations(
    obs: list[CrsObservation],
) -> None:
    episode = grade_crs_episode(obs)
    grades = [o.grade for o in episode.observations]
    gradable = [g for g in grades if g is not None]
    assert episode.grade == (max(gradable) if gradable else None)
    assert list(episode.not_gradable) == [i for i, g in enumerate(grades) if g is None]


def _timed(obs: list[CrsObservation]) -> list[CrsObservation]:
    start = dt.datetime(2024, 5, 1, 8)
    return [
        dataclasses.replace(o, observed_at=start + dt.timedelta(hours=12 * i))
        for i, o in enumerate(obs)
    ]


@given(st.lists(observations(), min_size=1, max_size=8))
def test_a_resolution_is_a_grade_0_and_what_follows_it_unmeasured_is_named(
    obs: list[CrsObservation],
) -> None:
    # resolved_at is an observed grade 0 after the last grade ≥1 (a null never resolves nor
    # re-opens); every not-gradable observation after it is named, none before it.
    episode = grade_crs_episode(_timed(obs))
    out = episode.to_dict()
    grades = [o.grade for o in episode.observations]
    positive = [i for i, g in enumerate(grades) if g is not None and g >= 1]
    zeros_after = [i for i, g in enumerate(grades) if g == 0 and positive and i > positive[-1]]
    resolved = zeros_after[0] if zeros_after else None
    times = [o.observed_at for o in _timed(obs)]
    assert out["resolved_at"] == (None if resolved is None else times[resolved].isoformat())
    expected_after = [] if resolved is None else [i for i in episode.not_gradable if i > resolved]
    assert out["not_gradable_after_resolution"] == expected_after


@given(st.lists(observations(), min_size=1, max_size=8), st.integers(1, 3))
def test_unmeasured_observations_at_the_end_never_move_or_lose_a_resolution(
    obs: list[CrsObservation], n: int
) -> None:
    # A temperature that was not taken changes nothing observed: appended not-gradable
    # observations keep resolved_at and are named after it when there is one.
    no_temperature = CrsObservation(hypotension=True)
    before = grade_crs_episode(_timed(obs)).to_dict()
    after = grade_crs_episode(_timed(obs + [no_temperature] * n)).to_dict()
    if any(o.antipyretic_or_anticytokine_given for o in obs):
        return  # therapy for CRS may make a missing temperature gradable (v2 item 2)
    assert after["resolved_at"] == before["resolved_at"]
    assert after["duration_days"] == before["duration_days"]
    if before["resolved_at"] is not None:
        assert after["not_gradable_after_resolution"][-n:] == list(range(len(obs), len(obs) + n))


@given(st.lists(observations(), min_size=1, max_size=8))
def test_premedication_never_creates_crs(obs: list[CrsObservation]) -> None:
    # Without any CRS fever and without fever_before_therapy, therapy flags are premedication:
    # the episode grades exactly as if no therapy had been recorded.
    afebrile = [dataclasses.replace(o, fever_before_therapy=False) for o in obs if not o.crs_fever]
    if not afebrile:
        return
    untreated = [dataclasses.replace(o, antipyretic_or_anticytokine_given=False) for o in afebrile]
    assert [g.grade for g in grade_crs_episode(afebrile).observations] == [
        g.grade for g in grade_crs_episode(untreated).observations
    ]


@given(st.lists(observations(), max_size=40))
def test_column_grader_agrees_with_grade_crs(obs: list[CrsObservation]) -> None:
    # The two paths must agree (see grade_crs_columns): same grade, same reason text.
    cols = crs_columns_from_observations(obs)
    result = grade_crs_columns(cols)
    expected = [grade_crs(o) for o in obs]
    assert result.grade_list() == [g.grade for g in expected]
    assert result.reasons.tolist() == ["; ".join(g.reasons) for g in expected]
    for i, o in enumerate(obs):
        assert grade_crs(cols.row(i)) == grade_crs(o)


@given(observations(), st.integers(1, 30))
def test_column_grader_agrees_on_repeated_rows(obs: CrsObservation, n: int) -> None:
    result = grade_crs_columns(crs_columns_from_observations([obs] * n))
    assert set(result.reasons.tolist()) == {"; ".join(grade_crs(obs).reasons)}
    assert set(result.grade_list()) == {grade_crs(obs).grade}


def test_device_ladder_covers_every_device_but_the_flow_graded_cannula() -> None:
    assert set(DEVICE_LADDER) | {O2.NASAL_CANNULA} == set(OXYGEN_DEVICE_CODES)


def _assert_columns_agree(obs: list[CrsObservation]) -> None:
    result = grade_crs_columns(crs_columns_from_observations(obs))
    expected = [grade_crs(o) for o in obs]
    assert result.grade_list() == [g.grade for g in expected]
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
