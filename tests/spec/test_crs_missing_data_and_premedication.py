"""ASTCT 2019 CRS (Lee DW et al., BBMT 2019;25:625–638 [S1]; clinical-standards.md §1.2,
[S3] PMC8021214 Table 1) as read by contract v2 (cli-contract.md, items 1 and 2): what a
missing temperature and premedication do to the grade. Each vignette is a small clinical
case with the reading that decides it; both sides of every boundary are here (38.0 °C, a
temperature recorded or not, therapy before or at/after the first fever)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pytest

from cartwatch.clinical.crs import (
    CrsObservation,
    OxygenDevice,
    Vasopressor,
    grade_crs,
    grade_crs_episode,
)

O2 = OxygenDevice
NE = Vasopressor.NOREPINEPHRINE


@dataclass(frozen=True)
class Single:
    source: str
    observation: CrsObservation
    grade: int | None
    with_fever: int | None = None  # the grade the reasons state for a fever, when null


SINGLE = [
    Single(
        "v2 item 1: nothing recorded is not 'no CRS' — null, with fever it is grade 1",
        CrsObservation(),
        None,
        1,
    ),
    Single(
        "v2 item 1 (the review's case): hypotension on norepinephrine, no temperature → null; "
        "[S3] Table 1 with fever: one vasopressor → grade 3",
        CrsObservation(hypotension=True, vasopressors=(NE,)),
        None,
        3,
    ),
    Single(
        "v2 item 1 below the cut-off: 37.9 °C recorded, hypotension, no therapy → grade 0 "
        "([S3] Table 1 note: without fever it is not CRS)",
        CrsObservation(temperature_c=37.9, hypotension=True, vasopressors=(NE,)),
        0,
    ),
    Single(
        "v2 item 1 at the cut-off: 38.0 °C is fever ([S3] note 1) → grade 3",
        CrsObservation(temperature_c=38.0, hypotension=True, vasopressors=(NE,)),
        3,
    ),
    Single(
        "[S3][S5] therapy for CRS lifts the fever requirement: no temperature, CPAP → grade 4",
        CrsObservation(antipyretic_or_anticytokine_given=True, oxygen_device=O2.CPAP),
        4,
    ),
    Single(
        "[S10] death due to CRS is grade 5 whatever is missing",
        CrsObservation(death_due_to_crs=True),
        5,
    ),
    Single(
        "v2 item 2, one observation: the flag keeps its v1 meaning (therapy given for CRS) — "
        "37.0 °C, hypotension → grade 2",
        CrsObservation(
            temperature_c=37.0, antipyretic_or_anticytokine_given=True, hypotension=True
        ),
        2,
    ),
]


@pytest.mark.parametrize("case", SINGLE, ids=lambda c: c.source)
def test_single_observation(case: Single) -> None:
    result = grade_crs(case.observation)
    assert result.grade == case.grade
    if case.grade is None:
        assert result.reasons[-1] == (
            "not gradable: temperature not recorded; with fever ≥38.0 °C this is grade "
            f"{case.with_fever}"
        )


@dataclass(frozen=True)
class Episode:
    source: str
    observations: list[CrsObservation]
    grades: list[int | None]
    grade: int | None


EPISODES = [
    Episode(
        "v2 item 2 (the review's case): paracetamol premedication, 37.0 °C, hypotension — "
        "the patient never had a fever: premedication, not CRS → 0, not 2",
        [
            CrsObservation(
                temperature_c=37.0, antipyretic_or_anticytokine_given=True, hypotension=True
            )
        ],
        [0],
        0,
    ),
    Episode(
        "v2 item 2: the same observation with a fever documented at home before the "
        "therapy (fever_before_therapy) is CRS treated with an antipyretic → 2",
        [
            CrsObservation(
                temperature_c=37.0,
                antipyretic_or_anticytokine_given=True,
                fever_before_therapy=True,
                hypotension=True,
            )
        ],
        [2],
        2,
    ),
    Episode(
        "Lee 2019 [S1] 'patients who have CRS then receive antipyretic or anticytokine "
        "therapy': fever 38.0 °C, then tocilizumab, then afebrile hypotension → 1, 1, 2",
        [
            CrsObservation(temperature_c=38.0),
            CrsObservation(temperature_c=38.0, antipyretic_or_anticytokine_given=True),
            CrsObservation(temperature_c=36.8, hypotension=True),
        ],
        [1, 1, 2],
        2,
    ),
    Episode(
        "the same with 37.9 °C (no fever): the therapy is premedication, and the later "
        "afebrile hypotension is not CRS → 0, 0, 0",
        [
            CrsObservation(temperature_c=37.9),
            CrsObservation(temperature_c=37.9, antipyretic_or_anticytokine_given=True),
            CrsObservation(temperature_c=36.8, hypotension=True),
        ],
        [0, 0, 0],
        0,
    ),
    Episode(
        "v2 item 1 in an episode: the grade is the maximum of the gradable observations and "
        "the unmeasured one is listed, not read as 0 or as a resolution",
        [
            CrsObservation(temperature_c=38.9, hypotension=True),
            CrsObservation(oxygen_device=O2.FACE_MASK),
        ],
        [2, None],
        2,
    ),
    Episode(
        "v2 item 1: after therapy for CRS a missing temperature no longer matters ([S3][S5])",
        [
            CrsObservation(temperature_c=39.1, antipyretic_or_anticytokine_given=True),
            CrsObservation(oxygen_device=O2.FACE_MASK),
        ],
        [1, 3],
        3,
    ),
    Episode(
        "v2 item 1: nothing gradable in the whole episode → null",
        [CrsObservation(hypotension=True), CrsObservation(oxygen_device=O2.BLOW_BY)],
        [None, None],
        None,
    ),
]


@pytest.mark.parametrize("case", EPISODES, ids=lambda c: c.source)
def test_episode(case: Episode) -> None:
    episode = grade_crs_episode(case.observations)
    assert [o.grade for o in episode.observations] == case.grades
    assert episode.grade == case.grade
    assert list(episode.not_gradable) == [i for i, g in enumerate(case.grades) if g is None]


# --- resolution around a not-gradable observation (contract "Conventions": resolved_at is the
# first observation with grade 0 after the last with grade ≥1; v2 item 1: a null is neither) --
# Daily observations from 1 May; fever with hypotension on day 1 (grade 2).


def _day(n: int) -> dt.date:
    return dt.date(2024, 5, n)


FEVER_HYPOTENSION = CrsObservation(temperature_c=39.0, hypotension=True)
AFEBRILE = CrsObservation(temperature_c=37.0)
# Temperature not charted, hypotension again: with fever this is grade 2 (a recurrence?).
NO_TEMPERATURE = CrsObservation(hypotension=True)


@dataclass(frozen=True)
class Resolution:
    source: str
    observations: list[CrsObservation]
    resolved_day: int | None
    after_resolution: list[int]


RESOLUTIONS = [
    Resolution(
        "the last gradable observation is grade 0 and a later one is not gradable: the "
        "observed resolution stands (not lost), and the null after it is named (not read as "
        "'still resolved', which would be reading it as grade 0)",
        [FEVER_HYPOTENSION, AFEBRILE, NO_TEMPERATURE],
        2,
        [2],
    ),
    Resolution(
        "the other side: no later observation, the resolution is confirmed to the end",
        [FEVER_HYPOTENSION, AFEBRILE],
        2,
        [],
    ),
    Resolution(
        "the null between grade ≥1 and grade 0 is not the resolution: resolved at the grade 0",
        [FEVER_HYPOTENSION, NO_TEMPERATURE, AFEBRILE],
        3,
        [],
    ),
    Resolution(
        "a null after grade ≥1 with nothing gradable after it: unresolved",
        [FEVER_HYPOTENSION, NO_TEMPERATURE],
        None,
        [],
    ),
    Resolution(
        "a null after the resolution, then an observed grade 0: resolved at the first 0, the "
        "null between is named (a recurrence there cannot be excluded)",
        [FEVER_HYPOTENSION, AFEBRILE, NO_TEMPERATURE, AFEBRILE],
        2,
        [2],
    ),
    Resolution(
        "a null after the resolution, then an observed recurrence: the episode re-opens, "
        "unresolved",
        [FEVER_HYPOTENSION, AFEBRILE, NO_TEMPERATURE, FEVER_HYPOTENSION],
        None,
        [],
    ),
]


@pytest.mark.parametrize("case", RESOLUTIONS, ids=lambda c: c.source)
def test_resolution_around_a_not_gradable_observation(case: Resolution) -> None:
    timed = [replace(o, observed_at=_day(i + 1)) for i, o in enumerate(case.observations)]
    result = grade_crs_episode(timed).to_dict()
    expected = None if case.resolved_day is None else _day(case.resolved_day).isoformat()
    assert result["resolved_at"] == expected
    assert result["not_gradable_after_resolution"] == case.after_resolution
    assert result["duration_days"] == (None if case.resolved_day is None else case.resolved_day - 1)
    said = [r for r in result["reasons"] if "a recurrence cannot be excluded" in r]
    if case.after_resolution:
        assert said == [
            f"resolved at {expected} (first grade 0 after the last grade ≥1), known only as of "
            f"then: {', '.join(f'[{i}]' for i in case.after_resolution)} after it not "
            "gradable, where a recurrence cannot be excluded"
        ]
    else:
        assert said == []
