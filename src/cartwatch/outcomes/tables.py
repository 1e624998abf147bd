"""Analysis-ready report tables computed from ADaM DataFrames (ADSL, ADRS, ADTTE, ADAE).

Each table is data (:class:`Table`: title, columns, rows of :class:`Cell`, footnotes, the
method, the population and its N), so the HTML, PDF, text and JSON renderings print the same
numbers, and every number a cell shows is also held in that cell's ``values`` (the JSON).

Conventions, chosen to report the way TRANSCEND CLL 004 and the US label did
(clinical-standards.md §3):

* Analysis sets from ADSL flags (``"Y"`` = in): enrolled ``ENRLFL``, safety ``SAFFL``
  (infused), efficacy-evaluable ``EFFFL``, PEAS ``PEASFL`` (§3.2 [S16]) and the US label
  efficacy population ``LABELFL`` (n = 65 in the label, §3.3 [S19][S26]). The *primary*
  efficacy population of the report is the label population when it is non-empty (the
  figures a centre compares with are the label's), else the efficacy-evaluable set, else the
  safety set; the report names it with its N everywhere.
* Response rates are k/N of the whole population with exact Clopper–Pearson 95% CIs
  (:func:`cartwatch.outcomes.rates.clopper_pearson`); a subject without a best overall
  response record counts as NE (not evaluable) in the denominator, as in the trial.
  ORR = CR + CRi + PR (iwCLL 2018, [S41]) + PR-L (contract v2 item 4; a footnote says so);
  CR/CRi is the trial's primary endpoint.
* uMRD: undetectable at 10⁻⁴ (uMRD4 or deeper), blood and marrow separately; rates are
  given over the whole population (Lancet PEAS style: 31/49) and over MRD-evaluable
  patients (a sample with a result), each with a Clopper–Pearson CI.
* Time-to-event: Kaplan–Meier with Greenwood variance and R ``survfit`` quantile rules
  (:mod:`cartwatch.outcomes.survival`); times in months = days / 30.4375 (365.25 / 12), so
  12/18/24-month landmarks are at 365.25/547.875/730.5 days.
* Safety in the safety set: per subject the maximum grade over all episodes of the category;
  onset (days after infusion, day 0 = infusion, as the trial reports) and duration of the
  first episode as median (IQR, R quantile type 7); the grading scale comes from
  ``ADAE.TOXGRSTD`` and is printed with each table, because the trial graded neurological
  events with another scale than ASTCT ICANS (clinical-standards.md §0 item 3).
* Percentages to 1 decimal, CIs as ``11.1–31.8``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartwatch.clinical.bor import RESPONDERS, RESPONSE_ORDER
from cartwatch.outcomes.adverse_events import ae_incidence_by_term
from cartwatch.outcomes.km_quantiles import STATUS_FOOTNOTE, display
from cartwatch.outcomes.rates import clopper_pearson
from cartwatch.outcomes.survival import (
    KaplanMeier,
    kaplan_meier,
    km_median_ci,
    logrank_test,
    median_iqr,
    survival_at,
)

CP_METHOD = "Clopper–Pearson exact 95% CI"
DAYS_PER_MONTH = 365.25 / 12
LANDMARK_MONTHS = (12, 18, 24)
#: Response values, best first, and those the overall response rate counts: CR, CRi, PR and
#: PR-L (partial response with lymphocytosis, contract v2 item 4), from clinical.bor.
RESPONSES: tuple[str, ...] = tuple(str(r) for r in RESPONSE_ORDER)
RESPONDER: tuple[str, ...] = tuple(str(r) for r in RESPONSE_ORDER if r in RESPONDERS)
#: Footnote of every table that counts responses (contract v2 item 4).
PR_L_FOOTNOTE = (
    "PR-L (partial response with lymphocytosis during BTK/PI3K inhibitor therapy, iwCLL 2018) "
    "counts as a response in the overall response rate."
)
#: Best-response groups for KM curves; CR and CRi pooled as the trial's primary endpoint,
#: PR-L with PR (both partial responses).
BOR_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("CR/CRi", ("CR", "CRi")),
    ("PR/PR-L", ("PR", "PR-L")),
    ("SD", ("SD",)),
    ("PD", ("PD",)),
    ("NE", ("NE",)),
)


def km_method(conf_type: str) -> str:
    return (
        f"Kaplan–Meier, Greenwood variance, {conf_type} CI (R survfit conventions; median and "
        "its CI as R print(survfit) shows them, the CI by Brookmeyer–Crowley band crossing)"
    )


#: Analysis sets: (ADSL flag, name, definition).
ANALYSIS_SETS: tuple[tuple[str, str, str], ...] = (
    ("ENRLFL", "Enrolled", "leukapheresed"),
    ("SAFFL", "Safety set", "received liso-cel (infused)"),
    ("EFFFL", "Efficacy-evaluable set", "infused with measurable disease at baseline"),
    (
        "PEASFL",
        "PEAS",
        "TRANSCEND primary efficacy analysis set: BTKi progression and "
        "venetoclax failure, dose level 2 (§3.2)",
    ),
    ("LABELFL", "US label population", "label efficacy population (§3.3)"),
)
SET_NAMES = {flag: name for flag, name, _ in ANALYSIS_SETS}


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class Cell:
    """A table cell: the text shown and the numbers behind it (all of them go to the JSON)."""

    text: str
    values: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, **self.values}


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]
    indent: int = 0
    key: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key or self.label,
            "label": self.label,
            "indent": self.indent,
            "cells": [c.to_dict() for c in self.cells],
        }


@dataclass(frozen=True)
class Table:
    """One report table with its method, population and N stated."""

    key: str
    title: str
    columns: tuple[str, ...]  # the first names the row-label column
    rows: tuple[Row, ...]
    method: str
    population: str
    n: int
    footnotes: tuple[str, ...] = ()
    #: Optional spanning header over the value columns: (label, number of columns) pairs.
    header_groups: tuple[tuple[str, int], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "population": self.population,
            "N": self.n,
            "method": self.method,
            "header_groups": [{"label": g, "span": n} for g, n in self.header_groups],
            "columns": list(self.columns),
            "rows": [r.to_dict() for r in self.rows],
            "footnotes": list(self.footnotes),
        }

    def row(self, key: str) -> Row:
        for r in self.rows:
            if (r.key or r.label) == key:
                return r
        raise KeyError(f"{self.key}: no row {key!r}")


@dataclass(frozen=True)
class AdamData:
    """The ADaM datasets a report uses; ADSL is required, the others may be absent."""

    adsl: pd.DataFrame
    adrs: pd.DataFrame | None = None
    adtte: pd.DataFrame | None = None
    adae: pd.DataFrame | None = None


# --------------------------------------------------------------------------- formatting


def pct1(x: float) -> float:
    """Percent rounded to 1 decimal, half away from zero (as printed in trial tables)."""
    return math.floor(x * 10 + 0.5) / 10 if x >= 0 else -pct1(-x)


def fmt_pct(x: float) -> str:
    return f"{pct1(x):.1f}"


def fmt_ci(lo: float | None, hi: float | None, scale: float = 100.0, missing: str = "NA") -> str:
    """``11.1–31.8``; a missing limit prints as *missing*: NA (a survival-rate limit R leaves
    undefined, e.g. log-log at S = 1). Median limits print NR / NE (km_quantiles.display)."""

    def one(v: float | None) -> str:
        return missing if v is None else fmt_pct(v * scale)

    return f"{one(lo)}–{one(hi)}"


def fmt_num(x: float | None, digits: int = 1) -> str:
    """Whole numbers without decimals (onset day 4), others to *digits* decimals."""
    if x is None:
        return "NR"
    if float(x).is_integer():
        return str(int(x))
    if digits == 1:  # same half-away-from-zero rounding as the percentages
        return f"{pct1(float(x)):.1f}"
    return f"{x:.{digits}f}"


def count_cell(k: int, n: int) -> Cell:
    """``13 (20.0%)``."""
    p = pct1(100.0 * k / n) if n else None
    text = f"{k} ({p:.1f}%)" if p is not None else f"{k}"
    return Cell(text, {"k": k, "n": n, "percent": p})


def known_cell(k: int, known: int, n: int) -> Cell:
    """``23 (35.4%)``, or ``23/60 (38.3%)`` when some subjects' status is unknown."""
    p = pct1(100.0 * k / known) if known else None
    shown = f"{k}" if known == n else f"{k}/{known}"
    text = f"{shown} ({p:.1f}%)" if p is not None else "—"
    return Cell(text, {"k": k, "n_known": known, "n": n, "unknown": n - known, "percent": p})


