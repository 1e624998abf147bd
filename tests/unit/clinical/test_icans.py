"""ASTCT 2019 ICANS grading (clinical-standards.md §1.3–1.6, [S11][S13][S15]): ICE and CAPD
bands from both sides, each domain, per-domain attribution, recorded-only findings,
contradictions and episodes."""

from __future__ import annotations

import datetime as dt

import pytest

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.icans import (
    CerebralEdema,
    Consciousness,
    IcansDomain,
    IcansObservation,
    IceItems,
    Instrument,
    MotorWeakness,
    Seizure,
    grade_icans,
    grade_icans_episode,
)

C = Consciousness
D = IcansDomain


def adult(**kw: object) -> IcansObservation:
    kw.setdefault("ice_score", 10)
    return IcansObservation(age_years=45, **kw)  # type: ignore[arg-type]


def child(**kw: object) -> IcansObservation:
    kw.setdefault("capd_score", 0)
    return IcansObservation(age_years=8, **kw)  # type: ignore[arg-type]


# --- instrument --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("age", "delay", "instrument"),
    [
        (12, False, Instrument.CAPD),
        (12.5, False, Instrument.ICE),
        (13, False, Instrument.ICE),
        (0, False, Instrument.CAPD),
        (30, True, Instrument.CAPD),
    ],
)
def test_capd_for_age_12_or_under_or_developmental_delay(
    age: float, delay: bool, instrument: Instrument
) -> None:
    score = {"ice_score": 10} if instrument is Instrument.ICE else {"capd_score": 0}
    obs = IcansObservation(age_years=age, developmental_delay=delay, **score)
    assert obs.instrument is instrument
    assert grade_icans(obs).instrument is instrument


# --- ICE ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ice", "grade"),
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (1, 3), (0, 3)],
)
def test_ice_bands(ice: int, grade: int) -> None:
    assert grade_icans(adult(ice_score=ice)).grade == grade


def test_ice_10_is_no_icans_not_grade_1() -> None:
    result = grade_icans(adult(ice_score=10))
    assert result.grade == 0
    assert result.reasons[-1] == "no ICANS finding not attributable to another cause → grade 0"


def test_ice_0_awake_is_3_and_unarousable_is_4() -> None:
    awake = grade_icans(adult(ice_score=0))
    unarousable = grade_icans(adult(ice_score=0, consciousness=C.UNAROUSABLE))
    assert (awake.grade, unarousable.grade) == (3, 4)
    assert "awake, e.g. global aphasia" in awake.reasons[1]
    assert "unarousable, unable to perform ICE → grade 4" in unarousable.reasons[1]


def test_unarousable_without_ice_score_is_grade_4() -> None:
    obs = IcansObservation(age_years=60, consciousness=C.UNAROUSABLE)
    assert grade_icans(obs).grade == 4


def test_ice_items_are_summed() -> None:
    items = IceItems(orientation=2, naming=2, commands=1, writing=0, attention=1)
    assert items.total == 6
    result = grade_icans(IcansObservation(age_years=50, ice_items=items))
    assert result.grade == 2
    assert "ICE 6/10 from items (orientation 2/4, naming 2/3" in result.reasons[1]


@pytest.mark.parametrize(
    ("field", "value"),
    [("orientation", 5), ("naming", 4), ("commands", 2), ("writing", -1), ("attention", 2)],
)
def test_ice_item_ranges(field: str, value: int) -> None:
    kw = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1, field: value}
    with pytest.raises(ClinicalInputError) as info:
        IceItems(**kw)
    assert info.value.problems[0][0] == f"ice_items.{field}"


# --- CAPD --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("capd", "grade"),
    [(0, 0), (1, 1), (8, 1), (9, 3), (32, 3)],
)
def test_capd_bands(capd: int, grade: int) -> None:
    assert grade_icans(child(capd_score=capd)).grade == grade


def test_capd_unable_is_grade_4() -> None:
    result = grade_icans(IcansObservation(age_years=5, capd_unable=True))
    assert result.grade == 4
    assert result.instrument is Instrument.CAPD


