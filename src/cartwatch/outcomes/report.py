"""The outcomes report: tables and figures from ADaM, rendered as HTML, PDF, text or JSON.

:func:`build_report` computes everything once (a :class:`Report`: metadata, sections of
:mod:`cartwatch.outcomes.tables` tables and figures, and the headline figures); the renderers
only format it, so every rendering shows the same numbers and :func:`render_json` holds every
number the others show (each table cell carries its numbers; each figure its plotted data:
numbers at risk, medians, subgroup rates).

* HTML is one self-contained file: CSS inline, figures as inline base64 PNG, no external
  asset (a report is mailed and archived; a link to a server would rot).
* PDF is WeasyPrint applied to the same HTML, with print CSS (A4, page numbers, tables and
  figures never split across pages).
* The header names the data source, the data cut-off, every analysis set with its N, the
  cartwatch version and the generation time; each section states its method.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import cartwatch
from cartwatch.outcomes import remission as rm
from cartwatch.outcomes import tables as tb
from cartwatch.outcomes.survival import CONF_TYPES, kaplan_meier, km_median_ci, numbers_at_risk

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib (via cartwatch.outcomes.plots) is imported where the figures are drawn, so
# callers that only read or render a report (web dashboard JSON, CLI --help) do not load it.

#: 120 dpi: a 7.5-in figure printed 6.7 in wide is ~134 ppi, sharp on paper and screen, and
#: rasterising + PNG-encoding costs ~35% less than 150 dpi (the figures dominate build time).
FIGURE_DPI = 120
REPORT_TITLE = "cartwatch outcomes report: liso-cel in relapsed/refractory CLL/SLL"


class ReportInputError(ValueError):
    """The datasets cannot make a report; ``problems`` are ``field: problem`` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


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


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    method: str
    tables: tuple[tb.Table, ...] = ()
    figures: tuple[ReportFigure, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "method": self.method,
            "notes": list(self.notes),
            "tables": [t.to_dict() for t in self.tables],
            "figures": [f.to_dict() for f in self.figures],
        }


@dataclass(frozen=True)
class Report:
    meta: Mapping[str, object]
    headline: Mapping[str, Mapping[str, object]]
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {
            "meta": dict(self.meta),
            "headline": {k: dict(v) for k, v in self.headline.items()},
            "sections": [s.to_dict() for s in self.sections],
        }

    def table(self, key: str) -> tb.Table:
        for s in self.sections:
            for t in s.tables:
                if t.key == key:
                    return t
        raise KeyError(f"report has no table {key!r}")

    def figure(self, key: str) -> ReportFigure:
        for s in self.sections:
            for f in s.figures:
                if f.key == key:
                    return f
        raise KeyError(f"report has no figure {key!r}")


# --------------------------------------------------------------------------- input


def _frames_from_dir(path: Path) -> dict[str, pd.DataFrame]:
    # Imported here: reading XPT needs pyreadstat, which in-memory callers never load.
    from cartwatch.adam.xpt import AdamReadError, read_adam_dir

    try:
        return {name: ds.data for name, ds in read_adam_dir(path).items()}
    except AdamReadError as exc:
        raise ReportInputError(exc.problems) from exc


def load_datasets(source: str | Path | Mapping[str, pd.DataFrame] | tb.AdamData) -> tb.AdamData:
    """ADSL (required), ADRS, ADTTE, ADAE from a folder, a mapping or an :class:`AdamData`."""
    if isinstance(source, tb.AdamData):
        return source
    frames = _frames_from_dir(Path(source)) if isinstance(source, str | Path) else source
    upper = {k.upper(): v for k, v in frames.items()}

    def get(name: str) -> pd.DataFrame | None:
        # "ADRS_ONCO" / "ADTTE_ONCO" from other tools map to ADRS / ADTTE.
        if name in upper:
            return upper[name]
        return next((v for k, v in upper.items() if k.split("_")[0] == name), None)

    adsl = get("ADSL")
    problems: list[str] = []
    if adsl is None:
        problems.append("ADSL: required dataset missing")
    elif "USUBJID" not in adsl.columns:
        problems.append("ADSL: USUBJID: required variable missing")
    elif not tb.flag(adsl, "SAFFL").any():
        problems.append("ADSL: SAFFL: no subject is in the safety set (SAFFL = Y)")
    if problems or adsl is None:
        raise ReportInputError(problems)
    return tb.AdamData(adsl=adsl, adrs=get("ADRS"), adtte=get("ADTTE"), adae=get("ADAE"))