def rate_cells(k: int, n: int) -> tuple[Cell, Cell]:
    """``k (pct%)`` and the Clopper–Pearson CI as two cells (k/N with exact 95% CI)."""
    if n == 0:
        return Cell("—", {"k": 0, "n": 0}), Cell("—")
    est = clopper_pearson(k, n)
    values: dict[str, object] = {
        "k": k,
        "n": n,
        "percent": pct1(100.0 * est.rate),
        "ci_percent": [pct1(100.0 * est.ci[0]), pct1(100.0 * est.ci[1])],
        "rate": est.rate,
        "ci": [est.ci[0], est.ci[1]],
        "method": est.method,
    }
    return (
        Cell(f"{k} ({fmt_pct(100.0 * est.rate)}%)", values),
        Cell(fmt_ci(*est.ci), {"ci_percent": values["ci_percent"]}),
    )


# --------------------------------------------------------------------------- helpers


def codes(values: pd.Series, *, upper: bool = True) -> pd.Series:
    """``values.astype(str).str.strip()`` (and ``.str.upper()``), computed once per distinct
    value: flag and code columns hold a handful of values, and the ``.str`` accessor on every
    row was a third of the table-building time."""
    found, uniques = pd.factorize(values, use_na_sentinel=False)
    text = [str(u).strip() for u in uniques]
    norm = np.array([t.upper() for t in text] if upper else text, dtype=object)
    return pd.Series(norm[found], index=values.index, dtype=object)


