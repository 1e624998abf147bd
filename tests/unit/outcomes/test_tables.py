"""Report tables on a hand-built ADaM folder whose expected numbers are worked out by hand.

The fixture (``make_adam``) follows ``cartwatch.adam.metadata``: 10 subjects, S10 enrolled
but not infused; safety set S01–S09 (N = 9), efficacy-evaluable S01–S08, PEAS S01–S04,
label population S01–S06 (N = 6). Expected values are computed in the comments (and the
exact CIs independently from the beta quantiles), never by calling the code under test.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import beta

from cartwatch.outcomes import tables as tb

MONTH = 365.25 / 12
IDS = [f"S{i:02d}" for i in range(1, 11)]


def cp(k: int, n: int) -> tuple[float, float]:
    """Clopper–Pearson 95% limits in percent, from the beta quantiles (independent check)."""
    lo = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    hi = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return round(100 * lo, 1), round(100 * hi, 1)


def _flags(members: set[int]) -> list[str]:
    return ["Y" if i in members else "N" for i in range(1, 11)]


def make_adam() -> dict[str, pd.DataFrame]:
    ids = IDS
    adsl = pd.DataFrame(
        {
            "STUDYID": "T",
            "USUBJID": ids,
            "SUBJID": ids,
            "SITEID": "C1",
            "AGE": [50.0, 60, 64, 65, 70, 72, 58, 66, 80, 45],
            "SEX": ["M", "F", "M", "M", "F", "M", "F", "M", "M", "F"],
            "DIAGNOS": ["CLL"] * 5 + ["SLL"] + ["CLL"] * 4,
            "ECOGBL": [0.0, 1, 0, 1, 0, 0, 1, 0, 1, 0],
            "ENRLFL": "Y",
            "SAFFL": _flags(set(range(1, 10))),
            "EFFFL": _flags(set(range(1, 9))),
            "PEASFL": _flags({1, 2, 3, 4}),
            "LABELFL": _flags(set(range(1, 7))),
            # S01 del17p+TP53; S02 IGHV unmutated; S03 none known; S04 del17p unknown.
            "DEL17P": ["Y", "N", "N", "", "N", "Y", "N", "N", "N", "N"],
            "TP53MUT": ["Y", "N", "N", "N", "N", "N", "N", "N", "N", "N"],
            "CKARYO": ["N", "N", "N", "N", "Y", "N", "N", "N", "N", "N"],
            "IGHVUNM": ["N", "Y", "N", "N", "N", "N", "Y", "N", "N", "N"],
            "HIGHRISK": ["Y", "Y", "N", "N", "Y", "Y", "Y", "N", "N", "N"],
            "BULKY": ["N", "Y", "N", "N", "N", "N", "N", "N", "N", "N"],
            "PRIORLN": [3.0, 5, 4, 6, 2, 7, 3, 4, 5, 2],
            "BTKIFL": "Y",
            "BCL2IFL": _flags({1, 2, 3, 4, 5, 7}),
            "BTKIPDFL": _flags({1, 2, 3, 4, 6}),
            "BCL2FFL": _flags({1, 2, 3, 4}),
            "PROLCYFL": _flags({1}),
            "DCUTDT": pd.Timestamp("2024-06-30"),
        }
    )
    rs = []
    for sid, bor in zip(ids, ["CR", "CRi", "PR", "SD", "PD", None, "PR", "SD", "NE"], strict=False):
        if bor:
            rs.append((sid, "BOR", bor, "Y"))
        rs.append((sid, "OVRLRESP", bor or "NE", ""))
    # Blood MRD as statuses (MRDPB); marrow as the Y/N parameter (UMRD4BM).
    rs += [
        ("S01", "MRDPB", "uMRD5", "Y"),
        ("S02", "MRDPB", "uMRD4", "Y"),
        ("S03", "MRDPB", "detectable", "Y"),
        ("S04", "MRDPB", "not_assessed", "Y"),
        ("S01", "UMRD4BM", "Y", "Y"),
        ("S03", "UMRD4BM", "N", "Y"),
    ]
    adrs = pd.DataFrame(rs, columns=["USUBJID", "PARAMCD", "AVALC", "ANL01FL"])
    # PFS in the label population (months): events at 1, 3, 6, 10; censored at 20, 24.5.
    pfs = {
        "S01": (24.5, 1),
        "S02": (20, 1),
        "S03": (10, 0),
        "S04": (6, 0),
        "S05": (1, 0),
        "S06": (3, 0),
        "S07": (12, 0),
        "S08": (2, 1),
        "S09": (1, 0),
    }
    os_ = {s: (30.0, 1) for s in pfs}
    dor = {"S01": (22.0, 1), "S02": (18.0, 1), "S03": (4.0, 0), "S07": (9.0, 0)}
    tte = []
    for paramcd, values in (("PFS", pfs), ("OS", os_), ("DOR", dor)):
        for sid, (months, cnsr) in values.items():
            tte.append((sid, paramcd, months * MONTH, float(cnsr)))
    adtte = pd.DataFrame(tte, columns=["USUBJID", "PARAMCD", "AVAL", "CNSR"])
    ae = [
        # USUBJID, AECAT, AEDECOD, grade, onset day, duration, TOCIFL, TOCIN, STERFL, scale
        ("S01", "CRS", "Cytokine release syndrome", 1, 2, 3, "N", 0, "N", "ASTCT 2019"),
        ("S02", "CRS", "Cytokine release syndrome", 2, 4, 5, "Y", 1, "N", "ASTCT 2019"),
        ("S03", "CRS", "Cytokine release syndrome", 3, 1, 10, "Y", 2, "Y", "ASTCT 2019"),
        ("S04", "CRS", "Cytokine release syndrome", 1, 7, 4, "N", 0, "N", "ASTCT 2019"),
        ("S04", "CRS", "Cytokine release syndrome", 2, 20, 2, "N", 0, "N", "ASTCT 2019"),
        ("S10", "CRS", "Cytokine release syndrome", 4, 1, 9, "Y", 1, "Y", "ASTCT 2019"),
        (
            "S03",
            "NEUROTOXICITY",
            "Immune effector cell-associated neurotoxicity syndrome",
            3,
            5,
            3,
            "N",
            0,
            "Y",
            "ASTCT 2019",
        ),
        (
            "S05",
            "NEUROTOXICITY",
            "Immune effector cell-associated neurotoxicity syndrome",
            1,
            8,
            1,
            "N",
            0,
            "N",
            "ASTCT 2019",
        ),
        ("S01", "CYTOPENIA", "Neutrophil count decreased", 4, 3, 20, "N", 0, "N", "CTCAE v5.0"),
        ("S01", "CYTOPENIA", "Platelet count decreased", 3, 3, 30, "N", 0, "N", "CTCAE v5.0"),
        ("S02", "CYTOPENIA", "Anaemia", 2, 3, 10, "N", 0, "N", "CTCAE v5.0"),
        ("S03", "CYTOPENIA", "Neutrophil count decreased", 3, 2, 12, "N", 0, "N", "CTCAE v5.0"),
    ]
    adae = pd.DataFrame(
        ae,
        columns=[
            "USUBJID",
            "AECAT",
            "AEDECOD",
            "AETOXGRN",
            "ONSDYINF",
            "ADURN",
            "TOCIFL",
            "TOCIN",
            "STERFL",
            "TOXGRSTD",
        ],
    )
    adae["AETOXGR"] = adae["AETOXGRN"].astype(str)
    adae["AEBODSYS"] = "SOC"
    adae["TRTEMFL"] = "Y"
    return {"ADSL": adsl, "ADRS": adrs, "ADTTE": adtte, "ADAE": adae}


@pytest.fixture()
def adam() -> tb.AdamData:
    f = make_adam()
    return tb.AdamData(f["ADSL"], f["ADRS"], f["ADTTE"], f["ADAE"])


def _cell(table: tb.Table, row: str, col: int = 0) -> tb.Cell:
    return table.row(row).cells[col]


def test_primary_efficacy_population_is_the_label_population(adam: tb.AdamData) -> None:
    assert tb.primary_efficacy_flag(adam.adsl) == "LABELFL"
    assert tb.set_label(adam.adsl, "LABELFL") == "US label population (N = 6)"
    no_label = adam.adsl.assign(LABELFL="N")
    assert tb.primary_efficacy_flag(no_label) == "EFFFL"


def test_analysis_sets(adam: tb.AdamData) -> None:
    t = tb.analysis_sets_table(adam.adsl)
    assert [r.cells[1].values["n"] for r in t.rows] == [10, 9, 8, 4, 6]


def test_efficacy_label_population(adam: tb.AdamData) -> None:
    t = tb.efficacy_table(adam.adsl, adam.adrs, "LABELFL")
    # Label population S01..S06: CR, CRi, PR, SD, PD and S06 without BOR (→ NE).
    orr = _cell(t, "ORR")
    assert (orr.values["k"], orr.values["n"], orr.values["percent"]) == (3, 6, 50.0)
    assert orr.text == "3 (50.0%)"
    assert _cell(t, "ORR", 1).text == "{:.1f}–{:.1f}".format(*cp(3, 6))
    assert tuple(orr.values["ci_percent"]) == cp(3, 6)  # type: ignore[arg-type]
    assert _cell(t, "CR_CRI").values["k"] == 2
    assert _cell(t, "CR_CRI").values["percent"] == 33.3
    assert _cell(t, "CR").values["k"] == 1 and _cell(t, "CRI").values["k"] == 1
    assert _cell(t, "NE").values["k"] == 1
    # Second population is PEAS S01..S04: CR, CRi, PR, SD → ORR 3/4.
    assert t.header_groups[1] == ("PEAS (N = 4)", 2)
    assert t.columns[3:5] == ("n (%)", "95% CI")
    assert _cell(t, "ORR", 2).values["k"] == 3 and _cell(t, "ORR", 2).values["n"] == 4
    # Efficacy-evaluable S01..S08: + PR (S07), SD (S08) → ORR 4/8.
    assert _cell(t, "ORR", 4).text == "4 (50.0%)"


def test_mrd_both_encodings(adam: tb.AdamData) -> None:
    t = tb.mrd_table(adam.adsl, adam.adrs, "LABELFL")
    blood = t.row("UMRD4PB").cells
    # Blood: S01 uMRD5 + S02 uMRD4 undetectable; S03 detectable; S04 not assessed.
    assert (blood[0].values["k"], blood[0].values["n"]) == (2, 6)
    assert (blood[2].values["k"], blood[2].values["n"]) == (2, 3)
    assert (blood[4].values["k"], blood[4].values["n"]) == (2, 2)  # both CR/CRi patients
    marrow = t.row("UMRD4BM").cells
    assert (marrow[0].values["k"], marrow[2].values["n"], marrow[4].values["k"]) == (1, 2, 1)


def test_time_to_event_by_hand(adam: tb.AdamData) -> None:
    data = tb.tte_data(adam.adsl, adam.adrs, adam.adtte, "LABELFL")
    assert [d.paramcd for d in data] == ["PFS", "OS", "DOR"]
    t = tb.tte_table(data, adam.adsl, "LABELFL", "log-log")
    pfs = t.row("PFS").cells
    # S = 5/6, 4/6, 3/6 after the events at 1, 3, 6; exactly 0.5 on the flat 6..10, so the
    # R median is the midpoint 8; after 10: 2/6 until the censorings at 20 and 24.5.
    assert (pfs[0].text, pfs[1].text) == ("6", "4")
    assert pfs[2].values["median_months"] == pytest.approx(8.0)
    assert pfs[2].text.startswith("8 (")
    assert pfs[3].values["surv"] == pytest.approx(1 / 3)
    assert pfs[3].text.startswith("33.3% (")
    assert pfs[5].values["percent"] == 33.3  # 24 months: last follow-up 24.5
    os_row = t.row("OS").cells
    assert os_row[2].text == "NR (NR–NR)"  # no deaths: the curve never falls to 0.5
    assert os_row[2].values["ci_status"] == ["not_reached", "not_reached"]
    # The one PD patient (S05) and the one without a best response (S06) progressed: each
    # curve drops to 0, where the band is undefined, so the limits are NE, not NR.
    for group, month in (("PD", "1"), ("NE", "3")):
        cell = t.row(f"PFS:{group}").cells[2]
        assert cell.text == f"{month} (NE–NE)"
        assert cell.values["ci_status"] == ["not_estimable", "not_estimable"]
    assert any(f.startswith("NR = not reached") and "NE = not estimable" in f for f in t.footnotes)
    # DOR: responders S01, S02, S03 (S07 is not in the label population).
    assert t.row("DOR").cells[0].text == "3"
    assert t.row("PFS:CR/CRi").cells[0].text == "2"


def test_crs_and_neurotox_by_maximum_grade(adam: tb.AdamData) -> None:
    t = tb.crs_nt_table(adam.adsl, adam.adae)
    assert t.n == 9
    # CRS in the safety set (S10 not infused is excluded): S01 g1, S02 g2, S03 g3, S04 max g2.
    assert _cell(t, "any").text == "4 (44.4%)"
    assert _cell(t, "grade_1").values["k"] == 1
    assert _cell(t, "grade_2").values["k"] == 2
    assert _cell(t, "grade_ge_3").text == "1 (11.1%)"
    assert _cell(t, "grade_4").values["k"] == 0
    assert _cell(t, "scale").text == "ASTCT 2019"
    # First episodes' onsets 2, 4, 1, 7: median 3, type-7 quartiles 1.75 and 4.75.
    onset = _cell(t, "onset").values
    assert (onset["median"], onset["q1"], onset["q3"]) == (3.0, 1.75, 4.75)
    assert _cell(t, "onset").text == "3 (1.8–4.8)"
    # Durations 3, 5, 10, 4 → 4.5 (3.75–6.25).
    assert _cell(t, "duration").text == "4.5 (3.8–6.3)"
    assert _cell(t, "any", 1).text == "2 (22.2%)"
    assert _cell(t, "grade_ge_3", 1).values["k"] == 1
    assert any("ICANS" in f for f in t.footnotes)
    # contract v2 item 1: the table says how not-gradable CRS observations entered the grades
    assert any("not gradable" in f and "never counted as grade 0" in f for f in t.footnotes)


def test_management(adam: tb.AdamData) -> None:
    t = tb.management_table(adam.adsl, adam.adae)
    assert _cell(t, "toci_only").values["k"] == 1  # S02
    assert _cell(t, "both").values["k"] == 1  # S03
    assert _cell(t, "steroids_only").values["k"] == 0
    assert _cell(t, "either").text == "2 (22.2%)"
    assert _cell(t, "steroids_only", 1).values["k"] == 1  # S03 neurotox
    assert _cell(t, "toci_doses").values["median"] == 1.5  # doses 1 and 2


def test_cytopenias(adam: tb.AdamData) -> None:
    t = tb.cytopenia_table(adam.adsl, adam.adae)
    assert "CTCAE v5.0" in t.title
    assert _cell(t, "any").values["k"] == 2 and _cell(t, "any", 1).values["k"] == 1
    assert _cell(t, "Neutrophil count decreased").values["k"] == 2
    assert _cell(t, "Anaemia").values["k"] == 0
    assert _cell(t, "prolonged").text == "1 (11.1%)"


def test_baseline(adam: tb.AdamData) -> None:
    t = tb.baseline_table(adam.adsl, "LABELFL")
    # Safety set ages 50, 60, 64, 65, 70, 72, 58, 66, 80 → median 65 (50–80).
    assert _cell(t, "age").text == "65 (50–80)"
    # del(17p) in the label population: S01, S06 yes; S04 unknown → 2/5.
    assert _cell(t, "DEL17P", 1).text == "2/5 (40.0%)"
    assert _cell(t, "HIGHRISK", 1).text == "4 (66.7%)"
    assert _cell(t, "prior_lines_ge_5").values["k"] == 4


def test_subgroups(adam: tb.AdamData) -> None:
    t = tb.subgroup_table(adam.adsl, adam.adrs, "LABELFL")
    assert _cell(t, "All patients").values["k"] == 3
    # del(17p) yes: S01 (CR), S06 (NE) → 1/2; unknown S04 in neither subgroup.
    yes, no = _cell(t, "del(17p): yes"), _cell(t, "del(17p): no")
    assert (yes.values["k"], yes.values["n"], no.values["n"]) == (1, 2, 3)


def test_ae_incidence(adam: tb.AdamData) -> None:
    t = tb.ae_incidence_table(adam.adsl, adam.adae)
    assert t is not None
    crs = t.row("Cytokine release syndrome")
    assert (crs.cells[0].values["k"], crs.cells[1].values["k"]) == (4, 1)
    assert crs.cells[2].text == "ASTCT 2019"


def test_rounding_is_half_away_from_zero() -> None:
    assert tb.fmt_pct(0.05) == "0.1"
    assert tb.fmt_pct(84.61538) == "84.6"
    assert tb.fmt_ci(0.1110, 0.3182) == "11.1–31.8"
    assert tb.fmt_ci(0.2, None) == "20.0–NA"
