"""ADAE: CRS and neurotoxicity episodes (ASTCT 2019) and laboratory cytopenias (CTCAE v5.0).

Episodes (TRANSCEND CLL 004 Table 4 footnote, clinical-standards.md §3.5 [S14]: "an event
that stopped and restarted within 7 days counts as one episode"): a patient's observations
are split and graded by the one episode rule, ``clinical.episodes.grade_by_episode`` (a new
episode starts at an observation with grade ≥1 more than ``EPISODE_GAP_DAYS`` days after the
current episode resolved; each episode graded on its own observations by the engine,
``grade_crs_episode`` / ``grade_icans_episode``), which gives the maximum grade, onset,
resolution, duration and reasons. The web app and the CIBMTR registry split the same way.
Not-gradable CRS observations (grade None: no temperature before therapy for CRS) are left
out of the grade derivation, never read as grade 0: they neither start nor resolve an
episode, and the episode reasons (ATOXREAS) name them with the grade a fever would give.

Cytopenias: every post-infusion blood count is graded by ``grade_cytopenia``; one record
per patient and term with grade ≥1 after infusion; onset/resolution/duration over that
term's grades by ``summarise_episode``. Conventions: :mod:`cartwatch.adam.derive`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel

from cartwatch.adam.common import as_day, join_reasons
from cartwatch.centre.loader import CentreData
from cartwatch.centre.records import IcansObservationRow, LabRow, TreatmentRow
from cartwatch.clinical import crs, cytopenia, icans
from cartwatch.clinical.episodes import EpisodeSummary, grade_by_episode, summarise_episode
from cartwatch.schemas.crs import CrsObservationIn

#: Prolonged cytopenia (definition not published; clinical-standards.md §3.5 recollection,
#: UNVERIFIED: "grade ≥3 laboratory cytopenia at the day-29 visit"): grade ≥3 at the blood
#: count nearest to 28 days after infusion (trial day 29, infusion = day 1) within ±7 days.
PROLONGED_DAY = 28
PROLONGED_WINDOW_DAYS = 7
PROLONGED_MIN_GRADE = 3

CTCAE = cytopenia.STANDARD  # "CTCAE v5.0"
ASTCT = crs.STANDARD  # "ASTCT 2019"
STEROIDS = frozenset({"dexamethasone", "methylprednisolone"})


@dataclass(frozen=True)
class Term:
    """AE coding: reported term, MedDRA preferred term and system organ class."""

    category: str
    aeterm: str
    decod: str
    bodsys: str


CRS_TERM = Term(
    "CRS", "Cytokine release syndrome", "Cytokine release syndrome", "Immune system disorders"
)
ICANS_TERM = Term(
    "NEUROTOXICITY",
    "Immune effector cell-associated neurotoxicity syndrome",
    "Immune effector cell-associated neurotoxicity syndrome",
    "Nervous system disorders",
)
CYTOPENIA_TERMS: Mapping[str, Term] = {
    cytopenia.NEUTROPHIL_TERM: Term(
        "CYTOPENIA", "Neutrophil count decreased", "Neutrophil count decreased", "Investigations"
    ),
    cytopenia.PLATELET_TERM: Term(
        "CYTOPENIA", "Platelet count decreased", "Platelet count decreased", "Investigations"
    ),
    # CTCAE term "Anemia"; MedDRA preferred term "Anaemia".
    cytopenia.ANEMIA_TERM: Term(
        "CYTOPENIA", "Anemia", "Anaemia", "Blood and lymphatic system disorders"
    ),
}


class _Episode(Protocol):
    grade: int | None
    summary: EpisodeSummary
    reasons: tuple[str, ...]
    standard: str

    @property
    def observations(self) -> Sequence[Any]: ...


def _domain(row: BaseModel, schema: type[BaseModel]) -> Any:
    """The engine's record of an observation row (the row's own ``to_domain`` when it has
    one; otherwise through the contract input schema, whose fields the row repeats)."""
    to_domain = getattr(row, "to_domain", None)
    if to_domain is not None:
        return to_domain()
    fields = row.model_dump(mode="json", exclude={"patient_id"})
    return schema.model_validate(fields).to_domain()  # type: ignore[attr-defined]


#: The row fields that make up an ICANS finding besides the three keyed specially.
_ICANS_PLAIN = tuple(
    name
    for name in IcansObservationRow.model_fields
    if name
    not in {"patient_id", "observed_at", "age_years", "ice_items", "attributable_to_other_cause"}
)


class _IcansDomains:
    """``row.to_domain()`` for ICANS rows, built and validated once per distinct finding.

    A cohort's ~16k ICANS rows hold a few hundred distinct findings; each row gets the
    validated observation of its finding re-timed (``icans.at_time``). ``age_years`` is keyed
    with its repr too (0.0 == -0.0 and 70 == 70.0, but the reasons print it).
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[object, ...], icans.IcansObservation] = {}

    def __call__(self, row: IcansObservationRow) -> icans.IcansObservation:
        d = row.__dict__
        age, items = d["age_years"], d["ice_items"]
        key = (
            age,
            repr(age),
            None if items is None else tuple(items.__dict__.values()),
            tuple(d["attributable_to_other_cause"]),
            *[d[name] for name in _ICANS_PLAIN],
        )
        template = self._seen.get(key)
        if template is None:
            template = self._seen[key] = row.to_domain()
        return icans.at_time(template, row.observed_at)