def flag(df: pd.DataFrame, name: str) -> pd.Series:
    """Boolean Series: ``df[name] == "Y"`` (a missing column is all False)."""
    if name not in df.columns:
        return pd.Series(False, index=df.index)
    return codes(df[name]) == "Y"


def population(adsl: pd.DataFrame, flag_name: str) -> pd.DataFrame:
    return adsl[flag(adsl, flag_name)]


def primary_efficacy_flag(adsl: pd.DataFrame) -> str:
    """The label population when present, else efficacy-evaluable, else the safety set."""
    for name in ("LABELFL", "EFFFL", "SAFFL"):
        if flag(adsl, name).any():
            return name
    return "SAFFL"


def set_label(adsl: pd.DataFrame, flag_name: str) -> str:
    return f"{SET_NAMES.get(flag_name, flag_name)} (N = {int(flag(adsl, flag_name).sum())})"


def _params(df: pd.DataFrame | None, paramcd: str) -> pd.DataFrame:
    if df is None or "PARAMCD" not in df.columns:
        return pd.DataFrame(columns=["USUBJID", "PARAMCD", "AVALC"])
    return df[codes(df["PARAMCD"], upper=False) == paramcd]


def _bor_by_subject(adrs: pd.DataFrame | None) -> pd.Series:
    """ADRS BOR record (AVALC) per USUBJID: the first, among ANL01FL = Y records if any."""
    bor = _params(adrs, "BOR")
    if "ANL01FL" in bor.columns:
        analysed = flag(bor, "ANL01FL")
        if analysed.any():
            bor = bor[analysed]
    return bor.drop_duplicates("USUBJID").set_index("USUBJID")["AVALC"].astype(str)


def best_response(
    adrs: pd.DataFrame | None, subjects: pd.Series, *, by_subject: pd.Series | None = None
) -> pd.Series:
    """BOR per subject (ADRS ``PARAMCD == "BOR"``); subjects without one are NE.

    *by_subject* (from ``_bor_by_subject(adrs)``) saves re-filtering ADRS when the same
    ADRS is looked up for several populations."""
    if by_subject is None:
        by_subject = _bor_by_subject(adrs)
    values = by_subject.reindex(subjects.to_numpy()).fillna("NE")
    # Tolerate case variants from other tools ("CRI", "cr"); anything else (blank) is NE.
    canon = {r.upper(): r for r in RESPONSES}
    return codes(values).map(canon).fillna("NE").astype(object)


