"""Safety tables in the safety set: CRS and neurotoxicity grades, onset and duration,
their management, cytopenias and AE incidence by term.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from cartwatch.outcomes.adverse_events import ae_incidence_by_term
from cartwatch.outcomes.survival import (
    median_iqr,
)
from cartwatch.outcomes.tables.core import (
    Cell,
    Row,
    Table,
    codes,
    count_cell,
    flag,
    fmt_num,
    population,
    rounded,
    set_label,
)

# --------------------------------------------------------------------------- safety

CRS_CATEGORY = "CRS"
NT_CATEGORY = "NEUROTOXICITY"
CYTOPENIA_CATEGORY = "CYTOPENIA"


def _category(adae: pd.DataFrame | None, category: str) -> pd.DataFrame:
    if adae is None or "AECAT" not in adae.columns:
        return pd.DataFrame(columns=["USUBJID", "AETOXGRN", "TOXGRSTD"])
    ae = adae[codes(adae["AECAT"]) == category]
    if "AETOXGRN" not in ae.columns or ae["AETOXGRN"].isna().all():
        grades = ae["AETOXGR"] if "AETOXGR" in ae.columns else pd.Series(np.nan, index=ae.index)
        ae = ae.assign(AETOXGRN=pd.to_numeric(grades, errors="coerce"))
    return ae


def scales(ae: pd.DataFrame) -> str:
    """The grading scale(s) of the records, e.g. ``ASTCT 2019`` (``not recorded`` if none)."""
    if "TOXGRSTD" not in ae.columns:
        return "not recorded"
    found = sorted({s for s in codes(ae["TOXGRSTD"], upper=False).unique() if s})
    return " + ".join(found) if found else "not recorded"


def _max_grade(ae: pd.DataFrame, ids: pd.Series) -> pd.Series:
    """Maximum grade per safety-set subject (0 = no event)."""
    g = pd.to_numeric(ae["AETOXGRN"], errors="coerce").fillna(0)
    per = g.groupby(ae["USUBJID"].astype(str)).max()
    return per.reindex(ids.astype(str).to_numpy()).fillna(0).astype(int)


def _first_episode(ae: pd.DataFrame) -> pd.DataFrame:
    """Each subject's first episode (earliest onset) among records with a grade ≥1."""
    graded = ae[pd.to_numeric(ae["AETOXGRN"], errors="coerce").fillna(0) >= 1]
    sort_by = [c for c in ("USUBJID", "ONSDYINF", "ASTDT") if c in graded.columns]
    return graded.sort_values(sort_by).drop_duplicates("USUBJID")


def _median_iqr_cell(values: Iterable[float | None]) -> Cell:
    m = median_iqr(list(values))
    if m.median is None:
        return Cell("—", {"n": 0})
    return Cell(
        f"{fmt_num(m.median)} ({fmt_num(m.q1)}–{fmt_num(m.q3)})",
        {
            "n": m.n,
            "n_missing": m.n_missing,
            "median": m.median,
            "q1": m.q1,
            "q3": m.q3,
            "method": m.method,
            "rounded": rounded(m.median, m.q1, m.q3),
        },
    )


def _grade_rows(per_cat: Sequence[pd.Series], n: int) -> list[Row]:
    rows = [Row("Any grade", tuple(count_cell(int((g >= 1).sum()), n) for g in per_cat), 0, "any")]
    for grade in (1, 2, 3, 4, 5):
        rows.append(
            Row(
                f"Grade {grade}",
                tuple(count_cell(int((g == grade).sum()), n) for g in per_cat),
                1,
                f"grade_{grade}",
            )
        )
    rows.append(
        Row("Grade ≥3", tuple(count_cell(int((g >= 3).sum()), n) for g in per_cat), 0, "grade_ge_3")
    )
    return rows


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name not in df.columns:
        return pd.Series([None] * len(df), index=df.index, dtype=object)
    return pd.to_numeric(df[name], errors="coerce")


#: How not-gradable CRS observations enter the grades (ADAE, cartwatch.adam.adae).
CRS_NOT_GRADABLE_FOOTNOTE = (
    "CRS: an observation without a recorded temperature, before antipyretic or anti-cytokine "
    "therapy for CRS, is not gradable (ASTCT 2019 needs fever to be shown or excluded). It is "
    "left out of the grade derivation, never counted as grade 0: a maximum grade is over the "
    "gradable observations, and ADAE.ATOXREAS names the not-gradable ones with the grade a "
    "fever would give. Therapy recorded before CRS began (premedication) does not lift the "
    "fever requirement."
)


