"""ADSL: one record per patient of ``patients.csv`` (conventions: :mod:`cartwatch.adam.derive`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from cartwatch.adam.common import Subjects, y_blank, yn, ynu
from cartwatch.adam.metadata import ADSL
from cartwatch.adam.xpt import conform
from cartwatch.centre.loader import CentreData, CentreDataError, Problem
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
#: measurable disease before lymphodepletion, §3.2, exact definition UNVERIFIED). Project
#: definition, shared with ``synth.cohort``: a node iwCLL calls abnormal (largest node
#: ≥1.5 cm [S41]) or the CLL diagnostic lymphocytosis (≥5 × 10⁹/L [S43]).
MEASURABLE_NODE_CM = iwcll.NODE_NORMAL_BELOW_CM
MEASURABLE_LYMPHOCYTES_10E9_L = iwcll.PD_LYMPHOCYTES_MIN_10E9_L


def usubjid(study_id: str, site_id: str, subject_id: str) -> str:
    """``STUDYID-SITEID-SUBJID``; a pseudonym that already starts with ``SITEID-`` (any case)
    keeps its own prefix: ("CARTWATCH", "NORTH", "NORTH-001") → "CARTWATCH-NORTH-001"."""
    if subject_id.upper().startswith(site_id.upper() + "-"):
        return f"{study_id}-{subject_id}"
    return f"{study_id}-{site_id}-{subject_id}"


def _usubjids(study_id: str, sites: list[str], subjects: list[str]) -> list[str]:
    """USUBJID per patient, unique: where dropping a doubled site prefix would make two
    patients one (site "N" with pseudonyms "N-1" and "1"), both keep the full form; what is
    still not unique (site codes that are prefixes of each other with hyphens, "A" + "B-1"
    and "A-B" + "1") is refused with both patients named, never guessed."""
    ids = [usubjid(study_id, site, subj) for site, subj in zip(sites, subjects, strict=True)]
    counts = Counter(ids)
    ids = [
        f"{study_id}-{site}-{subj}" if counts[uid] > 1 else uid
        for uid, site, subj in zip(ids, sites, subjects, strict=True)
    ]
    first: dict[str, int] = {}
    problems = []
    for row, uid in enumerate(ids):
        if uid in first:
            a = first[uid]
            problems.append(
                Problem(
                    "patients.csv",
                    row + 1,
                    "patient_id",
                    f"USUBJID {uid} would also identify patient {subjects[a]!r} of centre "
                    f"{sites[a]!r} (row {a + 1}); rename one pseudonym or centre code",
                )
            )
        first.setdefault(uid, row)
    if problems:
        raise CentreDataError(problems)
    return ids


def subjects_from(frames: Mapping[str, pd.DataFrame], study_id: str) -> Subjects:
    """Identifiers: USUBJID = ``STUDYID-SITEID-SUBJID`` (see :func:`usubjid`)."""
    p = frames["patients"]
    ct = frames["cell_therapy"].set_index("patient_id")
    sites = p["centre_id"].astype(str).tolist()
    subjects = p["patient_id"].astype(str).tolist()
    table = pd.DataFrame(
        {
            "STUDYID": study_id,
            "USUBJID": _usubjids(study_id, sites, subjects),
            "SUBJID": subjects,
            "SITEID": sites,
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


def _measurable_baseline(data: CentreData, index: pd.Index) -> pd.Series:
    found = {
        r.patient_id
        for r in data.response_assessments
        if r.timepoint.value == "baseline"
        and (
            (r.largest_node_cm is not None and r.largest_node_cm >= MEASURABLE_NODE_CM)
            or (
                r.lymphocytes_10e9_l is not None
                and r.lymphocytes_10e9_l >= MEASURABLE_LYMPHOCYTES_10E9_L
            )
        )
    }
    return pd.Series(index.isin(list(found)), index=index)


def _has_post_assessment(data: CentreData, index: pd.Index) -> pd.Series:
    post = {r.patient_id for r in data.response_assessments if r.timepoint.value == "post"}
    return pd.Series(index.isin(list(post)), index=index)


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
    # check_eligibility is a pure function of the request (the label data are constants), and
    # patients share requests (same product, diagnosis, age, lines; infusions before approval
    # are all judged on the first label date), so each distinct request is decided once.
    first_label: dict[str, dt.date] = {}
    decided: dict[EligibilityRequest, bool] = {}
    result: dict[str, bool] = {}
    for patient in data.patients:
        course = courses.get(patient.patient_id)
        day = infusion.get(patient.patient_id)
        if course is None or day is None or normalise_product(course.product) is None:
            result[patient.patient_id] = False
            continue
        own = sorted(lines.get(patient.patient_id, []))
        if course.product not in first_label:
            first_label[course.product] = first_label_date(course.product)
        as_of = max(day.date(), first_label[course.product])
        request = EligibilityRequest(
            product=course.product,
            diagnosis=Diagnosis(str(patient.diagnosis.value)),
            age_years=float(patient.age_years),
            relapsed_or_refractory=any(o in RELAPSED_OUTCOMES for _, _, o in own),
            prior_lines=tuple(agents for _, agents, _ in own),
            as_of=as_of,
        )
        if request not in decided:
            decided[request] = check_eligibility(request).eligible
        result[patient.patient_id] = decided[request]
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


def _alive_dates(data: CentreData) -> Iterator[tuple[str, dt.date | dt.datetime]]:
    """(patient_id, date) of every record that shows the patient alive."""
    for c in data.cell_therapy:
        for value in (c.apheresis_date, c.lymphodepletion_start, c.infusion_date):
            if value is not None:
                yield c.patient_id, value
    for rows in (data.crs_observations, data.icans_observations, data.labs):
        for o in rows:
            yield o.patient_id, o.observed_at
    yield from ((t.patient_id, t.given_at) for t in data.treatments)
    yield from ((a.patient_id, a.assessed_at) for a in data.response_assessments)
    yield from ((m.patient_id, m.sampled_at) for m in data.mrd)
    yield from ((f.patient_id, f.event_date) for f in data.followup if f.event.value != "death")


def last_known_alive(data: CentreData, index: pd.Index) -> pd.Series:
    """LSTALVDT: the latest date of any record showing the patient alive (not the death).

    Sources: apheresis, lymphodepletion, infusion, every CRS/neurotoxicity observation,
    treatment, lab, response assessment, MRD sample and follow-up event other than death.
    One pass over the rows (the large observation files are never turned into frames).
    """
    latest: dict[str, dt.date] = {}
    get = latest.get
    for pid, value in _alive_dates(data):
        day = value.date() if isinstance(value, dt.datetime) else value
        seen = get(pid)
        if seen is None or day > seen:
            latest[pid] = day
    return pd.Series(latest, dtype="datetime64[ns]").reindex(index).astype("datetime64[ns]")


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
    efficacy = infused & _measurable_baseline(data, index) & _has_post_assessment(data, index)
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
        LSTALVDT=last_known_alive(data, index),
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
