"""Onset, peak, resolution and duration of one episode given as a time-ordered grade series.

Shared by the ASTCT 2019 CRS and ICANS episode graders and the CTCAE v5.0 cytopenia series
(clinical-standards.md §1, §5). The timing keys follow the CLI contract, section
"Conventions for every JSON command" (cli-contract.md): ``onset`` is the first observation
with grade ≥1, ``peak_at`` the first observation with the maximum grade, ``resolved_at`` the
first observation with grade 0 after the last observation with grade ≥1 (so a recurrence
re-opens the episode), and ``duration_days`` is ``resolved_at - onset`` (null while unresolved).

A not-gradable observation (grade None: missing data, contract v2 item 1) is neither grade 0
nor grade ≥1, so it never resolves an episode and never re-opens one. The contract defines
the resolution by observed grades, so a resolution that was observed is kept: in 2, 0, None
the episode resolved at the grade 0. But it is not claimed beyond that observation: the
not-gradable observations after it (where a recurrence cannot be excluded) are listed in
``not_gradable_after_resolution``, and the graders say so in their reasons. Reading them as
"still resolved" would read missing data as grade 0.

A patient's series is split into episodes by one rule, :func:`grade_by_episode` (TRANSCEND
CLL 004 Table 4 footnote, clinical-standards.md §3.5 [S14]: "an event that stopped and
restarted within 7 days counts as one episode"): a new episode starts at an observation with
grade ≥1 more than :data:`EPISODE_GAP_DAYS` days after the current episode resolved. The
web app's course grades, ADaM's ADAE records and the CIBMTR registry all split with it.

The grading scale does not matter here: this module only sees integers. Which scale produced
them is the caller's ``standard``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar, cast

from cartwatch.clinical.errors import ClinicalInputError

Timestamp = datetime.date | datetime.datetime

#: [S14] TRANSCEND CLL 004 Table 4 footnote: an event that stopped and restarted within 7
#: days counts as one episode. Counted from the resolution (first grade 0) in whole days of
#: elapsed time, so 7 days 23 h is still within 7: cartwatch's reading, UNVERIFIED (the
#: footnote does not say how the days are counted; ADaM used this reading before).
EPISODE_GAP_DAYS: Final = 7

_SECONDS_PER_DAY = 86_400.0
# Fractions of a day are reported to 3 decimals (~1.4 minutes): finer than any charting of
# CRS/ICANS, coarse enough that float noise never shows in the JSON.
_DURATION_DECIMALS = 3


@dataclass(frozen=True)
class EpisodeSummary:
    """Maximum grade and, when every observation is timed, the episode's timing.

    ``timed`` is False when at least one observation lacks ``observed_at``; the timing fields
    are then None because they could not be computed, not because nothing happened.
    ``not_gradable_after_resolution``: indices of the not-gradable observations after
    ``resolved_at`` (empty when unresolved or untimed); the resolution holds as observed, but
    whether the episode stayed resolved there is not known.
    """

    max_grade: int | None
    peak_index: int | None
    onset: Timestamp | None
    peak_at: Timestamp | None
    resolved_at: Timestamp | None
    duration_days: float | None
    timed: bool = False
    not_gradable_after_resolution: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The contract's timing keys and ``not_gradable_after_resolution``, for merging into
        an episode result (CRS, ICANS and cytopenia alike); empty when untimed.

        ``max_grade``/``peak_index`` are left to the caller because each command names the
        maximum differently (``grade``, ``worst``).
        """
        if not self.timed:
            return {}
        return {
            "onset": _iso(self.onset),
            "peak_at": _iso(self.peak_at),
            "resolved_at": _iso(self.resolved_at),
            "duration_days": self.duration_days,
            "not_gradable_after_resolution": list(self.not_gradable_after_resolution),
        }

    def resolution_reasons(self) -> tuple[str, ...]:
        """The reason every episode grader adds when not-gradable observations follow the
        resolution: it holds as observed, but a recurrence there cannot be excluded (empty
        otherwise)."""
        if not self.not_gradable_after_resolution or self.resolved_at is None:
            return ()
        after = ", ".join(f"[{i}]" for i in self.not_gradable_after_resolution)
        return (
            f"resolved at {self.resolved_at.isoformat()} (first grade 0 after the last grade "
            f"≥1), known only as of then: {after} after it not gradable, where a recurrence "
            "cannot be excluded",
        )


