"""Plausible dates (contract v2 item 7; schemas/dates.py): years 1900–2100 and no observation,
lab or assessment more than 24 h after now, on both sides of every bound, for every date
field of the CLI's input models and of the centre data format's row models."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pydantic import BaseModel, ValidationError

from cartwatch.centre.loader import FILE_SPECS, CentreDataError, load_centre_dir
from cartwatch.schemas.crs import CrsObservationIn
from cartwatch.schemas.cytopenia import CytopeniaObservationIn
from cartwatch.schemas.dates import check_plausible_date, plausible_date_problem
from cartwatch.schemas.eligibility import EligibilityIn
from cartwatch.schemas.errors import problems_from
from cartwatch.schemas.icans import IcansObservationIn
from cartwatch.schemas.schedule import ScheduleIn

UTC = ZoneInfo("UTC")
#: The clock in these tests: 2026-12-06 10:00 (UTC, which is also the local zone then).
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.fixture()
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _problems(model: type[BaseModel], data: dict[str, Any]) -> list[str]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return problems_from(exc)
    return []


# --- the rule itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (dt.datetime(2026, 12, 7, 10, 0), True),  # exactly 24 h ahead
        (dt.datetime(2026, 12, 7, 10, 1), False),  # 24 h 1 min ahead
        (dt.date(2026, 12, 7), True),  # tomorrow's midnight: 14 h ahead
        (dt.date(2026, 12, 8), False),  # 38 h ahead
        (dt.date(1900, 1, 1), True),
        (dt.date(1899, 12, 31), False),
        (dt.date(1, 1, 1), False),
    ],
    ids=["24h", "24h+1min", "tomorrow", "day-after", "1900", "1899", "year-1"],
)
def test_boundaries_against_the_clock(clock: Any, value: dt.date, ok: bool) -> None:
    assert (plausible_date_problem(value) is None) is ok


def test_a_date_counts_from_its_midnight_on_both_sides_of_24_h(clock: Any) -> None:
    clock.move_to(dt.datetime(2026, 12, 6, 0, 0, tzinfo=UTC))
    assert plausible_date_problem(dt.date(2026, 12, 7)) is None  # exactly 24 h
    clock.move_to(dt.datetime(2026, 12, 5, 23, 59, tzinfo=UTC))
    problem = plausible_date_problem(dt.date(2026, 12, 7))
    assert problem is not None and "2026-12-07 is in the future" in problem


def test_year_2100_is_the_last_even_when_the_clock_is_there() -> None:
    with time_machine.travel(dt.datetime(2100, 12, 31, 12, 0, tzinfo=UTC), tick=False):
        assert plausible_date_problem(dt.datetime(2100, 12, 31, 23, 59)) is None
        problem = plausible_date_problem(dt.datetime(2101, 1, 1, 0, 0))
    assert problem == "year 2101 is outside 1900–2100: 2101-01-01T00:00:00"


def test_a_plan_may_lie_ahead_but_not_outside_the_years(clock: Any) -> None:
    assert plausible_date_problem(dt.date(2100, 12, 31), allow_future=True) is None
    assert plausible_date_problem(dt.date(2101, 1, 1), allow_future=True) is not None
    assert plausible_date_problem(dt.date(1899, 12, 31), allow_future=True) is not None


def test_an_offset_timestamp_is_compared_in_utc(clock: Any) -> None:
    # 2026-12-07T11:00+01:00 is 10:00 UTC: exactly 24 h ahead.
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert plausible_date_problem(dt.datetime(2026, 12, 7, 11, 0, tzinfo=plus_one)) is None
    assert plausible_date_problem(dt.datetime(2026, 12, 7, 11, 1, tzinfo=plus_one)) is not None


def test_an_explicit_now_is_used_instead_of_the_clock() -> None:
    now = dt.datetime(2000, 1, 1, 12, 0)
    assert plausible_date_problem(dt.date(2000, 1, 3), now=now) is not None
    assert plausible_date_problem(dt.date(2000, 1, 2), now=now) is None


def test_check_returns_the_value_or_raises_the_problem(clock: Any) -> None:
    day = dt.date(2026, 1, 1)
    assert check_plausible_date(day) is day
    with pytest.raises(ValueError, match="year 9999 is outside 1900–2100"):
        check_plausible_date(dt.date(9999, 12, 31))


# --- CLI input models --------------------------------------------------------------------

ICANS = {"age_years": 60, "ice_score": 10}


@pytest.mark.parametrize(
    ("model", "base"),
    [
        (CrsObservationIn, {"temperature_c": 37.0}),
        (IcansObservationIn, ICANS),
        (CytopeniaObservationIn, {"neutrophils_10e9_l": 1.0}),
    ],
    ids=["crs", "icans", "cytopenia"],
)
@pytest.mark.parametrize(
    ("observed_at", "ok"),
    [
        ("2026-12-07T10:00", True),
        ("2026-12-07T10:01", False),
        ("2026-12-07", True),
        ("2026-12-08", False),
        ("1900-01-01", True),
        ("1899-12-31T23:59", False),
        ("9999-12-31", False),
        ("0001-01-01", False),
    ],
)
def test_observed_at_of_every_grader(
    clock: Any, model: type[BaseModel], base: dict[str, Any], observed_at: str, ok: bool
) -> None:
    problems = _problems(model, {**base, "observed_at": observed_at})
    if ok:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith("observed_at: "), problems


def test_schedule_plans_a_future_infusion_but_not_year_9999(clock: Any) -> None:
    assert ScheduleIn.model_validate({"product": "liso-cel", "infusion_date": "2027-06-01"})
    problems = _problems(ScheduleIn, {"product": "liso-cel", "infusion_date": "9999-12-31"})
    assert problems == ["infusion_date: year 9999 is outside 1900–2100: 9999-12-31"]


def test_eligibility_decision_date_in_the_years(clock: Any) -> None:
    request = {
        "product": "liso-cel",
        "diagnosis": "CLL",
        "age_years": 60,
        "relapsed_or_refractory": True,
        "prior_lines": [{"agents": ["ibrutinib"]}],
    }
    assert EligibilityIn.model_validate({**request, "as_of": "2027-01-05"})
    assert _problems(EligibilityIn, {**request, "as_of": "1899-12-31"})[0].startswith("as_of: ")


def test_cli_exit_2_with_the_field_path() -> None:
    # The real clock: 24 h plus a year ahead is the future whatever the date is.
    ahead = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    for observed_at, problem in [(ahead, "is in the future"), ("9999-12-31", "year 9999")]:
        run = subprocess.run(
            [sys.executable, "-m", "cartwatch.cli.app", "grade", "crs", "-"],
            input=json.dumps({"temperature_c": 38.5, "observed_at": observed_at}),
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 2 and run.stdout == ""
        assert run.stderr.startswith("observed_at: ") and problem in run.stderr


# --- every date field of the centre data format ------------------------------------------

#: A valid row per file (without its date fields' values changed below).
VALID_ROWS: dict[str, dict[str, Any]] = {
    "patients": {
        "patient_id": "P1",
        "centre_id": "C1",
        "age_years": 60,
        "sex": "F",
        "diagnosis": "CLL",
        "consent_research": True,
        "diagnosis_date": "2020-01-01",
    },
    "prior_lines": {
        "patient_id": "P1",
        "line_number": 1,
        "agents": ["ibrutinib"],
        "start_date": "2021-01-01",
        "end_date": "2021-02-01",
    },
    "cell_therapy": {
        "patient_id": "P1",
        "product": "liso-cel",
        "apheresis_date": "2026-01-01",
        "lymphodepletion_start": "2026-01-20",
        "infusion_date": "2026-01-25",
    },
    "crs_observations": {"patient_id": "P1", "observed_at": "2026-01-26T08:00"},
    "icans_observations": {"patient_id": "P1", "observed_at": "2026-01-26", **ICANS},
    "treatments": {
        "patient_id": "P1",
        "given_at": "2026-01-26T09:00",
        "agent": "tocilizumab",
        "indication": "crs",
    },
    "labs": {"patient_id": "P1", "observed_at": "2026-01-26", "neutrophils_10e9_l": 1.0},
    "response_assessments": {"patient_id": "P1", "assessed_at": "2026-03-01", "timepoint": "post"},
    "mrd": {
        "patient_id": "P1",
        "sampled_at": "2026-03-01",
        "result": "undetectable",
        "sensitivity": 1e-4,
        "sample": "blood",
        "method": "NGS",
    },
    "followup": {"patient_id": "P1", "event_date": "2026-06-01", "event": "last_contact"},
}

DATE_FIELDS = [
    (spec, col.name)
    for spec in FILE_SPECS
    for col in spec.columns
    if col.kind in ("date", "datetime", "timestamp")
]


def test_every_file_has_a_valid_row_and_its_date_fields_are_known() -> None:
    for spec in FILE_SPECS:
        spec.model.model_validate(VALID_ROWS[spec.stem])
    assert len(DATE_FIELDS) == 13, DATE_FIELDS  # a new date column is covered below


@pytest.mark.parametrize(
    ("spec", "name"), DATE_FIELDS, ids=[f"{s.stem}.{n}" for s, n in DATE_FIELDS]
)
@pytest.mark.parametrize(
    ("value", "word"),
    [("9999-12-31", "year 9999"), ("0001-01-01", "year 1"), ("2027-01-20", "in the future")],
)
def test_every_record_date_is_plausible(
    clock: Any, spec: Any, name: str, value: str, word: str
) -> None:
    if spec.stem == "treatments":
        value += "T08:00"  # given_at is a date-time
    problems = _problems(spec.model, {**VALID_ROWS[spec.stem], name: value})
    assert any(p.startswith(f"{name}: ") and word in p for p in problems), problems


# --- the CSV loader ----------------------------------------------------------------------


def _folder(tmp_path: Path, observed_at: str) -> Path:
    (tmp_path / "patients.csv").write_text(
        "patient_id,centre_id,age_years,sex,diagnosis,consent_research\nP1,C1,60,F,CLL,true\n"
    )
    (tmp_path / "cell_therapy.csv").write_text(
        "patient_id,product,apheresis_date,infusion_date\nP1,liso-cel,2026-11-01,2026-12-01\n"
    )
    (tmp_path / "crs_observations.csv").write_text(
        f"patient_id,observed_at,temperature_c\nP1,{observed_at},38.5\n"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("observed_at", "ok"),
    [("2026-12-07T10:00", True), ("2026-12-07T10:01", False), ("9999-12-31", False)],
)
def test_the_loader_refuses_with_file_row_and_field(
    clock: Any, tmp_path: Path, observed_at: str, ok: bool
) -> None:
    folder = _folder(tmp_path, observed_at)
    if ok:
        assert len(load_centre_dir(folder).crs_observations) == 1
        return
    with pytest.raises(CentreDataError) as caught:
        load_centre_dir(folder)
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.field) == ("crs_observations.csv", 1, "observed_at")
