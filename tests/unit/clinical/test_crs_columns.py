"""The vectorised CRS column grader (``cartwatch.clinical.crs_columns``): it agrees with
``grade_crs`` row for row (grade, null included, and reason text), names contradictory rows,
and checks its own columns. ASTCT 2019 [S1][S3] rules are those of test_crs.py."""

from __future__ import annotations

import numpy as np
import pytest

from cartwatch.clinical.crs import CrsObservation, OxygenDevice, Vasopressor, grade_crs
from cartwatch.clinical.crs_columns import (
    NOT_GRADABLE,
    CrsColumns,
    crs_columns_from_observations,
    grade_crs_columns,
)
from cartwatch.clinical.errors import ClinicalInputError

V = Vasopressor
O2 = OxygenDevice
NE, EPI, VASO = V.NOREPINEPHRINE, V.EPINEPHRINE, V.VASOPRESSIN


def febrile(**kw: object) -> CrsObservation:
    return CrsObservation(temperature_c=39.0, **kw)  # type: ignore[arg-type]


EXAMPLES = [
    CrsObservation(),
    CrsObservation(temperature_c=37.96, hypotension=True),
    febrile(vasopressors=(NE, VASO), oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=4),
    febrile(vasopressors=(VASO,), oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=6.04),
    febrile(vasopressors=(NE, EPI), hypotension_attributable_to_other_cause=True),
    CrsObservation(antipyretic_or_anticytokine_given=True, oxygen_device=O2.CPAP),
    CrsObservation(hypotension=True, vasopressors=(NE,)),  # no temperature: not gradable
    CrsObservation(
        temperature_c=37.0,
        antipyretic_or_anticytokine_given=True,
        fever_before_therapy=True,
        hypotension=True,
    ),
    CrsObservation(temperature_c=40.0, fever_attributable_to_other_cause=True),
    CrsObservation(death_due_to_crs=True, temperature_c=39.0),
    febrile(oxygen_device=O2.VENTURI_MASK, hypoxia_attributable_to_other_cause=True),
]


def test_columns_agree_with_the_record_grader_on_examples() -> None:
    result = grade_crs_columns(crs_columns_from_observations(EXAMPLES))
    assert result.grades.dtype == np.int8
    for i, obs in enumerate(EXAMPLES):
        expected = grade_crs(obs)
        assert result.grade_list()[i] == expected.grade
        assert result.reasons[i] == "; ".join(expected.reasons)


def test_columns_row_round_trips() -> None:
    cols = crs_columns_from_observations(EXAMPLES)
    assert [cols.row(i) for i in range(len(cols))] == [
        CrsObservation(**{**o.__dict__, "vasopressors": tuple(v for v in V if v in o.vasopressors)})
        for o in EXAMPLES
    ]


def test_empty_columns() -> None:
    result = grade_crs_columns(crs_columns_from_observations([]))
    assert len(result.grades) == 0 and len(result.reasons) == 0


def _columns(**overrides: object) -> CrsColumns:
    n = 3
    base: dict[str, object] = {
        "temperature_c": np.full(n, 39.0),
        "fever_attributable_to_other_cause": np.zeros(n, bool),
        "antipyretic_or_anticytokine_given": np.zeros(n, bool),
        "hypotension": np.zeros(n, bool),
        "vasopressor_count": np.zeros(n, np.int64),
        "vasopressin": np.zeros(n, bool),
        "vasopressor_mask": np.zeros(n, np.uint8),
        "oxygen_device": np.zeros(n, np.int8),
        "oxygen_flow_l_min": np.full(n, np.nan),
        "hypotension_attributable_to_other_cause": np.zeros(n, bool),
        "hypoxia_attributable_to_other_cause": np.zeros(n, bool),
        "death_due_to_crs": np.zeros(n, bool),
        "fever_before_therapy": np.zeros(n, bool),
    }
    return CrsColumns(**{**base, **overrides})  # type: ignore[arg-type]


def test_column_contradictions_name_the_row() -> None:
    cols = _columns(
        oxygen_device=np.array([0, 1, 0], np.int8), oxygen_flow_l_min=np.array([np.nan, np.nan, 2])
    )
    with pytest.raises(ClinicalInputError) as info:
        grade_crs_columns(cols)
    assert [p for p, _ in info.value.problems] == ["[1].oxygen_flow_l_min", "[2].oxygen_flow_l_min"]


def test_columns_reject_counts_that_disagree_with_the_mask() -> None:
    with pytest.raises(ValueError, match="vasopressor_count"):
        _columns(vasopressor_count=np.array([1, 0, 0], np.int64))
    with pytest.raises(ValueError, match="vasopressin"):
        _columns(vasopressin=np.array([True, False, False]))


def test_columns_reject_wrong_dtypes_and_lengths() -> None:
    with pytest.raises(ValueError, match="oxygen_device"):
        _columns(oxygen_device=np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="hypotension"):
        _columns(hypotension=np.zeros(2, bool))


def test_dense_numbering_handles_narrow_and_sparse_key_ranges() -> None:
    from cartwatch.clinical.crs_columns import _dense  # the batch path's internal grouping

    narrow = np.array([7, 3, 7, 0, 3], dtype=np.int64)
    codes, keys = _dense(narrow, 8)  # lookup-table numbering
    assert keys.tolist() == [0, 3, 7] and codes.tolist() == [2, 1, 2, 0, 1]
    sparse = np.array([10**12, 5, 10**12, 7, 5], dtype=np.int64)
    codes, keys = _dense(sparse, 10**12 + 1)  # too wide for a table: sorted instead
    assert keys.tolist() == [5, 7, 10**12] and codes.tolist() == [2, 0, 2, 1, 0]


def test_value_codes_print_like_the_record_path() -> None:
    from cartwatch.clinical.crs import format_temperature
    from cartwatch.clinical.crs_columns import _is_fever, _ValueCodes

    values = np.array(
        [38.4, np.nan, 37.96, 37.95, -0.04, -0.0, 38.0, 2e6, 38.4, np.nan, 1e-300, 37.999999]
    )
    codes = _ValueCodes.of(values, _is_fever)
    assert codes.codes[0] == codes.codes[8] and codes.codes[1] == codes.codes[9]
    assert codes.value(int(codes.codes[1])) is None
    for i, v in enumerate(values.tolist()):
        if not np.isnan(v):
            shown = codes.value(int(codes.codes[i]))
            assert shown is not None and format_temperature(shown) == format_temperature(v)
    wide = np.array([1.0, 9e5, -9e5, 1.0])  # tenths range too wide for a table
    codes = _ValueCodes.of(wide, _is_fever)
    assert [codes.value(int(c)) for c in codes.codes] == [1.0, 9e5, -9e5, 1.0]


def test_a_row_without_temperature_or_therapy_is_not_gradable_in_the_grade_column() -> None:
    cols = _columns(
        temperature_c=np.array([np.nan, 37.9, np.nan]),
        antipyretic_or_anticytokine_given=np.array([False, False, True]),
        hypotension=np.array([True, True, True]),
    )
    result = grade_crs_columns(cols)
    assert result.grades.tolist() == [NOT_GRADABLE, 0, 2]
    assert result.grade_list() == [None, 0, 2]
    assert result.reasons[0].endswith("with fever ≥38.0 °C this is grade 2")


def test_fever_before_therapy_without_therapy_names_the_row() -> None:
    cols = _columns(fever_before_therapy=np.array([False, True, False]))
    with pytest.raises(ClinicalInputError) as info:
        grade_crs_columns(cols)
    assert [p for p, _ in info.value.problems] == ["[1].fever_before_therapy"]
