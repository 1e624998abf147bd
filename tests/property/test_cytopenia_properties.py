"""Properties of CTCAE v5.0 cytopenia grading (clinical-standards.md §5, [S36]): monotone in
the count, grades within the term's range, None only without an LLN."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cartwatch.clinical.cytopenia import (
    RULES,
    CytopeniaObservation,
    LowerLimits,
    TermRule,
    grade_cytopenia,
    grade_cytopenia_series,
)

counts = st.floats(min_value=0, max_value=500, allow_nan=False, allow_infinity=False)
rules = st.sampled_from(RULES)
MAX_LAB_GRADE = {"neutrophil_count_decreased": 4, "platelet_count_decreased": 4, "anemia": 3}


def _grade(rule: TermRule, value: float, lln: float | None) -> int | None:
    limits = LowerLimits(**{rule.field: lln}) if lln is not None else None
    obs = CytopeniaObservation(**{rule.field: value}, lln=limits)
    return grade_cytopenia(obs).grades[rule.term]


@given(rules, counts, counts, counts)
def test_lower_count_never_gives_a_milder_grade(
    rule: TermRule, a: float, b: float, lln: float
) -> None:
    low, high = sorted((a, b))
    g_low, g_high = _grade(rule, low, lln), _grade(rule, high, lln)
    assert g_low is not None and g_high is not None
    assert g_low >= g_high


@given(rules, counts, st.one_of(st.none(), counts))
def test_grade_in_range_and_none_only_without_lln(
    rule: TermRule, value: float, lln: float | None
) -> None:
    grade = _grade(rule, value, lln)
    if grade is None:
        assert lln is None and value >= rule.grade_2_cutoff
    else:
        assert 0 <= grade <= MAX_LAB_GRADE[rule.term]


@given(rules, counts)
def test_grade_without_lln_agrees_with_grade_with_lln_when_defined(
    rule: TermRule, value: float
) -> None:
    without = _grade(rule, value, None)
    if without is not None:
        assert without == _grade(rule, value, 1000.0)


@given(st.one_of(st.none(), counts), st.booleans())
def test_transfusion_never_lowers_anemia(hb: float | None, transfused: bool) -> None:
    base = CytopeniaObservation(hemoglobin_g_dl=hb, platelets_10e9_l=200.0)
    with_tx = CytopeniaObservation(
        hemoglobin_g_dl=hb, platelets_10e9_l=200.0, transfusion_indicated=True
    )
    before = grade_cytopenia(base).grades.get("anemia")
    after = grade_cytopenia(with_tx).grades["anemia"]
    assert after == 3 or (before is not None and after >= before)
    assert after is not None and after <= 3


# A series of 1-4 neutrophil counts, each with or without the lab's LLN, so some
# observations are not gradable (None: grade 0 or 1) and others are.
series_counts = st.lists(st.tuples(counts, st.one_of(st.none(), counts)), min_size=1, max_size=4)


@given(series_counts)
def test_series_peak_is_an_observation_with_the_worst_grade(
    items: list[tuple[float, float | None]],
) -> None:
    """The series' peak names an observation graded as the series' worst, and there is no
    peak when the worst is not gradable: a grade-0 count is never the peak of a series
    whose worst could still be grade 1 (the JSON said "worst: not graded" beside a
    peak_index/peak_at pointing at a grade-0 count)."""
    observations = [
        CytopeniaObservation(
            neutrophils_10e9_l=value,
            lln=None if lln is None else LowerLimits(neutrophils_10e9_l=lln),
        )
        for value, lln in items
    ]
    series = grade_cytopenia_series(observations)
    worst = series.worst["neutrophil_count_decreased"]
    peak = series.to_dict()["peak_index"]
    if worst is None:
        assert peak is None
    else:
        assert isinstance(peak, int)
        assert series.observations[peak].grades["neutrophil_count_decreased"] == worst
