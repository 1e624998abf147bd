"""The report's figures: Kaplan–Meier curves with numbers at risk, the subgroup forest, the
swimmer plot and toxicity by day, each drawn once as inline PNG with the data it plots
(:class:`ReportFigure`; the JSON rendering holds the data).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cartwatch.outcomes import tables as tb
from cartwatch.outcomes.survival import km_median_ci, numbers_at_risk

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib (via cartwatch.outcomes.plots) is imported where the figures are drawn, so
# callers that only read or render a report (web dashboard JSON, CLI --help) do not load it.


#: 120 dpi: a 7.5-in figure printed 6.7 in wide is ~134 ppi, sharp on paper and screen, and
#: rasterising + PNG-encoding costs ~35% less than 150 dpi (the figures dominate build time).
FIGURE_DPI = 120


@dataclass(frozen=True)
class ReportFigure:
    """A figure as inline PNG (base64) with the data it plots (for the JSON)."""

    key: str
    title: str
    caption: str
    png_base64: str
    data: Mapping[str, object]

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "title": self.title, "caption": self.caption, **self.data}


# --------------------------------------------------------------------------- figures


#: zlib level 3 instead of PIL's 6: about 40% less encoding time and, for these flat-colour
#: figures, files no larger.
_PNG_OPTIONS = {"compress_level": 3}


def encode_png(fig: Figure, dpi: int) -> str:
    import matplotlib as mpl

    buf = io.BytesIO()
    # Rasterising text is most of a figure's cost (FreeType shapes and renders each glyph);
    # unhinted glyphs take ~30% less time and at 120 dpi read as well as hinted ones.
    # rc_context is process-global while it lasts; a concurrent draw elsewhere would only
    # see unhinted text, never a wrong number.
    with mpl.rc_context({"text.hinting": "no_hinting"}):
        fig.savefig(buf, format="png", dpi=dpi, pil_kwargs=_PNG_OPTIONS)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def risk_ticks(tmax: float) -> list[float]:
    """Ticks every 3 months up to 24, every 6 up to 48, else every 12 (≤9 columns)."""
    step = 3.0 if tmax <= 24 else 6.0 if tmax <= 48 else 12.0
    return [step * i for i in range(math.floor(tmax / step) + 1)]


def km_figure(
    d: tb.TteData, fits: tb.KmFits, pop_label: str, conf_type: str, dpi: int
) -> ReportFigure:
    from cartwatch.outcomes.plots import km_plot

    curves = fits.groups
    ticks = risk_ticks(float(np.max(d.months)))
    fig = km_plot(
        curves,
        title=f"{d.label} by best overall response",
        xlabel=d.xlabel,
        ylabel="Probability",
        risk_times=ticks,
        # Overlapping bands of 3-5 groups hide the curves; bands only for ≤2 groups (the
        # CIs of every group are in the table and the JSON).
        show_ci=len(curves) <= 2,
        # 7.5 × 4.9 in: printed at ~92% of the A4 text width, two KM figures with their
        # risk tables share a page and the 9-pt labels stay ≥8 pt on paper.
        width=7.5,
        height=4.9,
    )
    groups_data = []
    for label, km in curves.items():
        med = km_median_ci(km)
        groups_data.append(
            {
                "group": label,
                "n": km.n,
                "events": km.events,
                "median_months": med.estimate,
                "ci_months": [med.lower, med.upper],
                "median_status": med.estimate_status,
                "ci_status": [med.lower_status, med.upper_status],
                "numbers_at_risk": numbers_at_risk(km, ticks),
            }
        )
    return ReportFigure(
        key=f"km_{d.paramcd.lower()}_by_response",
        title=f"{d.label} by best overall response",
        caption=(
            f"{pop_label}. {tb.km_method(conf_type)}. Numbers at risk at each tick under the "
            "plot; | = censored; shaded: pointwise 95% CI (drawn for up to two groups). "
            "Descriptive only (best response is a post-baseline variable)."
        ),
        png_base64=encode_png(fig, dpi),
        data={
            "paramcd": d.paramcd,
            "time_unit": "months",
            "risk_times": ticks,
            "groups": groups_data,
            "logrank": tb.logrank_by_response(d),
        },
    )


def forest_figure(table: tb.Table, dpi: int) -> ReportFigure | None:
    from cartwatch.outcomes.plots import ForestRow, forest_plot

    rows = []
    for r in table.rows:
        v = r.cells[0].values
        k, n = v.get("k"), v.get("n")
        ci = v.get("ci")
        if not (isinstance(k, int) and isinstance(n, int) and n > 0 and isinstance(ci, list)):
            continue
        rows.append(ForestRow(r.label, k / n, (float(ci[0]), float(ci[1])), k, n))
    if not rows:
        return None
    overall = rows[0].rate if rows[0].label == "All patients" else None
    fig = forest_plot(rows, reference=overall, method="95% CI Clopper–Pearson")
    return ReportFigure(
        key="forest_orr_subgroups",
        title="Overall response rate by high-risk subgroup",
        caption=(
            f"{table.population}. Squares: ORR (CR + CRi + PR + PR-L); bars: exact 95% CI; "
            "dashed line: ORR of all patients. Right: responders/n, ORR % (95% CI)."
        ),
        png_base64=encode_png(fig, dpi),
        data={
            "rows": [
                {"label": r.label, "k": r.k, "n": r.n, "rate": r.rate, "ci": list(r.ci)}
                for r in rows
            ]
        },
    )


#: At most this many swimmer lanes: 40 lanes at 0.17 in fill one A4 page with labels that
#: stay readable; more would shrink below 7 pt on paper.
SWIMMER_MAX_LANES = 40
#: The CRS/neurotoxicity-by-day window: day 0 (infusion) to day 28, the label's monitoring
#: and stay-near period in which nearly all CRS and ICANS episodes start and end.
TOX_DAYS = tuple(range(29))


def _days_after_infusion(adrs: pd.DataFrame, adsl: pd.DataFrame) -> pd.Series:
    """Analysis day per ADRS record on the ADTTE scale (infusion = day 1, like AVAL =
    ADT - STARTDT + 1), so response markers and OS/PFS times share one axis: ADY when
    present, else ADT - ADSL.TRTSDT + 1; NaN when neither can be computed."""
    ady = pd.to_numeric(adrs["ADY"], errors="coerce") if "ADY" in adrs.columns else None
    if "ADT" in adrs.columns and "TRTSDT" in adsl.columns:
        start = adsl.drop_duplicates("USUBJID").set_index("USUBJID")["TRTSDT"]
        trt = pd.to_datetime(adrs["USUBJID"].map(start), errors="coerce")
        adt = pd.to_datetime(adrs["ADT"], errors="coerce")
        from_dates = (adt - trt).dt.days + 1.0
        return from_dates if ady is None else ady.fillna(from_dates)
    return ady if ady is not None else pd.Series(np.nan, index=adrs.index)


def _first_aval(df: pd.DataFrame) -> dict[str, float]:
    """USUBJID → AVAL (first record per subject, numeric AVAL only)."""
    aval = pd.to_numeric(df["AVAL"], errors="coerce")
    ok = df.assign(_AVAL=aval)[aval.notna()].drop_duplicates("USUBJID")
    return dict(zip(ok["USUBJID"].astype(str), ok["_AVAL"].astype(float), strict=True))


def _months(days: float | None) -> float | None:
    return None if days is None else days / tb.DAYS_PER_MONTH


@dataclass(frozen=True)
class SwimmerRow:
    """One responder's lane, times in months after infusion (None = no such event)."""

    usubjid: str
    bor: str
    end_months: float
    ongoing: bool
    cr_cri_months: float | None
    pr_months: float | None
    progression_months: float | None
    death_months: float | None

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class SwimmerData:
    """All responders' lanes, longest follow-up first; ``shown`` are the ones drawn."""

    population_flag: str
    n_responders: int
    n_without_os: int
    lanes: tuple[SwimmerRow, ...]

    @property
    def shown(self) -> tuple[SwimmerRow, ...]:
        return self.lanes[:SWIMMER_MAX_LANES]

    def to_dict(self) -> dict[str, object]:
        return {
            "population_flag": self.population_flag,
            "n_responders": self.n_responders,
            "n_without_os": self.n_without_os,
            "n_shown": len(self.shown),
            "max_lanes": SWIMMER_MAX_LANES,
            "order": "longest follow-up first (OS time), ties by USUBJID",
            "time_unit": "months",
            "days_per_month": tb.DAYS_PER_MONTH,
            "lanes": [lane.to_dict() for lane in self.shown],
        }


