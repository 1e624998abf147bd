"""ADaM text (issue 11 item 9): units that read as units, long text never cut, integers as
integers in CSV, USUBJID = STUDYID-SITEID-SUBJID without a doubled site prefix."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartwatch.adam.adsl import subjects_from, usubjid
from cartwatch.adam.common import ascii_text, join_reasons
from cartwatch.adam.derive import AdamDatasets, derive_adam
from cartwatch.adam.long_text import join_long_text, split_long_text, split_segments
from cartwatch.adam.metadata import ADAE, ADSL, XPT_V5_CHAR_MAX, continuation_name
from cartwatch.adam.xpt import conform, read_adam_csv, read_adam_dir, write_adam_csv
from cartwatch.centre.loader import CentreDataError
from cartwatch.synth.cohort import synthesize

# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("engine", "adam"),
    [
        ("platelets_10e9_l 74 ×10⁹/L <75", "platelets_10e9_l 74 x10^9/L <75"),
        ("≥5 × 10⁹/L", ">=5 x 10^9/L"),
        ("sensitivity 10⁻⁴ (≤10⁻⁴)", "sensitivity 10^-4 (<=10^-4)"),
        ("lymph_nodes_spd_cm2 20 cm² → 8 cm²", "lymph_nodes_spd_cm2 20 cm^2 -> 8 cm^2"),
        ("10¹² cells", "10^12 cells"),
        ("temperature 38.5 °C", "temperature 38.5 deg C"),
    ],
)
def test_powers_read_as_units(engine: str, adam: str) -> None:
    assert ascii_text(engine) == adam


def test_nothing_is_cut_in_memory() -> None:
    reason = "anemia grade 2: hemoglobin_g_dl 8.4 g/dL <10; " * 20
    out = join_reasons([reason, "end"])
    assert len(out) > 2 * XPT_V5_CHAR_MAX
    assert out.endswith("; end") and "..." not in out


# --------------------------------------------------------------------------- long text


words = st.lists(
    st.text(alphabet="abcdefghij0123456789<>=.;:()^", min_size=1, max_size=30),
    min_size=0,
    max_size=60,
)


@given(words)
def test_segments_join_back_and_cut_between_words(parts: list[str]) -> None:
    """Engine text (single spaces, words ≤30): ≤200 per segment, no segment ends in a space
    (XPT would drop it), every cut is before a space, and the concatenation is the text."""
    text = " ".join(parts)
    segments = split_segments(text)
    assert "".join(segments) == text
    assert all(len(s) <= XPT_V5_CHAR_MAX for s in segments)
    assert all(not s.endswith(" ") for s in segments)
    assert all(s.startswith(" ") for s in segments[1:])
    assert len(segments) == 1 or len(text) > XPT_V5_CHAR_MAX


@given(st.text(alphabet="ab \t.", max_size=700), st.sampled_from([200, 7, 1]))
def test_segments_of_any_text_join_back(text: str, limit: int) -> None:
    segments = split_segments(text, limit)
    assert "".join(segments) == text
    assert all(1 <= len(s) <= limit for s in segments[:-1]) and len(segments[-1]) <= limit


def test_a_word_longer_than_the_limit_is_cut_inside_the_word() -> None:
    text = "x" * 450 + " end"
    assert split_segments(text) == ["x" * 200, "x" * 200, "x" * 50 + " end"]


def _adae_with_reasons(reasons: list[str]) -> pd.DataFrame:
    rows = {name: [""] * len(reasons) for name in ADAE.char_variables()}
    rows["ATOXREAS"] = reasons
    frame = pd.DataFrame(rows)
    for name in ADAE.names:
        if name not in frame:
            frame[name] = float("nan") if name not in ADAE.date_variables() else pd.NaT
    return conform(frame, ADAE)


def test_continuation_variables_follow_the_variable() -> None:
    long = "reason " * 80  # 560 characters: three segments
    df = _adae_with_reasons([long.strip(), "short"])
    disk, spec = split_long_text(df, ADAE)
    at = list(spec.names).index("ATOXREAS")
    assert list(spec.names)[at : at + 3] == ["ATOXREAS", "ATOXREA1", "ATOXREA2"]
    assert spec.variable("ATOXREA1").label == "Reasons for Toxicity Grade (Engine) 1"
    assert all(len(v.label) <= 40 and len(v.name) <= 8 for v in spec.variables)
    assert list(disk.loc[1, ["ATOXREAS", "ATOXREA1", "ATOXREA2"]]) == ["short", "", ""]
    assert join_long_text(disk, ADAE)["ATOXREAS"].tolist() == df["ATOXREAS"].tolist()
    # Every value fits: no continuation variable at all.
    same, same_spec = split_long_text(_adae_with_reasons(["short"]), ADAE)
    assert same_spec is ADAE and "ATOXREA1" not in same


def test_continuation_names_stay_within_eight_characters() -> None:
    assert [continuation_name("ATOXREAS", i) for i in (1, 9, 10, 99)] == [
        "ATOXREA1",
        "ATOXREA9",
        "ATOXRE10",
        "ATOXRE99",
    ]


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def cohort_adam() -> AdamDatasets:
    return derive_adam(synthesize(40, 7))


@pytest.fixture(scope="module")
def written(cohort_adam: AdamDatasets, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("adam")
    cohort_adam.write(folder, csv=True, xpt=True)
    return folder


def test_derived_reasons_spell_units_and_are_whole(cohort_adam: AdamDatasets) -> None:
    reasons = pd.concat([cohort_adam.adae["ATOXREAS"], cohort_adam.adrs["AVALREAS"]])
    assert reasons.str.contains("x10^9/L", regex=False).any()
    assert not reasons.str.contains("x109/L", regex=False).any()
    assert not reasons.str.endswith("...").any()
    assert (reasons.str.len() > XPT_V5_CHAR_MAX).any(), "the cohort should have long reasons"


def test_xpt_holds_the_segments_and_pyreadstat_reads_them(
    cohort_adam: AdamDatasets, written: Path
) -> None:
    """pyreadstat reads the raw XPT v5: ≤200 bytes per value; concatenated = the reasons."""
    raw, meta = pyreadstat.read_xport(str(written / "adae.xpt"))
    parts = ["ATOXREAS"] + [c for c in raw.columns if c.startswith("ATOXREA") and c[-1].isdigit()]
    assert len(parts) >= 2
    assert all(raw[c].str.len().max() <= XPT_V5_CHAR_MAX for c in parts)
    joined = raw[parts].astype(str).agg("".join, axis=1)
    assert joined.tolist() == cohort_adam.adae["ATOXREAS"].tolist()
    assert meta.column_names_to_labels["ATOXREA1"] == "Reasons for Toxicity Grade (Engine) 1"


def test_csv_and_xpt_agree_and_read_back_whole(cohort_adam: AdamDatasets, written: Path) -> None:
    csv_text = pd.read_csv(written / "adrs.csv", dtype=str, keep_default_na=False)
    xpt_raw, _ = pyreadstat.read_xport(str(written / "adrs.xpt"))
    assert list(csv_text.columns) == list(xpt_raw.columns)
    assert "AVALREA1" in csv_text.columns
    back = read_adam_dir(written)
    for spec, df in cohort_adam.items():
        pd.testing.assert_frame_equal(back[spec.name].data, df, check_exact=True)


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_r_haven_reads_the_same_text(cohort_adam: AdamDatasets, written: Path) -> None:
    """R ``haven::read_xpt`` + ``paste0`` of the segments gives the whole reasons."""
    script = (
        'd <- haven::read_xpt(commandArgs(TRUE)[1]); p <- grep("^ATOXREA(S|[0-9]+)$", '
        "names(d), value = TRUE); cat(jsonlite::toJSON(list(parts = p, text = "
        "do.call(paste0, as.list(d[p])))))"
    )
    res = subprocess.run(
        ["Rscript", "-e", script, str(written / "adae.xpt")],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0 and "there is no package" in res.stderr:
        pytest.skip(f"R without haven/jsonlite: {res.stderr.strip()[:200]}")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["parts"][:2] == ["ATOXREAS", "ATOXREA1"]
    assert out["text"] == cohort_adam.adae["ATOXREAS"].tolist()


# --------------------------------------------------------------------------- integers


def test_integer_variables_are_written_as_integers(written: Path) -> None:
    adsl = pd.read_csv(written / "adsl.csv", dtype=str, keep_default_na=False)
    assert adsl["AGE"].str.fullmatch(r"\d+").all() and adsl["PRIORLN"].str.fullmatch(r"\d+").all()
    adae = pd.read_csv(written / "adae.csv", dtype=str, keep_default_na=False)
    for col in ("AESEQ", "AETOXGRN", "ASTDY", "ONSDYINF", "TOCIN"):
        assert not adae[col].str.contains(".", regex=False).any(), col
    adtte = pd.read_csv(written / "adtte.csv", dtype=str, keep_default_na=False)
    assert set(adtte["CNSR"]) <= {"0", "1"}
    assert adtte["AVAL"].str.fullmatch(r"\d+").all()
    sidecar = json.loads((written / "adsl.meta.json").read_text())
    types = {v["name"]: v["datatype"] for v in sidecar["variables"]}
    assert (types["AGE"], types["DOSE01A"], types["TRTSDT"], types["SEX"]) == (
        "integer",
        "float",
        "date",
        "text",
    )


def test_a_fraction_in_an_integer_variable_is_refused(tmp_path: Path) -> None:
    frame = {name: [""] for name in ADSL.char_variables()}
    frame.update({name: [pd.NaT] for name in ADSL.date_variables()})
    df = pd.DataFrame(frame)
    for name in ADSL.names:
        if name not in df:
            df[name] = [float("nan")]
    df["AGE"] = [64.5]
    with pytest.raises(ValueError, match=r"ADSL\.AGE: integer variable holds 64\.5"):
        write_adam_csv(conform(df, ADSL), tmp_path / "adsl.csv", ADSL)
    df["AGE"] = [64.0]
    write_adam_csv(conform(df, ADSL), tmp_path / "adsl.csv", ADSL)
    back, _ = read_adam_csv(tmp_path / "adsl.csv")
    assert back["AGE"].tolist() == [64.0]


# --------------------------------------------------------------------------- USUBJID


@pytest.mark.parametrize(
    ("site", "subject", "expected"),
    [
        ("C03", "SYN-0001", "CARTWATCH-C03-SYN-0001"),
        ("NORTH", "NORTH-001", "CARTWATCH-NORTH-001"),  # the pseudonym has the site already
        ("NORTH", "north-001", "CARTWATCH-north-001"),  # in any case
        ("NORTH", "NORTH001", "CARTWATCH-NORTH-NORTH001"),  # no hyphen: not a site prefix
        ("NORTH", "NORTHWEST-1", "CARTWATCH-NORTH-NORTHWEST-1"),
    ],
)
def test_usubjid_is_study_site_subject_without_a_doubled_site(
    site: str, subject: str, expected: str
) -> None:
    assert usubjid("CARTWATCH", site, subject) == expected


def _frames(sites: list[str], subjects: list[str]) -> dict[str, pd.DataFrame]:
    return {
        "patients": pd.DataFrame({"patient_id": subjects, "centre_id": sites}),
        "cell_therapy": pd.DataFrame({"patient_id": [], "infusion_date": []}),
    }


def test_usubjid_stays_unique_when_dropping_the_prefix_would_merge_two_patients() -> None:
    table = subjects_from(_frames(["N", "N", "N"], ["N-1", "1", "N-2"]), "S").table
    assert table["USUBJID"].tolist() == ["S-N-N-1", "S-N-1", "S-N-2"]


def test_usubjid_that_cannot_be_unique_is_refused_with_both_patients_named() -> None:
    with pytest.raises(CentreDataError, match=r"patients\.csv:2:patient_id: USUBJID S-A-B-1"):
        subjects_from(_frames(["A", "A-B"], ["B-1", "1"]), "S")