def _iso(value: Timestamp | None) -> str | None:
    return None if value is None else value.isoformat()


def _as_datetime(value: Timestamp) -> datetime.datetime:
    # A plain date is midnight of that day (contract: "ISO 8601 date or date-time").
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime(value.year, value.month, value.day)


def _is_aware(value: Timestamp) -> bool:
    return isinstance(value, datetime.datetime) and value.utcoffset() is not None


def _check_grades(grades: Sequence[int | None]) -> None:
    problems = [
        (f"[{i}].grade", f"grade must be a non-negative integer, got {g!r}")
        for i, g in enumerate(grades)
        if g is not None and (isinstance(g, bool) or not isinstance(g, int) or g < 0)
    ]
    if problems:
        raise ClinicalInputError(problems)


def _check_times(observed_at: Sequence[Timestamp]) -> list[datetime.datetime]:
    """Comparable datetimes, or ClinicalInputError for mixed awareness or reversed order."""
    # Fast path for the common series of naive datetimes (the ADaM derivation summarises
    # ~40k of them): no per-item function calls; anything else takes the general path.
    if all(type(t) is datetime.datetime and t.tzinfo is None for t in observed_at):
        naive = cast(list[datetime.datetime], list(observed_at))  # checked just above
        if all(naive[i - 1] <= naive[i] for i in range(1, len(naive))):
            return naive
    aware = [_is_aware(t) for t in observed_at]
    if any(aware) and not all(aware):
        # A naive value (or a plain date) has no offset, so comparing it with an aware one
        # would silently assume a zone: refuse rather than guess.
        first_naive = aware.index(False)
        raise ClinicalInputError.single(
            f"[{first_naive}].observed_at",
            "time zone missing: mixes a time zone-aware observed_at with a naive one "
            f"({observed_at[first_naive].isoformat()}); give every observed_at an offset "
            "or none",
        )
    moments = [_as_datetime(t) for t in observed_at]
    problems = [
        (
            f"[{i}].observed_at",
            f"out of time order: {observed_at[i].isoformat()} is before "
            f"{observed_at[i - 1].isoformat()} ([{i - 1}].observed_at)",
        )
        for i in range(1, len(moments))
        if moments[i] < moments[i - 1]
    ]
    if problems:
        raise ClinicalInputError(problems)
    return moments


def _duration_days(onset: Timestamp, resolved: Timestamp) -> float:
    if not isinstance(onset, datetime.datetime) and not isinstance(resolved, datetime.datetime):
        return (resolved - onset).days
    delta = _as_datetime(resolved) - _as_datetime(onset)
    return round(delta.total_seconds() / _SECONDS_PER_DAY, _DURATION_DECIMALS)


def summarise_episode(
    grades: Sequence[int | None],
    observed_at: Sequence[Timestamp | None],
) -> EpisodeSummary:
    """Summarise one episode.

    ``grades[i]`` is the grade of observation ``i`` (None = not gradable, ignored);
    ``observed_at[i]`` its time (date or datetime) or None. Both sequences have one item per
    observation, in input order.

    Raises ClinicalInputError when the lengths differ, a grade is negative, or (for a timed
    series) times go backwards or mix time zone-aware and naive values. Equal times are
    allowed (two observations charted at the same minute).
    """
    if len(grades) != len(observed_at):
        raise ClinicalInputError.single(
            "observed_at",
            f"{len(observed_at)} observed_at values for {len(grades)} grades",
        )
    _check_grades(grades)

    graded = [(i, g) for i, g in enumerate(grades) if g is not None]
    max_grade = max((g for _, g in graded), default=None)
    peak_index = next((i for i, g in graded if g == max_grade), None)

    timed = all(t is not None for t in observed_at)
    if not timed:
        return EpisodeSummary(max_grade, peak_index, None, None, None, None, timed=False)

    times: list[Timestamp] = [t for t in observed_at if t is not None]
    _check_times(times)

    positive = [i for i, g in graded if g >= 1]
    if not positive:
        peak_at = times[peak_index] if peak_index is not None else None
        return EpisodeSummary(max_grade, peak_index, None, peak_at, None, None, timed=True)

    onset = times[positive[0]]
    last_positive = positive[-1]
    resolved_index = next((i for i, g in graded if i > last_positive and g == 0), None)
    resolved_at = times[resolved_index] if resolved_index is not None else None
    duration = _duration_days(onset, resolved_at) if resolved_at is not None else None
    peak_at = times[peak_index] if peak_index is not None else None
    unconfirmed = (
        ()
        if resolved_index is None
        else tuple(i for i in range(resolved_index + 1, len(grades)) if grades[i] is None)
    )
    return EpisodeSummary(
        max_grade,
        peak_index,
        onset,
        peak_at,
        resolved_at,
        duration,
        timed=True,
        not_gradable_after_resolution=unconfirmed,
    )