def swimmer_lanes(data: tb.AdamData, efficacy_flag: str) -> SwimmerData | None:
    """Responders (BOR CR/CRi/PR/PR-L) of the efficacy population as swimmer lanes, in months.

    Lane end: ADTTE OS AVAL (death or last known alive); ongoing = OS censored. Markers:
    first CR/CRi and first PR among the ADRS OVRLRESP records BOR is taken from (ANL01FL = Y
    when flagged); progression = PFS event whose EVNTDESC names a progression (without
    EVNTDESC, a PFS event not on the OS death day); death = OS event. Longest follow-up
    first (ties by USUBJID), at most :data:`SWIMMER_MAX_LANES`. None without ADTTE OS.
    """
    adsl, adrs, adtte = data.adsl, data.adrs, data.adtte
    ids = tb.population(adsl, efficacy_flag)["USUBJID"].astype(str)
    bor = tb.best_response(adrs, ids)
    responders = [s for s, b in zip(ids, bor, strict=True) if b in tb.RESPONDER]
    os_ = tb.parameter_rows(adtte, "OS")
    if not responders or os_.empty:
        return None
    keep = set(responders)
    os_ = os_[os_["USUBJID"].astype(str).isin(keep)]
    os_cnsr = pd.to_numeric(os_["CNSR"], errors="coerce")
    end = _first_aval(os_)
    died = _first_aval(os_[os_cnsr == 0])
    pfs = tb.parameter_rows(adtte, "PFS")
    pfs = pfs[pfs["USUBJID"].astype(str).isin(keep)]
    pfs = pfs[pd.to_numeric(pfs["CNSR"], errors="coerce") == 0]
    if "EVNTDESC" in pfs.columns:
        progressed = _first_aval(
            pfs[pfs["EVNTDESC"].astype(str).str.contains("progress", case=False, na=False)]
        )
    else:
        # A PFS event on the day of death is the death (PFS = progression or death).
        progressed = {s: t for s, t in _first_aval(pfs).items() if died.get(s) != t}
    first: dict[tuple[str, str], float] = {}
    ovr = tb.parameter_rows(adrs, "OVRLRESP")
    if not ovr.empty:
        ovr = ovr[ovr["USUBJID"].astype(str).isin(keep)]
        if "ANL01FL" in ovr.columns and tb.flag(ovr, "ANL01FL").any():
            ovr = ovr[tb.flag(ovr, "ANL01FL")]
        kind = tb.codes(ovr["AVALC"]).map({"CR": "CR", "CRI": "CR", "PR": "PR", "PR-L": "PR"})
        day = _days_after_infusion(ovr, adsl)
        marks = pd.DataFrame({"s": ovr["USUBJID"].astype(str), "k": kind, "d": day}).dropna()
        firsts = marks.groupby(["s", "k"])["d"].min()
        for subj, k, d in zip(
            firsts.index.get_level_values(0), firsts.index.get_level_values(1), firsts, strict=True
        ):
            first[(str(subj), str(k))] = float(d)
    dpm = tb.DAYS_PER_MONTH
    lanes = [
        SwimmerRow(
            s,
            str(b),
            float(end[s]) / dpm,
            s not in died,
            _months(first.get((s, "CR"))),
            _months(first.get((s, "PR"))),
            _months(progressed.get(s)),
            _months(died.get(s)),
        )
        for s, b in zip(ids, bor, strict=True)
        if s in keep and s in end
    ]
    lanes.sort(key=lambda lane: (-lane.end_months, lane.usubjid))
    return SwimmerData(efficacy_flag, len(responders), len(responders) - len(lanes), tuple(lanes))


