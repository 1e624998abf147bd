"""ASTCT 2019 ICANS properties (clinical-standards.md §1.3–1.6): a worse finding never
lowers the grade, grades stay in 0..5, exclusions and recorded-only findings behave."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from cartwatch.clinical.icans import (
    CerebralEdema,
    Consciousness,
    IcansDomain,
    IcansObservation,
    Instrument,
    MotorWeakness,
    Seizure,
    grade_icans,
)

# Each enum is declared mildest first: a later member is a worse finding.
LEVELS = list(Consciousness)
SEIZURES = list(Seizure)
EDEMAS = list(CerebralEdema)


@st.composite
def observations(draw: st.DrawFn) -> IcansObservation:
    capd = draw(st.booleans())
    age = draw(st.floats(0, 12) if capd else st.floats(12.01, 120))
    delay = draw(st.booleans()) if not capd else False
    if delay:
        capd = True
    consciousness = draw(st.sampled_from(LEVELS))
    unarousable = consciousness is Consciousness.UNAROUSABLE
    instrument_domains = [IcansDomain.CAPD] if capd else [IcansDomain.ICE]
    other = [d for d in IcansDomain if d not in (IcansDomain.ICE, IcansDomain.CAPD)]
    kw: dict[str, object] = {}
    if capd:
        unable = draw(st.booleans())
        kw["capd_unable"] = unable
        if not unable:
            # an unarousable child may go without a CAPD score (validated as "unable")
            scores = st.integers(0, 32)
            kw["capd_score"] = draw(st.one_of(st.none(), scores) if unarousable else scores)
    else:
        ice = st.sampled_from([None, 0]) if unarousable else st.integers(0, 10)
        kw["ice_score"] = draw(ice)
    return IcansObservation(
        age_years=age,
        developmental_delay=delay,
        consciousness=consciousness,
        seizure=draw(st.sampled_from(SEIZURES)),
        motor_weakness=draw(st.sampled_from(list(MotorWeakness))),
        cerebral_edema=draw(st.sampled_from(EDEMAS)),
        raised_icp_signs=draw(st.booleans()),
        attributable_to_other_cause=tuple(
            draw(st.lists(st.sampled_from(instrument_domains + other), max_size=3, unique=True))
        ),
        tremor=draw(st.booleans()),
        myoclonus=draw(st.booleans()),
        headache=draw(st.booleans()),
        intracranial_hemorrhage=draw(st.booleans()),
        death_due_to_icans=draw(st.integers(0, 9)) == 0,
        **kw,  # type: ignore[arg-type]
    )


@given(observations())
def test_grade_in_range_and_instrument_matches_age(obs: IcansObservation) -> None:
    result = grade_icans(obs)
    assert 0 <= result.grade <= 5
    expected = Instrument.CAPD if obs.age_years <= 12 or obs.developmental_delay else Instrument.ICE
    assert result.instrument is expected


@given(observations(), st.integers(1, 10))
def test_lower_ice_never_lowers_the_grade(obs: IcansObservation, drop: int) -> None:
    if obs.ice_score is None or obs.consciousness is Consciousness.UNAROUSABLE:
        return
    worse = dataclasses.replace(obs, ice_score=max(0, obs.ice_score - drop))
    assert grade_icans(worse).grade >= grade_icans(obs).grade


@given(observations(), st.integers(1, 32))
def test_higher_capd_never_lowers_the_grade(obs: IcansObservation, rise: int) -> None:
    if obs.capd_score is None:
        return
    worse = dataclasses.replace(obs, capd_score=min(32, obs.capd_score + rise))
    assert grade_icans(worse).grade >= grade_icans(obs).grade


@given(observations(), st.integers(0, len(LEVELS) - 1))
def test_worse_consciousness_never_lowers_the_grade(obs: IcansObservation, to: int) -> None:
    """A deeper depressed consciousness *that is an ICANS finding* never lowers the grade.

    When consciousness is attributed to another cause (e.g. sedation), an unarousable patient
    cannot perform ICE and that ICE 0 is no ICANS finding either ([S11][S13]: only findings
    not attributable to another cause count), so it is not a "worse finding" here; that case
    is pinned in test_sedated_unarousable_patient_ice_zero_is_not_graded below.
    """
    current = LEVELS.index(obs.consciousness)
    if to <= current or IcansDomain.CONSCIOUSNESS in obs.attributable_to_other_cause:
        return
    level = LEVELS[to]
    changes: dict[str, object] = {"consciousness": level}
    if level is Consciousness.UNAROUSABLE and obs.instrument is Instrument.ICE:
        changes["ice_score"] = 0  # an unarousable patient scores 0 (or nothing) on ICE
    worse = dataclasses.replace(obs, **changes)  # type: ignore[arg-type]
    assert grade_icans(worse).grade >= grade_icans(obs).grade


@given(observations(), st.integers(0, 2), st.integers(0, 2))
def test_worse_seizure_or_oedema_never_lowers_the_grade(
    obs: IcansObservation, seizure: int, edema: int
) -> None:
    worse = dataclasses.replace(
        obs,
        seizure=SEIZURES[max(seizure, SEIZURES.index(obs.seizure))],
        cerebral_edema=EDEMAS[max(edema, EDEMAS.index(obs.cerebral_edema))],
    )
    assert grade_icans(worse).grade >= grade_icans(obs).grade


@given(observations())
def test_motor_weakness_and_icp_signs_never_lower_the_grade(obs: IcansObservation) -> None:
    worse = dataclasses.replace(obs, motor_weakness=MotorWeakness.DEEP_FOCAL, raised_icp_signs=True)
    assert grade_icans(worse).grade >= grade_icans(obs).grade


@given(observations())
def test_recorded_only_findings_never_change_the_grade(obs: IcansObservation) -> None:
    flipped = dataclasses.replace(
        obs,
        tremor=not obs.tremor,
        myoclonus=not obs.myoclonus,
        headache=not obs.headache,
        intracranial_hemorrhage=not obs.intracranial_hemorrhage,
    )
    assert grade_icans(flipped).grade == grade_icans(obs).grade


@given(observations())
def test_excluding_a_domain_never_raises_the_grade(obs: IcansObservation) -> None:
    everything = tuple(
        d
        for d in IcansDomain
        if d is not (IcansDomain.ICE if obs.instrument is Instrument.CAPD else IcansDomain.CAPD)
    )
    excluded = dataclasses.replace(obs, attributable_to_other_cause=everything)
    assert grade_icans(excluded).grade <= grade_icans(obs).grade
    if not obs.death_due_to_icans:
        assert grade_icans(excluded).grade == 0


@given(observations())
def test_death_due_to_icans_is_always_5(obs: IcansObservation) -> None:
    assert grade_icans(dataclasses.replace(obs, death_due_to_icans=True)).grade == 5


def test_sedated_unarousable_patient_ice_zero_is_not_graded() -> None:
    """[S11] Table 4 ICE row and § attribution: ICE 0 because unarousable is grade 4 only when
    the unarousability is not attributable to another cause; sedation explains both, and the
    reasons say the findings were excluded rather than claiming a normal examination."""
    obs = IcansObservation(
        age_years=50,
        ice_score=0,
        consciousness=Consciousness.UNAROUSABLE,
        attributable_to_other_cause=(IcansDomain.CONSCIOUSNESS,),
    )
    result = grade_icans(obs)
    assert result.grade == 0
    assert any("attributable to another cause, excluded" in r for r in result.reasons)
    awake = dataclasses.replace(obs, consciousness=Consciousness.ALERT)
    assert grade_icans(awake).grade == 3
