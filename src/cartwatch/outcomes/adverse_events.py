"""Adverse-event incidence tables from ADAE-like data (subjects with ≥1 event, by arm).

Conventions (CDISC pilot table 14-5.01, pharmaverse AET01/AET02):

* Denominator: subjects in the analysis population of ADSL (``SAFFL == "Y"`` by default),
  counted by arm (``TRT01A``). Subjects without any AE still count in the denominator.
* Numerator: distinct subjects (``USUBJID``) with at least one qualifying record, so a subject
  with two events under one term is counted once for that term, once for its SOC and once for
  "any AE". ``events`` counts records.
* Treatment-emergent filter: ``TRTEMFL == "Y"`` (blank and ``"N"`` both excluded — the two
  pilot versions code a non-emergent AE differently).
* Grade ≥3 columns: a subject counts when at least one record for the term has a grade ≥ the
  threshold (``AETOXGR``; CTCAE for most AEs, ASTCT for CRS/ICANS — record which scale the
  source used).

Every table carries ``method``, ``denominator`` and ``filter`` strings so that a printed table
says how it was counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

ANY_AE = "ANY ADVERSE EVENT"
ANY_SOC = "ANY BODY SYSTEM"


@dataclass(frozen=True)
class IncidenceRow:
    """One table row: subject and event counts per arm (arm order = ``IncidenceTable.arms``)."""

    level: str  # "any", "soc" or "term"
    soc: str | None
    term: str | None
    subjects: tuple[int, ...]
    events: tuple[int, ...]
    percent: tuple[float, ...]
    subjects_grade_ge: tuple[int, ...] | None = None
    percent_grade_ge: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "level": self.level,
            "soc": self.soc,
            "term": self.term,
            "subjects": list(self.subjects),
            "events": list(self.events),
            "percent": list(self.percent),
        }
        if self.subjects_grade_ge is not None:
            out["subjects_grade_ge"] = list(self.subjects_grade_ge)
            out["percent_grade_ge"] = list(self.percent_grade_ge or ())
        return out


@dataclass(frozen=True)
class IncidenceTable:
    """An AE incidence table with its counting rules spelled out."""

    arms: tuple[str, ...]
    denominators: tuple[int, ...]
    rows: tuple[IncidenceRow, ...]
    method: str
    denominator: str
    filter: str
    grade_threshold: int | None = None

    def row(self, *, soc: str | None = None, term: str | None = None) -> IncidenceRow:
        """Row for a SOC (term None), a term (optionally within a SOC), or with neither: any AE."""
        for r in self.rows:
            if soc is None and term is None and r.level == "any":
                return r
            if term is None and r.level == "soc" and r.soc == soc:
                return r
            if (
                term is not None
                and r.level == "term"
                and r.term == term
                and (soc is None or r.soc == soc)
            ):
                return r
        raise KeyError(f"no row for soc={soc!r} term={term!r}")

    def to_frame(self) -> pd.DataFrame:
        """Long-to-wide display frame: one row per table row, n (%) columns per arm."""
        records = []
        for r in self.rows:
            rec: dict[str, object] = {"level": r.level, "soc": r.soc, "term": r.term}
            for i, arm in enumerate(self.arms):
                rec[f"{arm} n"] = r.subjects[i]
                rec[f"{arm} %"] = r.percent[i]
                rec[f"{arm} events"] = r.events[i]
                if r.subjects_grade_ge is not None and r.percent_grade_ge is not None:
                    rec[f"{arm} grade>={self.grade_threshold} n"] = r.subjects_grade_ge[i]
                    rec[f"{arm} grade>={self.grade_threshold} %"] = r.percent_grade_ge[i]
            records.append(rec)
        return pd.DataFrame.from_records(records)

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "denominator": self.denominator,
            "filter": self.filter,
            "grade_threshold": self.grade_threshold,
            "arms": [{"arm": a, "N": n} for a, n in zip(self.arms, self.denominators, strict=True)],
            "rows": [r.to_dict() for r in self.rows],
        }


def _require(df: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")


def _population(
    adsl: pd.DataFrame, adsl_arm_var: str | None, population_flag: str | None
) -> pd.DataFrame:
    cols = ["USUBJID"] + ([adsl_arm_var] if adsl_arm_var else [])
    cols += [population_flag] if population_flag else []
    _require(adsl, "adsl", cols)
    pop = adsl
    if population_flag:
        pop = pop[pop[population_flag].astype(str).str.strip() == "Y"]
    if pop["USUBJID"].duplicated().any():
        raise ValueError("adsl: USUBJID must be unique (one row per subject)")
    out = pd.DataFrame({"USUBJID": pop["USUBJID"].astype(str).str.strip()})
    out["_arm"] = pop[adsl_arm_var].astype(str).str.strip() if adsl_arm_var else "Total"
    return out


def _records(
    adae: pd.DataFrame,
    pop: pd.DataFrame,
    arm_var: str | None,
    columns: Sequence[str],
    treatment_emergent: bool,
) -> pd.DataFrame:
    need = ["USUBJID", *columns] + ([arm_var] if arm_var else [])
    need += ["TRTEMFL"] if treatment_emergent else []
    _require(adae, "adae", need)
    ae = adae
    if treatment_emergent:
        ae = ae[ae["TRTEMFL"].astype(str).str.strip() == "Y"]
    rec = pd.DataFrame({"USUBJID": ae["USUBJID"].astype(str).str.strip()})
    for c in columns:
        rec[c] = ae[c].astype(str).str.strip()
    # Only subjects in the analysis population contribute numerators.
    rec = rec[rec["USUBJID"].isin(pop["USUBJID"])]
    if arm_var:
        rec["_arm"] = ae.loc[rec.index, arm_var].astype(str).str.strip()
    else:
        rec["_arm"] = rec["USUBJID"].map(pop.set_index("USUBJID")["_arm"])
    return rec


def _arms(pop: pd.DataFrame, arms: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(arms) if arms is not None else tuple(sorted(pop["_arm"].unique()))


def _counts(
    rec: pd.DataFrame, arms: tuple[str, ...], keys: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    subj = rec.groupby([*keys, "_arm"])["USUBJID"].nunique().unstack("_arm")
    ev = rec.groupby([*keys, "_arm"]).size().unstack("_arm")
    subj = subj.reindex(columns=list(arms)).fillna(0).astype(int)
    ev = ev.reindex(columns=list(arms)).fillna(0).astype(int)
    return subj, ev


def _pct(counts: Sequence[int], denoms: Sequence[int]) -> tuple[float, ...]:
    return tuple(100.0 * c / d if d else float("nan") for c, d in zip(counts, denoms, strict=True))


def _any_row(
    rec: pd.DataFrame, arms: tuple[str, ...], denoms: tuple[int, ...], label: str
) -> IncidenceRow:
    subj = tuple(int(rec.loc[rec["_arm"] == a, "USUBJID"].nunique()) for a in arms)
    ev = tuple(int((rec["_arm"] == a).sum()) for a in arms)
    return IncidenceRow("any", label, None, subj, ev, _pct(subj, denoms))


def ae_incidence_soc_pt(
    adae: pd.DataFrame,
    adsl: pd.DataFrame,
    *,
    arm_var: str | None = "TRTA",
    adsl_arm_var: str | None = "TRT01A",
    population_flag: str | None = "SAFFL",
    soc_var: str = "AEBODSYS",
    term_var: str = "AEDECOD",
    treatment_emergent: bool = True,
    arms: Sequence[str] | None = None,
) -> IncidenceTable:
    """Subjects (and events) with ≥1 AE overall, by SOC, and by preferred term within SOC.

    Parameters
    ----------
    adae, adsl : pandas.DataFrame
        ADAE (one row per AE record) and ADSL (one row per subject).
    arm_var, adsl_arm_var : str or None
        Arm columns in ADAE and ADSL (None for a single-arm cohort: one "Total" column).
    population_flag : str or None
        ADSL flag defining the denominator population (``"Y"`` = in).
    soc_var, term_var : str
        System organ class and preferred term (``AEBODSYS``/``AEDECOD``).
    treatment_emergent : bool
        Keep only ``TRTEMFL == "Y"`` records.
    arms : sequence of str, optional
        Column order; default sorted arm labels.

    Returns
    -------
    IncidenceTable
        Rows: "any", then for each SOC (alphabetical) the SOC row followed by its terms
        (alphabetical). Reproduces CDISC pilot table 14-5.01.
    """
    pop = _population(adsl, adsl_arm_var, population_flag)
    arm_t = _arms(pop, arms)
    denoms = tuple(int((pop["_arm"] == a).sum()) for a in arm_t)
    rec = _records(adae, pop, arm_var, [soc_var, term_var], treatment_emergent)
    rows = [_any_row(rec, arm_t, denoms, ANY_SOC)]
    soc_s, soc_e = _counts(rec, arm_t, [soc_var])
    pt_s, pt_e = _counts(rec, arm_t, [soc_var, term_var])
    for soc in sorted(soc_s.index):
        s = tuple(int(v) for v in soc_s.loc[soc])
        rows.append(
            IncidenceRow(
                "soc", soc, None, s, tuple(int(v) for v in soc_e.loc[soc]), _pct(s, denoms)
            )
        )
        for term in sorted(pt_s.loc[soc].index):
            s = tuple(int(v) for v in pt_s.loc[(soc, term)])
            e = tuple(int(v) for v in pt_e.loc[(soc, term)])
            rows.append(IncidenceRow("term", soc, term, s, e, _pct(s, denoms)))
    return IncidenceTable(
        arms=arm_t,
        denominators=denoms,
        rows=tuple(rows),
        method="subjects with >=1 event (distinct USUBJID) by SOC/PT; events = records",
        denominator=(
            f"ADSL {population_flag or 'all subjects'}"
            f"{'==Y' if population_flag else ''} by {adsl_arm_var or 'cohort'}"
        ),
        filter="TRTEMFL == 'Y'" if treatment_emergent else "all AE records",
    )


def ae_incidence_by_term(
    adae: pd.DataFrame,
    adsl: pd.DataFrame,
    *,
    term_var: str = "AEDECOD",
    grade_var: str = "AETOXGR",
    grade_threshold: int = 3,
    arm_var: str | None = "TRTA",
    adsl_arm_var: str | None = "TRT01A",
    population_flag: str | None = "SAFFL",
    treatment_emergent: bool = True,
    arms: Sequence[str] | None = None,
) -> IncidenceTable:
    """Subjects with any grade and with grade ≥ *grade_threshold* of each term, by arm.

    Grades are read as numbers (``"3"`` and ``3.0`` both count; missing grades count for "any
    grade" only). Rows: "any AE", then terms by descending any-grade subjects (summed over
    arms), ties alphabetical — the usual CAR-T safety table order (CRS, neurotoxicity, ...).
    """
    if grade_threshold < 1:
        raise ValueError(f"grade_threshold: must be at least 1, got {grade_threshold}")
    pop = _population(adsl, adsl_arm_var, population_flag)
    arm_t = _arms(pop, arms)
    denoms = tuple(int((pop["_arm"] == a).sum()) for a in arm_t)
    rec = _records(adae, pop, arm_var, [term_var, grade_var], treatment_emergent)
    rec["_grade"] = pd.to_numeric(rec[grade_var].replace({"": None, "nan": None}), errors="coerce")
    high = rec[rec["_grade"] >= grade_threshold]

    any_row = _any_row(rec, arm_t, denoms, ANY_AE)
    hi_any = tuple(int(high.loc[high["_arm"] == a, "USUBJID"].nunique()) for a in arm_t)
    rows = [
        IncidenceRow(
            "any",
            None,
            ANY_AE,
            any_row.subjects,
            any_row.events,
            any_row.percent,
            hi_any,
            _pct(hi_any, denoms),
        )
    ]
    all_s, all_e = _counts(rec, arm_t, [term_var])
    hi_s, _ = _counts(high, arm_t, [term_var]) if len(high) else (None, None)
    totals = all_s.sum(axis=1)
    order = sorted(all_s.index, key=lambda t: (-int(totals[t]), str(t)))
    for term in order:
        s = tuple(int(v) for v in all_s.loc[term])
        h = (
            tuple(int(v) for v in hi_s.loc[term])
            if hi_s is not None and term in hi_s.index
            else tuple(0 for _ in arm_t)
        )
        rows.append(
            IncidenceRow(
                "term",
                None,
                term,
                s,
                tuple(int(v) for v in all_e.loc[term]),
                _pct(s, denoms),
                h,
                _pct(h, denoms),
            )
        )
    return IncidenceTable(
        arms=arm_t,
        denominators=denoms,
        rows=tuple(rows),
        method=(
            f"subjects with >=1 event of the term (any grade; grade >= {grade_threshold} "
            f"from {grade_var}); events = records"
        ),
        denominator=(
            f"ADSL {population_flag or 'all subjects'}"
            f"{'==Y' if population_flag else ''} by {adsl_arm_var or 'cohort'}"
        ),
        filter="TRTEMFL == 'Y'" if treatment_emergent else "all AE records",
        grade_threshold=grade_threshold,
    )