# --------------------------------------------------------------------------- figures


#: zlib level 3 instead of PIL's 6: about 40% less encoding time and, for these flat-colour
#: figures, files no larger.
_PNG_OPTIONS = {"compress_level": 3}


def _png_base64(fig: Figure, dpi: int) -> str:
    import matplotlib as mpl

    buf = io.BytesIO()
    # Rasterising text is most of a figure's cost (FreeType shapes and renders each glyph);
    # unhinted glyphs take ~30% less time and at 120 dpi read as well as hinted ones.
    # rc_context is process-global while it lasts; a concurrent draw elsewhere would only
    # see unhinted text, never a wrong number.
    with mpl.rc_context({"text.hinting": "no_hinting"}):
        fig.savefig(buf, format="png", dpi=dpi, pil_kwargs=_PNG_OPTIONS)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _risk_times(tmax: float) -> list[float]:
    """Ticks every 3 months up to 24, every 6 up to 48, else every 12 (≤9 columns)."""
    step = 3.0 if tmax <= 24 else 6.0 if tmax <= 48 else 12.0
    return [step * i for i in range(math.floor(tmax / step) + 1)]


def _km_figure(
    d: tb.TteData, fits: tb.KmFits, pop_label: str, conf_type: str, dpi: int
) -> ReportFigure:
    from cartwatch.outcomes.plots import km_plot

    curves = fits.groups
    ticks = _risk_times(float(np.max(d.months)))
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
        png_base64=_png_base64(fig, dpi),
        data={
            "paramcd": d.paramcd,
            "time_unit": "months",
            "risk_times": ticks,
            "groups": groups_data,
            "logrank": tb.logrank_by_response(d),
        },
    )


def _subgroup_section(
    subgroups: tb.Table,
    forest: ReportFigure | None,
    pfs: rm.PfsBySubject | None,
    pop_label: str,
    dpi: int,
) -> Section:
    """ORR by subgroup (exact CIs) and, with ADTTE PFS, PFS by high-risk marker with a KM."""
    from cartwatch.outcomes.plots import km_plot

    tables: tuple[tb.Table, ...] = (subgroups,)
    figures: tuple[ReportFigure, ...] = (forest,) if forest else ()
    notes: tuple[str, ...] = ()
    if pfs is None:
        notes = ("No ADTTE PFS: PFS by high-risk subgroup not available.",)
    else:
        groups = rm.high_risk_groups(pfs)
        if groups:
            tables += (rm.high_risk_pfs_table(pfs, groups, pop_label),)
        masks = rm.del17p_or_tp53(pfs)
        if masks:
            curves = {k: kaplan_meier(pfs.months[m], pfs.event[m]) for k, m in masks.items()}
            ticks = _risk_times(float(np.max(pfs.months)))
            title = "PFS by del(17p)/TP53 aberration"
            fig = km_plot(
                curves,
                title=title,
                xlabel="Months after infusion",
                ylabel="Probability",
                risk_times=ticks,
                width=7.5,
                height=4.9,
            )
            figures += (
                ReportFigure(
                    key="km_pfs_by_del17p_tp53",
                    title=title,
                    caption=(
                        f"{pop_label}. {tb.km_method('log-log')}. del(17p) and/or TP53 "
                        "mutation against neither (unknown on both: not shown)."
                    ),
                    png_base64=_png_base64(fig, dpi),
                    data={
                        "groups": [
                            {
                                "group": k,
                                "n": km.n,
                                "events": km.events,
                                "numbers_at_risk": numbers_at_risk(km, ticks),
                            }
                            for k, km in curves.items()
                        ],
                        "risk_times": ticks,
                    },
                ),
            )
    return Section(
        "subgroups",
        "High-risk disease: response and PFS by subgroup",
        f"ORR within subgroups; {tb.CP_METHOD}; PFS by Kaplan–Meier",
        tables,
        figures,
        notes,
    )


