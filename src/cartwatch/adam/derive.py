"""ADaM derivation from centre data: ADSL, ADRS, ADTTE, ADAE (CDISC ADaMIG v1.3).

``derive_adam(data, data_cutoff=None) -> AdamDatasets`` is deterministic: the same centre
data and cut-off give byte-identical CSV/XPT files. Clinical grading always goes through the
engines (``clinical.crs/icans/cytopenia/iwcll/eligibility``), once per episode, assessment,
blood count or patient; everything else is vectorised with pandas. Variable names, labels
and types: :mod:`cartwatch.adam.metadata`.

Conventions
-----------
Identifiers
    STUDYID = ``study_id`` argument (default ``"CARTWATCH"``); SITEID = ``centre_id``;
    SUBJID = ``patient_id`` (pseudonym); USUBJID = ``STUDYID-SITEID-SUBJID`` (ADaMIG/SDTMIG:
    unique across the submission), where a pseudonym that already begins with its site
    (``NORTH-001`` at site ``NORTH``) is not prefixed twice: ``CARTWATCH-NORTH-001``.
Data cut-off
    Records dated after the cut-off (default: the latest date in the data, DCUTDT) are
    dropped before anything is derived; an infusion after it counts as not infused.
Day counting (two conventions, both stated on the variable)
    * ADaM relative days (ADY, ASTDY, AENDY): infusion day = **day 1**, the day before = -1
      (ADaMIG; there is no day 0).
    * ADAE.ONSDYINF: days **after** infusion, infusion day = **day 0**: how TRANSCEND CLL 004
      reports CRS/neurotoxicity onset ("median 4 days", clinical-standards.md §3.5 [S14]).
      ONSDYINF = ASTDY - 1.
    * ADTTE.AVAL (all parameters): ``ADT - STARTDT + 1`` in **days** (AVALU "DAYS"; PARAM
      ends "(days)"): the CDISC pilot ADTTE and admiral convention (an event on the origin
      day is 1 day). Months for reports: AVAL / 30.4375.
    * ADAE.ADURN: engine ``duration_days`` = resolution - onset (no +1; fractional when the
      observations carry times), ADURU "DAYS".
Analysis sets (ADSL)
    * ENRLFL: leukapheresed (a ``cell_therapy.csv`` course exists).
    * SAFFL: infused (TRTSDT present) - TRANSCEND safety set.
    * EFFFL: SAFFL, measurable disease at the baseline assessment (largest node ≥1.5 cm or
      lymphocytes ≥5 × 10⁹/L; the definition ``synth.cohort`` documents), and ≥1
      post-baseline response assessment on or before the cut-off.
    * PEASFL: EFFFL, label-range dose, progression on a BTK inhibitor and venetoclax failure
      (prior line outcome progression/refractory; venetoclax: also intolerance) - PEAS
      (§3.2 [S16], definitions UNVERIFIED).
    * LABELFL (label efficacy population, n = 65 in the label [S26]): EFFFL, dose 90-110 ×
      10⁶ CAR+ T cells (label dose [S21]) and the label's CLL/SLL indication met according to
      ``check_eligibility`` (adult, relapsed/refractory = a prior line ending in progression
      or refractory, ≥2 prior lines incl. a BTKi and a BCL-2i), judged against the label
      version in force on the infusion day or, for infusions before approval, on the first
      CLL/SLL label date: the criteria decide, not the approval date.
Response (ADRS), iwCLL 2018 via the engine
    OVRLRESP per post-baseline assessment vs the baseline assessment (nadir = smallest node
    SPD/spleen/B-lymphocyte count so far; the row's ``bcr_inhibitor_ongoing``). ANL01FL = Y
    for assessments before new anticancer therapy up to and including the first PD; BOR =
    ``best_overall_response`` over those (NE when none), one record per infused patient, ADT
    = first assessment with that response. AVALC as iwCLL names it, PR-L (partial response
    with lymphocytosis, contract v2 item 4) included; AVAL codes (``RESPONSE_AVAL``): CR 1,
    CRi 2, PR 3, PR-L 4, SD 5, PD 6, NE 7; ORR and DOR count CR, CRi, PR and PR-L
    (``RESPONDER_AVALC``). MRDPB/MRDBM per sample (AVALC = ``classify_mrd``
    status, AVAL = level); UMRD4PB/UMRD4BM per infused patient: Y when any post-infusion
    sample of that tissue is uMRD4 or better, otherwise N (not assessed counts as N).
    AVALREAS holds the engine's reasons in ASCII, whole (on disk continued in AVALREA1…).
Time to event (ADTTE), CNSR 0 = event, 1 = censored; infused patients only
    * PFS: infusion → first progression (iwCLL PD at an assessment, or a progression in
      ``followup.csv``) or death, whichever first. Censored at the last adequate (non-NE)
      assessment; without one, at the infusion date. New anticancer therapy before the event:
      censored at the last adequate assessment on or before the new therapy (FDA/EMA
      censoring convention; the later event is not attributed to the CAR-T).
    * OS: infusion → death; censored at LSTALVDT (last date of any record, not the death).
    * DOR: responders only (first CR/CRi/PR/PR-L): first response → progression or death, with the
      PFS censoring rules; STARTDT = first response date.
    * TTCRS / TTNT: infusion → onset of the first CRS / neurotoxicity episode with grade ≥1;
      censored at the end of observation (death, else LSTALVDT).
    * BOR (from ADRS) is carried on every record, for KM by best response.
Adverse events (ADAE): see :mod:`cartwatch.adam.adae`
    CRS and neurotoxicity episodes graded with ASTCT 2019 (TOXGRSTD "ASTCT 2019"), episodes
    split at >7-day gaps [S14]. A CRS observation that is not gradable (no temperature
    before therapy for CRS: grade null, contract v2 item 1) is LEFT OUT of the grade
    derivation rather than carried as a record with a null AETOXGR: it neither starts nor
    resolves an episode, AETOXGR is the maximum over the gradable observations, and the
    episode's ATOXREAS names each not-gradable observation with the grade a fever would give.
    An episode with no gradable grade ≥1 is no ADAE record (no adverse event established);
    premedication before CRS began does not lift the fever requirement (v2 item 2).
    TOCIFL/TOCIN/STERFL: tocilizumab / dexamethasone or methylprednisolone doses with the
    matching indication given from onset to resolution (or until the next episode).
    Cytopenias graded with CTCAE v5.0 from post-infusion labs, one record per term; BTOXGR =
    grade of the last pre-infusion count; PROLCYFL = grade ≥3 at the count nearest day 28
    after infusion (±7 days), blank when no count in the window (definition UNVERIFIED,
    §3.5). TRTEMFL = Y (every record starts on/after infusion);
    AOCCPIFL = Y on the first record with the patient's maximum grade for the term.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path
from typing import Any

import pandas as pd

from cartwatch.adam import adae, adrs, adsl, adtte
from cartwatch.adam.common import Subjects, days_after, study_day
from cartwatch.adam.long_text import split_long_text
from cartwatch.adam.metadata import ADAE, ADRS, ADSL, ADTTE, DatasetSpec
from cartwatch.adam.xpt import conform, write_adam_csv, write_xpt
from cartwatch.centre.loader import CentreData

DEFAULT_STUDY_ID = "CARTWATCH"


@dataclass(frozen=True)
class AdamDatasets:
    """The four derived datasets (in-memory convention of :mod:`cartwatch.adam.xpt`)."""

    adsl: pd.DataFrame
    adrs: pd.DataFrame
    adtte: pd.DataFrame
    adae: pd.DataFrame
    data_cutoff: dt.date
    specs: Mapping[str, DatasetSpec] = field(
        default_factory=lambda: {"ADSL": ADSL, "ADRS": ADRS, "ADTTE": ADTTE, "ADAE": ADAE}
    )

    def items(self) -> list[tuple[DatasetSpec, pd.DataFrame]]:
        """(spec, data) in the order ADSL, ADRS, ADTTE, ADAE."""
        return [(ADSL, self.adsl), (ADRS, self.adrs), (ADTTE, self.adtte), (ADAE, self.adae)]

    def write(self, folder: Path, *, csv: bool = True, xpt: bool = False) -> list[Path]:
        """Write ``<name>.csv`` (+ ``.meta.json`` labels) and/or ``<name>.xpt`` (v5) per dataset.

        Text over 200 bytes goes into continuation variables in both files (``long_text``).
        """
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for full_spec, full_df in self.items():
            df, spec = split_long_text(full_df, full_spec)
            stem = spec.name.lower()
            if csv:
                write_adam_csv(df, folder / f"{stem}.csv", spec)
                written.append(folder / f"{stem}.csv")
            if xpt:
                lengths = {v.name: v.length for v in spec.variables if v.type == "Char"}
                write_xpt(
                    df,
                    folder / f"{stem}.xpt",
                    spec.name,
                    spec.labels(),
                    dataset_label=spec.label,
                    lengths=lengths,
                )
                written.append(folder / f"{stem}.xpt")
        return written


# --------------------------------------------------------------------------- cut-off


_TIME_FIELD = {
    "crs_observations": "observed_at",
    "icans_observations": "observed_at",
    "treatments": "given_at",
    "labs": "observed_at",
    "response_assessments": "assessed_at",
    "mrd": "sampled_at",
    "followup": "event_date",
}
_COURSE_DATES = ("apheresis_date", "lymphodepletion_start", "infusion_date")


def _to_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def latest_date(data: CentreData) -> dt.date | None:
    """The latest event date of any record (the default data cut-off).

    Dates of the treatment history before the CAR-T (diagnosis, prior lines) precede it.
    """
    days: list[dt.date] = []
    for stem, col in _TIME_FIELD.items():
        rows = getattr(data, stem)
        if not rows:
            continue
        try:
            # One C-level max per file: a file's times are usually all naive datetimes or all
            # dates, and then the date of the latest time is the latest date.
            latest = max(map(attrgetter(col), rows))
        except TypeError:  # dates mixed with datetimes, or naive with aware
            latest = None
        if latest is None or getattr(latest, "tzinfo", None) is not None:
            # Aware times: the latest instant need not have the latest local date (each
            # row's own offset counts), so one by one as before.
            days.append(max(_to_date(getattr(row, col)) for row in rows))
        else:
            days.append(_to_date(latest))
    days += [d for c in data.cell_therapy for name in _COURSE_DATES if (d := getattr(c, name))]
    return max(days, default=None)


def apply_cutoff(data: CentreData, cutoff: dt.date) -> CentreData:
    """*data* without anything dated after *cutoff* (an infusion after it is removed)."""

    def keep(value: Any) -> bool:
        return value is None or _to_date(value) <= cutoff

    changes: dict[str, Any] = {
        stem: tuple(r for r in getattr(data, stem) if keep(getattr(r, col)))
        for stem, col in _TIME_FIELD.items()
    }
    courses = []
    for course in data.cell_therapy:
        if not keep(course.apheresis_date):
            continue
        update = {
            name: None
            for name in ("lymphodepletion_start", "infusion_date")
            if not keep(getattr(course, name))
        }
        if "infusion_date" in update:
            update["dose_10e6_car_t_cells"] = None
        courses.append(course.model_copy(update=update) if update else course)
    changes["cell_therapy"] = tuple(courses)
    return replace(data, **changes)


# --------------------------------------------------------------------------- assembly


def _with_ids(
    records: pd.DataFrame, subjects: Subjects, adsl_by_pid: pd.DataFrame, flags: list[str]
) -> pd.DataFrame:
    pids = records["patient_id"].astype(str)
    ids = subjects.ids(pids)
    body = records.drop(columns=["patient_id"]).reset_index(drop=True)
    extra = adsl_by_pid.loc[list(pids), flags].reset_index(drop=True)
    out = pd.concat([ids, body, extra], axis=1)
    out["TRTSDT"] = subjects.trtsdt(pids)
    return out


def _sequence(df: pd.DataFrame, name: str, order: list[str]) -> pd.DataFrame:
    df = df.sort_values(order, kind="mergesort", na_position="last").reset_index(drop=True)
    df[name] = (df.groupby("USUBJID").cumcount() + 1).astype("float64")
    return df


def _build_adae(
    records: pd.DataFrame, subjects: Subjects, adsl_by_pid: pd.DataFrame
) -> pd.DataFrame:
    df = _with_ids(records, subjects, adsl_by_pid, ["SAFFL"])
    df["ASTDY"] = study_day(df["ASTDT"], df["TRTSDT"])
    df["AENDY"] = study_day(df["AENDT"], df["TRTSDT"])
    df["ONSDYINF"] = days_after(df["ASTDT"], df["TRTSDT"])
    df["ADURU"] = df["ADURN"].notna().map({True: "DAYS", False: ""})
    df["AESER"] = ""
    df["TRTEMFL"] = (df["ASTDT"] >= df["TRTSDT"]).map({True: "Y", False: ""})
    for col in ("BTOXGR", "PROLCYFL", "TOCIFL", "STERFL"):
        df[col] = df[col].fillna("")
    df = _sequence(df, "AESEQ", ["USUBJID", "ASTDT", "AECAT", "AEDECOD"])
    top = df.groupby(["USUBJID", "AEDECOD"])["AETOXGRN"].transform("max")
    first_top = (df["AETOXGRN"] == top) & ~df.assign(_t=df["AETOXGRN"] == top).duplicated(
        ["USUBJID", "AEDECOD", "_t"]
    )
    df["AOCCPIFL"] = first_top.map({True: "Y", False: ""})
    return conform(df, ADAE)


def _build_adrs(
    records: pd.DataFrame, subjects: Subjects, adsl_by_pid: pd.DataFrame
) -> pd.DataFrame:
    df = _with_ids(records, subjects, adsl_by_pid, ["SAFFL", "EFFFL", "LABELFL"])
    df["ADY"] = study_day(df["ADT"], df["TRTSDT"])
    order = {p: i for i, p in enumerate(adrs.PARAMS)}
    df["_p"] = df["PARAMCD"].map(order)
    df = _sequence(df, "ASEQ", ["USUBJID", "_p", "ADT"])
    return conform(df.drop(columns=["_p"]), ADRS)


def _build_adtte(
    records: pd.DataFrame,
    subjects: Subjects,
    adsl_by_pid: pd.DataFrame,
    bor: Mapping[str, str],
) -> pd.DataFrame:
    df = _with_ids(records, subjects, adsl_by_pid, ["SAFFL", "EFFFL", "LABELFL"])
    df["BOR"] = records["patient_id"].map(bor).fillna("").to_numpy()
    order = {p: i for i, p in enumerate(adtte.PARAMS)}
    df["_p"] = df["PARAMCD"].map(order)
    df = df.sort_values(["USUBJID", "_p"], kind="mergesort").reset_index(drop=True)
    return conform(df.drop(columns=["_p", "TRTSDT"]), ADTTE)


def _first_onsets(adae_records: pd.DataFrame) -> dict[str, pd.Series]:
    out = {}
    for category in ("CRS", "NEUROTOXICITY"):
        sub = adae_records[adae_records["AECAT"] == category]
        out[category] = sub.groupby("patient_id")["ASTDT"].min()
    return out


def _followup_progression(frames: Mapping[str, pd.DataFrame]) -> pd.Series:
    fu = frames["followup"]
    prog = fu[fu["event"].astype(str) == "progression"]
    return prog.groupby("patient_id")["event_date"].min()


def derive_adam(
    data: CentreData,
    data_cutoff: dt.date | None = None,
    *,
    study_id: str = DEFAULT_STUDY_ID,
) -> AdamDatasets:
    """Derive ADSL, ADRS, ADTTE and ADAE from validated centre data (module docstring)."""
    # The derivation allocates ~10⁶ short-lived container objects (engine results, records,
    # pandas internals) without reference cycles, so the cyclic collector's passes over the
    # growing young generations are pure overhead (~1 s CPU of a 1,000-patient cohort when
    # the caller has not frozen the heap). Paused for the call only; reference counting
    # still frees everything, and the caller's setting is restored.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _derive(data, data_cutoff, study_id)
    finally:
        if enabled:
            gc.enable()


def _derive(data: CentreData, data_cutoff: dt.date | None, study_id: str) -> AdamDatasets:
    latest = latest_date(data)
    cutoff = data_cutoff or latest or dt.date(1960, 1, 1)
    if latest is not None and cutoff < latest:
        # Only a cut-off before the latest record can drop anything (apply_cutoff looks at the
        # same dates latest_date does); the default cut-off never does, so skip the rebuild.
        data = apply_cutoff(data, cutoff)
    # Frames of the small files only; the observation files are read row by row by the
    # engines, so turning them into frames would be wasted work.
    frames = replace(
        data,
        crs_observations=(),
        icans_observations=(),
        labs=(),
        treatments=(),
        mrd=(),
        response_assessments=(),
    ).frames()
    subjects = adsl.subjects_from(frames, study_id)
    infusion = subjects.infusion()
    adae_records, prolonged = adae.derive_adae_records(data, infusion)
    adsl_df = adsl.derive_adsl(data, frames, subjects, pd.Timestamp(cutoff), prolonged)
    by_pid = adsl_df.set_index("SUBJID", drop=False)
    nact = {str(pid): pd.Timestamp(day) for pid, day in by_pid["NACTDT"].dropna().items()}
    adrs_records, summary = adrs.derive_adrs_records(data, subjects, nact)
    tte_records = adtte.derive_adtte_records(
        by_pid, summary, _followup_progression(frames), _first_onsets(adae_records)
    )
    return AdamDatasets(
        adsl=adsl_df,
        adrs=_build_adrs(adrs_records, subjects, by_pid),
        adtte=_build_adtte(tte_records, subjects, by_pid, summary.bor),
        adae=_build_adae(adae_records, subjects, by_pid),
        data_cutoff=cutoff,
    )
