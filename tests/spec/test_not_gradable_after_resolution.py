"""A not-gradable observation after an episode's resolution, for CRS, ICANS and cytopenia.

Contract "Conventions" (cli-contract.md): ``resolved_at`` is the first grade 0 after the
last grade ≥1; contract v2 item 1: missing data is never grade 0. So the observed
resolution stands, and the not-gradable observations after it are listed in
``not_gradable_after_resolution`` with a reason (a recurrence there cannot be excluded),
reported the same way by all three episode graders through one helper
(``EpisodeSummary.to_dict`` / ``resolution_reasons``). Both sides for each: a null after the
resolution, and a gradable value there (a grade 0 confirms it, a grade ≥1 re-opens it).
CTCAE v5.0 [S11] (clinical-standards.md §5): a neutrophil count at or above the grade-2
cut-off (1.5 ×10⁹/L) without the lab's LLN cannot be told from grade 0 or 1: null.
ICANS (ASTCT 2019): an ICE or CAPD value is required unless the patient is unarousable or
unable to perform CAPD, so every valid ICANS observation is gradable: the list is always
empty, and an observation that could not be graded is refused, never listed as 0.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest

from cartwatch.clinical.crs import CrsObservation, grade_crs_episode
from cartwatch.clinical.cytopenia import (
    CytopeniaObservation,
    LowerLimits,
    grade_cytopenia_series,
)
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.icans import IcansObservation, grade_icans_episode

RECURRENCE_NOT_EXCLUDED = "where a recurrence cannot be excluded"


def _day(n: int) -> dt.date:
    return dt.date(2025, 7, 1) + dt.timedelta(days=n)


def _timed(observations: list[Any]) -> list[Any]:
    return [replace(o, observed_at=_day(i + 1)) for i, o in enumerate(observations)]


def _iso(n: int | None) -> str | None:
    return None if n is None else _day(n).isoformat()


def _said(result: dict[str, Any]) -> list[str]:
    return [r for r in result["reasons"] if RECURRENCE_NOT_EXCLUDED in r]


# --------------------------------------------------------------------------- cytopenia

LLN = LowerLimits(neutrophils_10e9_l=2.0)
NADIR = CytopeniaObservation(neutrophils_10e9_l=0.4)  # <0.5 → 4
RECOVERED = CytopeniaObservation(neutrophils_10e9_l=2.5, lln=LLN)  # ≥LLN → 0
NO_LLN = CytopeniaObservation(neutrophils_10e9_l=1.8)  # ≥1.5 without LLN → null (0 or 1)
BELOW_LLN = CytopeniaObservation(neutrophils_10e9_l=1.8, lln=LLN)  # <LLN → 1


@pytest.mark.parametrize(
    ("series", "resolved_day", "after"),
    [
        pytest.param([NADIR, RECOVERED, NO_LLN], 2, [2], id="null after the resolution: named"),
        pytest.param([NADIR, RECOVERED], 2, [], id="nothing after: confirmed"),
        pytest.param([NADIR, RECOVERED, RECOVERED], 2, [], id="grade 0 after: confirmed"),
        pytest.param([NADIR, RECOVERED, BELOW_LLN], None, [], id="grade 1 after: re-opened"),
        pytest.param([NADIR, NO_LLN, RECOVERED], 3, [], id="null before the 0: not resolution"),
        pytest.param([NADIR, NO_LLN], None, [], id="null after grade 4: unresolved"),
    ],
)
def test_cytopenia(
    series: list[CytopeniaObservation], resolved_day: int | None, after: list[int]
) -> None:
    result = grade_cytopenia_series(_timed(series)).to_dict()
    assert result["resolved_at"] == (
        None if resolved_day is None else _day(resolved_day).isoformat()
    )
    assert result["not_gradable_after_resolution"] == after
    assert result["worst"] == {"neutrophil_count_decreased": 4}
    assert _said(result) == (
        [
            f"resolved at {_iso(resolved_day)} (first grade 0 after the last grade "
            f"≥1), known only as of then: [2] after it not gradable, {RECURRENCE_NOT_EXCLUDED}"
        ]
        if after
        else []
    )


def test_cytopenia_untimed_series_has_no_timing_keys() -> None:
    result = grade_cytopenia_series([NADIR, RECOVERED, NO_LLN]).to_dict()
    assert "not_gradable_after_resolution" not in result and not _said(result)


# --------------------------------------------------------------------------- ICANS


def _ice(score: int) -> IcansObservation:
    return IcansObservation(age_years=60, ice_score=score)


@pytest.mark.parametrize(
    ("scores", "resolved_day"),
    [
        pytest.param([5, 10, 10], 2, id="grade 0 after the resolution: confirmed"),
        pytest.param([5, 10], 2, id="nothing after"),
        pytest.param([5, 10, 8], None, id="grade 1 after: re-opened"),
    ],
)
def test_icans(scores: list[int], resolved_day: int | None) -> None:
    result = grade_icans_episode(_timed([_ice(s) for s in scores])).to_dict()
    assert result["resolved_at"] == (
        None if resolved_day is None else _day(resolved_day).isoformat()
    )
    assert result["not_gradable_after_resolution"] == []
    assert not _said(result)


def test_icans_an_observation_that_cannot_be_graded_is_refused_not_listed() -> None:
    # The other side for ICANS: an awake adult without an ICE or CAPD value cannot be graded,
    # and is refused (exit 2 at the CLI), so it can never follow a resolution as a grade 0.
    with pytest.raises(ClinicalInputError):
        IcansObservation(age_years=60)


# --------------------------------------------------------------------------- all three alike


def test_crs_icans_and_cytopenia_report_it_the_same_way() -> None:
    crs = grade_crs_episode(
        _timed(
            [
                CrsObservation(temperature_c=38.6, hypotension=True),
                CrsObservation(temperature_c=37.0),
                CrsObservation(hypotension=True),  # no temperature: null
            ]
        )
    ).to_dict()
    cytopenia = grade_cytopenia_series(_timed([NADIR, RECOVERED, NO_LLN])).to_dict()
    assert crs["not_gradable_after_resolution"] == cytopenia["not_gradable_after_resolution"]
    assert _said(crs) == _said(cytopenia)
    icans = grade_icans_episode(_timed([_ice(5), _ice(10)])).to_dict()
    timing = ("onset", "peak_at", "resolved_at", "duration_days", "not_gradable_after_resolution")
    for result in (crs, cytopenia, icans):
        assert [k for k in result if k in timing] == list(timing)


def test_the_cli_reports_it_for_cytopenia_and_icans() -> None:
    series = [
        {"neutrophils_10e9_l": 0.4, "observed_at": "2025-07-02"},
        {
            "neutrophils_10e9_l": 2.5,
            "lln": {"neutrophils_10e9_l": 2.0},
            "observed_at": "2025-07-03",
        },
        {"neutrophils_10e9_l": 1.8, "observed_at": "2025-07-04"},
    ]
    done = _run(["grade", "cytopenia", "-"], json.dumps(series))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["resolved_at"], out["not_gradable_after_resolution"]) == ("2025-07-03", [2])
    assert _said(out)
    icans = [
        {"age_years": 60, "ice_score": 5, "observed_at": "2025-07-02"},
        {"age_years": 60, "ice_score": 10, "observed_at": "2025-07-03"},
    ]
    done = _run(["grade", "icans", "-"], json.dumps(icans))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["not_gradable_after_resolution"] == []


def _run(args: list[str], stdin: str) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", *args],
        input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
