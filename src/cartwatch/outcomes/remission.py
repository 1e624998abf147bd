"""Long-term remission and high-risk disease: the report's PFS-plateau and subgroup-KM tables.

Long-term remission (the TRANSCEND CLL 004 question, research-contract.md "fit cure"): do
patients in CR/CRi, and those with uMRD4 in blood, reach a PFS plateau? For each best-response
group the table gives the KM plateau (PFS at the last event), a Weibull mixture cure fit
(:mod:`cartwatch.research.cure`: cure fraction with a logit-scale 95% CI, AIC against no
cure) and the sufficient-follow-up check; the figure draws the fitted cure curve over each
group's KM.

High-risk disease: PFS by del(17p), TP53 mutation, complex karyotype, unmutated IGHV and
any high-risk feature (yes/no), KM medians and landmark rates with the R ``survfit``
conventions of :mod:`cartwatch.outcomes.tables`, plus a KM figure for del(17p) and/or TP53
aberration. The ORR by the same subgroups, with exact CIs, is ``tables.subgroup_table``.
Best response is a post-baseline variable: every comparison here is descriptive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cartwatch.outcomes import tables as tb
from cartwatch.outcomes.survival import kaplan_meier
from cartwatch.research.cure import CureFit, fit_cure

__all__ = [
    "MIN_EVENTS_FOR_CURE",
    "PfsBySubject",
    "del17p_or_tp53",
    "high_risk_groups",
    "high_risk_pfs_table",
    "pfs_by_subject",
    "remission_fits",
    "remission_groups",
    "remission_table",
]

#: A mixture cure fit needs events to shape its latency: fewer and it is not attempted.
MIN_EVENTS_FOR_CURE = 5
CURE_METHOD = (
    "Weibull mixture cure model by maximum likelihood; cure fraction with a 95% Wald CI on "
    "the logit scale; AIC against the Weibull model without cure"
)
#: The high-risk markers of ADSL (centre patients.csv del17p, tp53_mutated,
#: complex_karyotype, ighv_unmutated; ADSL flags as in tables.SUBGROUPS).
HIGH_RISK_MARKERS: tuple[tuple[str, str], ...] = (
    ("HIGHRISK", "Any high-risk feature"),
    ("DEL17P", "del(17p)"),
    ("TP53MUT", "TP53 mutated"),
    ("CKARYO", "Complex karyotype"),
    ("IGHVUNM", "IGHV unmutated"),
)


@dataclass(frozen=True)
class PfsBySubject:
    """ADTTE PFS in the efficacy population, one entry per subject (months, event)."""

    subjects: np.ndarray
    months: np.ndarray
    event: np.ndarray
    bor: np.ndarray  # best-response group (tables.BOR_GROUPS labels)
    population: pd.DataFrame  # the ADSL rows, indexed by USUBJID


def pfs_by_subject(data: tb.AdamData, efficacy_flag: str) -> PfsBySubject | None:
    """PFS per subject of the efficacy population, or None without ADTTE PFS."""
    adtte = data.adtte
    if adtte is None or adtte.empty or "PARAMCD" not in adtte.columns:
        return None
    pop = tb.population(data.adsl, efficacy_flag)
    ids = pop["USUBJID"].astype(str)
    pfs = adtte[tb.codes(adtte["PARAMCD"], upper=False) == "PFS"]
    pfs = pfs[pfs["USUBJID"].astype(str).isin(set(ids))]
    aval = pd.to_numeric(pfs["AVAL"], errors="coerce")
    pfs = pfs[aval.notna() & (aval > 0)].drop_duplicates("USUBJID")
    if pfs.empty:
        return None
    subjects = pfs["USUBJID"].astype(str).to_numpy()
    bor = tb.best_response(data.adrs, pop["USUBJID"])
    bor.index = bor.index.astype(str)
    return PfsBySubject(
        subjects=subjects,
        months=pd.to_numeric(pfs["AVAL"]).to_numpy(dtype=np.float64) / tb.DAYS_PER_MONTH,
        event=pd.to_numeric(pfs["CNSR"]).to_numpy() == 0,
        bor=np.array([tb.bor_group(bor.get(s, "NE")) for s in subjects], dtype=object),
        population=pop.assign(USUBJID=ids).set_index("USUBJID"),
    )


def remission_groups(pfs: PfsBySubject, adrs: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """Masks: all patients, CR/CRi, CR/CRi with uMRD4 in blood, PR (PR-L), no response."""
    umrd, _ = tb.umrd_by_subject(adrs, "PB")
    cr_label, pr_label = tb.bor_group("CR"), tb.bor_group("PR")  # the report's group names
    cr = pfs.bor == cr_label
    groups = {
        "All patients": np.ones(pfs.subjects.size, dtype=bool),
        cr_label: cr,
        f"{cr_label} with uMRD4 in blood": cr & np.isin(pfs.subjects, list(umrd)),
        pr_label: pfs.bor == pr_label,
        "SD, PD or not evaluable": ~np.isin(pfs.bor, [cr_label, pr_label]),
    }
    return {label: mask for label, mask in groups.items() if mask.any()}


def remission_fits(pfs: PfsBySubject, groups: dict[str, np.ndarray]) -> dict[str, CureFit | None]:
    """The cure fit per group (None when the group has < MIN_EVENTS_FOR_CURE events)."""
    out: dict[str, CureFit | None] = {}
    for label, mask in groups.items():
        if int(pfs.event[mask].sum()) < MIN_EVENTS_FOR_CURE:
            out[label] = None
            continue
        out[label] = fit_cure(pfs.months[mask], pfs.event[mask], "weibull", group=label)
    return out


def _cure_cells(fit: CureFit | None, events: int) -> tuple[tb.Cell, ...]:
    """Cure fraction (95% CI), AIC pair and follow-up verdict; every number shown is also
    in the cell's values, rounded as shown."""
    if fit is None:
        why = f"not fitted: {events} events (< {MIN_EVENTS_FOR_CURE})"
        return (tb.Cell("NE", {"note": why}), tb.Cell("—"), tb.Cell(why))
    lo, hi = fit.ci
    shown_ci = [None if v is None else tb.pct1(100 * v) for v in (lo, hi)]
    ci = "NE" if lo is None or hi is None else f"{shown_ci[0]:.1f}–{shown_ci[1]:.1f}"
    warning = next((n for n in fit.notes if n.startswith("warning")), None)
    follow = "insufficient follow-up" if warning else "plateau supported"
    aics = (round(fit.aic, 1), round(fit.aic_no_cure, 1))
    return (
        tb.Cell(
            f"{tb.pct1(100 * fit.cure_fraction):.1f}% ({ci})",
            {**fit.to_dict(), "percent": tb.pct1(100 * fit.cure_fraction), "ci_percent": shown_ci},
        ),
        tb.Cell(
            f"{aics[0]:.1f} / {aics[1]:.1f}",
            {"aic": fit.aic, "aic_no_cure": fit.aic_no_cure, "aic_display": list(aics)},
        ),
        tb.Cell(follow, {"note": warning or "follow-up after the last event is sufficient"}),
    )


