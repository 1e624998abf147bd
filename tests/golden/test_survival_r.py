"""Kaplan–Meier, quantiles and log-rank against R ``survival`` (golden values).

Numbers come from ``../shared/data/reference/expected_values.json`` (see VALIDATION.md for the
printouts they were taken from: therneau/survival ``tests/*.Rout.save``, cardx/grstat snapshots).
Medians and their limits are observed times, so they are compared exactly (abs 1e-9). Printed
KM table values are compared to half a unit of the last printed digit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cartwatch.outcomes.logrank import logrank_test
from cartwatch.outcomes.survival import (
    kaplan_meier,
    kaplan_meier_by_group,
    km_median_ci,
    km_quantile,
    survival_at,
)

EXACT = 1e-9


@pytest.fixture(scope="module")
def expected(shared_data: Path) -> dict[str, Any]:
    return dict(json.loads((shared_data / "reference" / "expected_values.json").read_text()))


def _csv(shared_data: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(shared_data / "survival" / name)


def _check_median(km: Any, median: float | None, ci: list[float | None]) -> None:
    q = km_median_ci(km)
    for got, want in ((q.estimate, median), (q.lower, ci[0]), (q.upper, ci[1])):
        if want is None:
            assert got is None
        else:
            assert got == pytest.approx(want, abs=EXACT)


# --------------------------------------------------------------------------- lung


@pytest.mark.parametrize(
    ("conf_type", "key"),
    [("log", "ci95_log"), ("log-log", "ci95_loglog"), ("plain", "ci95_plain")],
)
def test_lung_overall_median(
    shared_data: Path, expected: dict[str, Any], conf_type: str, key: str
) -> None:
    """R: ``survfit(Surv(time, status) ~ 1, data = lung, conf.type = <type>)``.

    Source: grstat/cardx snapshots (log, published); log-log and plain computed-only.
    Transform: parametrised. Tolerance: exact (observed times).
    """
    lung = _csv(shared_data, "lung.csv")
    exp = expected["survival_lung"]["overall"]
    km = kaplan_meier(lung["time"], lung["status"] == 2, conf_type=conf_type)
    assert (km.n, km.events) == (exp["n"], exp["events"])
    _check_median(km, exp["median"], exp[key])


@pytest.mark.parametrize(("conf_type", "key"), [("log", "ci95_log"), ("log-log", "ci95_loglog")])
def test_lung_by_sex_medians(
    shared_data: Path, expected: dict[str, Any], conf_type: str, key: str
) -> None:
    """R: ``survfit(Surv(time, status) ~ sex, data = lung, conf.type = <type>)``.

    Source: R printouts (log) and a conf.type='log-log' printout, re-computed.
    Transform: parametrised. Tolerance: exact.
    """
    lung = _csv(shared_data, "lung.csv")
    fits = kaplan_meier_by_group(lung["time"], lung["status"] == 2, lung["sex"], conf_type)
    for sex in (1, 2):
        exp = expected["survival_lung"]["by_sex"][str(sex)]
        assert (fits[sex].n, fits[sex].events) == (exp["n"], exp["events"])
        _check_median(fits[sex], exp["median"], exp[key])


def test_lung_by_ph_ecog_including_single_subject_group(
    shared_data: Path, expected: dict[str, Any]
) -> None:
    """R: ``survfit(Surv(time, status) ~ ph.ecog, data = lung)`` (log; 1 row dropped for NA).

    Source: therneau/survival tests/Examples/survival-Ex.Rout.save. The ph.ecog = 3 group has
    one subject who died at 118: median 118, CI (NA, NA) because S = 0 has no log CI.
    Transform: log. Tolerance: exact.
    """
    lung = _csv(shared_data, "lung.csv").dropna(subset=["ph.ecog"])
    fits = kaplan_meier_by_group(lung["time"], lung["status"] == 2, lung["ph.ecog"], "log")
    for level, exp in expected["survival_lung"]["by_ph_ecog_log"].items():
        if level in ("note", "status", "source"):
            continue
        km = fits[float(level)]
        assert (km.n, km.events) == (exp["n"], exp["events"])
        _check_median(km, exp["median"], exp["ci95"])


def test_lung_km_points(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``summary(survfit(Surv(time, status) ~ 1, lung), times = c(60, 180))``.

    Source: cardx ard_survival_survfit snapshot. Transform: log.
    Tolerance: half a unit of the 3rd printed decimal (5e-4).
    """
    lung = _csv(shared_data, "lung.csv")
    km = kaplan_meier(lung["time"], lung["status"] == 2, conf_type="log")
    for point in expected["survival_lung"]["km_points_log"]:
        est = survival_at(km, point["time"])
        assert est.n_risk == point["n_risk"]
        assert est.surv == pytest.approx(point["surv"], abs=5e-4)
        assert est.std_err == pytest.approx(point["se"], abs=5e-4)
        assert est.lower == pytest.approx(point["lcl"], abs=5e-4)
        assert est.upper == pytest.approx(point["ucl"], abs=5e-4)