def _remission_section(
    pfs: rm.PfsBySubject | None, adrs: pd.DataFrame | None, pop_label: str, dpi: int
) -> Section:
    """PFS plateau by best response with the fitted cure curve over the KM."""
    from cartwatch.research.cure_report import cure_figure

    if pfs is None:
        return Section(
            "long_term_remission",
            "Long-term remission",
            rm.CURE_METHOD,
            (),
            (),
            ("No ADTTE PFS: long-term remission analyses not available.",),
        )
    groups = rm.remission_groups(pfs, adrs)
    fits = rm.remission_fits(pfs, groups)
    table = rm.remission_table(pfs, groups, fits, pop_label)
    shown = [(k, m) for k, m in groups.items() if k != "All patients" and fits[k] is not None]
    figures: tuple[ReportFigure, ...] = ()
    if shown:
        fitted = [fit for k, _ in shown if (fit := fits[k]) is not None]
        title = "PFS by best response with the fitted cure model"
        fig = cure_figure(
            [(k, pfs.months[m], pfs.event[m].astype(float)) for k, m in shown],
            fitted,
            title=title,
            unit="months after infusion",
        )
        figures = (
            ReportFigure(
                key="pfs_cure_by_response",
                title=title,
                caption=(
                    f"{pop_label}. Steps: Kaplan–Meier PFS; dashed: Weibull mixture cure "
                    "model; dotted: its cure fraction. Descriptive (best response is "
                    "post-baseline)."
                ),
                png_base64=_png_base64(fig, dpi),
                data={"groups": [f.to_dict() for f in fitted]},
            ),
        )
    return Section(
        "long_term_remission",
        "Long-term remission",
        rm.CURE_METHOD,
        (table,),
        figures,
        (),
    )


def _forest_figure(table: tb.Table, dpi: int) -> ReportFigure | None:
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
        png_base64=_png_base64(fig, dpi),
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


def _swimmer_figure(data: tb.AdamData, efficacy_flag: str, dpi: int) -> ReportFigure | None:
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
        png_base64=_png_base64(fig, dpi),
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


def _toxicity_figure(
    adsl: pd.DataFrame, adae: pd.DataFrame | None, dpi: int
) -> ReportFigure | None:
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
        png_base64=_png_base64(fig, dpi),
        data=found,
    )


# --------------------------------------------------------------------------- build


def _cut_off(adsl: pd.DataFrame) -> str:
    if "DCUTDT" not in adsl.columns:
        return "not recorded (ADSL.DCUTDT absent)"
    d = pd.to_datetime(adsl["DCUTDT"], errors="coerce").dropna()
    return d.max().date().isoformat() if not d.empty else "not recorded"


def _headline(data: tb.AdamData, efficacy: tb.Table, crs: tb.Table) -> dict[str, dict[str, object]]:
    # An empty population (no patient infused yet) gives cells without a rate: the headline
    # still has every key, with None for what cannot be computed.
    empty: dict[str, object] = {"k": 0, "n": 0, "percent": None, "ci_percent": None}

    def first_pair(row: tb.Row) -> dict[str, object]:
        return {**empty, **row.cells[0].values}

    def safety(row_key: str, col: int) -> dict[str, object]:
        return {**empty, **crs.row(row_key).cells[col].values}

    return {
        "cr_cri": {"population": efficacy.population, **first_pair(efficacy.row("CR_CRI"))},
        "orr": {"population": efficacy.population, **first_pair(efficacy.row("ORR"))},
        "crs_any": {"population": crs.population, **safety("any", 0)},
        "crs_grade_ge_3": {"population": crs.population, **safety("grade_ge_3", 0)},
        "neurotox_any": {"population": crs.population, **safety("any", 1)},
        "neurotox_grade_ge_3": {"population": crs.population, **safety("grade_ge_3", 1)},
    }