def bor_group(bor: str) -> str:
    for label, members in BOR_GROUPS:
        if bor in members:
            return label
    return "NE"


# --------------------------------------------------------------------------- analysis sets


def analysis_sets_table(adsl: pd.DataFrame) -> Table:
    n_all = len(adsl)
    rows = []
    for flag_name, name, definition in ANALYSIS_SETS:
        if flag_name not in adsl.columns:
            continue
        k = int(flag(adsl, flag_name).sum())
        rows.append(
            Row(name, (Cell(flag_name), Cell(str(k), {"n": k}), Cell(definition)), key=flag_name)
        )
    return Table(
        key="analysis_sets",
        title="Analysis sets",
        columns=("Analysis set", "ADSL flag", "N", "Definition"),
        rows=tuple(rows),
        method="ADSL population flags (Y = in the set)",
        population="all subjects in ADSL",
        n=n_all,
    )


# --------------------------------------------------------------------------- baseline


def _median_range_cell(values: pd.Series) -> Cell:
    x = pd.to_numeric(values, errors="coerce").dropna()
    if x.empty:
        return Cell("—", {"n": 0})
    med, lo, hi = float(x.median()), float(x.min()), float(x.max())
    return Cell(
        f"{fmt_num(med)} ({fmt_num(lo)}–{fmt_num(hi)})",
        {"n": int(x.size), "median": med, "min": lo, "max": hi, "rounded": _rounded(med, lo, hi)},
    )


def _rounded(*values: float | None) -> list[float | None]:
    """The numbers as printed (1 decimal), so the JSON holds exactly what a cell shows."""
    return [None if v is None else pct1(float(v)) for v in values]


def _yn_cell(df: pd.DataFrame, name: str) -> Cell:
    if name not in df.columns:
        return Cell("—")
    v = codes(df[name])
    known = int(v.isin(["Y", "N"]).sum())
    return known_cell(int((v == "Y").sum()), known, len(df))


def _predicate_cell(df: pd.DataFrame, test: Callable[[pd.DataFrame], pd.Series]) -> Cell:
    return count_cell(int(test(df).sum()), len(df))


def _eq(df: pd.DataFrame, name: str, value: str) -> pd.Series:
    if name not in df.columns:
        return pd.Series(False, index=df.index)
    return codes(df[name]) == value.upper()


def _yn_maker(name: str) -> Callable[[pd.DataFrame], Cell]:
    return lambda p: _yn_cell(p, name)


def _num(df: pd.DataFrame, name: str) -> pd.Series:
    if name not in df.columns:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[name], errors="coerce")


_BASELINE_YN: tuple[tuple[str, str, int], ...] = (
    ("HIGHRISK", "Any high-risk feature", 0),
    ("DEL17P", "del(17p)", 1),
    ("TP53MUT", "TP53 mutated", 1),
    ("CKARYO", "Complex karyotype", 1),
    ("IGHVUNM", "IGHV unmutated", 1),
    ("BULKY", "Bulky disease", 0),
)
_BASELINE_PRIOR: tuple[tuple[str, str], ...] = (
    ("BTKIFL", "Prior BTK inhibitor"),
    ("BTKIPDFL", "Progression on a BTK inhibitor"),
    ("BCL2IFL", "Prior venetoclax"),
    ("BCL2FFL", "Venetoclax failure"),
)