def test_lung_ph_ecog0_landmarks(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``summary(survfit(Surv(time, status) ~ 1, lung, subset = ph.ecog == 0),
    times = c(365, 730))``.

    Source: therneau/survival Rout.save. Transform: log. n_risk = at risk at the time asked.
    Tolerance: 5e-4 for surv (3 dp), 5e-5 for se (4 dp), 5e-4 for limits.
    """
    lung = _csv(shared_data, "lung.csv")
    lung = lung[lung["ph.ecog"] == 0]
    km = kaplan_meier(lung["time"], lung["status"] == 2, conf_type="log")
    for point in expected["survival_lung"]["ph_ecog0_km_points_log"]:
        est = survival_at(km, point["time"])
        assert est.n_risk == point["n_risk"]
        assert est.surv == pytest.approx(point["surv"], abs=5e-4)
        assert est.std_err == pytest.approx(point["se"], abs=5e-5)
        assert est.lower == pytest.approx(point["lcl"], abs=5e-4)
        assert est.upper == pytest.approx(point["ucl"], abs=5e-4)


def test_lung_quartiles(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``quantile(survfit(Surv(time, status) ~ 1, lung), probs = c(.25, .5, .75))``.

    Source: R printout (170 310 550) and cardx snapshot for the 75% CI (460, 654).
    Transform: log. Tolerance: exact.
    """
    lung = _csv(shared_data, "lung.csv")
    km = kaplan_meier(lung["time"], lung["status"] == 2, conf_type="log")
    assert km_quantile(km, 0.25).estimate == expected["survival_lung"]["q25"]["time"]
    q75 = km_quantile(km, 0.75)
    exp = expected["survival_lung"]["quantile_0.75"]
    assert q75.estimate == exp["time"]
    assert [q75.lower, q75.upper] == exp["ci95_log"]


# --------------------------------------------------------------------------- veteran


def test_veteran_medians(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``survfit(Surv(time, status) ~ 1 | trt | celltype, data = veteran)``.

    Source: published R printouts. trt = 2 has S = 0.5 exactly on [52, 53): the R midpoint
    rule gives 52.5 (lifelines would say 52, statsmodels 53). Transform: log. Tolerance: exact.
    """
    vet = _csv(shared_data, "veteran.csv")
    exp = expected["survival_veteran"]
    km = kaplan_meier(vet["time"], vet["status"], conf_type="log")
    _check_median(km, exp["overall"]["median"], exp["overall"]["ci95_log"])
    by_trt = kaplan_meier_by_group(vet["time"], vet["status"], vet["trt"], "log")
    for trt in (1, 2):
        e = exp["by_trt"][str(trt)]
        assert (by_trt[trt].n, by_trt[trt].events) == (e["n"], e["events"])
        _check_median(by_trt[trt], e["median"], e["ci95_log"])
    assert km_median_ci(by_trt[2]).estimate == 52.5
    by_cell = kaplan_meier_by_group(vet["time"], vet["status"], vet["celltype"], "log")
    for cell, e in exp["by_celltype"].items():
        if cell == "status":
            continue
        assert (by_cell[cell].n, by_cell[cell].events) == (e["n"], e["events"])
        _check_median(by_cell[cell], e["median"], e["ci95_log"])


# --------------------------------------------------------------------------- aml, ovarian


def test_aml_by_group_with_na_upper_limits(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``survfit(Surv(time, status) ~ x, data = aml)``; both upper limits are NA.

    Source: therneau/survival tests/doaml.Rout.save. Transform: log. Tolerance: exact.
    """
    aml = _csv(shared_data, "aml.csv")
    exp = expected["survival_aml"]
    fits = kaplan_meier_by_group(aml["time"], aml["status"], aml["x"], "log")
    for arm in ("Maintained", "Nonmaintained"):
        assert (fits[arm].n, fits[arm].events) == (exp[arm]["n"], exp[arm]["events"])
        _check_median(fits[arm], exp[arm]["median"], exp[arm]["ci95_log"])


def test_aml_maintained_km_table(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``summary(survfit(Surv(time, status) ~ 1, aml, subset = x == "Maintained"))``.

    Source: therneau/survival tests/doaml.Rout.save. Transform: log (upper capped at 1).
    Tolerance: 5e-4 (surv printed to 3 dp), 5e-5 (se, lower to 4 dp), 5e-4 (upper 3 dp).
    """
    aml = _csv(shared_data, "aml.csv")
    aml = aml[aml["x"] == "Maintained"]
    km = kaplan_meier(aml["time"], aml["status"], conf_type="log")
    for time, n_risk, n_event, surv, se, lcl, ucl in expected["survival_aml"]["km_Maintained_log"]:
        i = list(km.time).index(time)
        assert (km.n_risk[i], km.n_event[i]) == (n_risk, n_event)
        assert km.surv[i] == pytest.approx(surv, abs=5e-4)
        assert km.std_err[i] == pytest.approx(se, abs=5e-5)
        assert km.lower[i] == pytest.approx(lcl, abs=5e-5)
        assert km.upper[i] == pytest.approx(ucl, abs=5e-4)


def test_ovarian_km_table(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``summary(survfit(Surv(futime, fustat) ~ 1, data = ovarian))``.

    Source: therneau/survival tests/Examples/survival-Ex.Rout.save. Transform: log.
    Tolerance: 5e-4 for 3-dp values, 5e-5 for se (4 dp). Median (computed-only): 638 (464, NA).
    """
    ov = _csv(shared_data, "ovarian.csv")
    km = kaplan_meier(ov["futime"], ov["fustat"], conf_type="log")
    for time, n_risk, n_event, surv, se, lcl, ucl in expected["survival_ovarian"]["km_overall_log"]:
        i = list(km.time).index(time)
        assert (km.n_risk[i], km.n_event[i]) == (n_risk, n_event)
        assert km.surv[i] == pytest.approx(surv, abs=5e-4)
        assert km.std_err[i] == pytest.approx(se, abs=5e-5)
        assert km.lower[i] == pytest.approx(lcl, abs=5e-4)
        assert km.upper[i] == pytest.approx(ucl, abs=5e-4)
    _check_median(km, 638, [464, None])


# --------------------------------------------------------------------------- log-rank


def test_logrank_lung_by_sex(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``survdiff(Surv(time, status) ~ sex, data = lung)``.

    Source: R printout (Chisq = 10.3, p = 0.00131); more digits computed. Tolerance: 5e-5
    on chisq (4 dp given), 0.05 on expected (1 dp printed), 1e-6 relative on p.
    """
    lung = _csv(shared_data, "lung.csv")
    exp = expected["survival_lung"]["logrank_sex"]
    lr = logrank_test(lung["time"], lung["status"] == 2, lung["sex"])
    assert lr.chisq == pytest.approx(exp["chisq"], abs=5e-5)
    assert lr.df == exp["df"]
    assert lr.p == pytest.approx(exp["p"], rel=1e-4)
    assert lr.observed == (112.0, 53.0)
    assert lr.expected == pytest.approx([91.6, 73.4], abs=0.05)


@pytest.mark.parametrize(
    ("dataset", "file", "time", "event", "group", "key", "chisq_tol"),
    [
        ("survival_veteran", "veteran.csv", "time", "status", "trt", "logrank_trt", 5e-6),
        ("survival_aml", "aml.csv", "time", "status", "x", "logrank", 5e-4),
        ("survival_ovarian", "ovarian.csv", "futime", "fustat", "rx", "logrank_rx", 5e-5),
    ],
)
def test_logrank_two_groups(
    shared_data: Path,
    expected: dict[str, Any],
    dataset: str,
    file: str,
    time: str,
    event: str,
    group: str,
    key: str,
    chisq_tol: float,
) -> None:
    """R: ``survdiff(Surv(<time>, <event>) ~ <group>)`` for veteran/trt, aml/x, ovarian/rx.

    Source: therneau/survival Rout.save and R printouts. Tolerance: half a unit of the last
    digit given for chisq; expected counts to the printed 2 dp (0.005); p to 1e-3 absolute.
    """
    df = _csv(shared_data, file)
    exp = expected[dataset][key]
    lr = logrank_test(df[time], df[event], df[group])
    assert lr.chisq == pytest.approx(exp["chisq"], abs=chisq_tol)
    assert lr.df == exp["df"]
    assert lr.p == pytest.approx(exp["p"], abs=1e-3)
    assert lr.observed == tuple(float(v) for v in exp["observed"].values())
    assert list(lr.expected) == pytest.approx(list(exp["expected"].values()), abs=0.005)


def test_logrank_colon_three_arms(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``survdiff(Surv(time, status) ~ rx, data = colon, subset = etype == 2)``.

    Source: published tutorial printout (Chisq = 11.7 on 2 df, p = 0.003); 11.683 computed.
    Tolerance: 5e-4 on chisq, expected counts to the printed integer (0.5).
    """
    colon = _csv(shared_data, "colon.csv")
    colon = colon[colon["etype"] == 2]
    exp = expected["survival_colon"]["logrank_rx_death"]
    lr = logrank_test(colon["time"], colon["status"], colon["rx"])
    by_group = dict(zip(lr.groups, zip(lr.observed, lr.expected, strict=True), strict=True))
    assert lr.df == 2
    assert lr.chisq == pytest.approx(exp["chisq"], abs=5e-4)
    assert lr.p == pytest.approx(exp["p"], abs=5e-5)
    for arm, observed in exp["observed"].items():
        assert by_group[arm][0] == observed
        assert by_group[arm][1] == pytest.approx(exp["expected"][arm], abs=0.5)
