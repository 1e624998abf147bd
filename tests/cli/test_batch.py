"""CSV batch grading: ``cartwatch grade crs|icans|cytopenia --csv IN.csv -o OUT.csv``.

Expected grades are worked by hand from the contract rules (cli-contract.md); the fast CRS
path is also checked against the per-row pydantic path on generated files.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cartwatch.batch.csv_grading import RowGrader, cell, grade_csv, grade_rows
from cartwatch.cli.app import app
from cartwatch.clinical.crs import grade_crs
from cartwatch.schemas.crs import CrsObservationIn


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


CRS_CSV = """\
id,temperature_c,vasopressors,oxygen_device,oxygen_flow_l_min,hypotension,antipyretic_or_anticytokine_given
p1,38.4,,,,,
p2,39.0,norepinephrine;vasopressin,nasal_cannula,4,true,
p3,37.2,,,,true,
p4,37.0,,high_flow_nasal_cannula,,,true
p5,40.1,Dopamine;phenylephrine,cpap,,,
p6,36.9,,,,,true
p7,,norepinephrine,,,true,
"""
# By hand (ASTCT 2019 as in the contract): p1 fever only → 1; p2 fever, one vasopressor
# (vasopressin not counted) → 3, low-flow cannula → 2, worse → 3; p3 no fever, no therapy → 0;
# p4 after therapy, high-flow → 3; p5 two vasopressors → 4, CPAP → 4; p6 therapy, nothing → 0;
# p7 no temperature, no therapy: not gradable (contract v2 item 1) → empty cell, grade 3 with
# a fever named in the reasons.
CRS_GRADES = {"p1": "1", "p2": "3", "p3": "0", "p4": "3", "p5": "4", "p6": "0", "p7": ""}


def test_crs_file_is_graded_row_by_row(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = invoke("grade", "crs", "--csv", write(tmp_path / "in.csv", CRS_CSV), "-o", str(out))
    assert done.exit_code == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == f"7 rows graded into {out}"
    rows = read_rows(out)
    header = CRS_CSV.splitlines()[0].split(",")
    assert list(rows[0]) == [*header, "grade", "reasons"]
    assert {r["id"]: r["grade"] for r in rows} == CRS_GRADES
    assert rows[1]["vasopressors"] == "norepinephrine;vasopressin"  # input cells kept as given
    assert "vasopressin does not count towards multiple" in rows[1]["reasons"]
    assert rows[6]["reasons"].endswith(
        "not gradable: temperature not recorded; with fever ≥38.0 °C this is grade 3"
    )


MIXED_CSV = """\
id,temperature_c,vasopressors,oxygen_device,oxygen_flow_l_min,death_due_to_crs
ok1,38.5,,,,
bad_temp,52,,,,
bad_drug,39,levophed,,,
ok2,39,,blow_by,,

