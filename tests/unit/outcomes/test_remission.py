"""Long-term remission and high-risk PFS tables (outcomes/remission.py) and their report
sections, on the hand-built ADaM fixture of test_tables.py and on a larger simulated set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_tables import MONTH, make_adam

from cartwatch.outcomes import remission as rm
from cartwatch.outcomes import tables as tb
from cartwatch.outcomes.report import build_report, load_datasets
from cartwatch.research.cure import fit_cure

PR = tb.bor_group("PR")  # "PR/PR-L" since contract v2 (PR with lymphocytosis)


@pytest.fixture(scope="module")
def pfs() -> rm.PfsBySubject:
    data = load_datasets(make_adam())
    out = rm.pfs_by_subject(data, "LABELFL")
    assert out is not None
    return out


def test_pfs_by_subject_reads_the_label_population(pfs: rm.PfsBySubject) -> None:
    assert list(pfs.subjects) == ["S01", "S02", "S03", "S04", "S05", "S06"]
    assert pfs.months.tolist() == pytest.approx([24.5, 20, 10, 6, 1, 3])
    assert pfs.event.tolist() == [False, False, True, True, True, True]
    assert list(pfs.bor) == ["CR/CRi", "CR/CRi", PR, "SD", "PD", "NE"]


def test_remission_groups(pfs: rm.PfsBySubject) -> None:
    groups = rm.remission_groups(pfs, make_adam()["ADRS"])
    members = {k: list(pfs.subjects[m]) for k, m in groups.items()}
    assert members == {
        "All patients": ["S01", "S02", "S03", "S04", "S05", "S06"],
        "CR/CRi": ["S01", "S02"],
        "CR/CRi with uMRD4 in blood": ["S01", "S02"],  # uMRD5 and uMRD4
        PR: ["S03"],
        "SD, PD or not evaluable": ["S04", "S05", "S06"],
    }


def test_table_plateau_and_no_fit_with_few_events(pfs: rm.PfsBySubject) -> None:
    groups = rm.remission_groups(pfs, make_adam()["ADRS"])
    fits = rm.remission_fits(pfs, groups)
    assert all(f is None for f in fits.values())  # 4 events at most: below the minimum
    table = rm.remission_table(pfs, groups, fits, "label population")
    first = table.rows[0]
    # KM at the last event (10 months), events at 1, 3, 6 and 10 with 6, 5, 4 and 3 at
    # risk: (5/6)(4/5)(3/4)(2/3) = 1/3.
    assert first.cells[2].values["km_plateau"] == pytest.approx(1 / 3)
    assert first.cells[3].text == "NE"
    assert "not fitted: 4 events (< 5)" in first.cells[3].values["note"]


def _simulated_adam(n: int = 120, seed: int = 4) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"P{i:03d}" for i in range(n)]
    bor = np.where(np.arange(n) % 2 == 0, "CR", "PR")
    cure = np.where(bor == "CR", 0.6, 0.2)
    event_months = rng.exponential(8.0, n)
    event_months[rng.random(n) < cure] = np.inf
    censor = rng.uniform(24, 60, n)
    months = np.minimum(event_months, censor)
    adsl = pd.DataFrame(
        {
            "USUBJID": ids,
            "SAFFL": "Y",
            "EFFFL": "Y",
            "DEL17P": np.where(rng.random(n) < 0.3, "Y", "N"),
            "TP53MUT": "N",
        }
    )
    adrs = pd.DataFrame({"USUBJID": ids, "PARAMCD": "BOR", "AVALC": bor, "ANL01FL": "Y"})
    adtte = pd.DataFrame(
        {
            "USUBJID": ids,
            "PARAMCD": "PFS",
            "AVAL": months * MONTH,
            "CNSR": np.where(event_months <= censor, 0.0, 1.0),
        }
    )
    return {"ADSL": adsl, "ADRS": adrs, "ADTTE": adtte}


def test_cure_fit_per_response_group_equals_fit_cure() -> None:
    frames = _simulated_adam()
    pfs = rm.pfs_by_subject(load_datasets(frames), "EFFFL")
    assert pfs is not None
    groups = rm.remission_groups(pfs, frames["ADRS"])
    fits = rm.remission_fits(pfs, groups)
    cr = fits["CR/CRi"]
    assert cr is not None
    mask = groups["CR/CRi"]
    direct = fit_cure(pfs.months[mask], pfs.event[mask].astype(float), "weibull")
    assert cr.cure_fraction == pytest.approx(direct.cure_fraction, abs=1e-9)
    partial = fits[PR]
    assert partial is not None and cr.cure_fraction > partial.cure_fraction
    table = rm.remission_table(pfs, groups, fits, "efficacy set")
    row = next(r for r in table.rows if r.key == "CR/CRi")
    assert row.cells[3].values["cure_fraction"] == pytest.approx(cr.cure_fraction)


def test_high_risk_rows_leave_unknown_out(pfs: rm.PfsBySubject) -> None:
    groups = rm.high_risk_groups(pfs)
    by_label = {f"{label}: {word}": list(pfs.subjects[m]) for label, word, m in groups}
    assert by_label["del(17p): yes"] == ["S01", "S06"]
    assert by_label["del(17p): no"] == ["S02", "S03", "S05"]  # S04 unknown
    table = rm.high_risk_pfs_table(pfs, groups, "label population")
    assert table.key == "high_risk_pfs" and len(table.rows) == len(groups)
    masks = rm.del17p_or_tp53(pfs)
    assert masks is not None
    assert list(pfs.subjects[masks["del(17p)/TP53 aberration"]]) == ["S01", "S06"]
    assert list(pfs.subjects[masks["neither"]]) == ["S02", "S03", "S05"]


def test_report_has_the_sections() -> None:
    report = build_report(_simulated_adam(), source_label="sim", figure_dpi=50)
    keys = {s.key: s for s in report.sections}
    remission = keys["long_term_remission"]
    assert [t.key for t in remission.tables] == ["remission"]
    assert [f.key for f in remission.figures] == ["pfs_cure_by_response"]
    subgroups = keys["subgroups"]
    assert "high_risk_pfs" in [t.key for t in subgroups.tables]
    assert "km_pfs_by_del17p_tp53" in [f.key for f in subgroups.figures]


def test_html_shows_the_remission_section() -> None:
    from cartwatch.outcomes.report_render import render_html

    html = render_html(build_report(_simulated_adam(), source_label="sim", figure_dpi=40))
    assert "Long-term remission" in html and "Cure fraction (95% CI)" in html
    assert 'id="figure-pfs_cure_by_response"' in html
