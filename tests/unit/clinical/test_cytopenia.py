"""CTCAE v5.0 cytopenia grading (clinical-standards.md §5 table, [S36][S37]): both sides of
every cut-off, the LLN rule for grade 1, transfusion and the series output."""

from __future__ import annotations

import datetime as dt

import pytest

from cartwatch.clinical.cytopenia import (
    ANEMIA_TERM,
    NEUTROPHIL_TERM,
    PLATELET_TERM,
    CytopeniaObservation,
    LowerLimits,
    grade_cytopenia,
    grade_cytopenia_series,
)
from cartwatch.clinical.errors import ClinicalInputError

LLN = LowerLimits(neutrophils_10e9_l=1.8, platelets_10e9_l=150.0, hemoglobin_g_dl=12.0)


def _grade(term: str, **values: float) -> int | None:
    return grade_cytopenia(CytopeniaObservation(**values, lln=LLN)).grades[term]


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (0.0, 4),
        (0.49, 4),
        (0.5, 3),
        (0.99, 3),
        (1.0, 2),
        (1.49, 2),
        (1.5, 1),
        (1.79, 1),
        (1.8, 0),
        (5.0, 0),
    ],
)
def test_neutrophil_bands_value_on_cutoff_is_milder(value: float, grade: int) -> None:
    assert _grade(NEUTROPHIL_TERM, neutrophils_10e9_l=value) == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (24.9, 4),
        (25.0, 3),
        (49.9, 3),
        (50.0, 2),
        (74.9, 2),
        (75.0, 1),
        (149.9, 1),
        (150.0, 0),
    ],
)
def test_platelet_bands_are_v5_not_v6(value: float, grade: int) -> None:
    assert _grade(PLATELET_TERM, platelets_10e9_l=value) == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [(5.0, 3), (7.9, 3), (8.0, 2), (9.9, 2), (10.0, 1), (11.9, 1), (12.0, 0)],
)
def test_anemia_bands_stop_at_grade_3(value: float, grade: int) -> None:
    assert _grade(ANEMIA_TERM, hemoglobin_g_dl=value) == grade


@pytest.mark.parametrize(
    ("field", "value", "term"),
    [
        ("neutrophils_10e9_l", 1.5, NEUTROPHIL_TERM),
        ("platelets_10e9_l", 75.0, PLATELET_TERM),
        ("hemoglobin_g_dl", 10.0, ANEMIA_TERM),
    ],
)
def test_at_grade_2_cutoff_without_lln_is_none_with_reason(
    field: str, value: float, term: str
) -> None:
    result = grade_cytopenia(CytopeniaObservation(**{field: value}))
    assert result.grades[term] is None
    assert any("grade 1 needs" in r and f"lln.{field}" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("field", "value", "term", "grade"),
    [
        ("neutrophils_10e9_l", 1.49, NEUTROPHIL_TERM, 2),
        ("platelets_10e9_l", 74.9, PLATELET_TERM, 2),
        ("hemoglobin_g_dl", 9.9, ANEMIA_TERM, 2),
    ],
)
def test_below_grade_2_cutoff_needs_no_lln(field: str, value: float, term: str, grade: int) -> None:
    assert grade_cytopenia(CytopeniaObservation(**{field: value})).grades[term] == grade


def test_lln_for_another_term_does_not_grade_this_one() -> None:
    obs = CytopeniaObservation(neutrophils_10e9_l=1.6, lln=LowerLimits(platelets_10e9_l=150))
    assert grade_cytopenia(obs).grades[NEUTROPHIL_TERM] is None


def test_term_not_measured_is_absent() -> None:
    result = grade_cytopenia(CytopeniaObservation(platelets_10e9_l=40.0))
    assert result.grades == {PLATELET_TERM: 3}
    assert result.to_dict()["grades"] == {PLATELET_TERM: 3}


def test_to_dict_is_the_contract_shape() -> None:
    d = grade_cytopenia(CytopeniaObservation(neutrophils_10e9_l=1.0, lln=LLN)).to_dict()
    assert d["standard"] == "CTCAE v5.0"
    assert d["grades"] == {NEUTROPHIL_TERM: 2}
    assert isinstance(d["reasons"], list) and d["reasons"]


@pytest.mark.parametrize(("hb", "expected"), [(12.5, 3), (9.0, 3), (7.0, 3), (None, 3)])
def test_transfusion_indicated_sets_anemia_to_at_least_3(hb: float | None, expected: int) -> None:
    obs = CytopeniaObservation(
        hemoglobin_g_dl=hb, platelets_10e9_l=200.0, lln=LLN, transfusion_indicated=True
    )
    result = grade_cytopenia(obs)
    assert result.grades[ANEMIA_TERM] == expected
    assert any("transfusion indicated" in r for r in result.reasons)


def test_without_transfusion_the_same_hb_is_lower() -> None:
    obs = CytopeniaObservation(hemoglobin_g_dl=9.0, lln=LLN, transfusion_indicated=False)
    assert grade_cytopenia(obs).grades[ANEMIA_TERM] == 2


