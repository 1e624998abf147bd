"""``cartwatch adam derive`` and ``cartwatch adam read`` through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cartwatch.adam.xpt import read_adam_csv, read_xpt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "adam"))
from centre_fixture import write_centre  # type: ignore[import-not-found]

CLI = [sys.executable, "-m", "cartwatch.cli.app"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    return write_centre(tmp_path / "raw")


def test_derive_writes_csv_and_xpt_that_agree(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "adam"
    result = run("adam", "derive", str(raw), "-o", str(out), "--xpt")
    assert result.returncode == 0, result.stderr
    assert "ADSL 5" in result.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{d}{ext}"
        for d in ("adsl", "adrs", "adtte", "adae")
        for ext in (".csv", ".meta.json", ".xpt")
    )
    for stem in ("adsl", "adrs", "adtte", "adae"):
        a, meta_csv = read_adam_csv(out / f"{stem}.csv")
        b, meta_xpt = read_xpt(out / f"{stem}.xpt")
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert meta_csv.labels == meta_xpt.labels
    adtte, _ = read_xpt(out / "adtte.xpt")
    assert set(adtte["CNSR"]) == {0.0, 1.0}


def test_derive_without_xpt_writes_csv_only(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "adam"
    assert run("adam", "derive", str(raw), "-o", str(out)).returncode == 0
    assert not list(out.glob("*.xpt"))
    assert len(list(out.glob("*.csv"))) == 4


def test_data_cutoff_option(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "adam"
    result = run("adam", "derive", str(raw), "-o", str(out), "--data-cutoff", "2024-05-15")
    assert result.returncode == 0, result.stderr
    assert "cut-off 2024-05-15" in result.stdout
    adsl, _ = read_adam_csv(out / "adsl.csv")
    assert (adsl["DTHFL"] == "").all()  # the only death (Jun 1) is after the cut-off


def test_invalid_centre_data_lists_every_problem_and_writes_nothing(
    raw: Path, tmp_path: Path
) -> None:
    text = (raw / "patients.csv").read_text()
    text = text.replace(",65,F,", ",sixty,F,").replace(",70,M,", ",70,X,")
    (raw / "patients.csv").write_text(text)
    out = tmp_path / "adam"
    result = run("adam", "derive", str(raw), "-o", str(out), "--xpt")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("patients.csv:1:age_years:") for line in lines), lines
    assert any(line.startswith("patients.csv:2:sex:") for line in lines), lines
    assert not out.exists()


def test_bad_cutoff_is_exit_2(raw: Path, tmp_path: Path) -> None:
    result = run("adam", "derive", str(raw), "-o", str(tmp_path / "o"), "--data-cutoff", "15/05/24")
    assert result.returncode == 2
    assert result.stderr.startswith("data_cutoff: must be a date YYYY-MM-DD")
    assert result.stdout == ""


def test_read_pilot_folder_as_json(shared_data: Path) -> None:
    result = run("adam", "read", str(shared_data / "cdisc-pilot" / "original"), "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = {d["name"]: d for d in json.loads(result.stdout)["datasets"]}
    assert summary["ADSL"]["rows"] == 254
    assert summary["ADTTE"]["rows"] == 254
    assert "CNSR" in summary["ADTTE"]["variables"]
    assert summary["ADAE"]["file"] == "adae.xpt"


def test_read_text_and_missing_variable_error(tmp_path: Path) -> None:
    pd.DataFrame({"USUBJID": ["1"], "PARAMCD": ["OS"], "AVAL": [1.0]}).to_csv(
        tmp_path / "ADTTE.csv", index=False
    )
    result = run("adam", "read", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == "ADTTE.csv: CNSR: required variable missing"
    assert result.stdout == ""
