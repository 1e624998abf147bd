"""`cartwatch report` in every format and its error path, as separate processes.

The ADaM folder is the hand-built fixture of tests/unit/outcomes/test_tables.py written as
CSV (no sidecar), so these tests do not depend on the synthetic cohort; the demo itself is
covered by tests/golden/test_demo_published.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "outcomes"))
from test_tables import make_adam


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def adam_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("adam")
    for name, df in make_adam().items():
        df.to_csv(folder / f"{name.lower()}.csv", index=False, date_format="%Y-%m-%d")
    return folder


@pytest.mark.parametrize("fmt", ["html", "json", "text", "pdf"])
def test_report_each_format_to_file(adam_dir: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"r.{fmt}"
    done = run("report", str(adam_dir), "--format", fmt, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    body = out.read_bytes()
    if fmt == "pdf":
        assert body.startswith(b"%PDF")
    elif fmt == "json":
        assert json.loads(body)["headline"]["orr"]["k"] == 3
    elif fmt == "html":
        assert body.startswith(b"<!DOCTYPE html>") and b"data:image/png;base64," in body
    else:
        assert b"Best overall response (iwCLL 2018)" in body


def test_report_json_to_stdout_and_conf_type(adam_dir: Path) -> None:
    done = run("report", str(adam_dir), "--format", "json", "--conf-type", "log")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["meta"]["conf_type"] == "log"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "format: must be one of html, json, text, pdf"),
        (["--conf-type", "arcsin"], "conf_type: must be one of log-log, log, plain"),
        (["--format", "pdf"], "output: required for --format pdf"),
    ],
)
def test_bad_options_exit_2(adam_dir: Path, args: list[str], message: str) -> None:
    done = run("report", str(adam_dir), *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr


def test_bad_folder_exit_2(tmp_path: Path) -> None:
    done = run("report", str(tmp_path / "missing"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("adam_dir: not a folder")
    (tmp_path / "adrs.csv").write_text("USUBJID,PARAMCD,AVALC\nS1,BOR,CR\n", encoding="utf-8")
    done = run("report", str(tmp_path), "--format", "json")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip() == "ADSL: required dataset missing"


def test_demo_bad_option_exit_2(tmp_path: Path) -> None:
    done = run("demo", "--out", str(tmp_path), "--format", "docx")
    assert (done.returncode, done.stdout) == (2, "")
    assert "format: must be one of" in done.stderr