def remission_table(
    pfs: PfsBySubject,
    groups: dict[str, np.ndarray],
    fits: dict[str, CureFit | None],
    population_label: str,
) -> tb.Table:
    rows = []
    for label, mask in groups.items():
        km = kaplan_meier(pfs.months[mask], pfs.event[mask])
        events = int(pfs.event[mask].sum())
        last = float(pfs.months[mask][pfs.event[mask]].max()) if events else None
        plateau = float(km.surv[np.searchsorted(km.time, last)]) if last is not None else 1.0
        shown_last = None if last is None else round(last, 1)
        cells = (
            tb.Cell(str(km.n), {"n": km.n}),
            tb.Cell(str(events), {"events": events}),
            tb.Cell(
                f"{tb.pct1(100 * plateau):.1f}%"
                + (f" (from {shown_last:.1f} mo)" if shown_last is not None else ""),
                {
                    "km_plateau": plateau,
                    "percent": tb.pct1(100 * plateau),
                    "last_event_months": last,
                    "last_event_display": shown_last,
                },
            ),
            *_cure_cells(fits.get(label), events),
        )
        rows.append(tb.Row(label, cells, 0 if label == "All patients" else 1, label))
    return tb.Table(
        key="remission",
        title="Long-term remission: PFS plateau and cure fraction by best response",
        columns=(
            "Group",
            "N",
            "Events",
            "KM plateau",
            "Cure fraction (95% CI)",
            "AIC cure / no cure",
            "Follow-up",
        ),
        rows=tuple(rows),
        method=f"Kaplan–Meier PFS; {CURE_METHOD}",
        population=population_label,
        n=int(pfs.subjects.size),
        footnotes=(
            "KM plateau: the KM estimate at the last PFS event of the group. A lower AIC for "
            "the cure model favours a plateau. Follow-up is sufficient when the plateau lasts "
            "≥0.5 × the time to the last event with ≥5 patients beyond it (Maller & Zhou "
            "1996). Best response is post-baseline: descriptive only.",
        ),
    )


def high_risk_groups(pfs: PfsBySubject) -> list[tuple[str, str, np.ndarray]]:
    """(marker label, yes/no, mask) for each ADSL high-risk flag present with both values."""
    out = []
    for flag_name, label in HIGH_RISK_MARKERS:
        if flag_name not in pfs.population.columns:
            continue
        values = tb.codes(pfs.population[flag_name]).reindex(pfs.subjects).to_numpy()
        for code, word in (("Y", "yes"), ("N", "no")):
            mask = values == code
            if mask.any():
                out.append((label, word, mask))
    return out


def high_risk_pfs_table(
    pfs: PfsBySubject, groups: Sequence[tuple[str, str, np.ndarray]], population_label: str
) -> tb.Table:
    rows = []
    for label, word, mask in groups:
        km = kaplan_meier(pfs.months[mask], pfs.event[mask])
        rows.append(tb.Row(f"{label}: {word}", tb.tte_cells(km), 1, f"{label}:{word}"))
    return tb.Table(
        key="high_risk_pfs",
        title="Progression-free survival by high-risk subgroup",
        columns=("Subgroup", *tb.TTE_COLUMNS),
        rows=tuple(rows),
        method=tb.km_method("log-log"),
        population=population_label,
        n=int(pfs.subjects.size),
        footnotes=(
            "Descriptive; no multiplicity adjustment. Patients with unknown marker status are "
            "in neither the yes nor the no row.",
        ),
    )


def del17p_or_tp53(pfs: PfsBySubject) -> dict[str, np.ndarray] | None:
    """Masks for 'del(17p) and/or TP53 mutated' yes/no (unknown on both: neither)."""
    cols = [c for c in ("DEL17P", "TP53MUT") if c in pfs.population.columns]
    if not cols:
        return None
    values = [tb.codes(pfs.population[c]).reindex(pfs.subjects).to_numpy() for c in cols]
    yes = np.logical_or.reduce([v == "Y" for v in values])
    no = np.logical_and.reduce([v == "N" for v in values])
    groups = {"del(17p)/TP53 aberration": yes, "neither": no}
    return {k: v for k, v in groups.items() if v.any()} or None