def episode_peak(
    grades: Sequence[int], observed_at: Sequence[Timestamp | None]
) -> tuple[EpisodeSummary, int]:
    """The summary of a graded series and the index of its peak (the first maximum).

    Raises ClinicalInputError for an empty series, and as :func:`summarise_episode`.
    """
    if not grades:
        raise ClinicalInputError.single("[]", "an episode needs at least one observation")
    summary = summarise_episode(grades, observed_at)
    return summary, summary.peak_index if summary.peak_index is not None else 0


def split_episodes(grades: Sequence[int | None], times: Sequence[datetime.datetime]) -> list[int]:
    """Start indices of the episodes in a graded, time-ordered series (the first is 0).

    A new episode starts at an observation with grade ≥1 more than :data:`EPISODE_GAP_DAYS`
    days after the current one resolved (its first grade 0 after a grade ≥1). A
    not-gradable observation (None, contract v2 item 1) neither starts nor resolves one.
    Causal: whether observation ``i`` starts an episode depends on items ``0..i`` only.
    """
    starts = [0]
    active = False
    resolved_at: datetime.datetime | None = None
    for i, (grade, when) in enumerate(zip(grades, times, strict=True)):
        if grade is None:
            continue
        if grade >= 1:
            if resolved_at is not None and (when - resolved_at).days > EPISODE_GAP_DAYS:
                starts.append(i)
            active, resolved_at = True, None
        elif active:
            active, resolved_at = False, when
    return starts


class _GradedObservation(Protocol):
    @property
    def grade(self) -> int | None: ...


class GradedEpisode(Protocol):
    """What an episode grader returns (``CrsEpisode``, ``IcansEpisode``)."""

    @property
    def observations(self) -> Sequence[_GradedObservation]: ...


_Observation = TypeVar("_Observation")
_Episode = TypeVar("_Episode", bound=GradedEpisode)


def grade_by_episode(
    observations: Sequence[_Observation],
    times: Sequence[datetime.datetime],
    grade_episode: Callable[[Sequence[_Observation]], _Episode],
) -> list[tuple[int, _Episode]]:
    """A patient's time-ordered series split into episodes, each graded on its own
    observations by *grade_episode*: ``(start index, episode)`` in order.

    The boundary is decided on the grades of the current episode: the observations from its
    start are graded as that episode (so therapy given in an earlier episode never counts
    here), and :func:`split_episodes` finds the first observation that starts the next one.
    Grading the whole series as one episode instead would let therapy for CRS given in week 1
    lift the fever requirement weeks later, and keep an episode "unresolved" on grades no
    surface reports. Causal, like the graders: an observation's episode and grade depend on
    it and the earlier observations only.
    """
    out: list[tuple[int, _Episode]] = []
    start = 0
    while True:
        rest = grade_episode(observations[start:])
        grades = [g.grade for g in rest.observations]
        starts = split_episodes(grades, times[start:])
        if len(starts) == 1:
            out.append((start, rest))
            return out
        end = start + starts[1]
        # The graders are causal, so this episode's grades are rest's first ones; grading
        # the slice gives its own maximum, timing and reasons.
        out.append((start, grade_episode(observations[start:end])))
        start = end