def swimmer_figure(data: tb.AdamData, efficacy_flag: str, dpi: int) -> ReportFigure | None:
    from cartwatch.outcomes.plots import SwimmerLane, swimmer_plot

    found = swimmer_lanes(data, efficacy_flag)
    if found is None or not found.lanes:
        return None
    n_resp, n_shown = found.n_responders, len(found.shown)
    drawn = [
        SwimmerLane(
            lane.usubjid,
            lane.end_months,
            ongoing=lane.ongoing,
            response=tuple(
                (t, kind)
                for t, kind in ((lane.cr_cri_months, "CR"), (lane.pr_months, "PR"))
                if t is not None
            ),
            progression=lane.progression_months,
            death=lane.death_months,
        )
        for lane in found.shown
    ]
    shown = (
        f"{n_shown} of {n_resp} responders with the longest follow-up"
        if n_shown < n_resp
        else f"all {n_shown} responders"
    )
    missing = found.n_without_os
    eff_label = tb.set_label(data.adsl, efficacy_flag)
    fig = swimmer_plot(
        drawn,
        title=f"Responders: time on study after infusion ({shown})",
        xlabel="Months after infusion",
        width=7.5,
    )
    return ReportFigure(
        key="swimmer_responders",
        title="Swimmer plot of responders",
        caption=(
            f"{eff_label}; responders = best overall response CR, CRi, PR or PR-L (iwCLL 2018; "
            "PR-L, partial response with lymphocytosis, counts as a response), "
            f"n = {n_resp}; shown: {shown}"
            + (f" ({missing} without an ADTTE OS record not shown)" if missing else "")
            + ". Bar: infusion to death or last known alive (ADTTE OS; months = days / "
            "30.4375). Star: first CR/CRi; triangle: first PR or PR-L (ADRS OVRLRESP); cross: "
            "progression (ADTTE PFS event); square: death; arrow: alive at last contact. "
            "Lanes labelled by USUBJID (pseudonymised)."
        ),
        png_base64=encode_png(fig, dpi),
        data=found.to_dict(),
    )


