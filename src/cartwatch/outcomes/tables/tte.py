"""Time-to-event tables: Kaplan–Meier medians, landmark rates and log-rank by best response."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartwatch.outcomes.km_quantiles import STATUS_FOOTNOTE, display
from cartwatch.outcomes.logrank import logrank_test
from cartwatch.outcomes.survival import KaplanMeier, kaplan_meier, km_median_ci, survival_at
from cartwatch.outcomes.tables.core import (
    BOR_GROUPS,
    DAYS_PER_MONTH,
    LANDMARK_MONTHS,
    PR_L_FOOTNOTE,
    Cell,
    Row,
    Table,
    best_response,
    flag,
    fmt_ci,
    fmt_num,
    fmt_pct,
    km_method,
    parameter_rows,
    pct1,
    population,
    set_label,
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
        p = parameter_rows(adtte, paramcd)
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


def tte_cells(km: KaplanMeier) -> tuple[Cell, ...]:
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


TTE_COLUMNS = (
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
        rows.append(Row(d.label, tte_cells(fit.overall), 0, d.paramcd))
        for label, sub in fit.groups.items():
            rows.append(Row(f"Best response {label}", tte_cells(sub), 1, f"{d.paramcd}:{label}"))
    return Table(
        key="time_to_event",
        title="Duration of response, progression-free and overall survival",
        columns=("Endpoint", *TTE_COLUMNS),
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
