"""Loading, validating and writing a centre data folder (centre/loader.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cartwatch.centre.loader import (
    FILE_SPECS,
    CentreData,
    CentreDataError,
    Problem,
    load_centre_dir,
    write_centre_dir,
)
from cartwatch.synth.cohort import synthesize

TODAY = dt.date(2026, 1, 1)


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A small valid folder: two patients, one infused with CRS/ICANS observations."""
    _write(
        tmp_path,
        "patients.csv",
        "patient_id,centre_id,age_years,sex,diagnosis,del17p,consent_research\n"
        "P1,C1,65,F,CLL,true,true\n"
        "P2,C2,70,M,SLL,,false\n",
    )
    _write(
        tmp_path,
        "cell_therapy.csv",
        "patient_id,product,apheresis_date,lymphodepletion_start,infusion_date,"
        "dose_10e6_car_t_cells\n"
        "P1,liso-cel,2024-04-01,2024-04-20,2024-04-25,100\n"
        "P2,liso-cel,2024-04-01,,,\n",
    )
    _write(
        tmp_path,
        "crs_observations.csv",
        "patient_id,observed_at,temperature_c,vasopressors,oxygen_device,oxygen_flow_l_min\n"
        "P1,2024-04-27T08:00,38.5,norepinephrine,nasal_cannula,2\n"
        "P1,2024-04-28T08:00,37.0,,,\n",
    )
    _write(
        tmp_path,
        "icans_observations.csv",
        "patient_id,observed_at,age_years,ice_items.orientation,ice_items.naming,"
        "ice_items.commands,ice_items.writing,ice_items.attention\n"
        "P1,2024-04-28,65,4,3,1,1,0\n",
    )
    _write(
        tmp_path,
        "prior_lines.csv",
        "patient_id,line_number,agents,outcome\nP1,1,ibrutinib,refractory\n"
        "P1,2,venetoclax;rituximab,progression\n",
    )
    return tmp_path


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(CentreDataError) as info:
        load_centre_dir(path, today=TODAY)
    return info.value.problems


def _keys(problems: list[Problem]) -> set[tuple[str, int, str]]:
    return {(p.file, p.row, p.field) for p in problems}


def test_valid_folder_loads_with_cell_conversion(folder: Path) -> None:
    data = load_centre_dir(folder, today=TODAY)
    assert [p.patient_id for p in data.patients] == ["P1", "P2"]
    assert data.patients[1].del17p is None
    assert data.prior_lines[1].agents == ["venetoclax", "rituximab"]
    assert data.icans_observations[0].ice_items is not None
    assert data.icans_observations[0].ice_items.attention == 0
    assert data.cell_therapy[1].infusion_date is None
    assert data.treatments == ()  # absent optional file = no rows


