"""Episode timing: onset, peak, resolution, duration (cli-contract.md, "Conventions")."""

from __future__ import annotations

import datetime as dt

import pytest

from cartwatch.clinical.episodes import EpisodeSummary, summarise_episode
from cartwatch.clinical.errors import ClinicalInputError

D = dt.date
T = dt.datetime
UTC = dt.UTC


def test_onset_is_first_observation_with_grade_at_least_one() -> None:
    s = summarise_episode(
        [0, 1, 2, 0], [D(2024, 5, 1), D(2024, 5, 2), D(2024, 5, 3), D(2024, 5, 6)]
    )
    assert s.onset == D(2024, 5, 2)
    assert s.timed is True


def test_peak_is_first_index_of_the_maximum() -> None:
    s = summarise_episode([1, 3, 2, 3, 0], [D(2024, 5, d) for d in (1, 2, 3, 4, 5)])
    assert (s.max_grade, s.peak_index, s.peak_at) == (3, 1, D(2024, 5, 2))


def test_resolution_and_duration_in_whole_days_for_dates() -> None:
    s = summarise_episode([1, 2, 0], [D(2024, 5, 1), D(2024, 5, 3), D(2024, 5, 7)])
    assert s.resolved_at == D(2024, 5, 7)
    assert s.duration_days == 6
    assert isinstance(s.duration_days, int)


def test_recurrence_reopens_the_episode() -> None:
    s = summarise_episode([1, 0, 2, 0], [D(2024, 5, d) for d in (1, 2, 3, 5)])
    assert s.resolved_at == D(2024, 5, 5)
    assert s.duration_days == 4


def test_unresolved_episode_has_no_resolution_or_duration() -> None:
    s = summarise_episode([0, 1, 2], [D(2024, 5, d) for d in (1, 2, 3)])
    assert s.resolved_at is None
    assert s.duration_days is None
    assert s.to_dict()["resolved_at"] is None
    assert s.to_dict()["duration_days"] is None


def test_ending_on_recurrence_is_unresolved() -> None:
    s = summarise_episode([1, 0, 1], [D(2024, 5, d) for d in (1, 2, 3)])
    assert s.resolved_at is None


def test_none_grades_are_ignored() -> None:
    s = summarise_episode([None, 2, None, 0], [D(2024, 5, d) for d in (1, 2, 3, 4)])
    assert (s.max_grade, s.peak_index, s.onset, s.resolved_at) == (
        2,
        1,
        D(2024, 5, 2),
        D(2024, 5, 4),
    )


def test_none_grade_after_last_positive_does_not_resolve() -> None:
    s = summarise_episode([2, None], [D(2024, 5, 1), D(2024, 5, 2)])
    assert s.resolved_at is None


def test_all_none_grades_give_no_maximum() -> None:
    s = summarise_episode([None, None], [D(2024, 5, 1), D(2024, 5, 2)])
    assert (s.max_grade, s.peak_index, s.onset, s.peak_at) == (None, None, None, None)


def test_never_positive_has_no_onset() -> None:
    s = summarise_episode([0, 0], [D(2024, 5, 1), D(2024, 5, 2)])
    assert (s.max_grade, s.onset, s.resolved_at, s.duration_days) == (0, None, None, None)


def test_untimed_when_any_observed_at_missing() -> None:
    s = summarise_episode([1, 2, 0], [D(2024, 5, 1), None, D(2024, 5, 3)])
    assert s.timed is False
    assert (s.max_grade, s.peak_index) == (2, 1)
    assert (s.onset, s.peak_at, s.resolved_at, s.duration_days) == (None, None, None, None)
    assert s.to_dict() == {}


def test_untimed_series_is_not_checked_for_order() -> None:
    s = summarise_episode([1, 0], [D(2024, 5, 2), None])
    assert s.timed is False


def test_datetimes_give_fractional_days_rounded_to_three_decimals() -> None:
    s = summarise_episode([1, 0], [T(2024, 5, 1, 8, 0), T(2024, 5, 2, 16, 17)])
    # 32 h 17 min = 1.3451388… days
    assert s.duration_days == pytest.approx(1.345, abs=0)
    assert isinstance(s.duration_days, float)


