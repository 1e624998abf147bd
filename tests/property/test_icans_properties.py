"""ASTCT 2019 ICANS properties (clinical-standards.md §1.3–1.6): a worse finding never
lowers the grade, grades stay in 0..5, exclusions and recorded-only findings behave."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from hypothesis import example, given
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


def _level(values: list[Any], quiet: bool) -> st.SearchStrategy[Any]:
    """A level of a domain; *quiet* draws the first (no finding) half the time, so that a
    change in one domain is not masked by a grade 4 elsewhere in most examples."""
    every = st.sampled_from(values)
    return st.one_of(st.just(values[0]), every) if quiet else every


@st.composite
def observations(draw: st.DrawFn, quiet: bool = False) -> IcansObservation:
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
        seizure=draw(_level(SEIZURES, quiet)),
        motor_weakness=draw(_level(list(MotorWeakness), quiet)),
        cerebral_edema=draw(_level(EDEMAS, quiet)),
        raised_icp_signs=draw(_level([False, True], quiet)),
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


CAPD_UNABLE = 33  # one step above CAPD 32 on the CAPD domain's scale: unable to perform


def _capd_position(obs: IcansObservation) -> int | None:
    """Where the CAPD domain stands: score 0–32, 33 = unable; None = not performed."""
    return CAPD_UNABLE if obs.capd_unable else obs.capd_score


def _worse_instrument(obs: IcansObservation) -> Iterator[dict[str, object]]:
    if obs.instrument is Instrument.ICE:
        if obs.consciousness is Consciousness.UNAROUSABLE:
            yield {"ice_score": 0}  # not performed (None) → a recorded 0; 0 stays 0
            return
        assert obs.ice_score is not None
        yield from ({"ice_score": score} for score in range(obs.ice_score + 1))
        return
    position = _capd_position(obs)
    # Not performed (unarousable, nothing recorded) can only be made explicit: unable.
    low = CAPD_UNABLE if position is None else position
    for target in range(low, CAPD_UNABLE + 1):
        if target == CAPD_UNABLE:
            yield {"capd_unable": True, "capd_score": None}
        else:
            yield {"capd_score": target}


def _worse_levels(name: str, levels: list[Any], current: Any) -> Iterator[dict[str, object]]:
    yield from ({name: level} for level in levels[levels.index(current) :])


def single_domain_worsenings(obs: IcansObservation) -> Iterator[tuple[str, IcansObservation]]:
    """Every observation that is *obs* made worse in exactly one domain, with its name."""
    for changes in _worse_instrument(obs):
        yield "instrument", dataclasses.replace(obs, **changes)  # type: ignore[arg-type]
    for changes in _worse_levels("consciousness", LEVELS, obs.consciousness):
        if changes["consciousness"] is Consciousness.UNAROUSABLE and obs.ice_score is not None:
            # An unarousable patient cannot do ICE: it is recorded as 0 ([S11] Table 4
            # grade-4 row); the ICE domain itself gets no better.
            changes["ice_score"] = 0
        yield "consciousness", dataclasses.replace(obs, **changes)  # type: ignore[arg-type]
    for name, levels in (
        ("seizure", SEIZURES),
        ("motor_weakness", list(MotorWeakness)),
        ("cerebral_edema", EDEMAS),
        ("raised_icp_signs", [False, True]),
    ):
        for changes in _worse_levels(name, levels, getattr(obs, name)):
            yield name, dataclasses.replace(obs, **changes)  # type: ignore[arg-type]


ISSUE_10_CHILD = IcansObservation(  # issue 10 item 1: awake child, drowsiness attributed
    age_years=8,
    capd_score=12,
    consciousness=Consciousness.AWAKENS_SPONTANEOUSLY,
    attributable_to_other_cause=(IcansDomain.CONSCIOUSNESS,),
)


@example(ISSUE_10_CHILD)
@example(dataclasses.replace(ISSUE_10_CHILD, age_years=40, capd_score=None, ice_score=5))
@given(observations(quiet=True))
def test_worsening_any_one_domain_never_lowers_the_grade(obs: IcansObservation) -> None:
    """Contract v2 item 3: every single-domain worsening of the drawn observation (every
    worse ICE/CAPD score and the unable flag, consciousness, seizure, motor weakness,
    cerebral oedema, raised-ICP signs), adults (ICE) and children or developmental delay
    (CAPD), with the same attribution to other causes on both sides."""
    grade = grade_icans(obs).grade
    for domain, worse in single_domain_worsenings(obs):
        assert grade_icans(worse).grade >= grade, (domain, worse)


@example(ISSUE_10_CHILD, Consciousness.AWAKENS_SPONTANEOUSLY)
@given(observations(), st.sampled_from(LEVELS))
def test_an_explicit_capd_unable_is_never_below_any_capd_score(
    obs: IcansObservation, level: Consciousness
) -> None:
    """The issue-10 shape in general: for a CAPD patient, "unable" grades at least what any
    score grades, whatever else is attributed (and 4 unless capd itself is attributed)."""
    if obs.instrument is not Instrument.CAPD or obs.death_due_to_icans:
        return
    base = dataclasses.replace(obs, consciousness=level, capd_unable=False, capd_score=0)
    unable = grade_icans(dataclasses.replace(base, capd_score=None, capd_unable=True)).grade
    for score in (0, 1, 8, 9, 32):
        assert unable >= grade_icans(dataclasses.replace(base, capd_score=score)).grade
    if IcansDomain.CAPD not in obs.attributable_to_other_cause:
        assert unable == 4


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


def test_sedated_unarousable_patient_without_ice_is_not_graded_but_a_recorded_zero_is() -> None:
    """Contract v2 item 3 (cli-contract.md): the v1 decision that excludes "unable to
    perform" together with consciousness stays only for an unarousable patient with no ICE
    value; a recorded ICE 0 is the ICE domain's own finding ([S11] Table 4 grade 4 row),
    excluded only when ``ice`` is attributed too, and the reasons say so."""
    sedated = IcansObservation(
        age_years=50,
        consciousness=Consciousness.UNAROUSABLE,
        attributable_to_other_cause=(IcansDomain.CONSCIOUSNESS,),
    )
    result = grade_icans(sedated)
    assert result.grade == 0
    assert any("no ICE result recorded" in r and "excluded with it" in r for r in result.reasons)
    recorded = dataclasses.replace(sedated, ice_score=0)
    counted = grade_icans(recorded)
    assert counted.grade == 4
    assert any("only 'ice' in attributable_to_other_cause" in r for r in counted.reasons)
    both = (IcansDomain.CONSCIOUSNESS, IcansDomain.ICE)
    assert grade_icans(dataclasses.replace(recorded, attributable_to_other_cause=both)).grade == 0
    awake = dataclasses.replace(recorded, consciousness=Consciousness.ALERT)
    assert grade_icans(awake).grade == 3
