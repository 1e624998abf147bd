"""Federated KM/log-rank: shares of centres pooled equal the fit on all rows, to 1e-12.

Data: R's ``lung`` and ``veteran`` (survival 3.5) as stored with the KM goldens in
``tests/golden/data/r_survival/km_goldens.json`` (no R and no shared folder needed), split
into centres; the reference is cartwatch's own fit on the whole, itself pinned to R by
tests/golden/test_km_r_goldens.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cartwatch.interop import federated as fed
from cartwatch.outcomes.logrank import logrank_test
from cartwatch.outcomes.survival import KaplanMeier, kaplan_meier

GOLDENS = Path(__file__).parents[2] / "golden" / "data" / "r_survival" / "km_goldens.json"
CASES = {c["name"]: c for c in json.loads(GOLDENS.read_text())["cases"]}
TOL = 1e-12
SHA = "0" * 64
ANALYSIS = fed.Analysis(source="csv", time="time", event="status", group="g")


def _data(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    case = CASES[name]
    group = case["group"] or ["all"] * len(case["time"])
    return (
        np.asarray(case["time"], dtype=np.float64),
        np.asarray(case["event"], dtype=bool),
        np.asarray([str(g) for g in group], dtype=object),
    )


def split_shares(
    time: np.ndarray, event: np.ndarray, group: np.ndarray, centre_of: np.ndarray
) -> list[tuple[str, fed.Share]]:
    """Each centre's share as written to and read back from its JSON file."""
    shares = []
    for i, centre in enumerate(sorted(set(centre_of.tolist()))):
        m = centre_of == centre
        payload = fed.make_share(
            time[m],
            event[m],
            list(group[m]),
            centre=f"centre-{centre}",
            source_sha256=f"{i:064x}",
            analysis=ANALYSIS,
        )
        name = f"share-{centre}.json"
        shares.append((name, fed.parse_share(json.dumps(payload), name)))
    return shares


def assert_same_table(got: KaplanMeier, want: KaplanMeier) -> None:
    np.testing.assert_array_equal(got.time, want.time)
    np.testing.assert_array_equal(got.n_risk, want.n_risk)
    np.testing.assert_array_equal(got.n_event, want.n_event)
    np.testing.assert_array_equal(got.n_censor, want.n_censor)
    for field in ("surv", "std_err", "lower", "upper"):
        np.testing.assert_allclose(getattr(got, field), getattr(want, field), atol=TOL, rtol=0)


def whole(time: np.ndarray, event: np.ndarray, group: np.ndarray, conf_type: str) -> dict[str, Any]:
    """What ``cartwatch km`` reports on all rows (median rows per group, log-rank)."""
    from cartwatch.outcomes.km_summary import group_order, km_summary, logrank_summary

    fits = {
        g: kaplan_meier(time[group == g], event[group == g], conf_type)
        for g in group_order(sorted(set(group.tolist())))
    }
    out = km_summary(fits, conf_type, 0.95)
    if len(fits) >= 2:
        out["logrank"] = logrank_summary(logrank_test(time, event, group))
    return out


