"""The derivation's fast paths give exactly what the reference engine calls give.

``icans._grade_memo`` (memoised ``grade_icans`` inside ``grade_icans_episode``) and
``cytopenia.grade_counts`` (grading pydantic-validated counts without rebuilding the
observation) are checked on every observation of a synthetic cohort.
"""

from __future__ import annotations

import dataclasses

import pytest

from cartwatch.clinical import cytopenia, icans
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


def test_grade_counts_equals_grade_cytopenia_on_a_cohort(cohort) -> None:  # type: ignore[no-untyped-def]
    for row in cohort.labs:
        if row.counts_missing:
            continue
        obs = row.to_domain()
        fast = cytopenia.grade_counts(
            obs.neutrophils_10e9_l,
            obs.platelets_10e9_l,
            obs.hemoglobin_g_dl,
            obs.lln,
            obs.transfusion_indicated,
            obs.observed_at,
        )
        assert fast == cytopenia.grade_cytopenia(obs)