# --- other domains -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("level", "grade"),
    [
        (C.ALERT, 0),
        (C.AWAKENS_SPONTANEOUSLY, 1),
        (C.AWAKENS_TO_VOICE, 2),
        (C.AWAKENS_TO_TOUCH, 3),
        (C.UNAROUSABLE, 4),
    ],
)
def test_consciousness_levels(level: Consciousness, grade: int) -> None:
    ice = 0 if level is C.UNAROUSABLE else 10
    assert grade_icans(adult(ice_score=ice, consciousness=level)).grade == grade


@pytest.mark.parametrize(
    ("seizure", "grade"),
    [(Seizure.NONE, 0), (Seizure.RAPIDLY_RESOLVING, 3), (Seizure.PROLONGED_OR_REPETITIVE, 4)],
)
def test_seizures(seizure: Seizure, grade: int) -> None:
    assert grade_icans(adult(seizure=seizure)).grade == grade


def test_deep_focal_motor_weakness_is_4() -> None:
    assert grade_icans(adult(motor_weakness=MotorWeakness.DEEP_FOCAL)).grade == 4


@pytest.mark.parametrize(
    ("edema", "icp", "grade"),
    [
        (CerebralEdema.NONE, False, 0),
        (CerebralEdema.FOCAL, False, 3),
        (CerebralEdema.DIFFUSE, False, 4),
        (CerebralEdema.NONE, True, 4),
        (CerebralEdema.FOCAL, True, 4),
    ],
)
def test_oedema_and_raised_icp(edema: CerebralEdema, icp: bool, grade: int) -> None:
    assert grade_icans(adult(cerebral_edema=edema, raised_icp_signs=icp)).grade == grade


def test_children_share_the_non_instrument_domains() -> None:
    assert grade_icans(child(seizure=Seizure.PROLONGED_OR_REPETITIVE)).grade == 4
    assert grade_icans(child(capd_score=3, consciousness=C.AWAKENS_TO_VOICE)).grade == 2


def test_worst_domain_sets_the_grade_and_is_named() -> None:
    result = grade_icans(adult(ice_score=5, consciousness=C.AWAKENS_TO_TOUCH))
    assert result.grade == 3
    assert result.reasons[-1] == (
        "worst domain not attributable to another cause: depressed consciousness → grade 3"
    )


# --- attribution -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kw", "excluded", "grade"),
    [
        ({"ice_score": 2}, (D.ICE,), 0),
        ({"consciousness": C.AWAKENS_TO_TOUCH}, (D.CONSCIOUSNESS,), 0),
        ({"seizure": Seizure.PROLONGED_OR_REPETITIVE, "ice_score": 5}, (D.SEIZURE,), 2),
        ({"motor_weakness": MotorWeakness.DEEP_FOCAL}, (D.MOTOR_WEAKNESS,), 0),
        ({"cerebral_edema": CerebralEdema.DIFFUSE}, (D.CEREBRAL_EDEMA,), 0),
        (
            {"cerebral_edema": CerebralEdema.FOCAL, "raised_icp_signs": True},
            (D.RAISED_ICP_SIGNS,),
            3,
        ),
        # Contract v2 item 3: "unable" goes with consciousness only without an ICE value.
        ({"ice_score": None, "consciousness": C.UNAROUSABLE}, (D.CONSCIOUSNESS,), 0),
        ({"ice_score": 0, "consciousness": C.UNAROUSABLE}, (D.CONSCIOUSNESS, D.ICE), 0),
        ({"ice_score": 0, "consciousness": C.UNAROUSABLE}, (D.ICE,), 4),
    ],
)
def test_each_excluded_domain_is_dropped_and_named(
    kw: dict[str, object], excluded: tuple[IcansDomain, ...], grade: int
) -> None:
    result = grade_icans(adult(attributable_to_other_cause=excluded, **kw))
    assert result.grade == grade
    assert any("attributable to another cause, excluded" in r for r in result.reasons)


# --- recorded only -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("finding", "text"),
    [
        ("tremor", "tremor recorded: graded under CTCAE v5.0, not ICANS"),
        ("myoclonus", "myoclonus recorded: graded under CTCAE v5.0, not ICANS"),
        ("headache", "headache recorded: non-specific, graded under CTCAE v5.0, not ICANS"),
        (
            "intracranial_hemorrhage",
            "intracranial haemorrhage recorded: not a feature of ICANS, graded under CTCAE v5.0",
        ),
    ],
)
def test_recorded_only_findings_never_change_the_grade(finding: str, text: str) -> None:
    result = grade_icans(adult(ice_score=8, **{finding: True}))
    assert result.grade == 1
    assert text in result.reasons


