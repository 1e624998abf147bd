"""Reading ADaM made by other tools: CDISC pilot XPT (SAS) and pharmaverseadam CSV (R)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartwatch.adam.xpt import AdamReadError, read_adam_csv, read_adam_dir


@pytest.mark.parametrize("version", ["original", "tdf"])
def test_pilot_folder_reads_with_labels_and_dates(shared_data: Path, version: str) -> None:
    found = read_adam_dir(shared_data / "cdisc-pilot" / version)
    assert {"ADSL", "ADAE", "ADTTE"} <= set(found)
    adsl = found["ADSL"].data
    assert len(adsl) == 254
    assert (adsl["SAFFL"] == "Y").sum() == 254
    assert adsl["TRTSDT"].dtype == "datetime64[ns]"
    adae = found["ADAE"].data
    assert len(adae) == 1191
    # TRTEMFL blanks differ between versions: "N" in original, "" in TDF (README).
    blank = "N" if version == "original" else ""
    assert set(adae["TRTEMFL"]) == {"Y", blank}
    assert not adae["TRTEMFL"].isna().any()
    # 14-5.01: ANY BODY SYSTEM, TEAE subjects 65/77/76 by TRTA.
    te = adae[adae["TRTEMFL"] == "Y"].groupby("TRTA")["USUBJID"].nunique()
    assert te.to_dict() == {"Placebo": 65, "Xanomeline Low Dose": 77, "Xanomeline High Dose": 76}
    adtte = found["ADTTE"]
    assert adtte.meta.labels["STARTDT"] == "Time to Event Origin Date for Subject"
    assert (adtte.data["CNSR"] == 0.0).sum() == 152


def test_pharmaverse_csv_types(shared_data: Path) -> None:
    adsl, meta = read_adam_csv(shared_data / "pharmaverseadam" / "adsl.csv")
    assert len(adsl) == 306
    # Known character variables stay character even when they look numeric.
    assert adsl["SITEID"].iloc[0] == "701"
    assert adsl["SUBJID"].iloc[0] == "1015"
    assert adsl["AGE"].dtype == np.float64
    # R writes dates unquoted ISO; NA is missing.
    assert adsl["TRTSDT"].iloc[0] == pd.Timestamp("2014-01-02")
    assert adsl["DTHDT"].isna().iloc[0]
    assert adsl["TRTEDTM"].iloc[0] == pd.Timestamp("2014-07-02 23:59:59")
    # Character NA becomes "" like an XPT blank.
    assert adsl["DTHFL"].iloc[0] == ""
    assert meta.labels == {}


def test_pharmaverse_folder_bor_counts(shared_data: Path) -> None:
    found = read_adam_dir(shared_data / "pharmaverseadam")
    assert {"ADSL", "ADAE", "ADRS_ONCO", "ADTTE_ONCO"} <= set(found)
    adrs = found["ADRS_ONCO"].data
    bor = adrs[adrs["PARAMCD"] == "BOR"]
    # VALIDATION.md §4, BOR by ARM (computed only): Placebo CR 1, PR 1, SD 1, MISSING 83.
    placebo = bor[bor["ARM"] == "Placebo"]["AVALC"].value_counts().to_dict()
    assert placebo == {"CR": 1, "PR": 1, "SD": 1, "MISSING": 83}
    adtte = found["ADTTE_ONCO"].data
    assert set(adtte["CNSR"].unique()) <= {0.0, 1.0}
    assert adtte["ADT"].dtype == "datetime64[ns]"


def test_file_names_are_case_insensitive(shared_data: Path, tmp_path: Path) -> None:
    shutil.copy(shared_data / "cdisc-pilot" / "tdf" / "adsl.xpt", tmp_path / "ADSL.XPT")
    shutil.copy(shared_data / "pharmaverseadam" / "adae.csv", tmp_path / "AdAe.csv")
    found = read_adam_dir(tmp_path)
    assert set(found) == {"ADSL", "ADAE"}


def test_missing_required_variables_are_named(tmp_path: Path) -> None:
    pd.DataFrame({"USUBJID": ["1"], "PARAMCD": ["OS"], "AVAL": [3.0]}).to_csv(
        tmp_path / "adtte.csv", index=False
    )
    pd.DataFrame({"STUDYID": ["S"]}).to_csv(tmp_path / "ADSL.csv", index=False)
    with pytest.raises(AdamReadError) as err:
        read_adam_dir(tmp_path)
    assert "adtte.csv: CNSR: required variable missing" in err.value.problems
    assert "ADSL.csv: USUBJID: required variable missing" in err.value.problems
    assert len(err.value.problems) == 2


def test_bad_dates_are_named(tmp_path: Path) -> None:
    pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["1"], "TRTSDT": ["2024-13-45"]}).to_csv(
        tmp_path / "adsl.csv", index=False
    )
    with pytest.raises(AdamReadError, match=r"adsl.csv: TRTSDT: not an ISO 8601 date"):
        read_adam_dir(tmp_path)


def test_sas_numeric_dates_in_csv(tmp_path: Path) -> None:
    pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["1"], "TRTSDT": [0], "ADT": [23376]}).to_csv(
        tmp_path / "adsl.csv", index=False
    )
    adsl = read_adam_dir(tmp_path)["ADSL"].data
    assert adsl["TRTSDT"].iloc[0] == pd.Timestamp("1960-01-01")
    assert adsl["ADT"].iloc[0] == pd.Timestamp("2024-01-01")


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(AdamReadError, match="not a folder"):
        read_adam_dir(tmp_path / "absent")