def assert_same_result(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert [g["group"] for g in got["groups"]] == [g["group"] for g in want["groups"]]
    for a, b in zip(got["groups"], want["groups"], strict=True):
        assert (a["n"], a["events"]) == (b["n"], b["events"])
        assert (a["median_status"], a["ci_status"]) == (b["median_status"], b["ci_status"])
        for x, y in zip([a["median"], *a["ci"]], [b["median"], *b["ci"]], strict=True):
            assert (x is None and y is None) or abs(x - y) <= TOL
    if "logrank" in want:
        assert got["logrank"]["df"] == want["logrank"]["df"]
        assert got["logrank"]["chisq"] == pytest.approx(
            want["logrank"]["chisq"], abs=TOL, rel=0, nan_ok=True
        )
        assert got["logrank"]["p"] == pytest.approx(
            want["logrank"]["p"], abs=TOL, rel=0, nan_ok=True
        )


@pytest.mark.parametrize("name", ["lung_by_sex", "lung_by_ph_ecog", "veteran_by_celltype"])
@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_pool_of_centres_equals_the_whole(name: str, conf_type: str) -> None:
    time, event, group = _data(name)
    centre_of = np.arange(time.size) % 5  # 5 centres, every one holding each group's mix
    shares = split_shares(time, event, group, centre_of)
    assert_same_result(fed.pool(shares, conf_type), whole(time, event, group, conf_type))


def test_pooled_tables_equal_the_whole_row_by_row() -> None:
    time, event, group = _data("veteran_by_trt")
    shares = split_shares(time, event, group, np.arange(time.size) % 7)
    counts = fed.pooled_counts([s for _, s in shares])
    from cartwatch.outcomes.survival import kaplan_meier_from_counts

    for j, label in enumerate(counts.labels):
        at = counts.at_time[:, j] > 0
        d = counts.events[at, j].astype(np.int64)
        got = kaplan_meier_from_counts(
            counts.time[at], d, counts.at_time[at, j].astype(np.int64) - d
        )
        assert_same_table(got, kaplan_meier(time[group == label], event[group == label]))


def test_a_centre_missing_a_group_still_pools_exactly() -> None:
    time, event, group = _data("lung_by_sex")
    centre_of = np.where(group == "2", 0, np.arange(time.size) % 3)  # centres 1, 2: sex 1 only
    shares = split_shares(time, event, group, centre_of)
    assert {g.group for g in shares[1][1].groups} == {"1"}
    assert_same_result(fed.pool(shares), whole(time, event, group, "log-log"))


def test_a_share_holds_counts_only() -> None:
    time, event, group = _data("lung_by_sex")
    payload = fed.make_share(
        time, event, list(group), centre="A", source_sha256=SHA, analysis=ANALYSIS
    )
    assert set(payload) == {
        "format",
        "format_version",
        "centre",
        "source_sha256",
        "cartwatch_version",
        "analysis",
        "min_cell",
        "excluded_missing_group",
        "groups",
        "checksum_sha256",
    }
    for g in payload["groups"]:
        assert set(g) == {"group", "times", "events", "censored"}
        assert g["times"] == sorted(set(g["times"]))  # distinct, increasing: no row order
    assert sum(sum(g["events"]) + sum(g["censored"]) for g in payload["groups"]) == time.size


def test_min_cell_refuses_a_small_group() -> None:
    time, event, group = _data("lung_by_ph_ecog")  # ph.ecog 3 has one subject
    with pytest.raises(fed.ShareProblems) as err:
        fed.make_share(
            time, event, list(group), centre="A", source_sha256=SHA, analysis=ANALYSIS, min_cell=5
        )
    assert "groups['3']: 1 subject(s), fewer than --min-cell 5; nothing written" in (
        err.value.problems
    )
    fed.make_share(  # the same data with K = 1 is fine
        time, event, list(group), centre="A", source_sha256=SHA, analysis=ANALYSIS, min_cell=1
    )


def _payload() -> dict[str, Any]:
    time, event, group = _data("aml_by_x")
    return fed.make_share(
        time, event, list(group), centre="A", source_sha256=SHA, analysis=ANALYSIS
    )


def _resealed(payload: dict[str, Any]) -> str:
    payload["checksum_sha256"] = fed._checksum(payload)
    return json.dumps(payload)


def _problems(text: str) -> list[str]:
    with pytest.raises(fed.ShareProblems) as err:
        fed.parse_share(text, "bad.json")
    assert all(p.startswith("bad.json: ") for p in err.value.problems)
    return err.value.problems


def test_a_tampered_share_is_refused() -> None:
    payload = _payload()
    payload["groups"][0]["events"][0] += 1
    assert any("checksum_sha256: does not match" in p for p in _problems(json.dumps(payload)))


def test_unknown_keys_are_refused() -> None:
    payload = _payload()
    payload["patients"] = ["P1"]
    payload["groups"][0]["age"] = [61]
    problems = _problems(_resealed(payload))
    assert any(p.startswith("bad.json: patients:") for p in problems)
    assert any(p.startswith("bad.json: groups[0].age:") for p in problems)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda p: p["groups"][0]["events"].__setitem__(0, -1), "groups[0].events[0]:"),
        (lambda p: p["groups"][0]["censored"].__setitem__(0, 1.5), "groups[0].censored[0]:"),
        (lambda p: p["groups"][0]["times"].__setitem__(0, -3.0), "groups[0].times[0]:"),
        (lambda p: p["groups"][0]["times"].reverse(), "groups[0].times[1]: times must be distinct"),
        (lambda p: p["groups"][0]["events"].pop(), "groups[0]: times, events and censored"),
        (lambda p: p.update(groups=[]), "groups:"),
        (lambda p: p.update(source_sha256="abc"), "source_sha256:"),
        (lambda p: p["groups"].append(p["groups"][0]), "appears more than once"),
        (lambda p: p.update(format_version=2), "format_version:"),
        (
            lambda p: (
                p["groups"][0]["events"].__setitem__(0, 0),
                p["groups"][0]["censored"].__setitem__(0, 0),
            ),
            "groups[0].events[0]: no event and no censoring",
        ),
    ],
)
def test_bad_counts_are_refused_with_their_path(edit: Any, expected: str) -> None:
    payload = _payload()
    edit(payload)
    assert any(expected in p for p in _problems(_resealed(payload))), _problems(_resealed(payload))


def test_not_json_and_duplicate_keys_are_refused() -> None:
    assert _problems("{")
    assert any("centre" in p for p in _problems('{"centre": "A", "centre": "B"}'))


def test_shares_of_different_analyses_do_not_pool() -> None:
    time, event, group = _data("lung_by_sex")
    a = fed.make_share(time, event, list(group), centre="A", source_sha256=SHA, analysis=ANALYSIS)
    other = ANALYSIS.model_copy(update={"group": "ph.ecog"})
    b = fed.make_share(time, event, list(group), centre="B", source_sha256="1" * 64, analysis=other)
    with pytest.raises(fed.ShareProblems) as err:
        fed.pool(
            [
                ("a.json", fed.parse_share(json.dumps(a), "a.json")),
                ("b.json", fed.parse_share(json.dumps(b), "b.json")),
            ]
        )
    assert err.value.problems == [
        "b.json: analysis.group: 'ph.ecog' differs from a.json ('g'); "
        "shares of one pool must count the same thing"
    ]


def test_a_centre_or_a_source_twice_does_not_pool() -> None:
    share = fed.parse_share(json.dumps(_payload()), "a.json")
    with pytest.raises(fed.ShareProblems) as err:
        fed.pool([("a.json", share), ("copy.json", share)])
    assert any("copy.json: centre: 'A' is also a.json" in p for p in err.value.problems)
    assert any("copy.json: source_sha256: same source as a.json" in p for p in err.value.problems)
