"""XPT v5 and CSV I/O: exact zeros from the pilot files, labels, lossless round trips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cartwatch.adam.metadata import ADAE, ADTTE, DATASETS, spec_problems
from cartwatch.adam.xpt import conform, read_adam_csv, read_xpt, write_adam_csv, write_xpt

PANDAS_XPORT_ZERO = 5.397605346934028e-79  # what pandas.read_sas returns for 0 (#50670)


@pytest.mark.parametrize("version", ["original", "tdf"])
def test_pilot_adtte_cnsr_zero_is_exact(shared_data: Path, version: str) -> None:
    df, meta = read_xpt(shared_data / "cdisc-pilot" / version / "adtte.xpt")
    cnsr = df["CNSR"].to_numpy()
    # 152 events and 102 censored in both pilot versions (VALIDATION.md §2.1).
    assert (cnsr == 0.0).sum() == 152
    assert (cnsr == 1.0).sum() == 102
    assert set(np.unique(cnsr)) == {0.0, 1.0}
    assert not np.any((cnsr > 0) & (cnsr < 1e-70)), "pandas XPORT zero bug leaked in"
    assert meta.labels["CNSR"] == "Censor"
    assert meta.labels["EVNTDESC"] == "Event or Censoring Description"
    assert meta.name == "ADTTE"


def test_pandas_reader_really_has_the_bug_this_guards_against(shared_data: Path) -> None:
    # If pandas ever fixes #50670 this test tells us the workaround is no longer needed.
    df = pd.read_sas(shared_data / "cdisc-pilot" / "original" / "adtte.xpt", format="xport")
    assert PANDAS_XPORT_ZERO in set(df["CNSR"])


def test_pilot_dates_and_character_blanks(shared_data: Path) -> None:
    df, meta = read_xpt(shared_data / "cdisc-pilot" / "tdf" / "adsl.xpt")
    assert df["TRTSDT"].dtype == "datetime64[ns]"
    first = df.loc[df["USUBJID"] == "01-701-1015"].iloc[0]
    assert first["TRTSDT"] == pd.Timestamp("2014-01-02")
    assert first["DTHFL"] == ""  # character missing is "", never NaN
    assert df["AGE"].dtype == np.float64
    assert meta.formats["TRTSDT"] == "DATE9."  # SAS spelling, whatever pyreadstat's version
    assert meta.labels["SAFFL"] == "Safety Population Flag"


def _sample_adtte() -> pd.DataFrame:
    rows = {
        "STUDYID": ["CARTWATCH"] * 3,
        "USUBJID": ["C1-P001", "C1-P002", "C1-P003"],
        "SUBJID": ["P001", "P002", "P003"],
        "SITEID": ["C1"] * 3,
        "PARAMCD": ["PFS", "PFS", "OS"],
        "PARAM": ["Progression-Free Survival (days)"] * 2 + ["Overall Survival (days)"],
        "AVAL": [1.0, 365.0, 2.0],
        "AVALU": ["DAYS"] * 3,
        "STARTDT": [dt.date(2023, 1, 5)] * 3,
        "ADT": [dt.date(2023, 1, 5), dt.date(2024, 1, 4), None],
        "CNSR": [0.0, 1.0, np.nan],
        "EVNTDESC": ["Death", "", "Disease progression"],
        "CNSDTDSC": ["", "Last adequate assessment", ""],
        "SRCDOM": ["FOLLOWUP", "ADRS", ""],
        "SRCVAR": ["EVENTDT", "ADT", ""],
        "BOR": ["CR", "", "PR"],
        "SAFFL": ["Y", "Y", "Y"],
        "EFFFL": ["Y", "", "Y"],
        "LABELFL": ["Y", "", ""],
    }
    return conform(pd.DataFrame(rows), ADTTE)


def test_derived_dataset_round_trips_through_xpt(tmp_path: Path) -> None:
    df = _sample_adtte()
    path = tmp_path / "adtte.xpt"
    write_xpt(df, path, "adtte", ADTTE.labels(), dataset_label=ADTTE.label)
    back, meta = read_xpt(path)
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    assert back["CNSR"].iloc[0] == 0.0
    assert meta.labels == ADTTE.labels()
    assert meta.name == "ADTTE"
    assert meta.label == ADTTE.label
    # Version 5 header ("LIBRARY" record, not the v8 "LIBV8").
    assert path.read_bytes()[:48] == b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
    # pyreadstat agrees independently of our reader.
    raw, _ = pyreadstat.read_xport(str(path))
    assert list(raw.columns) == list(ADTTE.names)


def test_empty_dataset_round_trips(tmp_path: Path) -> None:
    df = conform(pd.DataFrame({n: [] for n in ADAE.names}), ADAE)
    write_xpt(df, tmp_path / "adae.xpt", "ADAE", ADAE.labels(), dataset_label=ADAE.label)
    back, meta = read_xpt(tmp_path / "adae.xpt")
    assert len(back) == 0
    assert list(back.columns) == list(ADAE.names)
    assert meta.labels["AETOXGR"] == "Standard Toxicity Grade"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("LONGNAME9", "x", "variable name"),
        ("A", "≥ 38 °C", "non-ASCII"),
        ("A", "x" * 201, "longer than 200"),
    ],
)
def test_write_refuses_what_v5_cannot_hold(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    df = pd.DataFrame({column: [value]})
    with pytest.raises(ValueError, match=message):
        write_xpt(df, tmp_path / "x.xpt", "X", {})
    assert not (tmp_path / "x.xpt").exists()


def test_write_refuses_long_label(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="label"):
        write_xpt(pd.DataFrame({"A": [1.0]}), tmp_path / "x.xpt", "X", {"A": "L" * 41})


def test_write_enforces_declared_length(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="longer than 1"):
        write_xpt(pd.DataFrame({"FL": ["YY"]}), tmp_path / "x.xpt", "X", {}, lengths={"FL": 1})


def test_csv_round_trip_with_sidecar(tmp_path: Path) -> None:
    df = _sample_adtte()
    write_adam_csv(df, tmp_path / "adtte.csv", ADTTE)
    assert (tmp_path / "adtte.meta.json").is_file()
    back, meta = read_adam_csv(tmp_path / "adtte.csv")
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    assert meta.labels == ADTTE.labels()
    assert meta.name == "ADTTE"
    text = (tmp_path / "adtte.csv").read_text()
    assert text.splitlines()[0].startswith("STUDYID,USUBJID,SUBJID,SITEID,PARAMCD")
    assert "2023-01-05" in text


def test_csv_and_xpt_hold_the_same_values(tmp_path: Path) -> None:
    df = _sample_adtte()
    write_adam_csv(df, tmp_path / "adtte.csv", ADTTE)
    write_xpt(df, tmp_path / "adtte.xpt", "ADTTE", ADTTE.labels())
    a, meta_a = read_adam_csv(tmp_path / "adtte.csv")
    b, meta_b = read_xpt(tmp_path / "adtte.xpt")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert meta_a.formats == meta_b.formats == {"STARTDT": "DATE9.", "ADT": "DATE9."}


def test_conform_names_missing_variables() -> None:
    with pytest.raises(ValueError, match="CNSR"):
        conform(_sample_adtte().drop(columns=["CNSR"]), ADTTE)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_specs_respect_xpt_v5_and_adam_naming(name: str) -> None:
    assert spec_problems(DATASETS[name]) == []
