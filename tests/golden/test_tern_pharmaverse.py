"""tern synthetic ADaM (insightsengineering/tern snapshots) and pharmaverseadam oncology data.

tern's defaults differ from survfit's: ``control_surv_time()`` uses conf_type = "plain", while
``h_km``'s median table uses "log"; each test names the transform it checks.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadr
import pytest

from cartwatch.outcomes.rates import clopper_pearson
from cartwatch.outcomes.survival import (
    kaplan_meier,
    kaplan_meier_by_group,
    km_median_ci,
    km_quantile,
    survival_at,
)

DAYS_PER_MONTH = 30.4375


@pytest.fixture(scope="module")
def expected(shared_data: Path) -> dict[str, Any]:
    return dict(json.loads((shared_data / "reference" / "expected_values.json").read_text()))


def _rda(path: Path) -> pd.DataFrame:
    # pyreadr converts R date-times with pandas.to_datetime; with NA date-times numpy sometimes
    # (depending on SIMD alignment) warns "invalid value encountered in multiply" inside
    # pandas. That warning is about the NA datetimes, not about any value used here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        frames = pyreadr.read_r(str(path))
    return next(iter(frames.values()))


@pytest.fixture(scope="module")
def tern_os(shared_data: Path) -> pd.DataFrame:
    adtte = _rda(shared_data / "tern" / "tern_ex_adtte.rda")
    os_ = adtte[adtte["PARAMCD"] == "OS"]
    return pd.DataFrame(
        {
            "aval": os_["AVAL"].to_numpy(float),
            "event": (os_["CNSR"] == 0).to_numpy(),
            "arm": os_["ARMCD"].astype(str).to_numpy(),
        }
    )


def test_tern_os_medians_by_arm_log(tern_os: pd.DataFrame, expected: dict[str, Any]) -> None:
    """R: ``survfit(Surv(AVAL, 1 - CNSR) ~ ARMCD, tern_ex_adtte[PARAMCD == "OS"])`` (log).

    Source: tern tests/testthat/_snaps/h_km.md (medians printed to 4 significant digits).
    Tolerance: 0.05 days (half the printed unit of e.g. 974.6) and 0.5 for 4-digit limits.
    """
    fits = kaplan_meier_by_group(tern_os["aval"], tern_os["event"], tern_os["arm"], "log")
    for arm, e in expected["tern_ex_adtte_OS"]["by_arm_log"].items():
        q = km_median_ci(fits[arm])
        assert (fits[arm].n, fits[arm].events) == (e["n"], e["events"])
        assert q.estimate == pytest.approx(e["median"], abs=0.05)
        assert [q.lower, q.upper] == pytest.approx(e["ci95"], abs=0.5)


def test_tern_arm_b_months_plain(tern_os: pd.DataFrame, expected: dict[str, Any]) -> None:
    """R (tern): ``s_surv_time(..., control = control_surv_time(conf_type = "plain"))`` on
    ARM B OS in months (AVAL / 30.4375), and quantiles 25/75.

    Source: tern _snaps/survival_time.md. Transform: PLAIN. Tolerance: 1e-5 (7 sig. digits).
    """
    b = tern_os[tern_os["arm"] == "ARM B"]
    exp = expected["tern_ex_adtte_OS"]["ARM_B_in_months_days_div_30.4375"]
    km = kaplan_meier(b["aval"] / DAYS_PER_MONTH, b["event"], conf_type="plain")
    q = km_median_ci(km)
    assert q.estimate == pytest.approx(exp["median"], abs=1e-5)
    assert [q.lower, q.upper] == pytest.approx(exp["ci95_plain"], abs=1e-5)
    assert km_quantile(km, 0.25).estimate == pytest.approx(exp["q25"], abs=1e-5)
    assert km_quantile(km, 0.75).estimate == pytest.approx(exp["q75"], abs=1e-5)


def test_tern_arm_b_months_99_loglog(tern_os: pd.DataFrame, expected: dict[str, Any]) -> None:
    """R (tern): ``control_surv_time(conf_level = 0.99, conf_type = "log-log")``.

    Source: tern _snaps/survival_time.md. Transform: LOG-LOG, 99%. Tolerance: 1e-5.
    """
    b = tern_os[tern_os["arm"] == "ARM B"]
    exp = expected["tern_ex_adtte_OS"]["ARM_B_in_months_days_div_30.4375"]
    km = kaplan_meier(b["aval"] / DAYS_PER_MONTH, b["event"], "log-log", 0.99)
    q = km_median_ci(km)
    assert [q.lower, q.upper] == pytest.approx(exp["ci99_loglog"], abs=1e-5)


def test_tern_arm_b_six_month_rate(tern_os: pd.DataFrame, expected: dict[str, Any]) -> None:
    """R (tern): ``s_surv_timepoint(time_point = 6, control_surv_timepoint("plain"))``.

    Source: tern _snaps/survival_timepoint.md. Transform: PLAIN. Tolerance: 1e-5 percent.
    """
    b = tern_os[tern_os["arm"] == "ARM B"]
    exp = expected["tern_ex_adtte_OS"]["ARM_B_in_months_days_div_30.4375"]["at_6_months"]
    est = survival_at(kaplan_meier(b["aval"] / DAYS_PER_MONTH, b["event"], "plain"), 6.0)
    assert est.n_risk == exp["n_risk"]
    assert est.surv * 100 == pytest.approx(exp["event_free_rate_pct"], abs=1e-5)
    assert est.std_err is not None and est.std_err * 100 == pytest.approx(exp["se_pct"], abs=1e-5)
    assert est.lower is not None and est.upper is not None
    assert [est.lower * 100, est.upper * 100] == pytest.approx(exp["ci95_plain"], abs=1e-5)


def test_tern_adrs_responders_clopper_pearson(shared_data: Path, expected: dict[str, Any]) -> None:
    """R: ``binom.test(x, n)$conf.int`` per ARM, responders = BESRSPI AVALC in (CR, PR).

    The counts are published (tern estimate_proportion snapshot, which prints Wilson CIs);
    the Clopper–Pearson limits are COMPUTED-ONLY (UNVERIFIED; scipy beta quantiles in the
    JSON), so this checks agreement with an independent computation, not a publication.
    Arm C has x = n: the upper limit must be exactly 1. Tolerance: 5e-6 (5 dp given).
    """
    adrs = _rda(shared_data / "tern" / "tern_ex_adrs.rda")
    best = adrs[adrs["PARAMCD"] == "BESRSPI"]
    exp = expected["tern_ex_adrs_BESRSPI"]
    for arm, e in exp.items():
        if not isinstance(e, dict):
            continue
        rows = best if arm == "All" else best[best["ARM"] == arm]
        x = int(rows["AVALC"].isin(["CR", "PR"]).sum())
        assert (x, len(rows)) == (e["x"], e["n"])
        est = clopper_pearson(x, len(rows))
        assert list(est.ci) == pytest.approx(e["clopper_pearson95"], abs=5e-6)
    c = exp["C: Combination"]
    assert clopper_pearson(c["x"], c["n"]).ci[1] == 1.0


@pytest.fixture(scope="module", params=["csv", "rda"])
def pharmaverse(request: pytest.FixtureRequest, shared_data: Path) -> dict[str, pd.DataFrame]:
    folder = shared_data / "pharmaverseadam"
    names = ("adsl", "adrs_onco", "adtte_onco")
    if request.param == "csv":
        return {n: pd.read_csv(folder / f"{n}.csv") for n in names}
    return {n: _rda(folder / f"{n}.rda") for n in names}


def test_pharmaverse_orr_by_arm(
    pharmaverse: dict[str, pd.DataFrame], expected: dict[str, Any]
) -> None:
    """ORR = BOR (PARAMCD "BOR") in CR/PR over all ADSL subjects per ARM, Clopper–Pearson.

    R: ``binom.test(x, n)``. COMPUTED-ONLY (UNVERIFIED) reference; edge cases x = 0 (lower
    exactly 0) and x = 1. Tolerance: 5e-5 (4 dp given).
    """
    adsl, adrs = pharmaverse["adsl"], pharmaverse["adrs_onco"]
    bor = adrs.loc[adrs["PARAMCD"] == "BOR", ["USUBJID", "AVALC"]]
    merged = adsl[["USUBJID", "ARM"]].merge(bor, on="USUBJID", how="left")
    exp = expected["pharmaverseadam_onco"]["ORR_CR_PR_over_all_subjects"]
    for arm, (x, n, lo, hi) in exp.items():
        if arm == "columns":
            continue
        rows = merged[merged["ARM"] == arm]
        k = int(rows["AVALC"].isin(["CR", "PR"]).sum())
        assert (k, len(rows)) == (x, n)
        assert list(clopper_pearson(k, len(rows)).ci) == pytest.approx([lo, hi], abs=5e-5)
    assert clopper_pearson(0, 52).ci[0] == 0.0


def _pfs_fits(pharmaverse: dict[str, pd.DataFrame]) -> dict[object, Any]:
    tte = pharmaverse["adtte_onco"]
    pfs = tte[tte["PARAMCD"] == "PFS"]
    return kaplan_meier_by_group(
        pfs["AVAL"].to_numpy(float), (pfs["CNSR"] == 0).to_numpy(), pfs["ARM"].to_numpy(), "log"
    )


@pytest.mark.parametrize("arm", ["Placebo", "Xanomeline High Dose"])
def test_pharmaverse_pfs_medians(
    pharmaverse: dict[str, pd.DataFrame], expected: dict[str, Any], arm: str
) -> None:
    """R: ``survfit(Surv(AVAL, 1 - CNSR) ~ ARM, adtte_onco[PARAMCD == "PFS"])`` (log).

    COMPUTED-ONLY (UNVERIFIED). Very few events; upper limits NA. Tolerance: exact.
    """
    e = expected["pharmaverseadam_onco"]["adtte_onco_log"]["PFS"][arm]
    km = _pfs_fits(pharmaverse)[arm]
    q = km_median_ci(km)
    assert (km.n, km.events) == (e["n"], e["events"])
    assert [q.estimate, q.lower, q.upper] == [e["median"], *e["ci95"]]


def test_pharmaverse_pfs_low_dose_median_as_r_prints_it(
    pharmaverse: dict[str, pd.DataFrame], expected: dict[str, Any]
) -> None:
    """R ``print(survfit)`` (``summary(fit)$table``), ARM Xanomeline Low Dose: the curve ends
    on a flat at exactly S = 0.5 (event at 61 with 2 at risk, last censoring at 64), so the
    printed median is the flat's start, 61, CI (61, NA) (contract v2 item 6; R 4.2 / survival
    3.5.3 prints 61 61 NA). The upper limit is not reached. Tolerance: exact.
    """
    e = expected["pharmaverseadam_onco"]["adtte_onco_log"]["PFS"]["Xanomeline Low Dose"]
    q = km_median_ci(_pfs_fits(pharmaverse)["Xanomeline Low Dose"])
    assert [q.estimate, q.lower, q.upper] == [e["median"], *e["ci95"]] == [61, 61, None]
    assert q.upper_status == "not_reached"


def test_pharmaverse_pfs_low_dose_quantile_end_of_curve_rule(
    pharmaverse: dict[str, pd.DataFrame],
) -> None:
    """R ``quantile(fit, 0.5)`` differs there: a curve ending on a flat exactly at 0.5 takes the
    midpoint of the flat and the last follow-up time, (61 + 64) / 2 = 62.5; CI (61, NA).
    Tolerance: exact.
    """
    q = km_quantile(_pfs_fits(pharmaverse)["Xanomeline Low Dose"], 0.5)
    assert [q.estimate, q.lower, q.upper] == [62.5, 61.0, None]


def test_pharmaverse_os_medians_not_estimable(pharmaverse: dict[str, pd.DataFrame]) -> None:
    """OS: 2 / 0 / 1 events per arm: no curve falls to 0.5, so every median is not reached
    (None, printed NR; no curve reached 0, so none is NE). COMPUTED-ONLY."""
    tte = pharmaverse["adtte_onco"]
    os_ = tte[tte["PARAMCD"] == "OS"]
    fits = kaplan_meier_by_group(
        os_["AVAL"].to_numpy(float), (os_["CNSR"] == 0).to_numpy(), os_["ARM"].to_numpy()
    )
    assert [fits[a].events for a in sorted(fits, key=str)] == [2, 0, 1]
    medians = [km_median_ci(km) for km in fits.values()]
    assert all(q.estimate is None and q.estimate_status == "not_reached" for q in medians)