def crs_nt_table(adsl: pd.DataFrame, adae: pd.DataFrame | None) -> Table:
    """CRS and neurological toxicity by maximum grade, onset and duration (Lancet Table 4)."""
    safety = population(adsl, "SAFFL")
    ids = safety["USUBJID"]
    n = len(ids)
    cats = [_category(adae, CRS_CATEGORY), _category(adae, NT_CATEGORY)]
    per_cat = [_max_grade(ae, ids) for ae in cats]
    firsts = [_first_episode(ae[ae["USUBJID"].isin(set(ids))]) for ae in cats]
    rows = [
        Row(
            "Grading scale",
            tuple(Cell(scales(ae), {"scale": scales(ae)}) for ae in cats),
            0,
            "scale",
        )
    ]
    rows += _grade_rows(per_cat, n)
    rows.append(
        Row(
            "Onset, days after infusion, median (IQR)",
            tuple(_median_iqr_cell(_col(f, "ONSDYINF")) for f in firsts),
            0,
            "onset",
        )
    )
    rows.append(
        Row(
            "Duration, days, median (IQR)",
            tuple(_median_iqr_cell(_col(f, "ADURN")) for f in firsts),
            0,
            "duration",
        )
    )
    return Table(
        key="crs_neurotox",
        title="Cytokine release syndrome and neurological toxicity by maximum grade",
        columns=("", f"CRS (N = {n})", f"Neurological toxicity (N = {n})"),
        rows=tuple(rows),
        method="n (%) of the safety set by each patient's maximum grade; onset and duration "
        "of the first episode, median (IQR, R quantile type 7)",
        population=set_label(adsl, "SAFFL"),
        n=n,
        footnotes=(
            "Grades are shown with the scale that produced them (ADAE.TOXGRSTD). TRANSCEND "
            "CLL 004 did not grade neurotoxicity with ASTCT ICANS: it reported "
            "investigator-identified neurological events (any grade 45%, grade ≥3 19%; "
            "clinical-standards.md §0 item 3, §3.5), so compare ICANS grades with caution.",
            "Onset: day 0 = infusion, as the trial reports. Duration: onset to resolution; "
            "unresolved episodes are not in the duration summary.",
            CRS_NOT_GRADABLE_FOOTNOTE,
        ),
    )


def _subject_any(ae: pd.DataFrame, name: str) -> set[str]:
    return set(ae.loc[flag(ae, name), "USUBJID"].astype(str))


def management_table(adsl: pd.DataFrame, adae: pd.DataFrame | None) -> Table:
    """Tocilizumab and corticosteroid use for CRS and neurological toxicity (Table 4)."""
    ids = set(population(adsl, "SAFFL")["USUBJID"].astype(str))
    n = len(ids)
    cats = [_category(adae, CRS_CATEGORY), _category(adae, NT_CATEGORY)]
    toci = [_subject_any(ae, "TOCIFL") & ids for ae in cats]
    ster = [_subject_any(ae, "STERFL") & ids for ae in cats]
    rows = [
        Row(
            "Tocilizumab only",
            tuple(count_cell(len(t - s), n) for t, s in zip(toci, ster, strict=True)),
            0,
            "toci_only",
        ),
        Row(
            "Corticosteroids only",
            tuple(count_cell(len(s - t), n) for t, s in zip(toci, ster, strict=True)),
            0,
            "steroids_only",
        ),
        Row(
            "Both",
            tuple(count_cell(len(t & s), n) for t, s in zip(toci, ster, strict=True)),
            0,
            "both",
        ),
        Row(
            "Either or both",
            tuple(count_cell(len(t | s), n) for t, s in zip(toci, ster, strict=True)),
            0,
            "either",
        ),
    ]
    doses = []
    for ae, treated in zip(cats, toci, strict=True):
        sub = ae[ae["USUBJID"].astype(str).isin(treated)]
        per = _col(sub, "TOCIN").groupby(sub["USUBJID"].astype(str)).sum(min_count=1)
        doses.append(_median_iqr_cell(per.tolist()))
    rows.append(
        Row("Tocilizumab doses per treated patient, median (IQR)", tuple(doses), 0, "toci_doses")
    )
    return Table(
        key="management",
        title="Tocilizumab and corticosteroid use",
        columns=("", f"For CRS (N = {n})", f"For neurological toxicity (N = {n})"),
        rows=tuple(rows),
        method="patients with ≥1 dose given for the event (ADAE TOCIFL/STERFL), n (%) of the "
        "safety set",
        population=set_label(adsl, "SAFFL"),
        n=n,
    )


