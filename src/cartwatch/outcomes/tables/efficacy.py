"""Baseline characteristics, response and uMRD rates with exact CIs, and ORR by subgroup."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from cartwatch.outcomes.tables.core import (
    CP_METHOD,
    PR_L_FOOTNOTE,
    RESPONDER,
    Cell,
    Row,
    Table,
    _bor_by_subject,
    best_response,
    codes,
    count_cell,
    flag,
    fmt_num,
    known_cell,
    parameter_rows,
    population,
    rate_cells,
    rounded,
    set_label,
)

# --------------------------------------------------------------------------- baseline


def _median_range_cell(values: pd.Series) -> Cell:
    x = pd.to_numeric(values, errors="coerce").dropna()
    if x.empty:
        return Cell("—", {"n": 0})
    med, lo, hi = float(x.median()), float(x.min()), float(x.max())
    return Cell(
        f"{fmt_num(med)} ({fmt_num(lo)}–{fmt_num(hi)})",
        {"n": int(x.size), "median": med, "min": lo, "max": hi, "rounded": rounded(med, lo, hi)},
    )


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


def umrd_by_subject(adrs: pd.DataFrame | None, sample: str) -> tuple[set[str], set[str]]:
    """(subjects with uMRD4 or deeper, subjects with an evaluable MRD result) for a sample."""
    yn = parameter_rows(adrs, f"UMRD4{sample}")
    if not yn.empty:
        v = codes(yn["AVALC"])
        ids = yn["USUBJID"].astype(str)
        return set(ids[v == "Y"]), set(ids[v.isin(["Y", "N"])])
    status = parameter_rows(adrs, f"MRD{sample}")
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
        umrd, evaluable = umrd_by_subject(adrs, sample)
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