def build_report(
    source: str | Path | Mapping[str, pd.DataFrame] | tb.AdamData,
    conf_type: str = "log-log",
    *,
    source_label: str | None = None,
    generated_at: dt.datetime | None = None,
    figure_dpi: int = FIGURE_DPI,
) -> Report:
    """Compute every table and figure of the report from ADaM datasets.

    *source* is an ADaM folder (``*.xpt``/``*.csv``, read with ``read_adam_dir``), a mapping
    of dataset name → DataFrame, or an :class:`~cartwatch.outcomes.tables.AdamData`.
    *conf_type* is the KM CI transform (``log-log`` default, ``log``, ``plain``).
    Raises :class:`ReportInputError` on unusable input.
    """
    if conf_type not in CONF_TYPES:
        raise ReportInputError([f"conf_type: must be one of {', '.join(CONF_TYPES)}"])
    data = load_datasets(source)
    adsl = data.adsl
    eff = tb.primary_efficacy_flag(adsl)
    eff_label = tb.set_label(adsl, eff)
    efficacy = tb.efficacy_table(adsl, data.adrs, eff)
    crs = tb.crs_nt_table(adsl, data.adae)
    tte = tb.tte_data(adsl, data.adrs, data.adtte, eff)
    fits = {d.paramcd: tb.km_fits(d, conf_type) for d in tte}  # shared by table and figures
    subgroups = tb.subgroup_table(adsl, data.adrs, eff)
    forest = _forest_figure(subgroups, figure_dpi)
    pfs = rm.pfs_by_subject(data, eff)
    km_figs = tuple(
        _km_figure(d, fits[d.paramcd], eff_label, conf_type, figure_dpi)
        for d in tte
        if d.paramcd in ("PFS", "OS", "DOR") and fits[d.paramcd].groups
    )
    ae_table = tb.ae_incidence_table(adsl, data.adae)
    swimmer = _swimmer_figure(data, eff, figure_dpi)
    tox_fig = _toxicity_figure(adsl, data.adae, figure_dpi)
    generated = generated_at or dt.datetime.now(dt.UTC)
    meta: dict[str, object] = {
        "title": REPORT_TITLE,
        "data_source": source_label
        or (str(source) if isinstance(source, str | Path) else "in-memory ADaM datasets"),
        "data_cutoff": _cut_off(adsl),
        "cartwatch_version": cartwatch.__version__,
        "generated_at": generated.isoformat(timespec="seconds"),
        "primary_efficacy_population": {"flag": eff, "label": eff_label},
        "conf_type": conf_type,
        "analysis_sets": [
            {"flag": f, "name": name, "n": int(tb.flag(adsl, f).sum()), "definition": d}
            for f, name, d in tb.ANALYSIS_SETS
            if f in adsl.columns
        ],
    }
    sections = (
        Section(
            "analysis_sets",
            "Analysis sets",
            "ADSL population flags",
            (tb.analysis_sets_table(adsl),),
        ),
        Section(
            "baseline",
            "Baseline characteristics",
            "n (%); median (range)",
            (tb.baseline_table(adsl, eff),),
        ),
        Section(
            "efficacy",
            "Efficacy",
            f"Best overall response per iwCLL 2018; {tb.CP_METHOD}",
            (efficacy, tb.mrd_table(adsl, data.adrs, eff)),
        ),
        Section(
            "time_to_event",
            "Duration of response, PFS and OS",
            tb.km_method(conf_type),
            (tb.tte_table(tte, adsl, eff, conf_type, fits),) if tte else (),
            km_figs + ((swimmer,) if swimmer else ()),
            () if tte else ("No ADTTE dataset: time-to-event analyses not available.",),
        ),
        Section(
            "safety",
            "Safety",
            "Safety set; maximum grade per patient; grading scale named per table",
            tuple(
                t
                for t in (
                    crs,
                    tb.management_table(adsl, data.adae),
                    tb.cytopenia_table(adsl, data.adae),
                    ae_table,
                )
                if t is not None
            ),
            (tox_fig,) if tox_fig else (),
        ),
        _subgroup_section(subgroups, forest, pfs, eff_label, figure_dpi),
        _remission_section(pfs, data.adrs, eff_label, figure_dpi),
    )
    return Report(meta=meta, headline=_headline(data, efficacy, crs), sections=sections)


