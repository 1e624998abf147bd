"""ADSL: one record per patient of ``patients.csv`` (conventions: :mod:`cartwatch.adam.derive`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cartwatch.adam.common import Subjects, y_blank, yn, ynu
from cartwatch.adam.metadata import ADSL
from cartwatch.adam.xpt import conform
from cartwatch.centre.loader import CentreData
from cartwatch.clinical import iwcll
from cartwatch.clinical.eligibility import EligibilityRequest, check_eligibility
from cartwatch.clinical.labels import (
    Diagnosis,
    DrugClass,
    classify_agent,
    first_label_date,
    normalise_product,
)

#: US label dose for CLL/SLL: 90 to 110 × 10⁶ CAR-positive viable T cells [S21][S26]
#: (clinical-standards.md §3B). Also TRANSCEND dose level 2 (100 × 10⁶, §3.1 [S16][S57]).
LABEL_DOSE_RANGE_10E6 = (90.0, 110.0)
DOSE_UNIT = "10^6 CAR+ viable T cells"

#: Prior-line outcomes that make the disease relapsed or refractory to that line.
RELAPSED_OUTCOMES = frozenset({"progression", "refractory"})
#: "BTKi progression" (PEAS, clinical-standards.md §3.2 [S16]; definition UNVERIFIED):
#: progression on, or refractory to, a line containing a BTK inhibitor.
BTKI_PROGRESSION_OUTCOMES = RELAPSED_OUTCOMES
#: "Venetoclax failure" (PEAS, §3.2 [S16]; definition UNVERIFIED): stopped for progression
#: or intolerance, or not responding (refractory).
BCL2I_FAILURE_OUTCOMES = frozenset({"progression", "refractory", "intolerance"})

#: Measurable disease at baseline, for EFFFL (TRANSCEND's efficacy-evaluable set needs
#: measurable disease before lymphodepletion, §3.2, UNVERIFIED). Any one suffices; the
#: thresholds are the iwCLL 2018 limits of normal in ``clinical.iwcll`` [S41]: a node
#: ≥1.5 cm, spleen ≥13 cm, or circulating lymphocytes ≥5 × 10⁹/L (the PD floor [S43]).
MEASURABLE_NODE_CM = iwcll.NODE_NORMAL_BELOW_CM
MEASURABLE_SPLEEN_CM = iwcll.SPLEEN_NORMAL_BELOW_CM
MEASURABLE_LYMPHOCYTES_10E9_L = iwcll.PD_LYMPHOCYTES_MIN_10E9_L


def subjects_from(frames: Mapping[str, pd.DataFrame], study_id: str) -> Subjects:
    """Identifiers: USUBJID = ``SITEID-SUBJID`` (pseudonyms, unique per centre)."""
    p = frames["patients"]
    ct = frames["cell_therapy"].set_index("patient_id")
    table = pd.DataFrame(
        {
            "STUDYID": study_id,
            "USUBJID": (p["centre_id"].astype(str) + "-" + p["patient_id"].astype(str)).to_numpy(),
            "SUBJID": p["patient_id"].astype(str).to_numpy(),
            "SITEID": p["centre_id"].astype(str).to_numpy(),
        },
        index=p["patient_id"].astype(str).to_numpy(),
    )
    table["TRTSDT"] = ct["infusion_date"].reindex(table.index).astype("datetime64[ns]")
    table["INFUSED"] = table["TRTSDT"].notna()
    return Subjects(table)


def _prior_therapy(frames: Mapping[str, pd.DataFrame], index: pd.Index) -> pd.DataFrame:
    """PRIORLN, agent classes and PEAS components per patient, from ``prior_lines.csv``."""
    pl = frames["prior_lines"]
    agents = pl[["patient_id", "line_number", "agents", "outcome"]].explode("agents")
    agents["class"] = agents["agents"].map(
        lambda a: c.drug_class if (c := classify_agent(str(a))) else None
    )
    outcome = agents["outcome"].astype(str)
    btk = agents["class"] == DrugClass.BTK_INHIBITOR
    bcl2 = agents["class"] == DrugClass.BCL2_INHIBITOR
    agents["btk"], agents["bcl2"] = btk, bcl2
    agents["btk_pd"] = btk & outcome.isin(BTKI_PROGRESSION_OUTCOMES)
    agents["bcl2_fail"] = bcl2 & outcome.isin(BCL2I_FAILURE_OUTCOMES)
    agents["rr"] = outcome.isin(RELAPSED_OUTCOMES)
    flags = agents.groupby("patient_id")[["btk", "bcl2", "btk_pd", "bcl2_fail", "rr"]].any()
    out = flags.reindex(index, fill_value=False).astype(bool)
    out["lines"] = pl.groupby("patient_id")["line_number"].nunique().reindex(index, fill_value=0)
    return out


def _measurable_baseline(frames: Mapping[str, pd.DataFrame], index: pd.Index) -> pd.Series:
    ra = frames["response_assessments"]
    base = ra[ra["timepoint"].astype(str) == "baseline"].set_index("patient_id")
    node = base["largest_node_cm"].astype("float64")
    spd = base["lymph_nodes_spd_cm2"].astype("float64")
    measurable = (
        (node >= MEASURABLE_NODE_CM)
        | (node.isna() & (spd > 0))
        | (base["spleen_cm"].astype("float64") >= MEASURABLE_SPLEEN_CM)
        | (base["lymphocytes_10e9_l"].astype("float64") >= MEASURABLE_LYMPHOCYTES_10E9_L)
    )
    return measurable.groupby(level=0).any().reindex(index, fill_value=False).astype(bool)


def _has_post_assessment(frames: Mapping[str, pd.DataFrame], index: pd.Index) -> pd.Series:
    ra = frames["response_assessments"]
    post = ra.loc[ra["timepoint"].astype(str) == "post", "patient_id"]
    return pd.Series(index.isin(post.to_numpy()), index=index)


def _label_eligible(data: CentreData, infusion: Mapping[str, pd.Timestamp]) -> dict[str, bool]:
    """Label indication met, per infused patient, through ``check_eligibility``.

    The label version is the one in force on the infusion day, or on the first CLL/SLL label
    date for infusions before approval (the trial population predates the label; LABELFL asks
    whether the patient *meets the label's criteria*, not whether the label existed).
    """
    lines: dict[str, list[tuple[int, tuple[str, ...], str]]] = {}
    for row in data.prior_lines:
        lines.setdefault(row.patient_id, []).append(
            (row.line_number, tuple(row.agents), str(row.outcome.value))
        )
    courses = {c.patient_id: c for c in data.cell_therapy}
    result: dict[str, bool] = {}
    for patient in data.patients:
        course = courses.get(patient.patient_id)
        day = infusion.get(patient.patient_id)
        if course is None or day is None or normalise_product(course.product) is None:
            result[patient.patient_id] = False
            continue
        own = sorted(lines.get(patient.patient_id, []))
        as_of = max(day.date(), first_label_date(course.product))
        request = EligibilityRequest(
            product=course.product,
            diagnosis=Diagnosis(str(patient.diagnosis.value)),
            age_years=float(patient.age_years),
            relapsed_or_refractory=any(o in RELAPSED_OUTCOMES for _, _, o in own),
            prior_lines=tuple(agents for _, agents, _ in own),
            as_of=as_of,
        )
        result[patient.patient_id] = check_eligibility(request).eligible
    return result


def _followup_dates(frames: Mapping[str, pd.DataFrame], index: pd.Index) -> pd.DataFrame:
    fu = frames["followup"]
    event = fu["event"].astype(str)
    first = fu.groupby([fu["patient_id"], event])["event_date"].min().unstack()
    out = pd.DataFrame(index=index)
    for name in ("death", "new_therapy", "progression"):
        col = first[name] if name in first.columns else pd.Series(dtype="datetime64[ns]")
        out[name] = col.reindex(index).astype("datetime64[ns]")
    deaths = fu[event == "death"].set_index("patient_id")["death_cause"].astype(str)
    out["cause"] = deaths.reindex(index).fillna("").astype(object)
    return out


def last_known_alive(frames: Mapping[str, pd.DataFrame], index: pd.Index) -> pd.Series:
    """LSTALVDT: the latest date of any record showing the patient alive (not the death).

    Sources: apheresis, lymphodepletion, infusion, every CRS/neurotoxicity observation,
    treatment, lab, response assessment, MRD sample and follow-up event other than death.
    """
    parts: list[pd.Series] = []
    ct = frames["cell_therapy"].set_index("patient_id")
    for col in ("apheresis_date", "lymphodepletion_start", "infusion_date"):
        parts.append(ct[col].astype("datetime64[ns]"))
    timed = {
        "crs_observations": "observed_at",
        "icans_observations": "observed_at",
        "treatments": "given_at",
        "labs": "observed_at",
        "response_assessments": "assessed_at",
        "mrd": "sampled_at",
    }
    for stem, col in timed.items():
        f = frames[stem]
        parts.append(f.set_index("patient_id")[col].astype("datetime64[ns]").dt.normalize())
    fu = frames["followup"]
    alive = fu[fu["event"].astype(str) != "death"].set_index("patient_id")["event_date"]
    parts.append(alive.astype("datetime64[ns]"))
    stacked = pd.concat([p.dropna() for p in parts if len(p)])
    if not len(stacked):
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    latest: pd.Series = stacked.groupby(level=0).max().reindex(index)
    return latest.astype("datetime64[ns]")


def derive_adsl(
    data: CentreData,
    frames: Mapping[str, pd.DataFrame],
    subjects: Subjects,
    cutoff: pd.Timestamp,
    prolonged_cytopenia: pd.Series,
) -> pd.DataFrame:
    """ADSL conformed to :data:`cartwatch.adam.metadata.ADSL` (one row per patient)."""
    p = frames["patients"].set_index("patient_id")
    index = p.index
    ct = frames["cell_therapy"].set_index("patient_id").reindex(index)
    prior = _prior_therapy(frames, index)
    fu = _followup_dates(frames, index)
    infused = subjects.table["INFUSED"].reindex(index).astype(bool)
    dose = ct["dose_10e6_car_t_cells"].astype("float64")
    efficacy = infused & _measurable_baseline(frames, index) & _has_post_assessment(frames, index)
    eligible = pd.Series(_label_eligible(data, subjects.infusion())).reindex(index)
    lo, hi = LABEL_DOSE_RANGE_10E6
    label_dose = (dose >= lo) & (dose <= hi)
    product = ct["product"].astype(object).where(ct["product"].notna(), "")
    out = subjects.ids(pd.Series(index)).set_index(index)
    out = out.assign(
        AGE=p["age_years"].astype("float64"),
        AGEU="YEARS",
        SEX=p["sex"].astype(str),
        RACE="NOT REPORTED",
        DIAGNOS=p["diagnosis"].astype(str),
        DIAGDT=p["diagnosis_date"],
        ECOGBL=p["ecog"].astype("float64"),
        ARM=product,
        TRT01P=product,
        TRT01A=product.where(infused, ""),
        APHDT=ct["apheresis_date"],
        LDSTDT=ct["lymphodepletion_start"],
        LDREG=ct["lymphodepletion_regimen"]
        .astype(object)
        .where(ct["lymphodepletion_regimen"].notna(), ""),
        TRTSDT=subjects.table["TRTSDT"].reindex(index),
        TRTEDT=subjects.table["TRTSDT"].reindex(index),
        DOSE01A=dose,
        DOSE01U=np.where(dose.notna(), DOSE_UNIT, ""),
        ENRLFL=yn(ct["apheresis_date"].notna()),
        SAFFL=yn(infused),
        EFFFL=yn(efficacy),
        PEASFL=yn(efficacy & label_dose & prior["btk_pd"] & prior["bcl2_fail"]),
        LABELFL=yn(efficacy & label_dose & eligible.fillna(False).astype(bool)),
        DEL17P=ynu(p["del17p"]),
        TP53MUT=ynu(p["tp53_mutated"]),
        CKARYO=ynu(p["complex_karyotype"]),
        IGHVUNM=ynu(p["ighv_unmutated"]),
        BULKY=ynu(p["bulky_disease"]),
        PRIORLN=prior["lines"].astype("float64"),
        BTKIFL=yn(prior["btk"]),
        BCL2IFL=yn(prior["bcl2"]),
        BTKIPDFL=yn(prior["btk_pd"]),
        BCL2FFL=yn(prior["bcl2_fail"]),
        PROLCYFL=prolonged_cytopenia.reindex(index).fillna("").astype(object),
        NACTDT=fu["new_therapy"],
        DTHFL=y_blank(fu["death"].notna()),
        DTHDT=fu["death"],
        DTHCAUS=fu["cause"],
        LSTALVDT=last_known_alive(frames, index),
        DCUTDT=cutoff,
    )
    out["HIGHRISK"] = _high_risk(out)
    return conform(out.reset_index(drop=True), ADSL)


def _high_risk(adsl: pd.DataFrame) -> pd.Series:
    """HIGHRISK (clinical-standards.md §6.1 [S59]): del(17p), TP53 mutation, complex karyotype
    and/or unmutated IGHV. Y if any is Y; N if all four are N; blank otherwise (unknown)."""
    markers = adsl[["DEL17P", "TP53MUT", "CKARYO", "IGHVUNM"]]
    anyy = (markers == "Y").any(axis=1)
    alln = (markers == "N").all(axis=1)
    return pd.Series(np.where(anyy, "Y", np.where(alln, "N", "")), index=adsl.index)