def _baseline_rows(pops: Sequence[pd.DataFrame]) -> list[Row]:
    def row(
        label: str, make: Callable[[pd.DataFrame], Cell], indent: int = 0, key: str = ""
    ) -> Row:
        return Row(label, tuple(make(p) for p in pops), indent, key or label)

    rows = [
        row("Age, years, median (range)", lambda p: _median_range_cell(_num(p, "AGE")), key="age"),
        row(
            "Age ≥65 years",
            lambda p: _predicate_cell(p, lambda d: _num(d, "AGE") >= 65),
            key="age_ge_65",
        ),
        row("Male", lambda p: _predicate_cell(p, lambda d: _eq(d, "SEX", "M")), key="male"),
        row("SLL", lambda p: _predicate_cell(p, lambda d: _eq(d, "DIAGNOS", "SLL")), key="sll"),
        row(
            "ECOG performance status ≥1",
            lambda p: _predicate_cell(p, lambda d: _num(d, "ECOGBL") >= 1),
            key="ecog_ge_1",
        ),
    ]
    rows += [row(label, _yn_maker(name), indent, name) for name, label, indent in _BASELINE_YN]
    rows.append(
        row(
            "Prior lines of therapy, median (range)",
            lambda p: _median_range_cell(_num(p, "PRIORLN")),
            key="prior_lines",
        )
    )
    rows.append(
        row(
            "≥5 prior lines",
            lambda p: _predicate_cell(p, lambda d: _num(d, "PRIORLN") >= 5),
            key="prior_lines_ge_5",
        )
    )
    rows += [row(label, _yn_maker(name), 0, name) for name, label in _BASELINE_PRIOR]
    rows.append(
        row(
            "Prior BTK inhibitor and venetoclax",
            lambda p: _predicate_cell(p, lambda d: flag(d, "BTKIFL") & flag(d, "BCL2IFL")),
            key="btki_and_venetoclax",
        )
    )
    return rows


def baseline_table(adsl: pd.DataFrame, efficacy_flag: str) -> Table:
    """Demographics, high-risk features and prior therapy: safety set and efficacy population."""
    flags = ["SAFFL"] + ([efficacy_flag] if efficacy_flag != "SAFFL" else [])
    pops = [population(adsl, f) for f in flags]
    return Table(
        key="baseline",
        title="Baseline characteristics",
        columns=("Characteristic", *(set_label(adsl, f) for f in flags)),
        rows=tuple(_baseline_rows(pops)),
        method="n (%) of the analysis set; median (range)",
        population=", ".join(set_label(adsl, f) for f in flags),
        n=len(pops[0]),
        footnotes=(
            "High risk = del(17p), TP53 mutation, complex karyotype and/or unmutated IGHV "
            "(TRANSCEND CLL 004 definition, §6.1 [S59]).",
            "Where some patients' status is unknown the cell shows n/known and the percent of "
            "patients with a known status.",
        ),
    )


# --------------------------------------------------------------------------- efficacy


def efficacy_table(adsl: pd.DataFrame, adrs: pd.DataFrame | None, efficacy_flag: str) -> Table:
    """Best overall response (iwCLL 2018) with exact CIs, one column pair per efficacy set."""
    flags = [f for f in ("LABELFL", "PEASFL", "EFFFL") if flag(adsl, f).any()]
    if efficacy_flag not in flags:
        flags.insert(0, efficacy_flag)
    columns: list[str] = ["Best overall response"]
    groups: list[tuple[str, int]] = []
    per_pop: list[pd.Series] = []
    by_subject = _bor_by_subject(adrs)
    for f in flags:
        columns += ["n (%)", "95% CI"]
        groups.append((set_label(adsl, f), 2))
        per_pop.append(best_response(adrs, population(adsl, f)["USUBJID"], by_subject=by_subject))
    categories: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
        ("ORR", "Overall response (CR + CRi + PR + PR-L)", RESPONDER, 0),
        ("CR_CRI", "CR/CRi", ("CR", "CRi"), 0),
        ("CR", "CR", ("CR",), 1),
        ("CRI", "CRi", ("CRi",), 1),
        ("PR", "PR", ("PR",), 0),
        ("PR_L", "PR-L", ("PR-L",), 0),
        ("SD", "SD", ("SD",), 0),
        ("PD", "PD", ("PD",), 0),
        ("NE", "Not evaluable", ("NE",), 0),
    )
    rows = []
    for key, label, members, indent in categories:
        cells: list[Cell] = []
        for bor in per_pop:
            cells += rate_cells(int(bor.isin(members).sum()), len(bor))
        rows.append(Row(label, tuple(cells), indent, key))
    return Table(
        key="efficacy",
        title="Best overall response (iwCLL 2018)",
        columns=tuple(columns),
        header_groups=tuple(groups),
        rows=tuple(rows),
        method=f"k/N of the analysis set; {CP_METHOD}",
        population=set_label(adsl, efficacy_flag),
        n=int(flag(adsl, efficacy_flag).sum()),
        footnotes=(
            "Patients without a best overall response record are counted as not evaluable.",
            "The trial's primary endpoint was CR/CRi (PEAS); the US label reports CR "
            "(clinical-standards.md §3.3).",
            PR_L_FOOTNOTE,
        ),
    )


