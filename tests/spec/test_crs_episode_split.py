"""One CRS episode rule for every surface (clinical.episodes.grade_by_episode).

TRANSCEND CLL 004 Table 4 footnote (clinical-standards.md §3.5 [S14]): "an event that stopped
and restarted within 7 days counts as one episode". Contract v2 item 2 (Lee 2019 [S1]):
antipyretic or anti-cytokine therapy lifts the fever requirement in the episode it was given
in, from the first therapy at or after a CRS fever. So tocilizumab for CRS in week 1 does
not make hypotension without fever weeks later CRS: that is a new episode, fever required.
Each vignette is graded through the split (the web course, ADaM and the registry all use it);
both sides of the 7-day boundary are here.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cartwatch.clinical.crs import CrsEpisode, CrsObservation, grade_crs_episode
from cartwatch.clinical.episodes import EPISODE_GAP_DAYS, grade_by_episode, split_episodes

INFUSION = dt.datetime(2025, 7, 1, 8, tzinfo=dt.UTC)


def day(n: float) -> dt.datetime:
    return INFUSION + dt.timedelta(days=n)


def crs(when: dt.datetime, **fields: object) -> CrsObservation:
    return CrsObservation(observed_at=when, **fields)  # type: ignore[arg-type]


# Day 2: fever, tocilizumab for CRS; day 3: afebrile, nothing else (resolved).
TOCILIZUMAB_WEEK_1 = [
    crs(day(2), temperature_c=38.9, antipyretic_or_anticytokine_given=True),
    crs(day(3), temperature_c=37.0),
]


def times(observations: list[CrsObservation]) -> list[dt.datetime]:
    return [o.observed_at for o in observations if isinstance(o.observed_at, dt.datetime)]


def graded(observations: list[CrsObservation]) -> list[tuple[int, CrsEpisode]]:
    return grade_by_episode(observations, times(observations), grade_crs_episode)


def grades(observations: list[CrsObservation]) -> list[int | None]:
    return [g.grade for _, e in graded(observations) for g in e.observations]


def test_tocilizumab_in_week_1_does_not_make_hypotension_without_fever_on_day_30_crs() -> None:
    afebrile = crs(day(30), temperature_c=37.2, hypotension=True)
    assert grades([*TOCILIZUMAB_WEEK_1, afebrile]) == [1, 0, 0]
    [_, (start, later)] = graded([*TOCILIZUMAB_WEEK_1, afebrile])
    assert start == 2
    assert any("no fever and no antipyretic" in r for r in later.observations[0].reasons)
    # Without a temperature: fever cannot be excluded, so not gradable (never 0, never 2).
    unknown = crs(day(30), hypotension=True)
    assert grades([*TOCILIZUMAB_WEEK_1, unknown]) == [1, 0, None]
    [*_, (_, episode)] = graded([*TOCILIZUMAB_WEEK_1, unknown])
    assert "with fever ≥38.0 °C this is grade 2" in episode.observations[0].reasons[-1]


def test_hypotension_with_fever_on_day_30_is_crs_graded_in_its_own_episode() -> None:
    febrile = crs(day(30), temperature_c=38.6, hypotension=True)
    assert grades([*TOCILIZUMAB_WEEK_1, febrile]) == [1, 0, 2]
    [first, (start, second)] = graded([*TOCILIZUMAB_WEEK_1, febrile])
    assert (first[1].grade, start, second.grade, second.summary.onset) == (1, 2, 2, day(30))


@pytest.mark.parametrize(
    ("after_resolution", "same_episode", "grade"),
    [
        # whole days of elapsed time since the resolution (day 3): 7 → within, 8 → beyond
        (dt.timedelta(days=EPISODE_GAP_DAYS), True, 2),
        (dt.timedelta(days=EPISODE_GAP_DAYS, hours=23), True, 2),
        (dt.timedelta(days=EPISODE_GAP_DAYS + 1), False, 0),
    ],
)
def test_both_sides_of_the_7_day_boundary(
    after_resolution: dt.timedelta, same_episode: bool, grade: int
) -> None:
    # Within 7 days of the resolution the event restarted: one episode, the therapy for CRS
    # carries forward (hypotension without fever is grade 2); beyond, a new one.
    restart = crs(day(3) + after_resolution, temperature_c=37.0, hypotension=True)
    series = [*TOCILIZUMAB_WEEK_1, restart]
    assert grades(series) == [1, 0, grade]
    assert [start for start, _ in graded(series)] == ([0] if same_episode else [0, 2])


def test_the_boundary_is_decided_on_the_episodes_own_grades() -> None:
    # Grading the whole course as one episode would read days 21–34 (hypotension, no fever,
    # after the week-1 tocilizumab) as grade 2, so the day-20 episode never resolved and the
    # day-35 tocilizumab without fever counted as CRS therapy (grade 2). In its own episode
    # day 21 resolves it; day 35 is 14 days later: a new episode, the tocilizumab there is
    # premedication and the hypotension without fever is not CRS.
    series = [
        *TOCILIZUMAB_WEEK_1,
        crs(day(20), temperature_c=38.4),
        *(crs(day(d), temperature_c=37.0, hypotension=True) for d in range(21, 35)),
        crs(day(35), temperature_c=37.0, hypotension=True, antipyretic_or_anticytokine_given=True),
    ]
    whole = grade_crs_episode(series)
    old_starts = split_episodes(
        [g.grade for g in whole.observations], [o.observed_at for o in series]
    )  # type: ignore[misc]
    assert old_starts == [0, 2]  # the rule applied to the one-episode grades
    assert [start for start, _ in graded(series)] == [0, 2, len(series) - 1]
    assert grades(series)[2:] == [1, *[0] * 14, 0]
    [*_, (_, last)] = graded(series)
    assert any("premedication" in r for r in last.observations[0].reasons)
