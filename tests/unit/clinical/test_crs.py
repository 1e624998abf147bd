"""ASTCT 2019 CRS grading (clinical-standards.md §1.2, [S3] Table 1): every cut-off from both
sides, the rules public graders get wrong (prior-art.md §1.1), contradictions, episodes and
the column grader."""

from __future__ import annotations

import datetime as dt

import pytest

from cartwatch.clinical.crs import (
    OXYGEN_DEVICE_CODES,
    VASOPRESSOR_ALIASES,
    CrsObservation,
    OxygenDevice,
    Vasopressor,
    format_flow,
    format_temperature,
    grade_crs,
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
    [(37.9, 0), (37.99, 0), (38.0, 1), (38.1, 1), (41.5, 1), (None, None)],
)
def test_fever_threshold_is_38_0_inclusive(temperature: float | None, grade: int | None) -> None:
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
        CrsObservation(temperature_c=36.0, oxygen_device=O2.MECHANICAL_VENTILATION),
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


# --- missing temperature: not gradable (contract v2 item 1) -------------------------------------
@pytest.mark.parametrize(
    ("kw", "with_fever"),
    [
        ({}, 1),
        ({"hypotension": True}, 2),
        ({"hypotension": True, "vasopressors": (NE,)}, 3),
        ({"vasopressors": (NE, EPI)}, 4),
        ({"oxygen_device": O2.NASAL_CANNULA, "oxygen_flow_l_min": 6.0}, 2),
        ({"oxygen_device": O2.NASAL_CANNULA, "oxygen_flow_l_min": 6.5}, 3),
        ({"oxygen_device": O2.MECHANICAL_VENTILATION}, 4),
        ({"hypotension": True, "hypotension_attributable_to_other_cause": True}, 1),
        ({"fever_attributable_to_other_cause": True, "hypotension": True}, 2),
    ],
)
def test_without_a_temperature_the_grade_is_null_with_the_grade_a_fever_would_give(
    kw: dict[str, object], with_fever: int
) -> None:
    result = grade_crs(CrsObservation(**kw))  # type: ignore[arg-type]
    assert result.grade is None
    assert result.reasons[0] == "temperature not recorded"
    assert result.reasons[-1] == (
        f"not gradable: temperature not recorded; with fever ≥38.0 °C this is grade {with_fever}"
    )
    assert result.to_dict()["grade"] is None


@pytest.mark.parametrize(
    ("temperature", "grade"), [(None, None), (37.9, 0), (37.99, 0), (38.0, 3), (38.1, 3)]
)
def test_hypotension_on_a_vasopressor_either_side_of_38_and_without_a_temperature(
    temperature: float | None, grade: int | None
) -> None:
    obs = CrsObservation(temperature_c=temperature, hypotension=True, vasopressors=(NE,))
    assert grade_crs(obs).grade == grade


@pytest.mark.parametrize(
    ("kw", "grade"),
    [
        ({"antipyretic_or_anticytokine_given": True}, 0),  # therapy lifts the fever requirement
        ({"antipyretic_or_anticytokine_given": True, "vasopressors": (NE,)}, 3),
        ({"death_due_to_crs": True}, 5),
    ],
)
def test_a_missing_temperature_does_not_matter_once_fever_is_not_needed(
    kw: dict[str, object], grade: int
) -> None:
    assert grade_crs(CrsObservation(**kw)).grade == grade  # type: ignore[arg-type]


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


def test_fever_before_therapy_without_therapy_is_a_contradiction() -> None:
    with pytest.raises(ClinicalInputError) as info:
        CrsObservation(temperature_c=37.0, fever_before_therapy=True)
    assert [p for p, _ in info.value.problems] == ["fever_before_therapy"]
    CrsObservation(fever_before_therapy=True, antipyretic_or_anticytokine_given=True)  # fine


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


# --- episodes with missing temperatures (contract v2 item 1) -----------------------------------
def test_episode_grade_is_the_maximum_over_the_gradable_observations() -> None:
    episode = grade_crs_episode(
        [
            CrsObservation(temperature_c=38.5),
            CrsObservation(hypotension=True, vasopressors=(NE,)),  # no temperature
            CrsObservation(temperature_c=37.0),
        ]
    )
    assert [o.grade for o in episode.observations] == [1, None, 0]
    out = episode.to_dict()
    assert (out["grade"], out["peak_index"], out["not_gradable"]) == (1, 0, [1])
    # the hidden grade is named in the episode reasons, not lost
    assert (
        "[1] not gradable: temperature not recorded; with fever ≥38.0 °C this is grade 3"
        in out["reasons"]  # type: ignore[operator]
    )