def test_anemia_reasons_say_grades_4_5_are_clinical() -> None:
    result = grade_cytopenia(CytopeniaObservation(hemoglobin_g_dl=4.0))
    assert result.grades[ANEMIA_TERM] == 3
    assert any("grades 4-5" in r and "clinical judgement" in r for r in result.reasons)


def test_no_measurement_is_an_error() -> None:
    with pytest.raises(ClinicalInputError) as err:
        CytopeniaObservation(transfusion_indicated=True)
    assert "at least one" in str(err.value)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_negative_or_non_finite_value_is_an_error(bad: float) -> None:
    with pytest.raises(ClinicalInputError) as err:
        CytopeniaObservation(platelets_10e9_l=bad)
    assert err.value.problems[0][0] == "platelets_10e9_l"


def test_negative_lln_is_an_error_with_dotted_path() -> None:
    with pytest.raises(ClinicalInputError) as err:
        LowerLimits(hemoglobin_g_dl=-1.0)
    assert err.value.problems[0][0] == "lln.hemoglobin_g_dl"


# --- series ---------------------------------------------------------------------------------

D = dt.date


def test_series_worst_per_term_and_per_observation_results() -> None:
    series = grade_cytopenia_series(
        [
            CytopeniaObservation(neutrophils_10e9_l=1.2, platelets_10e9_l=60.0),
            CytopeniaObservation(neutrophils_10e9_l=0.3, platelets_10e9_l=90.0, lln=LLN),
        ]
    )
    d = series.to_dict()
    assert d["worst"] == {NEUTROPHIL_TERM: 4, PLATELET_TERM: 2}
    observations = d["observations"]
    assert isinstance(observations, list) and len(observations) == 2
    assert observations[1]["grades"] == {NEUTROPHIL_TERM: 4, PLATELET_TERM: 1}
    assert "onset" not in d  # not every item has observed_at


def test_series_worst_is_none_only_when_nothing_reached_grade_1() -> None:
    unknown = CytopeniaObservation(neutrophils_10e9_l=1.7)  # 0 or 1: no LLN
    normal = CytopeniaObservation(neutrophils_10e9_l=2.0, lln=LLN)
    low = CytopeniaObservation(neutrophils_10e9_l=1.6, lln=LLN)
    assert grade_cytopenia_series([unknown, normal]).worst[NEUTROPHIL_TERM] is None
    assert grade_cytopenia_series([unknown, low]).worst[NEUTROPHIL_TERM] == 1
    assert grade_cytopenia_series([normal, normal]).worst[NEUTROPHIL_TERM] == 0


def test_series_timing_over_worst_term_per_observation() -> None:
    obs = [
        CytopeniaObservation(
            neutrophils_10e9_l=2.0, hemoglobin_g_dl=13.0, lln=LLN, observed_at=D(2024, 3, 1)
        ),
        CytopeniaObservation(
            neutrophils_10e9_l=2.0, hemoglobin_g_dl=9.0, lln=LLN, observed_at=D(2024, 3, 4)
        ),
        CytopeniaObservation(
            neutrophils_10e9_l=0.4, hemoglobin_g_dl=9.0, lln=LLN, observed_at=D(2024, 3, 6)
        ),
        CytopeniaObservation(
            neutrophils_10e9_l=1.9, hemoglobin_g_dl=12.5, lln=LLN, observed_at=D(2024, 3, 20)
        ),
    ]
    d = grade_cytopenia_series(obs).to_dict()
    assert d["onset"] == "2024-03-04"
    assert d["peak_at"] == "2024-03-06"
    assert d["peak_index"] == 2
    assert d["resolved_at"] == "2024-03-20"
    assert d["duration_days"] == 16
    assert d["observations"][0]["observed_at"] == "2024-03-01"  # type: ignore[index]


def test_series_unresolved_has_null_duration() -> None:
    obs = [
        CytopeniaObservation(platelets_10e9_l=40.0, observed_at=D(2024, 3, 1)),
        CytopeniaObservation(platelets_10e9_l=60.0, observed_at=D(2024, 3, 2)),
    ]
    d = grade_cytopenia_series(obs).to_dict()
    assert (d["resolved_at"], d["duration_days"]) == (None, None)


def test_series_out_of_time_order_is_an_error() -> None:
    obs = [
        CytopeniaObservation(platelets_10e9_l=40.0, observed_at=D(2024, 3, 2)),
        CytopeniaObservation(platelets_10e9_l=60.0, observed_at=D(2024, 3, 1)),
    ]
    with pytest.raises(ClinicalInputError) as err:
        grade_cytopenia_series(obs)
    assert err.value.problems[0][0] == "[1].observed_at"


def test_empty_series_is_an_error() -> None:
    with pytest.raises(ClinicalInputError):
        grade_cytopenia_series([])