def _umrd_by_subject(adrs: pd.DataFrame | None, sample: str) -> tuple[set[str], set[str]]:
    """(subjects with uMRD4 or deeper, subjects with an evaluable MRD result) for a sample."""
    yn = _params(adrs, f"UMRD4{sample}")
    if not yn.empty:
        v = codes(yn["AVALC"])
        ids = yn["USUBJID"].astype(str)
        return set(ids[v == "Y"]), set(ids[v.isin(["Y", "N"])])
    status = _params(adrs, f"MRD{sample}")
    v = codes(status["AVALC"], upper=False)
    ids = status["USUBJID"].astype(str)
    undetectable = v.isin(["uMRD4", "uMRD5", "uMRD6"])
    return set(ids[undetectable]), set(ids[undetectable | (v == "detectable")])


def mrd_table(adsl: pd.DataFrame, adrs: pd.DataFrame | None, efficacy_flag: str) -> Table:
    pop = population(adsl, efficacy_flag)
    ids = pop["USUBJID"].astype(str)
    bor = best_response(adrs, pop["USUBJID"])
    in_cr = set(bor.index[bor.isin(["CR", "CRi"])].astype(str))
    rows = []
    for sample, label in (("PB", "Peripheral blood"), ("BM", "Bone marrow")):
        umrd, evaluable = _umrd_by_subject(adrs, sample)
        k_all = int(ids.isin(umrd).sum())
        n_eval = int(ids.isin(evaluable).sum())
        k_eval = int(ids.isin(umrd & evaluable).sum())
        k_cr = len(in_cr & umrd)
        cells = (
            *rate_cells(k_all, len(ids)),
            *rate_cells(k_eval, n_eval),
            *rate_cells(k_cr, len(in_cr)),
        )
        rows.append(Row(f"uMRD4 in {label.lower()}", cells, 0, f"UMRD4{sample}"))
    return Table(
        key="mrd",
        title="Undetectable minimal residual disease (<10⁻⁴)",
        columns=("Sample", "n (%)", "95% CI", "n (%)", "95% CI", "n (%)", "95% CI"),
        header_groups=(
            (f"All patients (N = {len(ids)})", 2),
            ("MRD-evaluable patients", 2),
            (f"Patients in CR/CRi (n = {len(in_cr)})", 2),
        ),
        rows=tuple(rows),
        method=f"uMRD4 = undetectable at ≤10⁻⁴ (iwCLL 2018); {CP_METHOD}",
        population=set_label(adsl, efficacy_flag),
        n=len(ids),
        footnotes=(
            "All patients: patients without an MRD result count as not uMRD (Lancet PEAS "
            "convention, 31/49); MRD-evaluable: patients with a blood/marrow result.",
        ),
    )


# --------------------------------------------------------------------------- time to event

TTE_PARAMS: tuple[tuple[str, str, str], ...] = (
    ("PFS", "Progression-free survival", "Months after infusion"),
    ("OS", "Overall survival", "Months after infusion"),
    ("DOR", "Duration of response", "Months from first response"),
)


@dataclass(frozen=True)
class TteData:
    """One ADTTE parameter in the efficacy population: months, events, best response."""

    paramcd: str
    label: str
    xlabel: str
    months: np.ndarray
    event: np.ndarray
    bor: np.ndarray


