"""Migration 0006: stored CRS grades become grades in the assessment's own episode.

Before, the web app graded each assessment over all the patient's earlier ones as one
episode (0005), so tocilizumab for CRS in week 1 lifted the fever requirement weeks later:
hypotension without fever on day 30 was stored as grade 2. Now each assessment is graded
within its own episode (clinical.episodes.grade_by_episode, ADaM's and the registry's
7-day rule): that row becomes grade 0, with a history entry giving the reason; rows the new
rule grades the same (the week-1 episode, a restart within 7 days) are left alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.web.test_migration_crs_not_gradable import _latest, _migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("patients", "0005_crs_graded_in_course")]
AFTER = [("patients", "0006_crs_graded_in_episodes")]


def _day(n: int) -> dt.datetime:
    return dt.datetime(2025, 7, 1, 8, tzinfo=dt.UTC) + dt.timedelta(days=n)


def test_grades_from_an_earlier_episodes_therapy_are_graded_again_in_their_own() -> None:
    from cartwatch.clinical.crs import CrsObservation, grade_crs_episode

    old = _migrate(BEFORE)
    try:
        centre = old.get_model("centres", "Centre")._default_manager.create(code="M", name="M")
        patients = old.get_model("patients", "Patient")._default_manager
        crs = old.get_model("patients", "CrsAssessment")._default_manager

        def course(patient: Any, days: list[tuple[int, dict[str, Any]]]) -> list[Any]:
            # What 0005 stored: the whole course graded as one episode.
            episode = grade_crs_episode([CrsObservation(**c) for _, c in days])
            return [
                crs.create(
                    patient=patient,
                    observed_at=_day(n),
                    grade=g.grade,
                    standard=g.standard,
                    reasons=list(g.reasons),
                    **c,
                )
                for (n, c), g in zip(days, episode.observations, strict=True)
            ]

        week_1 = [
            (2, {"temperature_c": 38.9, "antipyretic_or_anticytokine_given": True}),
            (3, {"temperature_c": 37.0}),
        ]
        hypotension = {"temperature_c": 37.0, "hypotension": True}
        later = patients.create(centre=centre, patient_id="M-1", sex="F", diagnosis="CLL")
        toci, resolved, day_30 = course(later, [*week_1, (30, hypotension)])
        within = patients.create(centre=centre, patient_id="M-2", sex="M", diagnosis="CLL")
        *_, day_10 = course(within, [*week_1, (10, hypotension)])  # 7 days after: same episode
        assert (day_30.grade, day_10.grade) == (2, 2)

        new = _migrate(AFTER)
        rows = new.get_model("patients", "CrsAssessment")._default_manager
        history = new.get_model("patients", "HistoricalCrsAssessment")._default_manager
        regraded = rows.get(pk=day_30.pk)
        assert regraded.grade == 0
        assert any("no fever and no antipyretic" in r for r in regraded.reasons)
        [entry] = history.filter(id=day_30.pk)
        assert entry.grade == 0
        assert entry.history_change_reason.startswith("graded in its own CRS episode (7-day rule)")
        for untouched in (toci, resolved, day_10):
            assert rows.get(pk=untouched.pk).grade == untouched.grade
            assert not history.filter(id=untouched.pk).exists()
    finally:
        _migrate(_latest())
