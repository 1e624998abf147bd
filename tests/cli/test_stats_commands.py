"""``cartwatch rate`` and ``cartwatch km`` run as a user would (subprocess), per the contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_rate_json() -> None:
    res = run("rate", "--responders", "13", "--n", "65")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["method"] == "clopper-pearson"
    assert out["rate"] == pytest.approx(0.2)
    assert out["ci"] == pytest.approx([0.1110, 0.3177], abs=5e-5)


def test_rate_text_format() -> None:
    res = run("rate", "--responders", "5", "--n", "10", "--format", "text")
    assert res.returncode == 0, res.stderr
    assert "clopper-pearson" in res.stdout


@pytest.mark.parametrize(
    ("args", "fields"),
    [
        (["--responders", "70", "--n", "65"], ["responders"]),
        (["--responders", "x", "--n", "0"], ["responders", "n"]),
        (["--responders", "1", "--n", "10", "--conf-level", "1.5"], ["conf_level"]),
        (["--n", "10"], ["responders"]),
    ],
)
def test_rate_bad_input_exits_2(args: list[str], fields: list[str]) -> None:
    res = run("rate", *args)
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == fields


@pytest.fixture
def lung_csv(tmp_path: Path) -> Path:
    rows = ["time,status,sex,label"]
    rows += [f"{t},{s},{g},x" for t, s, g in [(5, 2, 1), (8, 1, 1), (12, 2, 2), (20, 2, 2)]]
    rows += [f"{t},{s},{g},x" for t, s, g in [(3, 2, 1), (9, 2, 2), (15, 1, 1), (30, 1, 2)]]
    path = tmp_path / "small.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_km_json_by_group(lung_csv: Path) -> None:
    res = run(
        "km",
        str(lung_csv),
        "--time",
        "time",
        "--event",
        "status",
        "--event-value",
        "2",
        "--group",
        "sex",
        "--conf-type",
        "log",
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["conf_type"] == "log"
    assert [g["group"] for g in out["groups"]] == ["1", "2"]
    first = out["groups"][0]
    assert set(first) >= {"group", "n", "events", "median", "ci"}
    assert (first["n"], first["events"]) == (4, 2)
    assert "logrank" in out


def test_km_on_shared_lung(shared_data: Path) -> None:
    """lung overall: median 310, log-log 95% CI (284, 361) — the CLI default transform."""
    res = run(
        "km",
        str(shared_data / "survival" / "lung.csv"),
        "--time",
        "time",
        "--event",
        "status",
        "--event-value",
        "2",
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["conf_type"] == "log-log"
    assert out["groups"][0]["median"] == 310
    assert out["groups"][0]["ci"] == [284, 361]


def test_km_follows_print_survfit_and_says_why_a_limit_is_missing(tmp_path: Path) -> None:
    """Contract v2 item 6 through the CLI. aml (R survival::aml), log: R prints 27 (18, 45)
    (quantile() would give 48); the Nonmaintained arm ends at S = 0 (last subject dies at 45),
    so its upper limit is NE; the Maintained arm's is not reached (NR). --quantiles adds the
    quartiles by R quantile()'s rule: overall 25 % at 12 (8, 30), 75 % at 43 (31, NR: the
    upper band ends at 0.46 and the curve never reaches 0)."""
    time = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
    status = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    arm = ["Maintained"] * 11 + ["Nonmaintained"] * 12
    path = tmp_path / "aml.csv"
    rows = [f"{t},{e},{a}" for t, e, a in zip(time, status, arm, strict=True)]
    path.write_text("time,status,x\n" + "\n".join(rows) + "\n")
    common = ("km", str(path), "--time", "time", "--event", "status", "--conf-type", "log")
    res = run(*common, "--quantiles", "0.25,0.75")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    (overall,) = out["groups"]
    assert (overall["median"], overall["ci"]) == (27, [18, 45])
    assert overall["median_status"] == "estimated"
    assert "print.survfit" in out["median_rule"] and "quantile.survfit" in out["quantile_rule"]
    q25, q75 = overall["quantiles"]
    assert (q25["p"], q25["time"], q25["ci"]) == (0.25, 12, [8, 30])
    assert (q75["time"], q75["ci"], q75["ci_status"]) == (
        43,
        [31, None],
        ["estimated", "not_reached"],
    )
    text = run(*common, "--group", "x", "--format", "text")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["group", "n", "events", "median", "(95%", "CI,", "log)"]
    assert lines[1].split() == ["Maintained", "11", "7", "31", "(18,", "NR)"]
    assert lines[2].split() == ["Nonmaintained", "12", "11", "23", "(8,", "NE)"]
    assert any(line.startswith("NR = not reached") for line in lines)
    by_arm = json.loads(run(*common, "--group", "x").stdout)["groups"]
    assert [(g["median"], g["ci"], g["ci_status"][1]) for g in by_arm] == [
        (31, [18, None], "not_reached"),
        (23, [8, None], "not_estimable"),
    ]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--time", "nope", "--event", "status", "--event-value", "2"], "nope"),
        (["--time", "label", "--event", "status", "--event-value", "2"], "label"),
        (["--time", "time", "--event", "status"], "status"),
        (["--time", "time", "--event", "status", "--conf-type", "logit"], "conf_type"),
        *(
            (
                ["--time", "time", "--event", "status", "--event-value", "2", "--quantiles", q],
                "quantiles",
            )
            for q in ("0", "1", "half", "0.25,1.5", "nan")
        ),
    ],
)
def test_km_bad_input_exits_2(lung_csv: Path, args: list[str], field: str) -> None:
    res = run("km", str(lung_csv), *args)
    assert res.returncode == 2
    assert res.stdout == ""
    assert any(line.startswith(f"{field}:") for line in res.stderr.splitlines()), res.stderr


def test_cli_conf_types_match_outcomes() -> None:
    """The CLI keeps its own copy (to avoid importing scipy at start-up); they must agree."""
    from cartwatch.cli import stats_commands
    from cartwatch.outcomes import survival

    assert stats_commands.CONF_TYPES == survival.CONF_TYPES
