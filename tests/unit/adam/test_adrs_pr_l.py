"""ADRS carries PR-L (contract v2 item 4) and ORR counts it: the hand-built centre of
centre_fixture.py with patient P2's assessments replaced by a lymphocytosis on a BTK inhibitor.

P2 (infused 2024-02-01, efficacy evaluable): baseline 01-20 nodes SPD 10, lymphocytes 20 of
which B 18, platelets 60. Post 03-01: SPD 4 (−60 %), lymphocytes 35, B 33 (+83 % over 18,
≥5 × 10⁹/L), platelets 120 (≥100). The lymphocytosis is the only PD trigger, so with
``bcr_inhibitor_ongoing`` true it is PR-L (nodes 1 of 1 group A without lymphocytes, platelets
1 of 1 group B); without it, PD. New therapy on 04-01 ends the analysed assessments.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from centre_fixture import FILES, write_centre  # type: ignore[import-not-found]

from cartwatch.adam.derive import AdamDatasets, derive_adam
from cartwatch.adam.metadata import ADRS, RESPONDER_AVALC, RESPONSE_AVAL
from cartwatch.adam.xpt import read_adam_dir
from cartwatch.centre.loader import load_centre_dir
from cartwatch.outcomes.tables import PR_L_FOOTNOTE, efficacy_table

P2_ASSESSMENTS = [
    {
        "patient_id": "P2",
        "assessed_at": "2024-01-20",
        "timepoint": "baseline",
        "lymph_nodes_spd_cm2": 10,
        "largest_node_cm": 2.0,
        "lymphocytes_10e9_l": 20,
        "b_lymphocytes_10e9_l": 18,
        "platelets_10e9_l": 60,
        "hemoglobin_g_dl": 12,
    },
    {
        "patient_id": "P2",
        "assessed_at": "2024-03-01",
        "timepoint": "post",
        "lymph_nodes_spd_cm2": 4,
        "largest_node_cm": 1.2,
        "lymphocytes_10e9_l": 35,
        "b_lymphocytes_10e9_l": 33,
        "platelets_10e9_l": 120,
        "hemoglobin_g_dl": 12,
        "bcr_inhibitor_ongoing": "true",
    },
]


def _derive(tmp_path: Path, bcr_inhibitor_ongoing: bool) -> AdamDatasets:
    files = copy.deepcopy(FILES)
    rows = [r for r in files["response_assessments"] if r["patient_id"] != "P2"]
    p2 = copy.deepcopy(P2_ASSESSMENTS)
    p2[1]["bcr_inhibitor_ongoing"] = "true" if bcr_inhibitor_ongoing else "false"
    files["response_assessments"] = rows + p2
    folder = tmp_path / ("bcri" if bcr_inhibitor_ongoing else "no_bcri")
    write_centre(folder, files)
    return derive_adam(load_centre_dir(folder, today=dt.date(2025, 1, 1)))


@pytest.fixture(scope="module")
def on_btki(tmp_path_factory: pytest.TempPathFactory) -> AdamDatasets:
    return _derive(tmp_path_factory.mktemp("pr_l"), bcr_inhibitor_ongoing=True)


def _p2(adrs: pd.DataFrame, paramcd: str) -> pd.Series:
    rows = adrs[(adrs["SUBJID"] == "P2") & (adrs["PARAMCD"] == paramcd)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_adrs_avalc_is_pr_l_with_its_code_and_reasons(on_btki: AdamDatasets) -> None:
    ovr = _p2(on_btki.adrs, "OVRLRESP")
    assert (ovr["AVALC"], ovr["AVAL"]) == ("PR-L", 4.0)
    assert ovr["AVALREAS"].startswith("PR-L: PR criteria other than lymphocytes met")
    assert "isolated lymphocytosis during BTK/PI3K inhibitor therapy" in ovr["AVALREAS"]
    bor = _p2(on_btki.adrs, "BOR")
    assert (bor["AVALC"], bor["AVAL"], bor["ADT"]) == ("PR-L", 4.0, pd.Timestamp("2024-03-01"))


def test_pr_l_is_a_response_for_dor_and_adtte_bor(on_btki: AdamDatasets) -> None:
    adtte = on_btki.adtte
    p2 = adtte[adtte["SUBJID"] == "P2"]
    assert set(p2["BOR"]) == {"PR-L"}
    dor = p2[p2["PARAMCD"] == "DOR"]
    assert len(dor) == 1 and dor.iloc[0]["STARTDT"] == pd.Timestamp("2024-03-01")


def test_without_the_btk_inhibitor_the_same_lymphocytosis_is_pd(tmp_path: Path) -> None:
    adam = _derive(tmp_path, bcr_inhibitor_ongoing=False)
    ovr = _p2(adam.adrs, "OVRLRESP")
    assert (ovr["AVALC"], ovr["AVAL"]) == ("PD", 6.0)
    # ADaM text is ASCII (SAS XPORT v5): "+>=50%" for "+≥50%".
    assert "lymphocytosis, B lymphocytes +>=50% over baseline B lymphocytes" in ovr["AVALREAS"]


def test_metadata_orders_pr_l_after_pr_and_counts_it_in_orr() -> None:
    assert [c for c, _ in sorted(RESPONSE_AVAL.items(), key=lambda kv: kv[1])] == [
        "CR", "CRi", "PR", "PR-L", "SD", "PD", "NE",
    ]  # fmt: skip
    assert RESPONDER_AVALC == ("CR", "CRi", "PR", "PR-L")
    assert "PR-L" in ADRS.variable("AVALC").note and "ORR" in ADRS.variable("AVALC").note


def test_efficacy_table_counts_pr_l_in_orr_with_a_footnote(on_btki: AdamDatasets) -> None:
    table = efficacy_table(on_btki.adsl, on_btki.adrs, "EFFFL")
    rows = {r.key: r for r in table.rows}
    # Column pairs per analysis set, the efficacy-evaluable set last: P1 (BOR CR) and P2
    # (BOR PR-L) → ORR 2/2, PR-L 1/2.
    assert table.header_groups[-1][0].startswith("Efficacy-evaluable")
    col = len(table.columns) - 3  # the n (%) cell of the last pair (cells skip the label)
    assert rows["ORR"].cells[col].values["k"] == 2
    assert rows["PR_L"].cells[col].values["k"] == 1
    assert rows["ORR"].label == "Overall response (CR + CRi + PR + PR-L)"
    assert PR_L_FOOTNOTE in table.footnotes


def test_pr_l_survives_xpt_v5_and_reads_back(on_btki: AdamDatasets, tmp_path: Path) -> None:
    on_btki.write(tmp_path, csv=False, xpt=True)
    read = read_adam_dir(tmp_path)
    adrs, adtte = read["ADRS"].data, read["ADTTE"].data
    assert _p2(adrs, "BOR")["AVALC"] == "PR-L"
    assert set(adtte.loc[adtte["SUBJID"] == "P2", "BOR"]) == {"PR-L"}
