"""ADaM derivation rules on a hand-built centre folder (centre_fixture.py).

Every expected value is worked out by hand from the fixture rows (2024 is a leap year):
days are written as literals with the arithmetic in the comment, never recomputed by code.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from centre_fixture import write_centre  # type: ignore[import-not-found]

from cartwatch.adam.derive import AdamDatasets, derive_adam
from cartwatch.adam.metadata import DATASETS
from cartwatch.adam.xpt import read_adam_dir
from cartwatch.centre.loader import CentreData, load_centre_dir
from cartwatch.clinical.episodes import split_episodes

TS = pd.Timestamp


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> CentreData:
    folder = write_centre(tmp_path_factory.mktemp("centre"))
    return load_centre_dir(folder, today=dt.date(2025, 1, 1))


@pytest.fixture(scope="module")
def adam(centre: CentreData) -> AdamDatasets:
    return derive_adam(centre)


def _one(df: pd.DataFrame, **where: object) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for key, value in where.items():
        mask &= df[key] == value
    rows = df[mask]
    assert len(rows) == 1, f"{where}: {len(rows)} rows"
    return rows.iloc[0]


# --------------------------------------------------------------------------- ADSL


def test_adsl_has_one_record_per_patient_and_the_analysis_sets(adam: AdamDatasets) -> None:
    adsl = adam.adsl.set_index("SUBJID")
    assert list(adsl.index) == ["P1", "P2", "P3", "P4", "P5"]
    # STUDYID-SITEID-SUBJID (the study id is the default, CARTWATCH).
    assert list(adsl["USUBJID"]) == [f"CARTWATCH-C1-P{i}" for i in range(1, 6)]
    assert "".join(adsl["ENRLFL"]) == "YYYYN"  # P5 has no course
    assert "".join(adsl["SAFFL"]) == "YYYNN"  # P4 never infused
    assert "".join(adsl["EFFFL"]) == "YYNNN"  # P3: node 1.0, spleen 10, lymphocytes 2.0
    # LABELFL: P1 only (P2 dose 50 and one line; P3 not efficacy evaluable).
    assert "".join(adsl["LABELFL"]) == "YNNNN"
    assert "".join(adsl["PEASFL"]) == "YNNNN"


def test_adsl_baseline_characteristics(adam: AdamDatasets) -> None:
    adsl = adam.adsl.set_index("SUBJID")
    p1, p2, p3 = adsl.loc["P1"], adsl.loc["P2"], adsl.loc["P3"]
    assert p1["TRTSDT"] == TS("2024-01-10")
    assert p1["DOSE01A"] == 100.0
    assert p1["PRIORLN"] == 2.0 and p1["BTKIFL"] == "Y" and p1["BCL2IFL"] == "Y"
    assert p2["BCL2IFL"] == "N"
    assert p3["BCL2IFL"] == "Y"  # "Venclexta" is a brand of venetoclax
    assert p3["BCL2FFL"] == "Y"  # intolerance counts as venetoclax failure
    assert (p1["DEL17P"], p1["TP53MUT"], p1["HIGHRISK"]) == ("Y", "", "Y")
    assert (p2["DEL17P"], p2["TP53MUT"], p2["HIGHRISK"]) == ("N", "N", "")  # 2 unknown
    assert p3["HIGHRISK"] == ""
    assert p2["DTHFL"] == "Y" and p2["DTHDT"] == TS("2024-06-01")
    assert p2["DTHCAUS"] == "disease_progression"
    assert p1["DTHFL"] == "" and pd.isna(p1["DTHDT"])
    assert p1["LSTALVDT"] == TS("2024-09-01")  # last contact
    assert p2["LSTALVDT"] == TS("2024-05-01")  # progression report, before the death
    assert p2["NACTDT"] == TS("2024-04-01")
    assert adsl.loc["P4", "TRT01A"] == "" and adsl.loc["P4", "TRT01P"] == "liso-cel"
    assert (adsl["DCUTDT"] == TS("2024-09-01")).all()


# --------------------------------------------------------------------------- ADRS


def test_adrs_per_assessment_response_and_bor(adam: AdamDatasets) -> None:
    adrs = adam.adrs
    p1 = adrs[(adrs["SUBJID"] == "P1") & (adrs["PARAMCD"] == "OVRLRESP")]
    assert list(p1["AVALC"]) == ["PR", "CR", "PD"]
    assert list(p1["AVAL"]) == [3.0, 1.0, 6.0]  # metadata.RESPONSE_AVAL: PR 3, CR 1, PD 6
    assert list(p1["ADY"]) == [31.0, 92.0, 183.0]  # Jan 10 = day 1; Feb 9 = 31; Apr 10 = 92
    assert (p1["PARCAT1"] == "iwCLL 2018").all()
    assert p1["AVALREAS"].str.startswith(("PR:", "CR:", "PD:")).all()
    bor = _one(adrs, SUBJID="P1", PARAMCD="BOR")
    assert (bor["AVALC"], bor["ADT"]) == ("CR", TS("2024-04-10"))
    assert _one(adrs, SUBJID="P2", PARAMCD="BOR")["AVALC"] == "SD"
    assert _one(adrs, SUBJID="P3", PARAMCD="BOR")["AVALC"] == "NE"
    assert set(adrs["SUBJID"]) == {"P1", "P2", "P3"}  # infused patients only


def test_adrs_mrd(adam: AdamDatasets) -> None:
    adrs = adam.adrs
    mrd = _one(adrs, SUBJID="P1", PARAMCD="MRDPB")
    assert mrd["AVALC"] == "uMRD4"
    assert _one(adrs, SUBJID="P1", PARAMCD="UMRD4PB")["AVALC"] == "Y"
    assert _one(adrs, SUBJID="P1", PARAMCD="UMRD4BM")["AVALC"] == "N"
    assert _one(adrs, SUBJID="P2", PARAMCD="UMRD4PB")["AVALC"] == "N"


# --------------------------------------------------------------------------- ADTTE


def test_pfs_event_at_progression(adam: AdamDatasets) -> None:
    pfs = _one(adam.adtte, SUBJID="P1", PARAMCD="PFS")
    # Jan 10 -> Jul 10 2024 is 182 days; +1 -> 183
    assert (pfs["CNSR"], pfs["AVAL"], pfs["ADT"]) == (0.0, 183.0, TS("2024-07-10"))
    assert pfs["EVNTDESC"] == "Disease progression (iwCLL 2018)"
    assert pfs["CNSDTDSC"] == ""
    assert pfs["BOR"] == "CR"


def test_pfs_censored_at_new_anticancer_therapy(adam: AdamDatasets) -> None:
    pfs = _one(adam.adtte, SUBJID="P2", PARAMCD="PFS")
    # New therapy 04-01 before progression 05-01: censor at last assessment 03-01.
    # Feb 1 -> Mar 1 2024 is 29 days; +1 -> 30
    assert (pfs["CNSR"], pfs["AVAL"], pfs["ADT"]) == (1.0, 30.0, TS("2024-03-01"))
    assert "new anticancer therapy" in pfs["CNSDTDSC"]


def test_pfs_without_adequate_assessment_is_censored_at_infusion(adam: AdamDatasets) -> None:
    pfs = _one(adam.adtte, SUBJID="P3", PARAMCD="PFS")
    assert (pfs["CNSR"], pfs["AVAL"], pfs["ADT"]) == (1.0, 1.0, TS("2024-03-01"))


def test_os_event_and_censoring(adam: AdamDatasets) -> None:
    os1 = _one(adam.adtte, SUBJID="P1", PARAMCD="OS")
    # Jan 10 -> Sep 1: 21 + 29 + 31 + 30 + 31 + 30 + 31 + 31 + 1 = 235; +1 -> 236
    assert (os1["CNSR"], os1["AVAL"], os1["CNSDTDSC"]) == (1.0, 236.0, "Last known alive date")
    os2 = _one(adam.adtte, SUBJID="P2", PARAMCD="OS")
    # Feb 1 -> Jun 1: 29 + 31 + 30 + 31 = 121; +1 -> 122
    assert (os2["CNSR"], os2["AVAL"], os2["EVNTDESC"]) == (0.0, 122.0, "Death")


def test_dor_only_for_responders(adam: AdamDatasets) -> None:
    dor = adam.adtte[adam.adtte["PARAMCD"] == "DOR"]
    assert list(dor["SUBJID"]) == ["P1"]
    row = dor.iloc[0]
    # First response (PR) Feb 9 -> PD Jul 10: 20 + 31 + 30 + 31 + 30 + 10 = 152; +1 -> 153
    assert (row["STARTDT"], row["ADT"], row["AVAL"], row["CNSR"]) == (
        TS("2024-02-09"),
        TS("2024-07-10"),
        153.0,
        0.0,
    )


def test_time_to_crs_and_neurotoxicity(adam: AdamDatasets) -> None:
    tte = adam.adtte
    assert _one(tte, SUBJID="P1", PARAMCD="TTCRS")[["AVAL", "CNSR"]].tolist() == [3.0, 0.0]
    assert _one(tte, SUBJID="P1", PARAMCD="TTNT")[["AVAL", "CNSR"]].tolist() == [7.0, 0.0]
    nt2 = _one(tte, SUBJID="P2", PARAMCD="TTNT")  # no neurotoxicity, died Jun 1
    assert (nt2["CNSR"], nt2["AVAL"], nt2["ADT"]) == (1.0, 122.0, TS("2024-06-01"))
    assert set(tte["AVALU"]) == {"DAYS"}
    assert set(tte["SUBJID"]) == {"P1", "P2", "P3"}


# --------------------------------------------------------------------------- ADAE


def test_crs_episode_max_grade_onset_and_treatment(adam: AdamDatasets) -> None:
    crs = _one(adam.adae, SUBJID="P1", AECAT="CRS")
    assert crs["AEDECOD"] == "Cytokine release syndrome"
    assert crs["AEBODSYS"] == "Immune system disorders"
    assert (crs["AETOXGR"], crs["AETOXGRN"], crs["TOXGRSTD"]) == ("2", 2.0, "ASTCT 2019")
    assert crs["ASTDT"] == TS("2024-01-12")
    assert (crs["ASTDY"], crs["ONSDYINF"]) == (3.0, 2.0)  # ADaM day 3 = 2 days after infusion
    assert (crs["AENDT"], crs["ADURN"], crs["ADURU"]) == (TS("2024-01-15"), 3.0, "DAYS")
    assert (crs["TOCIFL"], crs["TOCIN"], crs["STERFL"]) == ("Y", 1.0, "Y")
    assert crs["AEOUT"] == "RECOVERED/RESOLVED"
    assert crs["TRTEMFL"] == "Y"


def test_crs_episodes_split_after_seven_days(adam: AdamDatasets) -> None:
    p2 = adam.adae[(adam.adae["SUBJID"] == "P2") & (adam.adae["AECAT"] == "CRS")]
    assert list(p2["AETOXGR"]) == ["1", "3"]  # norepinephrine -> grade 3
    assert list(p2["ONSDYINF"]) == [1.0, 14.0]
    assert list(p2["TOCIFL"]) == ["N", "Y"]  # tocilizumab on Feb 15: second episode
    assert list(p2["AOCCPIFL"]) == ["", "Y"]
    p3 = adam.adae[(adam.adae["SUBJID"] == "P3") & (adam.adae["AECAT"] == "CRS")]
    # Restart 4 days after resolution: one episode Mar 2 -> Mar 9, 7.0 days
    assert len(p3) == 1
    assert (p3.iloc[0]["AENDT"], p3.iloc[0]["ADURN"]) == (TS("2024-03-09"), 7.0)


def test_split_episodes_boundary() -> None:
    t = [dt.datetime(2024, 1, d) for d in (1, 2, 9, 10, 11, 20)]
    # resolved Jan 2; Jan 9 is 7 days later (same episode); resolved Jan 11; Jan 20 is 9 later
    assert split_episodes([1, 0, 1, 1, 0, 2], t) == [0, 5]


def test_the_causal_split_gives_the_stored_episodes_of_the_one_course_grades(
    centre: CentreData,
) -> None:
    # clinical.episodes.grade_by_episode decides a boundary on the current episode's own
    # grades; before, ADaM applied split_episodes to the grades of the whole course graded as
    # one episode. Where no therapy crosses a boundary they agree: on this centre (P2 split
    # after 9 days, P3 restarted within 7 days) and on the published synthetic cohort.
    import dataclasses

    from cartwatch.clinical.crs import grade_crs_episode
    from cartwatch.clinical.episodes import grade_by_episode
    from cartwatch.synth.cohort import synthesize

    splits = 0
    for data in (centre, synthesize(0, 0, published=True)):
        by_patient: dict[str, list[Any]] = {}
        for row in sorted(data.crs_observations, key=lambda r: (r.patient_id, r.observed_at)):
            obs = dataclasses.replace(row.to_domain(), observed_at=row.observed_at)
            by_patient.setdefault(row.patient_id, []).append(obs)
        for observations in by_patient.values():
            times = [o.observed_at for o in observations]
            whole = grade_crs_episode(observations)
            before = split_episodes([g.grade for g in whole.observations], times)
            now = [start for start, _ in grade_by_episode(observations, times, grade_crs_episode)]
            assert now == before
            splits += len(now) > 1
    assert splits >= 1  # the data exercises the split


def test_neurotoxicity_record(adam: AdamDatasets) -> None:
    nt = _one(adam.adae, SUBJID="P1", AECAT="NEUROTOXICITY")
    assert nt["AEDECOD"] == "Immune effector cell-associated neurotoxicity syndrome"
    assert (nt["AETOXGR"], nt["ONSDYINF"], nt["TOXGRSTD"]) == ("1", 6.0, "ASTCT 2019")
    assert nt["TOCIFL"] == "N"


def test_cytopenias_and_prolonged_cytopenia(adam: AdamDatasets) -> None:
    adae = adam.adae[adam.adae["AECAT"] == "CYTOPENIA"].set_index("AEDECOD")
    assert set(adae["SUBJID"]) == {"P1"}
    neut = adae.loc["Neutrophil count decreased"]
    # nadir 0.3 <0.5 -> 4; baseline 1.2 -> 2; day-28 count 0.8 -> 3 (>=3: prolonged)
    assert (neut["AETOXGR"], neut["BTOXGR"], neut["PROLCYFL"]) == ("4", "2", "Y")
    assert (neut["ASTDT"], neut["AENDT"]) == (TS("2024-01-20"), TS("2024-03-10"))
    assert neut["TOXGRSTD"] == "CTCAE v5.0"
    plt = adae.loc["Platelet count decreased"]
    assert (plt["AETOXGR"], plt["BTOXGR"], plt["PROLCYFL"]) == ("3", "0", "N")  # 60 -> 2
    anaemia = adae.loc["Anaemia"]
    assert (anaemia["AETOXGR"], anaemia["AEBODSYS"]) == (
        "2",
        "Blood and lymphatic system disorders",
    )
    adsl = adam.adsl.set_index("SUBJID")
    assert adsl.loc["P1", "PROLCYFL"] == "Y"
    assert adsl.loc["P2", "PROLCYFL"] == ""  # no count in the day-28 window


# --------------------------------------------------------------------------- whole


def test_data_cutoff_drops_later_records(centre: CentreData) -> None:
    cut = derive_adam(centre, data_cutoff=dt.date(2024, 5, 15))
    pfs = _one(cut.adtte, SUBJID="P1", PARAMCD="PFS")
    # PD on Jul 10 is after the cut-off: censored at the CR assessment Apr 10 (day 92)
    assert (pfs["CNSR"], pfs["AVAL"]) == (1.0, 92.0)
    os2 = _one(cut.adtte, SUBJID="P2", PARAMCD="OS")
    assert os2["CNSR"] == 1.0  # death Jun 1 after the cut-off
    assert cut.adsl.set_index("SUBJID").loc["P2", "DTHFL"] == ""
    assert (cut.adsl["DCUTDT"] == TS("2024-05-15")).all()


def test_every_dataset_matches_its_spec_and_round_trips_xpt(
    adam: AdamDatasets, tmp_path: Path
) -> None:
    """Written as XPT v5 (long reasons in continuation variables) and read back whole."""
    adam.write(tmp_path, csv=False, xpt=True)
    back = read_adam_dir(tmp_path)
    for spec, df in adam.items():
        assert list(df.columns) == list(spec.names)
        assert spec.name in DATASETS
        pd.testing.assert_frame_equal(back[spec.name].data, df, check_exact=True)
        labels = back[spec.name].meta.labels
        assert {k: labels[k] for k in spec.names} == spec.labels()


def test_derivation_is_deterministic(centre: CentreData, adam: AdamDatasets) -> None:
    again = derive_adam(centre)
    for (_, a), (_, b) in zip(adam.items(), again.items(), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


# --- not-gradable CRS observations are left out of the grade derivation (contract v2 item 1)
def test_a_not_gradable_observation_neither_starts_nor_resolves_an_episode() -> None:
    t = [dt.datetime(2024, 1, 1) + dt.timedelta(days=d) for d in (0, 1, 2, 12, 13)]
    # grade 1, null (no resolution), 0 (resolution), null 10 days later (no new episode), 1
    assert split_episodes([1, None, 0, None, 2], t) == [0, 4]


def test_adae_grade_is_the_maximum_of_the_gradable_observations() -> None:
    from cartwatch.adam.adae import _episode_records
    from cartwatch.clinical.crs import CrsObservation, Vasopressor, grade_crs_episode

    t = [dt.datetime(2024, 1, 1, 8) + dt.timedelta(hours=12 * i) for i in range(3)]
    observations = [
        CrsObservation(temperature_c=38.4, observed_at=t[0]),  # 1
        CrsObservation(vasopressors=(Vasopressor.NOREPINEPHRINE,), observed_at=t[1]),  # null
        CrsObservation(temperature_c=37.0, observed_at=t[2]),  # 0
    ]
    [episode] = _episode_records(observations, t, grade_crs_episode)
    assert episode.grade == 1  # never 0, never the unseen 3
    assert episode.summary.resolved_at == t[2]
    assert any("[1] not gradable" in r and "grade 3" in r for r in episode.reasons)
    only_nulls = [CrsObservation(hypotension=True, observed_at=x) for x in t]
    assert _episode_records(only_nulls, t, grade_crs_episode) == []  # no AE established