def tte_data(
    adsl: pd.DataFrame,
    adrs: pd.DataFrame | None,
    adtte: pd.DataFrame | None,
    efficacy_flag: str,
) -> list[TteData]:
    """ADTTE PFS, OS and DOR restricted to the efficacy population (TTCRS/TTNT, times to
    CRS/neurotoxicity onset, are safety parameters and stay out of this table)."""
    if adtte is None or adtte.empty:
        return []
    ids = population(adsl, efficacy_flag)["USUBJID"]
    bor = best_response(adrs, ids)
    # Plain dicts: a pandas lookup per ADTTE row cost more than the rest of this function.
    by_subject = bor.to_dict()
    group = {member: label for label, members in BOR_GROUPS for member in members}
    out = []
    for paramcd, label, xlabel in TTE_PARAMS:
        p = _params(adtte, paramcd)
        p = p[p["USUBJID"].isin(set(ids))]
        p = p[pd.to_numeric(p["AVAL"], errors="coerce").notna()]
        if p.empty:
            continue
        subj = p["USUBJID"].to_numpy()
        out.append(
            TteData(
                paramcd,
                label,
                xlabel,
                pd.to_numeric(p["AVAL"]).to_numpy(dtype=np.float64) / DAYS_PER_MONTH,
                (pd.to_numeric(p["CNSR"]).to_numpy() == 0),
                np.array([group.get(by_subject.get(s, "NE"), "NE") for s in subj], dtype=object),
            )
        )
    return out


def _tte_cells(km: KaplanMeier) -> tuple[Cell, ...]:
    med = km_median_ci(km)
    cells = [
        Cell(str(km.n), {"n": km.n}),
        Cell(str(km.events), {"events": km.events}),
        Cell(
            # A value not given prints NR (never falls to 0.5) or NE (the curve reached 0,
            # where the band is undefined, e.g. every patient of a PD group progressed).
            f"{display(med.estimate, med.estimate_status, fmt_num)} "
            f"({display(med.lower, med.lower_status, fmt_pct)}–"
            f"{display(med.upper, med.upper_status, fmt_pct)})",
            {
                "median_months": med.estimate,
                "ci_months": [med.lower, med.upper],
                "median_status": med.estimate_status,
                "ci_status": [med.lower_status, med.upper_status],
                "median_display": None if med.estimate is None else round(med.estimate, 1),
                "ci_display": [None if v is None else pct1(v) for v in (med.lower, med.upper)],
            },
        ),
    ]
    for m in LANDMARK_MONTHS:
        lm = survival_at(km, float(m))
        if float(km.time[-1]) < m:
            cells.append(Cell("NE", {"months": m, "surv": None, "note": "follow-up too short"}))
            continue
        cells.append(
            Cell(
                f"{fmt_pct(100 * lm.surv)}% ({fmt_ci(lm.lower, lm.upper, missing='NA')})",
                {
                    "months": m,
                    "surv": lm.surv,
                    "ci": [lm.lower, lm.upper],
                    "percent": pct1(100 * lm.surv),
                    "ci_percent": [
                        None if v is None else pct1(100 * v) for v in (lm.lower, lm.upper)
                    ],
                    "n_risk": lm.n_risk,
                },
            )
        )
    return tuple(cells)


_TTE_COLUMNS = (
    "N",
    "Events",
    "Median, months (95% CI)",
    *(f"{m}-month rate (95% CI)" for m in LANDMARK_MONTHS),
)


def groups_by_response(d: TteData) -> dict[str, np.ndarray]:
    """Masks per best-response group present, in CR/CRi, PR, SD, PD, NE order."""
    out = {}
    for label, _ in BOR_GROUPS:
        mask = d.bor == label
        if mask.any():
            out[label] = mask
    return out


@dataclass(frozen=True)
class KmFits:
    """The KM fits of one endpoint: all patients and each best-response group present."""

    overall: KaplanMeier
    groups: Mapping[str, KaplanMeier]


def km_fits(d: TteData, conf_type: str) -> KmFits:
    """Fit once per endpoint and group; the table and the figure share the fits."""
    return KmFits(
        kaplan_meier(d.months, d.event, conf_type),
        {
            label: kaplan_meier(d.months[mask], d.event[mask], conf_type)
            for label, mask in groups_by_response(d).items()
        },
    )


