"""``cartwatch federated share|pool`` run as a user would: the pool of centre shares prints
what ``cartwatch km`` prints on the pooled rows (to 1e-12), bad shares exit 2 with paths.

Data: R's ``lung`` split by its real institution code ``inst`` (the NCCTG centres) and the
pharmaverseadam ADTTE split by study site; both from ../shared/data (skipped when absent).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TOL = 1e-12
#: lung's time and status columns (status 2 = death), as every command here reads them.
LUNG_EVENT = ("--time", "time", "--event", "status", "--event-value", "2")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _split_csv(source: Path, key: Any, folder: Path) -> list[Path]:
    """One CSV per centre (rows of *source* grouped by ``key(row)``)."""
    with source.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    by: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by.setdefault(key(row), []).append(row)
    paths = []
    for centre, members in sorted(by.items()):
        path = folder / f"centre_{centre}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields or [])
            writer.writeheader()
            writer.writerows(members)
        paths.append(path)
    return paths


def _assert_same(pooled: dict[str, Any], whole: dict[str, Any]) -> None:
    for key in whole:
        if key in ("groups", "logrank"):
            continue
        assert pooled[key] == whole[key], key
    for a, b in zip(pooled["groups"], whole["groups"], strict=True):
        for key in ("group", "n", "events", "median_status", "ci_status"):
            assert a[key] == b[key]
        for x, y in zip([a["median"], *a["ci"]], [b["median"], *b["ci"]], strict=True):
            assert (x is None and y is None) or abs(x - y) <= TOL
    if "logrank" in whole:
        assert pooled["logrank"]["df"] == whole["logrank"]["df"]
        for key in ("chisq", "p"):
            assert abs(pooled["logrank"][key] - whole["logrank"][key]) <= TOL


@pytest.fixture(scope="module")
def lung_shares(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("lung")
    shares = []
    for path in _split_csv(
        shared_data / "survival" / "lung.csv", lambda r: r["inst"] or "NA", folder
    ):
        out = path.with_suffix(".json")
        res = run(
            "federated",
            "share",
            path,
            *LUNG_EVENT,
            "--group",
            "sex",
            "--centre",
            path.stem,
            "--out",
            out,
        )
        assert res.returncode == 0, res.stderr
        assert res.stdout == ""
        shares.append(out)
    return shares


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_pool_of_lung_institutions_equals_km_on_lung(
    shared_data: Path, lung_shares: list[Path], conf_type: str
) -> None:
    pooled = run("federated", "pool", *lung_shares, "--conf-type", conf_type)
    assert pooled.returncode == 0, pooled.stderr
    whole = run(
        "km",
        shared_data / "survival" / "lung.csv",
        *LUNG_EVENT,
        "--group",
        "sex",
        "--conf-type",
        conf_type,
    )
    result = json.loads(pooled.stdout)
    _assert_same(result, json.loads(whole.stdout))
    assert len(result["centres"]) == len(lung_shares) == 19  # 18 institutions and missing inst
    assert sum(c["n"] for c in result["centres"]) == 228


def test_pool_text_is_the_km_table(lung_shares: list[Path]) -> None:
    res = run("federated", "pool", *lung_shares, "--format", "text", "--conf-level", "0.9")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0].split() == [
        "group",
        "n",
        "events",
        "median",
        "(90%",
        "CI,",
        "log-log)",
    ]
    assert "Log-rank: chi-squared 10.33 on 1 df" in res.stdout
    assert "Centres pooled: centre_1 (n 36)" in res.stdout


def test_a_share_file_has_no_identifiers(lung_shares: list[Path]) -> None:
    share = json.loads(lung_shares[0].read_text())
    assert set(share["groups"][0]) == {"group", "times", "events", "censored"}
    assert len(share["source_sha256"]) == 64


def test_min_cell_refuses_and_writes_nothing(shared_data: Path, tmp_path: Path) -> None:
    small = _split_csv(shared_data / "survival" / "lung.csv", lambda r: r["inst"] or "NA", tmp_path)
    path = next(p for p in small if p.stem == "centre_33")  # 2 patients
    out = tmp_path / "share.json"
    res = run(
        "federated",
        "share",
        path,
        *LUNG_EVENT,
        "--centre",
        "33",
        "--min-cell",
        "5",
        "--out",
        out,
    )
    assert res.returncode == 2
    assert res.stdout == ""
    assert "groups['all']: 2 subject(s), fewer than --min-cell 5; nothing written" in res.stderr
    assert not out.exists()


def test_bad_share_files_exit_2_with_their_paths(lung_shares: list[Path], tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.json"
    doc = json.loads(lung_shares[0].read_text())
    doc["groups"][0]["events"][0] += 1
    tampered.write_text(json.dumps(doc))
    unknown = tmp_path / "unknown.json"
    doc = json.loads(lung_shares[1].read_text())
    doc["patient_ids"] = ["1"]
    unknown.write_text(json.dumps(doc))
    missing = tmp_path / "missing.json"
    res = run("federated", "pool", tampered, unknown, missing, lung_shares[2])
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert f"{tampered}: checksum_sha256: does not match the content" in res.stderr
    assert any(line.startswith(f"{unknown}: patient_ids:") for line in lines)
    assert any(line.startswith(f"{missing}: cannot read file") for line in lines)


def test_shares_grouped_differently_do_not_pool(shared_data: Path, tmp_path: Path) -> None:
    lung = shared_data / "survival" / "lung.csv"
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for group, centre, out in (("sex", "A", a), ("ph.ecog", "B", b)):
        share = ("federated", "share", lung, *LUNG_EVENT, "--group", group, "--centre", centre)
        assert run(*share, "--out", out).returncode == 0
    res = run("federated", "pool", a, b)
    assert res.returncode == 2
    assert f"{b}: analysis.group: 'ph.ecog' differs from {a} ('sex')" in res.stderr


def test_share_needs_exactly_one_input(tmp_path: Path) -> None:
    res = run("federated", "share", "--centre", "A", "--out", tmp_path / "s.json")
    assert res.returncode == 2
    assert "input: give either a CSV file or --adam DIR (exactly one)" in res.stderr


def test_pool_of_adam_sites_equals_km_on_the_adtte(shared_data: Path, tmp_path: Path) -> None:
    """pharmaverseadam ADTTE (CDISC pilot) split by site (USUBJID 01-<site>-<subject>)."""
    source = shared_data / "pharmaverseadam" / "adtte_onco.csv"
    shares = []
    for path in _split_csv(source, lambda r: r["USUBJID"].split("-")[1], tmp_path):
        folder = tmp_path / path.stem
        folder.mkdir()
        path.rename(folder / "adtte.csv")
        out = tmp_path / f"{path.stem}.json"
        res = run(
            "federated",
            "share",
            "--adam",
            folder,
            "--param",
            "PFS",
            "--group",
            "ARM",
            "--centre",
            path.stem,
            "--out",
            out,
        )
        assert res.returncode == 0, res.stderr
        shares.append(out)
    pfs = tmp_path / "pfs.csv"
    with source.open(newline="") as handle, pfs.open("w", newline="") as dest:
        reader = csv.DictReader(handle)
        writer = csv.DictWriter(dest, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(r for r in reader if r["PARAMCD"] == "PFS")
    whole = run(
        "km", pfs, "--time", "AVAL", "--event", "CNSR", "--event-value", "0", "--group", "ARM"
    )
    pooled = run("federated", "pool", *shares)
    assert pooled.returncode == 0, pooled.stderr
    result = json.loads(pooled.stdout)
    _assert_same(result, json.loads(whole.stdout))
    assert result["analysis"] == {
        "source": "adam",
        "time": "AVAL",
        "event": "CNSR == 0",
        "event_value": None,
        "param": "PFS",
        "group": "ARM",
    }