# --------------------------------------------------------------------------- renderers


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _finite(value: object) -> object:
    """NaN/inf → null recursively (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def render_json(report: Report) -> str:
    """Every number of the report (figures as their data, not their pixels)."""
    return json.dumps(
        _finite(report.to_dict()),
        indent=2,
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def _text_table(t: tb.Table) -> list[str]:
    header = list(t.columns)
    body = [[("  " * r.indent) + r.label, *(c.text for c in r.cells)] for r in t.rows]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [t.title, f"Population: {t.population}", f"Method: {t.method}"]
    if t.header_groups:
        # Each group spans its value columns; the label column stays blank.
        spans, i = [" " * widths[0]], 1
        for label, n in t.header_groups:
            width = sum(widths[i : i + n]) + 2 * (n - 1)
            spans.append(label[:width].ljust(width))
            i += n
        out.append("  ".join(spans).rstrip())
    out.append(line(header))
    out.append("  ".join("-" * w for w in widths))
    out += [line(row) for row in body]
    out += [f"  Note: {f}" for f in t.footnotes]
    return [*out, ""]


def render_text(report: Report) -> str:
    m = report.meta
    lines = [
        str(m["title"]),
        f"Data source: {m['data_source']}",
        f"Data cut-off: {m['data_cutoff']}",
        f"cartwatch {m['cartwatch_version']}, generated {m['generated_at']}",
        "",
    ]
    for s in report.sections:
        lines += [f"== {s.title} ==", f"Method: {s.method}", ""]
        lines += [f"  {n}" for n in s.notes]
        for t in s.tables:
            lines += _text_table(t)
        for f in s.figures:
            lines += [f"[Figure] {f.title}: {f.caption}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _template() -> str:
    return (resources.files("cartwatch.outcomes") / "templates" / "report.html.j2").read_text(
        encoding="utf-8"
    )


_NUMERIC = re.compile(r"^(\d|—|NR\b|NE\b|NA\b)")


def _is_numeric(text: object) -> bool:
    """Cells that hold numbers are right-aligned; words (scales, definitions) stay left."""
    return bool(_NUMERIC.match(str(text))) or str(text) == ""


def _numeric_column(table: tb.Table, index: int) -> bool:
    """Value column *index* (0 = first value column) holds only numbers."""
    return all(_is_numeric(r.cells[index].text) for r in table.rows if index < len(r.cells))


def render_html(report: Report) -> str:
    """One self-contained HTML document (inline CSS, figures as data: URIs)."""
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.tests["numeric"] = _is_numeric
    env.globals["numeric_column"] = _numeric_column
    return env.from_string(_template()).render(report=report, meta=report.meta)


def render_pdf(report: Report, html: str | None = None) -> bytes:
    """PDF (WeasyPrint) of the same HTML; print CSS keeps tables and figures whole."""
    from weasyprint import HTML

    pdf = HTML(string=html if html is not None else render_html(report)).write_pdf()
    if pdf is None:  # only when a target is given; keeps mypy honest
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)
