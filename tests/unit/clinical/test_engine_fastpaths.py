"""The derivation's fast paths give exactly what the reference engine calls give.

``icans._grade_memo`` (memoised ``grade_icans`` inside ``grade_icans_episode``),
``cytopenia.grade_counts`` (grading pydantic-validated counts without rebuilding the
observation, per-value memo) are checked on every observation of a synthetic cohort; the
episode time check's fast path keeps the general path's errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from cartwatch.clinical import cytopenia, icans
from cartwatch.clinical.episodes import summarise_episode
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.synth.cohort import synthesize


@pytest.fixture(scope="module")
def cohort():  # type: ignore[no-untyped-def]
    return synthesize(120, seed=3)


def test_icans_memo_key_covers_every_field_but_time() -> None:
    # A field added to IcansObservation must be added to the memo key (or here, with why).
    names = {f.name for f in dataclasses.fields(icans.IcansObservation)}
    keyed = set(icans._GRADED_FIELDS.__reduce__()[1])
    assert names - keyed == {"age_years", "observed_at"}  # age is keyed with its repr


def test_icans_memo_equals_grade_icans_on_a_cohort(cohort) -> None:  # type: ignore[no-untyped-def]
    icans._memo.clear()
    for row in cohort.icans_observations:
        obs = row.to_domain()
        assert icans._grade_memo(obs) == icans.grade_icans(obs)
        assert icans._grade_memo(obs) == icans.grade_icans(obs)  # from the memo


def test_icans_memo_keeps_negative_zero_age_apart() -> None:
    young = icans.IcansObservation(age_years=0.0, capd_score=0)
    negative = icans.IcansObservation(age_years=-0.0, capd_score=0)
    assert icans._grade_memo(young) == icans.grade_icans(young)
    assert icans._grade_memo(negative) == icans.grade_icans(negative)


def test_grade_counts_memo_equals_cold_grading_on_a_cohort(cohort) -> None:  # type: ignore[no-untyped-def]
    # grade_cytopenia is grade_counts on the observation's fields; what can go wrong is the
    # per-value memo, so every observation graded cold (memo emptied) must equal the same
    # observation graded warm (memo filled by the whole cohort).
    observations = [row.to_domain() for row in cohort.labs if not row.counts_missing]
    cold = []
    for obs in observations:
        cytopenia._VALUE_MEMO.clear()
        cold.append(cytopenia.grade_cytopenia(obs))
    for obs in observations:  # fill the memo with the whole cohort
        cytopenia.grade_cytopenia(obs)
    warm = [cytopenia.grade_cytopenia(obs) for obs in observations]
    assert len(cytopenia._VALUE_MEMO) > 0
    assert warm == cold


def test_grade_counts_keeps_signed_zero_and_repeats_exact() -> None:
    lln = cytopenia.LowerLimits(neutrophils_10e9_l=0.0, platelets_10e9_l=150.0)
    for _ in range(2):  # second round from the value memo
        for value in (0.0, -0.0, 0.4, 2.0, 200.0):
            obs = cytopenia.CytopeniaObservation(
                neutrophils_10e9_l=value, platelets_10e9_l=value, lln=lln
            )
            assert cytopenia.grade_counts(value, value, None, lln, False) == (
                cytopenia.grade_cytopenia(obs)
            )
    assert "-0" in cytopenia.grade_counts(-0.0, None, None, None, False).reasons[0]


def test_episode_time_check_fast_path_same_errors() -> None:
    t0 = dt.datetime(2024, 1, 2, 8)
    same = summarise_episode([1, 2, 0], [t0, t0, t0 + dt.timedelta(days=1)])
    assert same.onset == t0 and same.resolved_at == t0 + dt.timedelta(days=1)
    with pytest.raises(ClinicalInputError) as err:
        summarise_episode([1, 0, 0], [t0, t0 - dt.timedelta(hours=1), t0 - dt.timedelta(hours=2)])
    assert [p for p, _ in err.value.problems] == ["[1].observed_at", "[2].observed_at"]
    aware = t0.replace(tzinfo=dt.UTC)
    with pytest.raises(ClinicalInputError):
        summarise_episode([1, 0], [t0, aware])


def test_icans_rows_converted_once_per_finding_equal_to_domain(cohort) -> None:  # type: ignore[no-untyped-def]
    from cartwatch.adam.adae import _IcansDomains

    convert = _IcansDomains()
    for row in cohort.icans_observations:
        fast = convert(row)
        assert fast == row.to_domain()
        assert fast.observed_at == row.observed_at


def test_at_time_only_changes_the_time() -> None:
    obs = icans.IcansObservation(age_years=40.0, ice_score=5, observed_at=dt.date(2024, 1, 1))
    moved = icans.at_time(obs, dt.datetime(2024, 1, 3, 9))
    assert moved == dataclasses.replace(obs, observed_at=dt.datetime(2024, 1, 3, 9))
    assert obs.observed_at == dt.date(2024, 1, 1)  # the template is untouched
