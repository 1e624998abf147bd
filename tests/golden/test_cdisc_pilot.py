"""CDISC pilot 01 (ADTTE TTDE, ADAE/ADSL TEAE table 14-5.01) against published outputs.

Data: ``cdisc-pilot/original`` (cards::ADTTE/ADAE) and ``cdisc-pilot/tdf`` (PHUSE TDF
re-derivation); the JSON says both give identical results, so every test runs on both.
Read with pyreadstat: pandas' XPORT reader turns numeric 0 into 5.4e-79 (pandas#50670), which
would silently turn every ``CNSR == 0`` event into a censoring.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
import pytest

from cartwatch.outcomes.adverse_events import ae_incidence_soc_pt
from cartwatch.outcomes.logrank import logrank_test
from cartwatch.outcomes.survival import (
    kaplan_meier,
    kaplan_meier_by_group,
    km_median_ci,
    km_quantile,
    numbers_at_risk,
    survival_at,
)

VERSIONS = ["original", "tdf"]


@pytest.fixture(scope="module")
def expected(shared_data: Path) -> dict[str, Any]:
    return dict(json.loads((shared_data / "reference" / "expected_values.json").read_text()))


def _xpt(shared_data: Path, version: str, name: str) -> pd.DataFrame:
    df, _meta = pyreadstat.read_xport(str(shared_data / "cdisc-pilot" / version / f"{name}.xpt"))
    return df


def _ttde(shared_data: Path, version: str) -> pd.DataFrame:
    adtte = _xpt(shared_data, version, "adtte")
    return adtte[adtte["PARAMCD"] == "TTDE"]


def _limits(q: Any) -> list[float | None]:
    return [q.estimate, q.lower, q.upper]


@pytest.mark.parametrize("version", VERSIONS)
def test_ttde_medians_plain_ci_by_arm(
    shared_data: Path, expected: dict[str, Any], version: str
) -> None:
    """R: ``survfit(Surv(AVAL, 1 - CNSR) ~ TRTA, data = ADTTE, conf.type = "plain")``.

    Source: crane tbl_survfit_quantiles snapshot (crane's default conf.type is "plain"), so
    the published CIs use the PLAIN transform. Placebo never reaches 0.5 (NR).
    Tolerance: exact (observed days).
    """
    ttde = _ttde(shared_data, version)
    exp = expected["cdisc_pilot_adtte_TTDE"]["by_arm"]
    fits = kaplan_meier_by_group(ttde["AVAL"], ttde["CNSR"] == 0, ttde["TRTA"], "plain")
    for arm, e in exp.items():
        km = fits[arm]
        assert (km.n, km.events) == (e["n"], e["events"])
        assert _limits(km_median_ci(km)) == [e["median"], *e["ci95_plain"]]
        assert km_quantile(km, 0.25).estimate == e["q25"]
        assert km_quantile(km, 0.75).estimate == e["q75"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("conf_type", "key"), [("log", "ci95_log"), ("log-log", "ci95_loglog")])
def test_ttde_medians_log_and_loglog_by_arm(
    shared_data: Path, expected: dict[str, Any], version: str, conf_type: str, key: str
) -> None:
    """R: as above with ``conf.type = "log"`` / ``"log-log"``.

    Source: computed-only (UNVERIFIED) in expected_values.json. Tolerance: exact.
    """
    ttde = _ttde(shared_data, version)
    exp = expected["cdisc_pilot_adtte_TTDE"]["by_arm"]
    fits = kaplan_meier_by_group(ttde["AVAL"], ttde["CNSR"] == 0, ttde["TRTA"], conf_type)
    for arm in ("Xanomeline Low Dose", "Xanomeline High Dose"):
        assert _limits(km_median_ci(fits[arm])) == [exp[arm]["median"], *exp[arm][key]]


@pytest.mark.parametrize("version", VERSIONS)
def test_ttde_overall(shared_data: Path, expected: dict[str, Any], version: str) -> None:
    """R: ``survfit(Surv(AVAL, 1 - CNSR) ~ 1, ADTTE, conf.type = <type>, conf.int = <level>)``.

    Source: crane snapshot (95% plain and 90% log published; 95% log and log-log computed).
    Tolerance: exact.
    """
    ttde = _ttde(shared_data, version)
    exp = expected["cdisc_pilot_adtte_TTDE"]["overall"]
    for conf_type, level, key in [
        ("plain", 0.95, "ci95_plain"),
        ("log", 0.90, "ci90_log"),
        ("log", 0.95, "ci95_log"),
        ("log-log", 0.95, "ci95_loglog"),
    ]:
        km = kaplan_meier(ttde["AVAL"], ttde["CNSR"] == 0, conf_type, level)
        assert (km.n, km.events) == (exp["n"], exp["events"])
        assert _limits(km_median_ci(km)) == [exp["median"], *exp[key]], (conf_type, level)
    assert km_quantile(km, 0.25).estimate == exp["q25"]
    assert km_quantile(km, 0.75).estimate == exp["q75"]


@pytest.mark.parametrize("version", VERSIONS)
def test_ttde_event_free_rates_plain(
    shared_data: Path, expected: dict[str, Any], version: str
) -> None:
    """R: ``summary(survfit(...~ TRTA, conf.type = "plain"), times = c(30, 60, 120))``.

    Source: crane tbl_survfit_times snapshot (percent, 1 dp; plain CI). Tolerance: 0.05
    percentage points (half the printed unit).
    """
    ttde = _ttde(shared_data, version)
    rates = expected["cdisc_pilot_adtte_TTDE"]["event_free_rates_pct"]
    fits = kaplan_meier_by_group(ttde["AVAL"], ttde["CNSR"] == 0, ttde["TRTA"], "plain")
    for day in ("30", "60", "120"):
        for arm, e in rates[day].items():
            if arm == "Overall" or "ci95_plain" not in e:
                continue
            est = survival_at(fits[arm], float(day))
            assert est.n_risk == e["n_risk"]
            assert est.surv * 100 == pytest.approx(e["rate"], abs=0.05)
            assert est.lower is not None and est.upper is not None
            assert [est.lower * 100, est.upper * 100] == pytest.approx(e["ci95_plain"], abs=0.05)


@pytest.mark.parametrize("version", VERSIONS)
def test_ttde_numbers_at_risk(shared_data: Path, expected: dict[str, Any], version: str) -> None:
    """Risk table of Figure 14-1 (RConsortium pilot 1 tlf-kmplot.pdf), days 0–200 by 20.

    Tolerance: exact counts.
    """
    ttde = _ttde(shared_data, version)
    exp = expected["cdisc_pilot_adtte_TTDE"]["numbers_at_risk_days_0_to_200_by_20"]
    fits = kaplan_meier_by_group(ttde["AVAL"], ttde["CNSR"] == 0, ttde["TRTA"])
    for arm, counts in exp.items():
        if arm == "status":
            continue
        assert numbers_at_risk(fits[arm], range(0, 201, 20)) == counts


@pytest.mark.parametrize("version", VERSIONS)
def test_ttde_logrank_three_arms(shared_data: Path, expected: dict[str, Any], version: str) -> None:
    """R: ``survdiff(Surv(AVAL, 1 - CNSR) ~ TRTA, ADTTE)``. Computed-only (UNVERIFIED).

    Tolerance: 0.005 on chisq and expected (2 dp given).
    """
    ttde = _ttde(shared_data, version)
    exp = expected["cdisc_pilot_adtte_TTDE"]["logrank_3arm"]
    lr = logrank_test(ttde["AVAL"], ttde["CNSR"] == 0, ttde["TRTA"])
    assert lr.df == exp["df"]
    assert lr.chisq == pytest.approx(exp["chisq"], abs=0.005)
    got = dict(zip(lr.groups, lr.expected, strict=True))
    for arm, e in exp["expected"].items():
        assert got[arm] == pytest.approx(e, abs=0.005)


@pytest.mark.parametrize("version", VERSIONS)
def test_teae_table_14_5_01(shared_data: Path, expected: dict[str, Any], version: str) -> None:
    """CDISC pilot table 14-5.01: TEAEs by SOC/PT, subjects and events, safety population.

    Source: atorus-research/CDISC_pilot_replication outputs/14-5.01.rtf (R reproduction).
    Rules: ADAE ``TRTEMFL == "Y"`` ("N" in original, blank in tdf for non-emergent), ADSL
    ``SAFFL == "Y"`` by ``TRT01A`` as denominator, ``TRTA`` as the AE arm.
    Tolerance: exact counts; percentages to the printed 0.1.
    """
    exp = expected["cdisc_pilot_teae_14_5_01"]
    arms = exp["column_order"]
    table = ae_incidence_soc_pt(
        _xpt(shared_data, version, "adae"), _xpt(shared_data, version, "adsl"), arms=arms
    )
    assert table.denominators == (86, 84, 84)
    overall = table.row()
    assert list(overall.subjects) == exp["ANY BODY SYSTEM"]["subjects"]
    assert list(overall.events) == exp["ANY BODY SYSTEM"]["events"]
    assert list(overall.percent) == pytest.approx(exp["ANY BODY SYSTEM"]["pct"], abs=0.05)
    socs = {r.soc for r in table.rows if r.level == "soc"}
    for soc, e in exp["by_soc"].items():
        if sum(e["subjects"]) == 0:
            assert soc not in socs
            continue
        row = table.row(soc=soc)
        assert (list(row.subjects), list(row.events)) == (e["subjects"], e["events"]), soc
    for term, e in exp["selected_pt"].items():
        row = table.row(term=term)
        assert (list(row.subjects), list(row.events)) == (e["subjects"], e["events"]), term
    assert table.filter == "TRTEMFL == 'Y'"
    assert "SAFFL" in table.denominator