def cytopenia_table(adsl: pd.DataFrame, adae: pd.DataFrame | None) -> Table:
    """Grade ≥3 and grade 4 cytopenias by term (CTCAE), and prolonged cytopenia."""
    safety = population(adsl, "SAFFL")
    ids = safety["USUBJID"]
    n = len(ids)
    ae = _category(adae, CYTOPENIA_CATEGORY)
    ae = ae[ae["USUBJID"].isin(set(ids))]
    rows = []
    term_col = "AEDECOD" if "AEDECOD" in ae.columns else "AETERM"
    for term in sorted({str(t) for t in ae.get(term_col, pd.Series(dtype=str))}):
        g = _max_grade(ae[ae[term_col].astype(str) == term], ids)
        rows.append(
            Row(
                term,
                (count_cell(int((g >= 3).sum()), n), count_cell(int((g >= 4).sum()), n)),
                0,
                term,
            )
        )
    any_g = _max_grade(ae, ids)
    rows.insert(
        0,
        Row(
            "Any cytopenia",
            (count_cell(int((any_g >= 3).sum()), n), count_cell(int((any_g >= 4).sum()), n)),
            0,
            "any",
        ),
    )
    prol = int(flag(safety, "PROLCYFL").sum())
    rows.append(Row("Prolonged cytopenia", (count_cell(prol, n), Cell("")), 0, "prolonged"))
    return Table(
        key="cytopenias",
        title=f"Grade ≥3 cytopenias ({scales(ae)})",
        columns=("", "Grade ≥3, n (%)", "Grade 4, n (%)"),
        rows=tuple(rows),
        method="patients by maximum grade per term, n (%) of the safety set",
        population=set_label(adsl, "SAFFL"),
        n=n,
        footnotes=(
            "Prolonged cytopenia as flagged in ADSL.PROLCYFL (the trial's definition is "
            "UNVERIFIED; clinical-standards.md §3.5).",
        ),
    )


def ae_incidence_table(adsl: pd.DataFrame, adae: pd.DataFrame | None) -> Table | None:
    """Adverse events of special interest by term, any grade and grade ≥3 (safety set)."""
    if adae is None or adae.empty or "AEDECOD" not in adae.columns:
        return None
    te = bool("TRTEMFL" in adae.columns and flag(adae, "TRTEMFL").any())
    inc = ae_incidence_by_term(
        adae, adsl, arm_var=None, adsl_arm_var=None, population_flag="SAFFL", treatment_emergent=te
    )
    n = inc.denominators[0]
    scale_by_term: dict[str, str] = {}
    if "TOXGRSTD" in adae.columns:
        # Distinct (term, scale) pairs only: a groupby + per-group scales() cost ~15 ms.
        pairs = pd.DataFrame(
            {"term": adae["AEDECOD"].astype(str), "scale": codes(adae["TOXGRSTD"], upper=False)}
        ).drop_duplicates()
        for term, grp in pairs.groupby("term", sort=False):
            found = sorted(s for s in grp["scale"] if s)
            scale_by_term[str(term)] = " + ".join(found) if found else "not recorded"
    rows = []
    for r in inc.rows:
        label = r.term or "Any event"
        hi = r.subjects_grade_ge[0] if r.subjects_grade_ge else 0
        rows.append(
            Row(
                label,
                (
                    count_cell(r.subjects[0], n),
                    count_cell(hi, n),
                    Cell(scale_by_term.get(label, "")),
                ),
                1 if r.level == "term" else 0,
                label,
            )
        )
    return Table(
        key="ae_incidence",
        title="Adverse events of special interest by term",
        columns=("Term", "Any grade, n (%)", "Grade ≥3, n (%)", "Grading scale"),
        rows=tuple(rows),
        method=inc.method + "; " + inc.denominator + "; " + inc.filter,
        population=set_label(adsl, "SAFFL"),
        n=n,
    )