def test_dates_and_datetimes_mix_with_date_as_midnight() -> None:
    s = summarise_episode([1, 0], [D(2024, 5, 1), T(2024, 5, 2, 12, 0)])
    assert s.duration_days == 1.5
    assert isinstance(s.duration_days, float)


def test_mixed_date_then_earlier_datetime_same_day_is_fine_at_midnight() -> None:
    s = summarise_episode([1, 0], [D(2024, 5, 1), T(2024, 5, 1, 0, 0)])
    assert s.duration_days == 0.0


def test_aware_datetimes_compare_across_offsets() -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    s = summarise_episode([1, 0], [T(2024, 5, 1, 10, tzinfo=plus2), T(2024, 5, 1, 9, tzinfo=UTC)])
    assert s.duration_days == pytest.approx(1 / 24, abs=1e-3)


def test_aware_and_naive_cannot_be_mixed() -> None:
    with pytest.raises(ClinicalInputError) as exc:
        summarise_episode([1, 0], [T(2024, 5, 1, tzinfo=UTC), T(2024, 5, 2)])
    assert exc.value.problems[0][0] == "[1].observed_at"


def test_aware_and_plain_date_cannot_be_mixed() -> None:
    with pytest.raises(ClinicalInputError) as exc:
        summarise_episode([1, 0], [D(2024, 5, 1), T(2024, 5, 2, tzinfo=UTC)])
    assert exc.value.problems[0][0] == "[0].observed_at"


def test_out_of_time_order_names_the_later_item() -> None:
    with pytest.raises(ClinicalInputError) as exc:
        summarise_episode([0, 1, 2], [D(2024, 5, 1), D(2024, 5, 3), D(2024, 5, 2)])
    path, message = exc.value.problems[0]
    assert path == "[2].observed_at"
    assert message.startswith("out of time order: 2024-05-02 is before 2024-05-03")


def test_equal_times_are_in_order() -> None:
    s = summarise_episode([1, 0], [D(2024, 5, 1), D(2024, 5, 1)])
    assert s.duration_days == 0


def test_out_of_order_is_checked_even_on_none_grades() -> None:
    with pytest.raises(ClinicalInputError):
        summarise_episode([None, None], [D(2024, 5, 2), D(2024, 5, 1)])


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ClinicalInputError):
        summarise_episode([1, 0], [D(2024, 5, 1)])


@pytest.mark.parametrize("bad", [-1, True])
def test_bad_grade_is_an_error(bad: int) -> None:
    with pytest.raises(ClinicalInputError) as exc:
        summarise_episode([0, bad], [None, None])
    assert exc.value.problems == [
        ("[1].grade", f"grade must be a non-negative integer, got {bad!r}")
    ]


def test_empty_series() -> None:
    s = summarise_episode([], [])
    assert s == EpisodeSummary(None, None, None, None, None, None, timed=True)


def test_to_dict_iso_strings() -> None:
    s = summarise_episode([2, 0], [T(2024, 5, 1, 6, 30), T(2024, 5, 3, 6, 30)])
    assert s.to_dict() == {
        "onset": "2024-05-01T06:30:00",
        "peak_at": "2024-05-01T06:30:00",
        "resolved_at": "2024-05-03T06:30:00",
        "duration_days": 2.0,
        "not_gradable_after_resolution": [],
    }
    assert s.resolution_reasons() == ()


def test_not_gradable_after_resolution_in_to_dict_and_its_one_reason() -> None:
    times = [T(2024, 5, d, 6, 30) for d in (1, 3, 4, 5)]
    s = summarise_episode([2, 0, None, None], times)
    assert s.to_dict()["not_gradable_after_resolution"] == [2, 3]
    assert s.resolution_reasons() == (
        "resolved at 2024-05-03T06:30:00 (first grade 0 after the last grade ≥1), known only "
        "as of then: [2], [3] after it not gradable, where a recurrence cannot be excluded",
    )
    untimed = summarise_episode([2, 0, None], [None, None, None])
    assert untimed.to_dict() == {} and untimed.resolution_reasons() == ()


def test_summary_is_frozen() -> None:
    s = summarise_episode([1], [None])
    with pytest.raises(AttributeError):
        s.max_grade = 2  # type: ignore[misc]