def _when(value: dt.date | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _episode_records(
    observations: Sequence[Any],
    times: Sequence[dt.datetime],
    grade_episode: Callable[[Sequence[Any]], Any],
) -> list[_Episode]:
    """Episodes (each graded on its own observations) with a maximum grade ≥1.

    *times*: ``observed_at`` of each observation as a date-time (already computed for the
    sort, so not derived again from the domain objects).
    """
    episodes = grade_by_episode(observations, times, grade_episode)
    # None (nothing gradable) or 0: no adverse event established, so no record.
    return [e for _, e in episodes if (e.grade or 0) >= 1]


class _Dose(NamedTuple):
    day: dt.date
    agent: str


def _treatments(rows: Sequence[TreatmentRow]) -> dict[tuple[str, str], list[_Dose]]:
    """Doses by (patient, indication), each reduced once to its day and agent name (the
    per-episode window test then compares plain dates instead of building Timestamps)."""
    by: dict[tuple[str, str], list[_Dose]] = {}
    for row in rows:
        key = (row.patient_id, str(row.indication.value))
        by.setdefault(key, []).append(_Dose(_day(row.given_at), str(row.agent.value)))
    return by


def _toxicity_records(
    rows: Sequence[BaseModel],
    convert: Callable[[Any], Any],
    grade_episode: Callable[[Sequence[Any]], Any],
    term: Term,
    indication: str,
    treatments: Mapping[tuple[str, str], list[_Dose]],
) -> list[dict[str, object]]:
    # One pass groups the rows by patient with their time; each patient's list is then
    # sorted (stable: equal times keep file order) and converted to engine records once.
    by_patient: dict[str, list[tuple[dt.datetime, Any]]] = {}
    for row in rows:
        pid = str(row.patient_id)  # type: ignore[attr-defined]
        when = _when(row.observed_at)  # type: ignore[attr-defined]
        by_patient.setdefault(pid, []).append((when, row))
    out: list[dict[str, object]] = []
    for pid in sorted(by_patient):
        timed = sorted(by_patient[pid], key=itemgetter(0))
        times = [when for when, _ in timed]
        observations = [convert(r) for _, r in timed]
        episodes = _episode_records(observations, times, grade_episode)
        given = treatments.get((pid, indication), [])
        for k, episode in enumerate(episodes):
            s = episode.summary
            # The window from onset to resolution (or to the day before the next onset, or
            # open-ended), in whole days as the ADaM dates are.
            assert s.onset is not None  # an episode with grade >=1 has an onset
            start = _day(s.onset)
            if s.resolved_at is not None:
                end = _day(s.resolved_at)
            elif k + 1 < len(episodes):
                next_onset = episodes[k + 1].summary.onset
                assert next_onset is not None
                end = _day(next_onset) - dt.timedelta(days=1)
            else:
                end = dt.date.max
            during = [t for t in given if start <= t.day <= end]
            toci = sum(t.agent == "tocilizumab" for t in during)
            steroid = any(t.agent in STEROIDS for t in during)
            assert episode.grade is not None  # only episodes with grade >= 1 are kept
            out.append(
                _record(pid, term, episode.grade, episode.standard, s, episode.reasons)
                | {
                    "TOCIFL": "Y" if toci else "N",
                    "TOCIN": float(toci),
                    "STERFL": "Y" if steroid else "N",
                }
            )
    return out


def _record(
    pid: str,
    term: Term,
    grade: int,
    standard: str,
    s: EpisodeSummary,
    reasons: Sequence[str],
) -> dict[str, object]:
    return {
        "patient_id": pid,
        "AECAT": term.category,
        "AETERM": term.aeterm,
        "AEDECOD": term.decod,
        "AEBODSYS": term.bodsys,
        "ASTDT": as_day(s.onset),
        "AENDT": as_day(s.resolved_at),
        "ADURN": np.nan if s.duration_days is None else float(s.duration_days),
        "AETOXGR": str(grade),
        "AETOXGRN": float(grade),
        "TOXGRSTD": standard,
        "ATOXREAS": join_reasons(tuple(reasons)),
        "AEOUT": (
            "FATAL"
            if grade == 5
            else "RECOVERED/RESOLVED"
            if s.resolved_at is not None
            else "NOT RECOVERED/NOT RESOLVED"
        ),
    }


# --------------------------------------------------------------------------- cytopenias


class _GradedLab(NamedTuple):
    when: dt.datetime
    grades: Mapping[str, int | None]
    reasons: tuple[str, ...]


def _graded_labs(rows: Sequence[LabRow], patients: Container[str]) -> dict[str, list[_GradedLab]]:
    """Every blood count of *patients* graded by the engine, per patient in time order.

    Only infused patients' counts are ever used (ADAE and PROLCYFL start at infusion), so the
    others are not graded at all. Grouped first, then each patient's list sorted (stable:
    equal times keep file order), as one global (patient, time) sort would order them.
    """
    timed: dict[str, list[tuple[dt.datetime, LabRow]]] = {}
    for row in rows:
        if row.patient_id not in patients or row.counts_missing:
            continue  # counts_missing: lymphocytes only, nothing for CTCAE to grade
        timed.setdefault(row.patient_id, []).append((_when(row.observed_at), row))
    out: dict[str, list[_GradedLab]] = {}
    # The rows were validated by pydantic (finite counts ≥0, at least one count: checked
    # above), so they go to the engine's grade_counts directly instead of through
    # row.to_domain(), which would re-validate every count and build a LowerLimits per row
    # although a centre has a handful of distinct limits (built and validated once each).
    limits: dict[tuple[object, ...], cytopenia.LowerLimits] = {}
    for pid, labs in timed.items():
        labs.sort(key=itemgetter(0))
        graded = out[pid] = []
        for when, row in labs:
            lln = None
            if row.lln is not None:
                values = (
                    row.lln.neutrophils_10e9_l,
                    row.lln.platelets_10e9_l,
                    row.lln.hemoglobin_g_dl,
                )
                # repr too: 0.0 == -0.0, but the reasons print the limit itself.
                key = (*values, *map(repr, values))
                lln = limits.get(key)
                if lln is None:
                    lln = limits[key] = row.lln.to_domain()
            g = cytopenia.grade_counts(
                row.neutrophils_10e9_l,
                row.platelets_10e9_l,
                row.hemoglobin_g_dl,
                lln,
                row.transfusion_indicated,
            )
            graded.append(_GradedLab(when, g.grades, g.reasons))
    return out


def _prolonged(
    labs: Sequence[_GradedLab], infusion: pd.Timestamp
) -> tuple[str, Mapping[str, int | None]]:
    """("Y"/"N"/"", grades of the count used) for the day-28 ± 7 window."""
    target = infusion.to_pydatetime() + dt.timedelta(days=PROLONGED_DAY)
    window = [
        lab for lab in labs if abs((lab.when.date() - target.date()).days) <= PROLONGED_WINDOW_DAYS
    ]
    if not window:
        return "", {}
    nearest = min(window, key=lambda lab: abs(lab.when - target))
    hit = any((g or 0) >= PROLONGED_MIN_GRADE for g in nearest.grades.values())
    return ("Y" if hit else "N"), nearest.grades


def cytopenia_records(
    data: CentreData, infusion: Mapping[str, pd.Timestamp]
) -> tuple[list[dict[str, object]], pd.Series]:
    """Cytopenia ADAE records and ADSL.PROLCYFL per infused patient."""
    graded = _graded_labs(data.labs, infusion)
    out: list[dict[str, object]] = []
    prolonged: dict[str, str] = {}
    for pid in sorted(infusion):
        day = infusion[pid]
        labs = graded.get(pid, [])
        start = day.to_pydatetime()  # midnight of the infusion day
        before = [lab for lab in labs if lab.when < start]
        after = [lab for lab in labs if lab.when >= start]
        flag, grades_at_day28 = _prolonged(after, day)
        prolonged[pid] = flag
        for term_key, term in CYTOPENIA_TERMS.items():
            series = [lab for lab in after if term_key in lab.grades]
            if not series:
                continue
            s = summarise_episode(
                [lab.grades[term_key] for lab in series], [lab.when for lab in series]
            )
            if s.max_grade is None or s.max_grade < 1:
                continue
            peak = series[s.peak_index or 0]
            reasons = [r for r in peak.reasons if r.startswith(term_key)]
            base = [lab.grades[term_key] for lab in before if term_key in lab.grades]
            term_flag = ""
            if flag:
                term_flag = (
                    "Y" if (grades_at_day28.get(term_key) or 0) >= PROLONGED_MIN_GRADE else "N"
                )
            out.append(
                _record(pid, term, s.max_grade, CTCAE, s, reasons)
                | {
                    "BTOXGR": "" if not base or base[-1] is None else str(base[-1]),
                    "PROLCYFL": term_flag,
                }
            )
    return out, pd.Series(prolonged, dtype=object)


def derive_adae_records(
    data: CentreData, infusion: Mapping[str, pd.Timestamp]
) -> tuple[pd.DataFrame, pd.Series]:
    """All ADAE records keyed by ``patient_id``, and ADSL.PROLCYFL."""
    treatments = _treatments(data.treatments)
    records = _toxicity_records(
        data.crs_observations,
        lambda row: _domain(row, CrsObservationIn),
        crs.grade_crs_episode,
        CRS_TERM,
        "crs",
        treatments,
    )
    records += _toxicity_records(
        data.icans_observations,
        _IcansDomains(),
        icans.grade_icans_episode,
        ICANS_TERM,
        "icans",
        treatments,
    )
    cyto, prolonged = cytopenia_records(data, infusion)
    records += cyto
    frame = pd.DataFrame.from_records(records, columns=list(_COLUMNS))
    # As in ADRS: an empty frame would leave the dates as object columns.
    for name in ("ASTDT", "AENDT"):
        frame[name] = frame[name].astype("datetime64[ns]")
    return frame, prolonged


_COLUMNS = (
    "patient_id",
    "AECAT",
    "AETERM",
    "AEDECOD",
    "AEBODSYS",
    "ASTDT",
    "AENDT",
    "ADURN",
    "AETOXGR",
    "AETOXGRN",
    "BTOXGR",
    "TOXGRSTD",
    "ATOXREAS",
    "AEOUT",
    "TOCIFL",
    "TOCIN",
    "STERFL",
    "PROLCYFL",
)