def _ongoing_by_day(
    ae: pd.DataFrame, ids: set[str], days: Sequence[int]
) -> tuple[dict[int, list[int]], int]:
    """Per grade, the number of patients whose highest-grade ongoing episode on each day has
    that grade; and the number of unresolved episodes (counted to the window's end).

    An episode is ongoing from ONSDYINF (ASTDY - 1 when absent) for ceil(ADURN) days: the
    resolution day, the first grade-0 observation, is not counted (at least the onset day).
    Each episode keeps its own maximum grade (AETOXGRN); a patient is counted once per day.
    """
    ae = ae[ae["USUBJID"].astype(str).isin(ids)]
    grade = pd.to_numeric(ae["AETOXGRN"], errors="coerce").fillna(0).to_numpy()
    if "ONSDYINF" in ae.columns:
        onset = pd.to_numeric(ae["ONSDYINF"], errors="coerce")
    else:
        onset = pd.Series(np.nan, index=ae.index)
    if "ASTDY" in ae.columns:
        onset = onset.fillna(pd.to_numeric(ae["ASTDY"], errors="coerce") - 1)
    dur = pd.to_numeric(ae["ADURN"], errors="coerce") if "ADURN" in ae.columns else None
    d = np.asarray(days, dtype=float)
    on = onset.to_numpy(dtype=float)
    if dur is None:
        length = np.full(len(ae), np.inf)
    else:
        length = np.maximum(np.ceil(dur.to_numpy(dtype=float)), 1.0)
    unresolved = int(np.sum(np.isnan(length) | np.isinf(length)) - np.sum(np.isnan(on)))
    length = np.where(np.isnan(length), np.inf, length)
    valid = ~np.isnan(on) & (grade >= 1)
    on, length, grade = on[valid], length[valid], grade[valid]
    subj = ae["USUBJID"].astype(str).to_numpy()[valid]
    # episodes × days grade matrix, then the maximum per patient and day.
    live = (on[:, None] <= d[None, :]) & (d[None, :] < on[:, None] + length[:, None])
    graded = np.where(live, grade[:, None], 0.0)
    codes_, _ = pd.factorize(subj)
    per_patient = np.zeros((int(codes_.max()) + 1 if len(codes_) else 0, len(d)))
    np.maximum.at(per_patient, codes_, graded)
    out = {
        g: [int(v) for v in (per_patient == g).sum(axis=0)] for g in sorted({int(x) for x in grade})
    }
    return out, max(unresolved, 0)


