"""ASTCT 2019 CRS grading (clinical-standards.md §1.2, [S3] Table 1): every cut-off from both
sides, the rules public graders get wrong (prior-art.md §1.1), contradictions, episodes and
the column grader."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cartwatch.clinical.crs import (
    OXYGEN_DEVICE_CODES,
    VASOPRESSOR_ALIASES,
    CrsColumns,
    CrsObservation,
    OxygenDevice,
    Vasopressor,
    crs_columns_from_observations,
    format_flow,
    format_temperature,
    grade_crs,
    grade_crs_columns,
    grade_crs_episode,
    parse_vasopressor,
)
from cartwatch.clinical.errors import ClinicalInputError

V = Vasopressor
O2 = OxygenDevice
NE, EPI, PHE, DOPA, VASO, ANG = (
    V.NOREPINEPHRINE,
    V.EPINEPHRINE,
    V.PHENYLEPHRINE,
    V.DOPAMINE,
    V.VASOPRESSIN,
    V.ANGIOTENSIN_II,
)


def febrile(**kw: object) -> CrsObservation:
    return CrsObservation(temperature_c=39.0, **kw)  # type: ignore[arg-type]


# --- fever -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("temperature", "grade"),
    [(37.9, 0), (37.99, 0), (38.0, 1), (38.1, 1), (41.5, 1), (None, 0)],
)
def test_fever_threshold_is_38_0_inclusive(temperature: float | None, grade: int) -> None:
    assert grade_crs(CrsObservation(temperature_c=temperature)).grade == grade


def test_fever_reason_names_the_value_and_the_cut_off() -> None:
    assert grade_crs(CrsObservation(temperature_c=39.2)).reasons[0] == "fever: 39.2 °C ≥ 38.0 °C"
    assert grade_crs(CrsObservation(temperature_c=37.9)).reasons[0] == "no fever: 37.9 °C < 38.0 °C"


def test_rounding_never_prints_a_value_on_the_wrong_side_of_the_cut_off() -> None:
    assert format_temperature(37.96) == "37.96"
    assert format_temperature(38.04) == "38.0"
    assert format_flow(6.04) == "6.04"
    assert format_flow(6.0) == "6"
    assert format_flow(5.96) == "6"


def test_fever_attributable_to_another_cause_is_not_crs_fever() -> None:
    obs = CrsObservation(temperature_c=39.5, fever_attributable_to_other_cause=True)
    result = grade_crs(obs)
    assert result.grade == 0
    assert "attributable to another cause" in result.reasons[0]


@pytest.mark.parametrize(
    "obs",
    [
        CrsObservation(temperature_c=37.5, hypotension=True, vasopressors=(NE, EPI)),
        CrsObservation(oxygen_device=O2.MECHANICAL_VENTILATION),
        CrsObservation(
            temperature_c=39.0,
            fever_attributable_to_other_cause=True,
            oxygen_device=O2.CPAP,
        ),
    ],
)
def test_without_fever_and_without_therapy_grade_is_0_whatever_else(obs: CrsObservation) -> None:
    result = grade_crs(obs)
    assert result.grade == 0
    assert result.reasons[-1].startswith("no fever and no antipyretic")


# --- therapy -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "grade"),
    [
        ({}, 0),
        ({"hypotension": True}, 2),
        ({"vasopressors": (NE,)}, 3),
        ({"oxygen_device": O2.NASAL_CANNULA, "oxygen_flow_l_min": 2}, 2),
        ({"oxygen_device": O2.BIPAP}, 4),
    ],
)
def test_after_therapy_fever_is_not_required(kw: dict[str, object], grade: int) -> None:
    obs = CrsObservation(temperature_c=37.0, antipyretic_or_anticytokine_given=True, **kw)  # type: ignore[arg-type]
    assert grade_crs(obs).grade == grade


def test_after_therapy_without_findings_reason_says_grade_0() -> None:
    result = grade_crs(CrsObservation(antipyretic_or_anticytokine_given=True))
    assert result.reasons[-1] == (
        "no hypotension or hypoxia after antipyretic or anti-cytokine therapy → grade 0"
    )


def test_fever_persisting_after_therapy_still_counts_as_grade_1() -> None:
    obs = CrsObservation(temperature_c=38.5, antipyretic_or_anticytokine_given=True)
    assert grade_crs(obs).grade == 1


# --- hypotension -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hypotension", "drugs", "grade"),
    [
        (False, (), 1),
        (True, (), 2),
        (True, (NE,), 3),
        (False, (NE,), 3),  # a vasopressor implies hypotension
        (True, (VASO,), 3),  # vasopressin alone is "a vasopressor"
        (True, (NE, VASO), 3),  # "with or without vasopressin"
        (True, (PHE, VASO), 3),
        (True, (NE, EPI), 4),
        (True, (NE, EPI, VASO), 4),
        (True, (DOPA, ANG), 4),
        (True, (NE, EPI, PHE, DOPA, ANG), 4),
    ],
)
def test_hypotension_by_vasopressors(
    hypotension: bool, drugs: tuple[Vasopressor, ...], grade: int
) -> None:
    assert grade_crs(febrile(hypotension=hypotension, vasopressors=drugs)).grade == grade


def test_vasopressin_reason_says_it_does_not_count_towards_multiple() -> None:
    reasons = grade_crs(febrile(vasopressors=(VASO, NE))).reasons
    assert (
        "hypotension requiring 1 vasopressor (norepinephrine; vasopressin does not count "
        "towards multiple) → grade 3"
    ) in reasons


def test_hypotension_attributable_to_another_cause_is_excluded() -> None:
    result = grade_crs(
        febrile(vasopressors=(NE, EPI), hypotension_attributable_to_other_cause=True)
    )
    assert result.grade == 1
    assert "hypotension (norepinephrine, epinephrine) attributable to another cause: excluded" in (
        result.reasons
    )


# --- hypoxia -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flow", "grade"),
    [(0.0, 2), (1.0, 2), (6.0, 2), (6.01, 3), (6.1, 3), (15.0, 3)],
)
def test_nasal_cannula_low_flow_is_up_to_6_l_min(flow: float, grade: int) -> None:
    obs = febrile(oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=flow)
    assert grade_crs(obs).grade == grade


@pytest.mark.parametrize(
    ("device", "grade"),
    [
        (O2.NONE, 1),
        (O2.BLOW_BY, 2),
        (O2.HIGH_FLOW_NASAL_CANNULA, 3),
        (O2.FACE_MASK, 3),
        (O2.NONREBREATHER_MASK, 3),
        (O2.VENTURI_MASK, 3),
        (O2.CPAP, 4),  # positive pressure is grade 4, not 3 (prior-art §1.1)
        (O2.BIPAP, 4),
        (O2.MECHANICAL_VENTILATION, 4),
    ],
)
def test_oxygen_device_grades(device: OxygenDevice, grade: int) -> None:
    assert grade_crs(febrile(oxygen_device=device)).grade == grade


def test_hypoxia_reason_names_device_flow_and_band() -> None:
    reasons = grade_crs(febrile(oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=4)).reasons
    assert "hypoxia: nasal cannula 4 L/min (≤6 L/min is low-flow) → grade 2" in reasons


def test_hypoxia_attributable_to_another_cause_is_excluded() -> None:
    obs = febrile(oxygen_device=O2.MECHANICAL_VENTILATION, hypoxia_attributable_to_other_cause=True)
    assert grade_crs(obs).grade == 1


def test_flow_with_a_mask_does_not_change_the_device_grade() -> None:
    assert grade_crs(febrile(oxygen_device=O2.FACE_MASK, oxygen_flow_l_min=2)).grade == 3


# --- combination -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("drugs", "device", "flow", "grade"),
    [
        ((NE,), O2.NASAL_CANNULA, 2.0, 3),
        ((), O2.CPAP, None, 4),
        ((NE, EPI), O2.NASAL_CANNULA, 2.0, 4),
        ((VASO,), O2.FACE_MASK, None, 3),
    ],
)
def test_worse_of_hypotension_and_hypoxia_sets_the_grade(
    drugs: tuple[Vasopressor, ...], device: OxygenDevice, flow: float | None, grade: int
) -> None:
    obs = febrile(vasopressors=drugs, oxygen_device=device, oxygen_flow_l_min=flow)
    assert grade_crs(obs).grade == grade


def test_worse_of_reason() -> None:
    obs = febrile(vasopressors=(NE,), oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=2)
    assert grade_crs(obs).reasons[-1] == "worse of hypotension (3) and hypoxia (2) sets the grade"


def test_death_due_to_crs_is_grade_5() -> None:
    result = grade_crs(CrsObservation(death_due_to_crs=True))
    assert (result.grade, result.reasons) == (5, ("death due to CRS → grade 5",))


def test_result_dict_is_the_contract_shape() -> None:
    assert grade_crs(febrile()).to_dict() == {
        "grade": 1,
        "standard": "ASTCT 2019",
        "reasons": ["fever: 39.0 °C ≥ 38.0 °C", "fever without hypotension or hypoxia → grade 1"],
    }


# --- vocabulary --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "drug"),
    [
        ("noradrenaline", NE),
        ("NorAdrenaline", NE),
        ("adrenaline", EPI),
        ("EPINEPHRINE", EPI),
        ("angiotensin_ii", ANG),
        (" vasopressin ", VASO),
    ],
)
def test_parse_vasopressor_is_case_insensitive_with_aliases(name: str, drug: Vasopressor) -> None:
    assert parse_vasopressor(name) is drug


@pytest.mark.parametrize("name", ["milrinone", "norepi", "", "angiotensin ii"])
def test_parse_vasopressor_rejects_unknown_names(name: str) -> None:
    with pytest.raises(ValueError, match="unknown vasopressor"):
        parse_vasopressor(name)


def test_aliases_cover_every_canonical_name() -> None:
    assert {VASOPRESSOR_ALIASES[v.value] for v in Vasopressor} == set(Vasopressor)


def test_device_codes_follow_the_contract_order() -> None:
    assert [d.value for d in OXYGEN_DEVICE_CODES] == [
        "none",
        "nasal_cannula",
        "blow_by",
        "high_flow_nasal_cannula",
        "face_mask",
        "nonrebreather_mask",
        "venturi_mask",
        "cpap",
        "bipap",
        "mechanical_ventilation",
    ]
    assert list(OXYGEN_DEVICE_CODES.values()) == list(range(10))


# --- contradictions ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "path"),
    [
        ({"oxygen_device": O2.NASAL_CANNULA}, "oxygen_flow_l_min"),
        ({"oxygen_flow_l_min": 2.0}, "oxygen_flow_l_min"),
        ({"oxygen_device": O2.FACE_MASK, "oxygen_flow_l_min": -1.0}, "oxygen_flow_l_min"),
        ({"temperature_c": float("nan")}, "temperature_c"),
        ({"vasopressors": (NE, EPI, NE)}, "vasopressors[2]"),
    ],
)
def test_contradictory_input_raises_with_the_field_path(kw: dict[str, object], path: str) -> None:
    with pytest.raises(ClinicalInputError) as info:
        CrsObservation(**kw)  # type: ignore[arg-type]
    assert [p for p, _ in info.value.problems] == [path]


# --- episodes ----------------------------------------------------------------------------------
def test_episode_carries_therapy_forward() -> None:
    episode = grade_crs_episode(
        [
            CrsObservation(temperature_c=39.5, antipyretic_or_anticytokine_given=True),
            CrsObservation(temperature_c=37.0, vasopressors=(NE,)),
            CrsObservation(temperature_c=36.8),
        ]
    )
    assert [o.grade for o in episode.observations] == [1, 3, 0]
    assert (episode.grade, episode.peak_index) == (3, 1)


def test_without_therapy_an_afebrile_hypotensive_observation_is_0() -> None:
    episode = grade_crs_episode(
        [CrsObservation(temperature_c=39.5), CrsObservation(temperature_c=37.0, vasopressors=(NE,))]
    )
    assert [o.grade for o in episode.observations] == [1, 0]


def test_therapy_does_not_apply_backwards() -> None:
    episode = grade_crs_episode(
        [
            CrsObservation(temperature_c=37.0, hypotension=True),
            CrsObservation(temperature_c=37.0, antipyretic_or_anticytokine_given=True),
        ]
    )
    assert [o.grade for o in episode.observations] == [0, 0]


def test_episode_peak_is_the_first_maximum_and_dict_has_timing() -> None:
    d = dt.date
    episode = grade_crs_episode(
        [
            CrsObservation(temperature_c=38.5, observed_at=d(2024, 5, 1)),
            CrsObservation(temperature_c=38.5, hypotension=True, observed_at=d(2024, 5, 2)),
            CrsObservation(temperature_c=38.5, hypotension=True, observed_at=d(2024, 5, 3)),
            CrsObservation(temperature_c=37.0, observed_at=d(2024, 5, 5)),
        ]
    )
    out = episode.to_dict()
    assert (out["grade"], out["peak_index"], out["standard"]) == (2, 1, "ASTCT 2019")
    assert [o["grade"] for o in out["observations"]] == [1, 2, 2, 0]  # type: ignore[attr-defined]
    assert out["onset"] == "2024-05-01"
    assert out["peak_at"] == "2024-05-02"
    assert out["resolved_at"] == "2024-05-05"
    assert out["duration_days"] == 4


def test_untimed_episode_has_no_timing_keys() -> None:
    out = grade_crs_episode([febrile(), febrile(observed_at=dt.date(2024, 1, 1))]).to_dict()
    assert "onset" not in out
    assert out["peak_index"] == 0


def test_episode_out_of_time_order_is_an_error() -> None:
    with pytest.raises(ClinicalInputError) as info:
        grade_crs_episode(
            [febrile(observed_at=dt.date(2024, 1, 2)), febrile(observed_at=dt.date(2024, 1, 1))]
        )
    assert info.value.problems[0][0] == "[1].observed_at"


def test_empty_episode_is_an_error() -> None:
    with pytest.raises(ClinicalInputError):
        grade_crs_episode([])


# --- columns -----------------------------------------------------------------------------------
EXAMPLES = [
    CrsObservation(),
    CrsObservation(temperature_c=37.96, hypotension=True),
    febrile(vasopressors=(NE, VASO), oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=4),
    febrile(vasopressors=(VASO,), oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=6.04),
    febrile(vasopressors=(NE, EPI), hypotension_attributable_to_other_cause=True),
    CrsObservation(antipyretic_or_anticytokine_given=True, oxygen_device=O2.CPAP),
    CrsObservation(temperature_c=40.0, fever_attributable_to_other_cause=True),
    CrsObservation(death_due_to_crs=True, temperature_c=39.0),
    febrile(oxygen_device=O2.VENTURI_MASK, hypoxia_attributable_to_other_cause=True),
]


def test_columns_agree_with_the_record_grader_on_examples() -> None:
    result = grade_crs_columns(crs_columns_from_observations(EXAMPLES))
    assert result.grades.dtype == np.int8
    for i, obs in enumerate(EXAMPLES):
        expected = grade_crs(obs)
        assert result.grades[i] == expected.grade
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
    from cartwatch.clinical.crs import _dense  # the batch path's internal grouping

    narrow = np.array([7, 3, 7, 0, 3], dtype=np.int64)
    codes, keys = _dense(narrow, 8)  # lookup-table numbering
    assert keys.tolist() == [0, 3, 7] and codes.tolist() == [2, 1, 2, 0, 1]
    sparse = np.array([10**12, 5, 10**12, 7, 5], dtype=np.int64)
    codes, keys = _dense(sparse, 10**12 + 1)  # too wide for a table: sorted instead
    assert keys.tolist() == [5, 7, 10**12] and codes.tolist() == [2, 0, 2, 1, 0]


def test_value_codes_print_like_the_record_path() -> None:
    from cartwatch.clinical.crs import _is_fever, _ValueCodes, format_temperature

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