def test_death_due_to_icans_is_grade_5() -> None:
    result = grade_icans(adult(death_due_to_icans=True))
    assert result.grade == 5
    assert "death due to ICANS → grade 5" in result.reasons


def test_result_dict_is_the_contract_shape() -> None:
    out = grade_icans(adult(ice_score=8)).to_dict()
    assert set(out) == {"grade", "standard", "instrument", "reasons"}
    assert (out["grade"], out["standard"], out["instrument"]) == (1, "ASTCT 2019", "ICE")


# --- contradictions ----------------------------------------------------------------------------
ITEMS = IceItems(4, 3, 1, 1, 1)


@pytest.mark.parametrize(
    ("kw", "paths"),
    [
        ({"age_years": 40, "ice_score": 10, "ice_items": ITEMS}, ["ice_items"]),
        ({"age_years": 40}, ["ice_score"]),
        ({"age_years": 40, "ice_score": 10, "capd_score": 3}, ["capd_score"]),
        ({"age_years": 40, "ice_score": 10, "capd_unable": True}, ["capd_unable"]),
        ({"age_years": 8, "capd_score": 2, "ice_score": 10}, ["ice_score"]),
        (
            {"age_years": 30, "developmental_delay": True, "capd_score": 2, "ice_items": ITEMS},
            ["ice_items"],
        ),
        ({"age_years": 8}, ["capd_score"]),
        ({"age_years": 8, "capd_unable": True, "capd_score": 4}, ["capd_score"]),
        ({"age_years": 40, "ice_score": 5, "consciousness": C.UNAROUSABLE}, ["ice_score"]),
        ({"age_years": 40, "ice_items": ITEMS, "consciousness": C.UNAROUSABLE}, ["ice_items"]),
        ({"age_years": 40, "ice_score": 11}, ["ice_score"]),
        ({"age_years": 8, "capd_score": 33}, ["capd_score"]),
        ({"age_years": 121, "ice_score": 10}, ["age_years"]),
        (
            {"age_years": 40, "ice_score": 10, "attributable_to_other_cause": (D.CAPD,)},
            ["attributable_to_other_cause[0]"],
        ),
        (
            {"age_years": 8, "capd_score": 1, "attributable_to_other_cause": (D.SEIZURE, D.ICE)},
            ["attributable_to_other_cause[1]"],
        ),
    ],
)
def test_contradictory_input_raises_with_the_field_path(
    kw: dict[str, object], paths: list[str]
) -> None:
    with pytest.raises(ClinicalInputError) as info:
        IcansObservation(**kw)  # type: ignore[arg-type]
    assert [p for p, _ in info.value.problems] == paths


def test_unarousable_child_needs_no_capd_score() -> None:
    obs = IcansObservation(age_years=6, consciousness=C.UNAROUSABLE)
    assert grade_icans(obs).grade == 4


# --- episodes ----------------------------------------------------------------------------------
def test_episode_maximum_peak_and_timing() -> None:
    t = dt.datetime
    episode = grade_icans_episode(
        [
            adult(ice_score=8, observed_at=t(2024, 5, 1, 8)),
            adult(ice_score=5, observed_at=t(2024, 5, 1, 20)),
            adult(ice_score=2, observed_at=t(2024, 5, 2, 8)),
            adult(ice_score=2, observed_at=t(2024, 5, 2, 20)),
            adult(ice_score=10, observed_at=t(2024, 5, 4, 8)),
        ]
    )
    out = episode.to_dict()
    assert (out["grade"], out["peak_index"], out["instrument"]) == (3, 2, "ICE")
    assert [o["grade"] for o in out["observations"]] == [1, 2, 3, 3, 0]  # type: ignore[attr-defined]
    assert out["onset"] == "2024-05-01T08:00:00"
    assert out["peak_at"] == "2024-05-02T08:00:00"
    assert out["resolved_at"] == "2024-05-04T08:00:00"
    assert out["duration_days"] == 3.0


def test_untimed_episode_has_no_timing_keys() -> None:
    out = grade_icans_episode([adult(ice_score=6)]).to_dict()
    assert "onset" not in out and out["grade"] == 2


def test_empty_episode_is_an_error() -> None:
    with pytest.raises(ClinicalInputError):
        grade_icans_episode([])