no_flow,39,,nasal_cannula,,
bad_bool,39,,,,yes
short,39
ok3,38.0,,,,TRUE
"""


def test_invalid_rows_are_listed_and_left_out_while_valid_rows_are_graded(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = invoke("grade", "crs", "--csv", write(tmp_path / "in.csv", MIXED_CSV), "-o", str(out))
    assert done.exit_code == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    # Row numbers count data rows after the header; the blank line is skipped, not counted.
    assert lines[:-1] == [
        "row 2: temperature_c: must be a number between 25 and 45",
        "row 3: vasopressors[0]: unknown vasopressor 'levophed'; expected one of: adrenaline, "
        "angiotensin_ii, dopamine, epinephrine, noradrenaline, norepinephrine, phenylephrine, "
        "vasopressin",
        "row 5: oxygen_flow_l_min: required when oxygen_device is nasal_cannula: ≤6 L/min is "
        "grade 2, >6 is grade 3",
        "row 6: death_due_to_crs: must be true or false",
        "row 7: input: has 2 cells, the header has 6",
    ]
    assert lines[-1] == (
        f"5 of 8 rows failed and were not written (rows 2-3, 5-7); 3 rows graded into {out}"
    )
    rows = read_rows(out)
    # ok1 fever → 1; ok2 fever + blow-by → 2; ok3 death due to CRS → 5.
    assert [(r["id"], r["grade"]) for r in rows] == [("ok1", "1"), ("ok2", "2"), ("ok3", "5")]


# Python's float() also reads "3_9" (digit grouping) and "٣٩" (Arabic-Indic digits): a junk
# temperature cell must not become a 39 °C fever, nor "1_0" a 10 L/min flow.
NOT_PLAIN_NUMBERS_CSV = """id,temperature_c,oxygen_device,oxygen_flow_l_min
junk1,3_9,,
junk2,٣٩,,
junk3,39,nasal_cannula,1_0
ok1,+38.5,,
ok2,3.85e1,,
ok3, 38.0 ,,
"""


def test_a_number_cell_is_a_plain_decimal_number(tmp_path: Path) -> None:
    for kind, text, expected in (
        ("crs", NOT_PLAIN_NUMBERS_CSV, "row 1: temperature_c: must be a number between 25 and 45"),
        ("icans", "id,age_years,ice_score\nj,40,1_0\n", "row 1: ice_score: must be an integer"),
        ("cytopenia", "id,platelets_10e9_l\nj,2_0\n", "row 1: platelets_10e9_l: must be a number"),
    ):
        out = tmp_path / f"{kind}.out.csv"
        done = invoke("grade", kind, "--csv", write(tmp_path / f"{kind}.csv", text), "-o", str(out))
        assert done.exit_code == 2
        assert done.stderr.startswith(expected), done.stderr
    rows = read_rows(tmp_path / "crs.out.csv")
    assert [(r["id"], r["grade"]) for r in rows] == [("ok1", "1"), ("ok2", "1"), ("ok3", "1")]


def test_file_level_problems_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    source = write(tmp_path / "in.csv", "id,temperature,hypotension,hypotension\n1,39,true,true\n")
    done = invoke("grade", "crs", "--csv", source, "-o", str(out))
    assert done.exit_code == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "column 2 'temperature': unknown column",
        "column 4 'hypotension': repeated column (ambiguous)",
    ]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "in.csv"]  # no temporary file left


def test_missing_input_file_and_required_column(tmp_path: Path) -> None:
    done = invoke("grade", "icans", "--csv", str(tmp_path / "none.csv"), "-o", "o.csv")
    assert done.exit_code == 2
    assert "none.csv: cannot read file" in done.stderr
    source = write(tmp_path / "in.csv", "id,ice_score\n1,10\n")
    done = invoke("grade", "icans", "--csv", source, "-o", str(tmp_path / "o.csv"))
    assert done.exit_code == 2
    assert done.stderr.strip() == "column 'age_years': required column missing"


ICANS_CSV = """\
id,age_years,ice_items.orientation,ice_items.naming,ice_items.commands,ice_items.writing,\
ice_items.attention,ice_score,consciousness,attributable_to_other_cause
a,64,4,3,1,1,1,,,
b,58,,,,,,5,,
c,71,,,,,,9,awakens_to_touch,consciousness
d,8,,,,,,,,
e,60,4,3,1,,1,,,
"""


def test_icans_file_with_dotted_columns(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = invoke("grade", "icans", "--csv", write(tmp_path / "in.csv", ICANS_CSV), "-o", str(out))
    assert done.exit_code == 2
    lines = done.stderr.strip().splitlines()
    # d: age 8 → CAPD, no CAPD score and not unable → error; e: ice_items incomplete.
    assert any(line.startswith("row 4: ") for line in lines)
    assert "row 5: ice_items.writing: required field missing" in lines
    rows = read_rows(out)
    # a: ICE 10 → 0; b: ICE 5 → 2; c: ICE 9 → 1, touch attributed to another cause.
    assert [(r["id"], r["grade"], r["instrument"]) for r in rows] == [
        ("a", "0", "ICE"),
        ("b", "2", "ICE"),
        ("c", "1", "ICE"),
    ]


def test_cytopenia_file_writes_one_column_per_term(tmp_path: Path) -> None:
    text = (
        "id,neutrophils_10e9_l,platelets_10e9_l,hemoglobin_g_dl,lln.hemoglobin_g_dl\n"
        "x,0.4,80,9.5,\n"  # ANC <0.5 → 4; PLT ≥75, no LLN → empty; Hb <10 → 2
        "y,1.0,,12.5,13.0\n"  # ANC exactly 1.0 → 2 (milder grade); Hb <LLN → 1
    )
    out = tmp_path / "out.csv"
    done = invoke("grade", "cytopenia", "--csv", write(tmp_path / "in.csv", text), "-o", str(out))
    assert done.exit_code == 0, done.stderr
    rows = read_rows(out)
    terms = ["neutrophil_count_decreased", "platelet_count_decreased", "anemia"]
    assert [[r[f"grades.{t}"] for t in terms] for r in rows] == [["4", "", "2"], ["2", "", "1"]]


def test_batch_as_a_process_reports_rows_and_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", "grade", "crs", "--csv",
         write(tmp_path / "in.csv", MIXED_CSV), "-o", str(out)],
        capture_output=True, text=True, timeout=120, env={"CI": "true", "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert "rows 2-3, 5-7" in done.stderr
    assert len(read_rows(out)) == 3


# --- the fast CRS path agrees with the per-row pydantic path ----------------------------

PER_ROW_CRS = RowGrader(
    model=CrsObservationIn,
    grade=lambda obs: grade_crs(obs).to_dict(),
    result_columns=("grade", "reasons"),
    result_cells=lambda result: [cell(result["grade"]), cell(result["reasons"])],
)
CELLS = {
    "temperature_c": ["", "37.95", "38", "38.0", "39.4", "44.9", "45.1", "24", "abc", "nan",
                      " 38.5"],
    "vasopressors": ["", "norepinephrine", "Vasopressin", "adrenaline;epinephrine",
                     "dopamine;phenylephrine;vasopressin", "levophed", ";angiotensin_ii;"],
    "oxygen_device": ["", "none", "nasal_cannula", "blow_by", "face_mask", "BiPAP", "cpap", "tent"],
    "oxygen_flow_l_min": ["", "0", "6", "6.0001", "6.05", "-1", "x"],
    "hypotension": ["", "true", "False", "yes"],
    "antipyretic_or_anticytokine_given": ["", "true", "false"],
    "fever_before_therapy": ["", "true", "false", "1"],
    "hypoxia_attributable_to_other_cause": ["", "TRUE", "false"],
    "observed_at": ["", "2024-05-01", "2024-05-01T10:00", "2024-13-01", "yesterday"],
}  # fmt: skip
COLUMNS = list(CELLS)


@given(
    st.lists(
        st.tuples(*(st.sampled_from(CELLS[name]) for name in COLUMNS)), min_size=1, max_size=40
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    st.lists(st.integers(0, 40), max_size=3),
    st.lists(st.integers(0, 40), max_size=2),
)
def test_fast_crs_path_matches_the_per_row_path(
    rows: list[tuple[str, ...]],
    newline: str,
    quoting: int,
    short_rows: list[int],
    blank_lines: list[int],
) -> None:
    # Plain files take the pandas path; CRLF, quotes, short records and blank lines the csv
    # module path. Both must write and report exactly what the per-row path does.
    records: list[Any] = [list(r) for r in rows]
    for i in short_rows:
        if i < len(records):
            records[i] = records[i][: i % len(COLUMNS)]
    for i in blank_lines:
        records.insert(min(i, len(records)), [])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline, quoting=quoting)  # type: ignore[call-overload]
    writer.writerow(COLUMNS)
    writer.writerows(records)
    with tempfile.TemporaryDirectory() as tmp:
        source = write(Path(tmp) / "in.csv", buffer.getvalue())
        fast = grade_csv("crs", source, f"{tmp}/fast.csv")
        slow = grade_rows(PER_ROW_CRS, source, f"{tmp}/slow.csv")
        assert Path(f"{tmp}/fast.csv").read_text() == Path(f"{tmp}/slow.csv").read_text()
    assert fast.failed_rows == slow.failed_rows
    assert fast.rows == slow.rows and fast.graded == slow.graded
    assert fast.graded == fast.rows - len(fast.failed_rows)
    # Both report in the same words. A row with several problems may be reported more fully
    # by one path (the per-row path stops at type errors before checking contradictions;
    # the column path checks repeated vasopressors with the column), so per failed row the
    # two reports must share at least one identical line.
    for row in fast.failed_rows:
        fast_lines = {str(p) for p in fast.problems if p.row == row}
        slow_lines = {str(p) for p in slow.problems if p.row == row}
        assert fast_lines & slow_lines, (fast_lines, slow_lines)