def tte_table(
    data: Sequence[TteData],
    adsl: pd.DataFrame,
    efficacy_flag: str,
    conf_type: str,
    fits: Mapping[str, KmFits] | None = None,
) -> Table:
    """KM rows per endpoint and best-response group; *fits* (by PARAMCD, from
    :func:`km_fits` with the same *conf_type*) are reused instead of refitted."""
    rows = []
    for d in data:
        fit = fits[d.paramcd] if fits is not None and d.paramcd in fits else km_fits(d, conf_type)
        rows.append(Row(d.label, _tte_cells(fit.overall), 0, d.paramcd))
        for label, sub in fit.groups.items():
            rows.append(Row(f"Best response {label}", _tte_cells(sub), 1, f"{d.paramcd}:{label}"))
    return Table(
        key="time_to_event",
        title="Duration of response, progression-free and overall survival",
        columns=("Endpoint", *_TTE_COLUMNS),
        rows=tuple(rows),
        method=km_method(conf_type) + "; months = days / 30.4375",
        population=set_label(adsl, efficacy_flag),
        n=int(flag(adsl, efficacy_flag).sum()),
        footnotes=(
            STATUS_FOOTNOTE,
            "DOR is measured in responders from the first response.",
            "Rows by best response are descriptive: best response is only known after "
            "follow-up (guarantee-time bias), so they are not a comparison of treatments.",
            PR_L_FOOTNOTE + " DOR starts at the first response, PR-L included; PR/PR-L is "
            "one best-response group.",
        ),
    )


def logrank_by_response(d: TteData) -> dict[str, object] | None:
    groups = groups_by_response(d)
    if len(groups) < 2:
        return None
    lr = logrank_test(d.months, d.event, d.bor.astype(str))
    # No events in any group: the test is undefined (df 0, p NaN); say nothing rather than NaN.
    return lr.to_dict() if lr.df >= 1 and math.isfinite(lr.p) else None


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
            "rounded": _rounded(m.median, m.q1, m.q3),
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


# --------------------------------------------------------------------------- subgroups


#: (label, ADSL test) for the ORR subgroups; tests return True/False/NaN (unknown).
def _yn_groups(name: str, label: str) -> list[tuple[str, Callable[[pd.DataFrame], pd.Series]]]:
    def test(value: str) -> Callable[[pd.DataFrame], pd.Series]:
        return lambda d: codes(d[name]) == value if name in d else pd.Series(False, index=d.index)

    return [(f"{label}: yes", test("Y")), (f"{label}: no", test("N"))]


SUBGROUPS: tuple[tuple[str, Callable[[pd.DataFrame], pd.Series]], ...] = (
    ("All patients", lambda d: pd.Series(True, index=d.index)),
    ("Age <65 years", lambda d: _num(d, "AGE") < 65),
    ("Age ≥65 years", lambda d: _num(d, "AGE") >= 65),
    *_yn_groups("HIGHRISK", "Any high-risk feature"),
    *_yn_groups("DEL17P", "del(17p)"),
    *_yn_groups("TP53MUT", "TP53 mutated"),
    *_yn_groups("CKARYO", "Complex karyotype"),
    *_yn_groups("IGHVUNM", "IGHV unmutated"),
    *_yn_groups("BULKY", "Bulky disease"),
    ("<5 prior lines", lambda d: _num(d, "PRIORLN") < 5),
    ("≥5 prior lines", lambda d: _num(d, "PRIORLN") >= 5),
)


def subgroup_table(adsl: pd.DataFrame, adrs: pd.DataFrame | None, efficacy_flag: str) -> Table:
    pop = population(adsl, efficacy_flag)
    bor = best_response(adrs, pop["USUBJID"])
    responder = bor.isin(RESPONDER).to_numpy()
    rows = []
    for label, test in SUBGROUPS:
        mask = test(pop).fillna(False).to_numpy(dtype=bool)
        if not mask.any():
            continue
        rows.append(Row(label, rate_cells(int(responder[mask].sum()), int(mask.sum())), 0, label))
    return Table(
        key="subgroups",
        title="Overall response rate by subgroup",
        columns=("Subgroup", "Responders, n (%)", "95% CI"),
        rows=tuple(rows),
        method=f"ORR (CR + CRi + PR + PR-L) k/n within the subgroup; {CP_METHOD}",
        population=set_label(adsl, efficacy_flag),
        n=len(pop),
        footnotes=(
            "Descriptive; no multiplicity adjustment. Patients with unknown status are in "
            "neither the yes nor the no subgroup.",
            PR_L_FOOTNOTE,
        ),
    )