def toxicity_by_day(adsl: pd.DataFrame, adae: pd.DataFrame | None) -> dict[str, object] | None:
    """Safety set: per day 0-28, patients with an ongoing CRS / neurotoxicity episode by
    that episode's maximum grade (see :func:`_ongoing_by_day`). None without CRS/NT records."""
    if adae is None or "AECAT" not in adae.columns or "USUBJID" not in adae.columns:
        return None
    ids = set(tb.population(adsl, "SAFFL")["USUBJID"].astype(str))
    cat = tb.codes(adae["AECAT"])
    categories = []
    for code, name in ((tb.CRS_CATEGORY, "CRS"), (tb.NT_CATEGORY, "Neurotoxicity")):
        ae = adae[cat == code]
        if "AETOXGRN" not in ae.columns or ae["AETOXGRN"].isna().all():
            grades = ae["AETOXGR"] if "AETOXGR" in ae.columns else pd.Series(np.nan, ae.index)
            ae = ae.assign(AETOXGRN=pd.to_numeric(grades, errors="coerce"))
        counts, unresolved = _ongoing_by_day(ae, ids, TOX_DAYS)
        categories.append(
            {
                "category": name,
                "scale": tb.scales(ae[ae["USUBJID"].astype(str).isin(ids)]),
                "by_grade": [{"grade": g, "counts": c} for g, c in counts.items()],
                "any_grade": [sum(c[i] for c in counts.values()) for i in range(len(TOX_DAYS))],
                "n_unresolved_episodes": unresolved,
            }
        )
    if not any(c["by_grade"] for c in categories):
        return None
    return {
        "days": list(TOX_DAYS),
        "n": len(ids),
        "day_origin": "infusion = day 0",
        "categories": categories,
    }


def toxicity_figure(adsl: pd.DataFrame, adae: pd.DataFrame | None, dpi: int) -> ReportFigure | None:
    from cartwatch.outcomes.plots import GradePrevalence, toxicity_prevalence_plot

    found = toxicity_by_day(adsl, adae)
    if found is None:
        return None
    cats = found["categories"]
    assert isinstance(cats, list)
    n = int(str(found["n"]))
    panels = [
        GradePrevalence(
            f"{c['category']} ({c['scale']})",
            {int(g["grade"]): list(g["counts"]) for g in c["by_grade"]},
        )
        for c in cats
    ]
    unresolved = sum(int(c["n_unresolved_episodes"]) for c in cats)
    scales = " / ".join(f"{c['category']}: {c['scale']}" for c in cats)
    fig = toxicity_prevalence_plot(panels, TOX_DAYS, n, ylabel=f"% of safety set (N = {n})")
    return ReportFigure(
        key="crs_neurotox_by_day",
        title="Ongoing CRS and neurotoxicity by day after infusion",
        caption=(
            f"{tb.set_label(adsl, 'SAFFL')}. Per day 0–28 (day 0 = infusion): % of the safety "
            "set with an ongoing episode, stacked by the maximum grade of that episode "
            f"({scales}); a patient is counted once a day, at the highest grade. Episodes from "
            "ADAE onset day (ONSDYINF) for ceil(ADURN) days (resolution day not counted)."
            + (f" {unresolved} unresolved episode(s) counted to day 28." if unresolved else "")
        ),
        png_base64=encode_png(fig, dpi),
        data=found,
    )
