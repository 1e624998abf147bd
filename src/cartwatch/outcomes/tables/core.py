"""The table model (:class:`Table` of :class:`Cell` rows), the ADaM inputs, the number
formats, the analysis sets and best response: what every report table is built from
(conventions: the package docstring).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartwatch.clinical.bor import RESPONDERS, RESPONSE_ORDER
from cartwatch.outcomes.rates import clopper_pearson

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


def rounded(*values: float | None) -> list[float | None]:
    """The numbers as printed (1 decimal), so the JSON holds exactly what a cell shows."""
    return [None if v is None else pct1(float(v)) for v in values]


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


def parameter_rows(df: pd.DataFrame | None, paramcd: str) -> pd.DataFrame:
    if df is None or "PARAMCD" not in df.columns:
        return pd.DataFrame(columns=["USUBJID", "PARAMCD", "AVALC"])
    return df[codes(df["PARAMCD"], upper=False) == paramcd]


def _bor_by_subject(adrs: pd.DataFrame | None) -> pd.Series:
    """ADRS BOR record (AVALC) per USUBJID: the first, among ANL01FL = Y records if any."""
    bor = parameter_rows(adrs, "BOR")
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
