"""`cartwatch demo` (published mode) reproduces the published TRANSCEND CLL 004 figures.

Sources (clinical-standards.md): US label population §3.3 [S19][S26] — CR 13/65 = 20%
(95% CI 11.1–31.8), ORR 29/65 = 45% (95% CI 32.3–57.5); Lancet Table 4, safety set n = 117,
§3.5 [S14] — CRS any grade 99 (85%), grade ≥3 10 (9%); neurological events 53 (45%), grades
1/2/3/4 = 13/18/21/1. Tolerance: counts exact; percentages and CIs compared to 1 decimal.
The synthetic cohort grades neurotoxicity with ASTCT 2019 ICANS while the trial did not
(§0 item 3); the report names the scale, and the counts are the calibration target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, object]]:
    out = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", "demo", "--out", str(out), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(Path(out, "report.json").read_text(encoding="utf-8"))


def _table(report: dict[str, object], key: str) -> dict[str, object]:
    for section in report["sections"]:  # type: ignore[attr-defined]
        for table in section["tables"]:
            if table["key"] == key:
                return table  # type: ignore[no-any-return]
    raise KeyError(key)


def _cell(table: dict[str, object], row: str, col: int = 0) -> dict[str, object]:
    for r in table["rows"]:  # type: ignore[attr-defined]
        if r["key"] == row:
            return r["cells"][col]  # type: ignore[no-any-return]
    raise KeyError(row)


def test_label_population_efficacy(demo: tuple[str, dict[str, object]]) -> None:
    _, report = demo
    h = report["headline"]
    assert h["cr_cri"]["population"] == "US label population (N = 65)"  # type: ignore[index]
    cr, orr = h["cr_cri"], h["orr"]  # type: ignore[index]
    assert (cr["k"], cr["n"], cr["percent"], cr["ci_percent"]) == (13, 65, 20.0, [11.1, 31.8])
    assert (orr["k"], orr["n"], orr["percent"], orr["ci_percent"]) == (29, 65, 44.6, [32.3, 57.5])
    eff = _table(report, "efficacy")
    assert _cell(eff, "CR")["k"] == 13  # the label's "CR" (no CRi in the synthetic cohort)
    assert _cell(eff, "PR")["k"] == 16


def test_safety_table_4(demo: tuple[str, dict[str, object]]) -> None:
    _, report = demo
    t = _table(report, "crs_neurotox")
    assert t["N"] == 117
    crs = [_cell(t, k, 0)["k"] for k in ("any", "grade_1", "grade_2", "grade_3", "grade_4")]
    assert crs == [99, 43, 46, 10, 0]
    assert _cell(t, "any", 0)["percent"] == 84.6
    assert _cell(t, "grade_ge_3", 0)["k"] == 10 and _cell(t, "grade_ge_3", 0)["percent"] == 8.5
    nt = [_cell(t, k, 1)["k"] for k in ("any", "grade_1", "grade_2", "grade_3", "grade_4")]
    assert nt == [53, 13, 18, 21, 1]
    assert _cell(t, "scale", 1)["text"] == "ASTCT 2019"


def test_printed_headline(demo: tuple[str, dict[str, object]]) -> None:
    stdout, _ = demo
    assert stdout.startswith("Report: ") and "report.json" in stdout.splitlines()[0]
    assert "CR/CRi                    13/65 = 20.0% (95% CI 11.1–31.8)" in stdout
    assert "ORR                       29/65 = 44.6% (95% CI 32.3–57.5)" in stdout
    assert "CRS, any grade            99/117 = 84.6% (85%)" in stdout
    assert "CRS, grade ≥3             10/117 = 8.5% (9%)" in stdout