def test_episode_with_no_gradable_observation_has_a_null_grade() -> None:
    out = grade_crs_episode([CrsObservation(), CrsObservation(hypotension=True)]).to_dict()
    assert (out["grade"], out["peak_index"], out["not_gradable"]) == (None, None, [0, 1])


def test_a_null_is_not_a_resolution() -> None:
    d = dt.date
    episode = grade_crs_episode(
        [
            CrsObservation(temperature_c=38.5, hypotension=True, observed_at=d(2024, 5, 1)),
            CrsObservation(hypotension=True, observed_at=d(2024, 5, 2)),  # null
            CrsObservation(observed_at=d(2024, 5, 3)),  # null
        ]
    ).to_dict()
    assert (episode["onset"], episode["resolved_at"], episode["duration_days"]) == (
        "2024-05-01",
        None,
        None,
    )
    resolved = grade_crs_episode(
        [
            CrsObservation(temperature_c=38.5, observed_at=d(2024, 5, 1)),
            CrsObservation(observed_at=d(2024, 5, 2)),  # null: not the resolution
            CrsObservation(temperature_c=37.2, observed_at=d(2024, 5, 4)),
        ]
    ).to_dict()
    assert (resolved["resolved_at"], resolved["duration_days"]) == ("2024-05-04", 3)


# --- premedication is not CRS therapy (contract v2 item 2) -------------------------------------
def test_premedication_before_any_fever_does_not_lift_the_fever_requirement() -> None:
    episode = grade_crs_episode(
        [
            CrsObservation(
                temperature_c=37.0, antipyretic_or_anticytokine_given=True, hypotension=True
            )
        ]
    )
    assert episode.grade == 0
    assert "premedication" in episode.observations[0].reasons[1]
    assert any("premedication" in r for r in episode.reasons)


def test_one_observation_keeps_the_v1_meaning_of_therapy() -> None:
    obs = CrsObservation(
        temperature_c=37.0, antipyretic_or_anticytokine_given=True, hypotension=True
    )
    assert grade_crs(obs).grade == 2


def test_fever_before_therapy_makes_the_same_observation_crs_therapy() -> None:
    episode = grade_crs_episode(
        [
            CrsObservation(
                temperature_c=37.0,
                antipyretic_or_anticytokine_given=True,
                fever_before_therapy=True,
                hypotension=True,
            )
        ]
    )
    assert episode.grade == 2


@pytest.mark.parametrize(("temperature", "grade"), [(37.9, 0), (38.0, 2)])
def test_a_fever_at_the_therapy_observation_starts_crs_either_side_of_38(
    temperature: float, grade: int
) -> None:
    episode = grade_crs_episode(
        [
            CrsObservation(temperature_c=temperature, antipyretic_or_anticytokine_given=True),
            CrsObservation(temperature_c=37.0, hypotension=True),
        ]
    )
    assert episode.observations[1].grade == grade


def test_an_attributable_fever_does_not_start_crs() -> None:
    episode = grade_crs_episode(
        [
            CrsObservation(temperature_c=39.0, fever_attributable_to_other_cause=True),
            CrsObservation(temperature_c=37.0, antipyretic_or_anticytokine_given=True),
            CrsObservation(temperature_c=37.0, hypotension=True),
        ]
    )
    assert [o.grade for o in episode.observations] == [0, 0, 0]


def test_after_premedication_fever_is_still_required_then_therapy_for_crs_counts() -> None:
    episode = grade_crs_episode(
        [
            CrsObservation(temperature_c=36.8, antipyretic_or_anticytokine_given=True),  # premed
            CrsObservation(temperature_c=37.1, hypotension=True),  # no fever: 0
            CrsObservation(temperature_c=38.6),  # CRS begins: 1
            CrsObservation(temperature_c=37.0, hypotension=True),  # no therapy since: 0
            CrsObservation(temperature_c=37.0, antipyretic_or_anticytokine_given=True),  # for CRS
            CrsObservation(temperature_c=36.9, vasopressors=(NE,)),  # carried: 3
            CrsObservation(oxygen_device=O2.BLOW_BY),  # carried, no temperature needed: 2
        ]
    )
    assert [o.grade for o in episode.observations] == [0, 0, 1, 0, 0, 3, 2]
    assert episode.not_gradable == ()
    assert episode.reasons[1:3] == (
        "therapy recorded at observation [0] before CRS began: premedication, fever still required",
        "antipyretic or anti-cytokine therapy for CRS first recorded at observation [4]: fever "
        "not required from then on",
    )