def test_round_trip_is_exact(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    data = load_centre_dir(folder, today=TODAY)
    out = tmp_path_factory.mktemp("out")
    write_centre_dir(data, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(s.filename for s in FILE_SPECS)
    assert load_centre_dir(out, today=TODAY) == data


def test_synthetic_cohort_round_trips(tmp_path: Path) -> None:
    data = synthesize(25, seed=3)
    write_centre_dir(data, tmp_path)
    assert load_centre_dir(tmp_path) == data


def test_frames_are_typed(folder: Path) -> None:
    frames = load_centre_dir(folder, today=TODAY).frames()
    assert set(frames) == {s.stem for s in FILE_SPECS}
    patients = frames["patients"]
    assert patients["age_years"].dtype == "Int64"
    assert patients["del17p"].dtype == "boolean"
    assert pd.isna(patients["del17p"].iloc[1])
    assert frames["cell_therapy"]["infusion_date"].dtype.kind == "M"
    assert frames["icans_observations"]["ice_items.naming"].tolist() == [3]
    assert frames["treatments"].empty and "given_at" in frames["treatments"]


def test_cell_problems_are_all_reported_with_file_row_field(folder: Path) -> None:
    _write(
        folder,
        "patients.csv",
        "patient_id,centre_id,age_years,sex,diagnosis,del17p,consent_research\n"
        "P1,C1,65,F,CLL,true,true\n"
        "P2,C2,x,Q,CLL,yes,\n",
    )
    problems = _problems(folder)
    assert {
        ("patients.csv", 2, "age_years"),
        ("patients.csv", 2, "sex"),
        ("patients.csv", 2, "del17p"),
        ("patients.csv", 2, "consent_research"),
    } <= _keys(problems)
    assert all(p.line == 3 for p in problems if p.file == "patients.csv")
    assert "patients.csv:2:sex:" in str(problems[1]) or any(
        str(p).startswith("patients.csv:2:sex:") for p in problems
    )


def test_header_problems(folder: Path) -> None:
    _write(folder, "followup.csv", "patient_id,event_date,evnt\n")
    _write(folder, "labs.csv", "observed_at,neutrophils_10e9_l\n")
    _write(folder, "notes.csv", "x\n")
    keys = _keys(_problems(folder))
    assert ("followup.csv", 0, "evnt") in keys  # unknown column
    assert ("followup.csv", 0, "event") in keys  # required column missing
    assert ("labs.csv", 0, "patient_id") in keys
    assert ("notes.csv", 0, "") in keys  # unknown file


def test_missing_required_file(folder: Path) -> None:
    (folder / "cell_therapy.csv").unlink()
    assert ("cell_therapy.csv", 0, "") in _keys(_problems(folder))


def test_clinical_contradiction_reported(folder: Path) -> None:
    _write(
        folder,
        "crs_observations.csv",
        "patient_id,observed_at,oxygen_device\nP1,2024-04-27,nasal_cannula\n",
    )
    keys = _keys(_problems(folder))
    assert ("crs_observations.csv", 1, "oxygen_flow_l_min") in keys


def test_a_b_count_above_the_total_is_a_problem_on_its_field(folder: Path) -> None:
    """B lymphocytes are counted within the lymphocytes: row 2 (B 8.5 of a total 8) is
    refused, row 1 (B = total) is not."""
    _write(
        folder,
        "response_assessments.csv",
        "patient_id,assessed_at,timepoint,lymphocytes_10e9_l,b_lymphocytes_10e9_l\n"
        "P1,2024-04-10,baseline,8,8\n"
        "P1,2024-05-25,post,8,8.5\n",
    )
    [problem] = _problems(folder)
    assert (problem.file, problem.row, problem.field) == (
        "response_assessments.csv",
        2,
        "b_lymphocytes_10e9_l",
    )
    assert problem.message == (
        "B lymphocytes (8.5 ×10⁹/L) cannot exceed total lymphocytes (8 ×10⁹/L)"
    )


def test_repeated_contradiction_reported_on_every_row(folder: Path) -> None:
    """The loader computes the engine check once per distinct set of clinical cells; every
    row with that set must still get its own problem (file, row, line, field)."""
    _write(
        folder,
        "crs_observations.csv",
        "patient_id,observed_at,oxygen_device,temperature_c\n"
        "P1,2024-04-27,nasal_cannula,38.5\n"
        "P1,2024-04-28,none,38.5\n"
        "P1,2024-04-29,nasal_cannula,38.5\n"
        "P1,2024-04-30T08:00, nasal_cannula ,38.5\n",
    )
    problems = [p for p in _problems(folder) if p.field == "oxygen_flow_l_min"]
    assert [(p.row, p.line) for p in problems] == [(1, 2), (3, 4), (4, 5)]
    assert len({p.message for p in problems}) == 1


def test_cell_problems_in_row_order_with_wrong_cell_counts(folder: Path) -> None:
    _write(
        folder,
        "patients.csv",
        "patient_id,centre_id,age_years,sex,diagnosis,consent_research\n"
        "P1,C1,65,X,CLL,true\nP2,C2\nP3,C2,70,M,SLL,yes\n,,,,,\n",
    )
    problems = [p for p in _problems(folder) if p.file == "patients.csv"]
    assert [(p.row, p.field) for p in problems] == [(1, "sex"), (2, ""), (3, "consent_research")]


def test_cross_file_problems(folder: Path) -> None:
    _write(
        folder,
        "patients.csv",
        "patient_id,centre_id,age_years,sex,diagnosis,consent_research\n"
        "P1,C1,65,F,CLL,true\nP2,C2,70,M,SLL,false\nP1,C1,65,F,CLL,true\n",
    )
    _write(
        folder,
        "cell_therapy.csv",
        "patient_id,product,apheresis_date,lymphodepletion_start,infusion_date\n"
        "P1,liso-cel,2024-04-01,2024-04-20,2024-04-18\n"
        "P9,liso-cel,2024-04-01,,\n",
    )
    _write(
        folder,
        "prior_lines.csv",
        "patient_id,line_number,agents\nP1,1,ibrutinib\nP1,1,venetoclax\n",
    )
    _write(
        folder,
        "crs_observations.csv",
        "patient_id,observed_at,temperature_c\nP1,2024-04-10,38.5\nP2,2024-04-28,38.5\n",
    )
    _write(
        folder,
        "response_assessments.csv",
        "patient_id,assessed_at,timepoint\nP1,2024-04-10,post\nP1,2024-04-30,baseline\n"
        "P1,2024-04-11,baseline\n",
    )
    _write(
        folder,
        "followup.csv",
        "patient_id,event_date,event,death_cause\nP1,2024-06-01,death,infection\n"
        "P1,2024-07-01,last_contact,\nP1,2027-01-01,progression,\n",
    )
    keys = _keys(_problems(folder))
    expected = {
        ("patients.csv", 3, "patient_id"),  # duplicate
        ("cell_therapy.csv", 1, "infusion_date"),  # before lymphodepletion
        ("cell_therapy.csv", 2, "patient_id"),  # unknown patient
        ("prior_lines.csv", 2, "line_number"),  # duplicate line
        ("crs_observations.csv", 1, "observed_at"),  # before infusion
        ("crs_observations.csv", 2, "observed_at"),  # patient not infused
        ("response_assessments.csv", 1, "assessed_at"),  # post before infusion
        ("response_assessments.csv", 2, "assessed_at"),  # baseline after infusion
        ("response_assessments.csv", 3, "timepoint"),  # second baseline
        ("followup.csv", 2, "event_date"),  # after death
        ("followup.csv", 3, "event_date"),  # in the future
    }
    assert expected <= keys, expected - keys


def test_nothing_returned_on_error_even_if_most_rows_are_valid(folder: Path) -> None:
    good = load_centre_dir(folder, today=TODAY)
    assert isinstance(good, CentreData)
    text = (folder / "crs_observations.csv").read_text() + "P1,2024-04-29T08:00,99,,,\n"
    _write(folder, "crs_observations.csv", text)
    problems = _problems(folder)
    assert [(p.file, p.row, p.field) for p in problems] == [
        ("crs_observations.csv", 3, "temperature_c")
    ]


def test_wrong_cell_count_and_blank_lines(folder: Path) -> None:
    text = (folder / "patients.csv").read_text() + "\nP3,C1,60\n"
    _write(folder, "patients.csv", text)
    problems = _problems(folder)
    assert [(p.row, p.line) for p in problems] == [(4, 5)]


def test_not_a_folder(tmp_path: Path) -> None:
    shutil.rmtree(tmp_path)
    assert _problems(tmp_path)[0].message == "not a folder"


def test_bytes_that_are_not_utf8_are_a_problem_naming_the_line(folder: Path) -> None:
    path = folder / "patients.csv"
    path.write_bytes(path.read_bytes() + b"P3,C1,61,F,CLL,,tr\xffue\n")
    with pytest.raises(CentreDataError) as raised:
        load_centre_dir(folder, today=TODAY)
    # Only the cause: the other files' rows are not also reported as unknown patients.
    assert [str(p) for p in raised.value.problems] == [
        "patients.csv:0:: not UTF-8 text: byte 0xff on line 4"
    ]
    assert raised.value.problems[0].line == 4


def test_a_cell_too_large_for_the_csv_reader_is_a_problem(folder: Path) -> None:
    path = folder / "followup.csv"
    path.write_text(
        "patient_id,event_date,event,detail\n" + f'P1,2025-01-01,last_contact,"{"x" * 200_000}"\n',
        encoding="utf-8",
    )
    with pytest.raises(CentreDataError) as raised:
        load_centre_dir(folder, today=TODAY)
    [problem] = raised.value.problems
    assert problem.file == "followup.csv" and "not readable as CSV" in problem.message


def test_a_number_cell_is_a_plain_decimal_number(folder: Path) -> None:
    """float() would read "3_9" as 39 (a fever) and "1_0" as 10 L/min; a centre file's
    number cells are plain decimal numbers, anything else is a problem on its field."""
    _write(
        folder,
        "crs_observations.csv",
        "patient_id,observed_at,temperature_c,vasopressors,oxygen_device,oxygen_flow_l_min\n"
        "P1,2024-04-27T08:00,3_9,,,\n"
        "P1,2024-04-28T08:00,38.5,,nasal_cannula,1_0\n"
        "P1,2024-04-29T08:00,٣٨,,,\n",
    )
    assert {
        ("crs_observations.csv", 1, "temperature_c"),
        ("crs_observations.csv", 2, "oxygen_flow_l_min"),
        ("crs_observations.csv", 3, "temperature_c"),
    } <= _keys(_problems(folder))
