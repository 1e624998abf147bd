"""``cartwatch synth`` and ``cartwatch centre validate`` through a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cartwatch.centre.loader import load_centre_dir

CLI = [sys.executable, "-m", "cartwatch.cli.app"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_synth_writes_a_valid_folder_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    first = run("synth", "--n", "12", "--seed", "3", "-o", str(out))
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("\n") == 1 and "12 patients" in first.stdout
    assert len(load_centre_dir(out).patients) == 12
    again = run("synth", "--n", "12", "--seed", "3", "-o", str(out))
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.startswith("output: ")
    forced = run("synth", "--n", "5", "--seed", "3", "-o", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(load_centre_dir(out).patients) == 5


def test_synth_published(tmp_path: Path) -> None:
    result = run("synth", "--published", "-o", str(tmp_path / "pub"))
    assert result.returncode == 0, result.stderr
    assert "137 patients (117 infused)" in result.stdout


def test_synth_bad_options(tmp_path: Path) -> None:
    result = run("synth", "--n", "x", "--seed", "-1", "-o", str(tmp_path / "r"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "n: must be an integer, got 'x'",
        "seed: must be ≥0, got -1",
    ]
    missing = run("synth", "-o", str(tmp_path / "r"))
    assert missing.returncode == 2 and "n: required unless --published" in missing.stderr


def test_centre_validate(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    assert run("synth", "--n", "4", "--seed", "1", "-o", str(out)).returncode == 0
    ok = run("centre", "validate", str(out))
    assert ok.returncode == 0 and ok.stdout.startswith("valid: 4 patients")
    patients = out / "patients.csv"
    lines = patients.read_text().splitlines()
    lines[2] = lines[2].replace(",F,", ",X,").replace(",M,", ",X,")
    patients.write_text("\n".join([*lines, "SYN-0001" + lines[1][8:]]) + "\n")
    bad = run("centre", "validate", str(out))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        "patients.csv:2:sex: Input should be 'F', 'M' or 'U' (got 'X')",
        "patients.csv:5:patient_id: duplicate patient_id 'SYN-0001' (first in row 1)",
    ]
