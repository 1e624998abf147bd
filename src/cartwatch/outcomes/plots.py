"""Report figures: Kaplan–Meier with numbers at risk, forest, swimmer, CRS/ICANS by day.

Figures are built as :class:`matplotlib.figure.Figure` objects drawn with the Agg canvas, never
through ``pyplot``, so nothing leaks into a global figure registry (safe in the web app and in
tests). Every KM figure states its method and CI transform in the title, because R, SAS and
lifelines differ on the default transform (prior-art.md §4).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory, offset_copy

from cartwatch.outcomes.survival import KaplanMeier, numbers_at_risk

# Colour-blind-safe qualitative palette (Okabe & Ito 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
# Grade colours, light → dark: grade 1..5 (5 = death).
GRADE_COLOURS = {1: "#FEE391", 2: "#FDAE61", 3: "#E6550D", 4: "#A50F15", 5: "#000000"}

#: Font sizes (points) of the small text: legends, risk table, right-hand forest values.
SMALL_PT = 9.0
TITLE_PT = 11.0
#: Matplotlib's line height is 1.2 × the font size (Text linespacing).
LINE = 1.2
#: Blank edge kept around every figure, in points.
EDGE_PT = 5.0


def _new_figure(width: float, height: float, *, constrained: bool = True) -> Figure:
    # Every report figure passes constrained=False and places its axes from measured text
    # sizes: constrained layout measures every artist in an extra draw pass and cost ~45% of
    # the report build.
    fig = Figure(figsize=(width, height), layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)  # attach the Agg canvas explicitly (no pyplot state)
    return fig


def _pt(key: Literal["xtick.labelsize", "ytick.labelsize", "axes.labelsize"]) -> float:
    """An rcParams font size (e.g. ``"medium"``) in points."""
    return float(FontProperties(size=mpl.rcParams[key]).get_size_in_points())


@lru_cache(maxsize=1024)
def _text_width_pt(text: str, size: float) -> float:
    """Width of one line of *text* in points (the unhinted outline, no renderer needed),
    plus 3%: hinted rendering (save_png, to_svg callers) sets glyphs slightly wider."""
    width, _, _ = text_to_path.get_text_width_height_descent(
        text, FontProperties(size=size), ismath=False
    )
    return 1.03 * float(width)


def _max_width_pt(texts: Sequence[str], size: float) -> float:
    return max((_text_width_pt(t, size) for t in texts), default=0.0)


def _axis_band_pt(axis: Literal["x", "y"], tick_label_pt: float) -> float:
    """Depth beside an axis taken by ticks, tick labels (*tick_label_pt* deep) and its label."""
    rc = mpl.rcParams
    if axis == "x":
        tick = rc["xtick.major.size"] + rc["xtick.major.pad"]
    else:
        tick = rc["ytick.major.size"] + rc["ytick.major.pad"]
    label = mpl.rcParams["axes.labelpad"] + LINE * _pt("axes.labelsize")
    return float(tick) + tick_label_pt + float(label)


def save_png(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write *fig* as PNG and return the path."""
    out = Path(path)
    fig.savefig(out, format="png", dpi=dpi)
    return out


def to_svg(fig: Figure) -> str:
    """The figure as an SVG document (text), e.g. for embedding in an HTML report."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


# --------------------------------------------------------------------------- Kaplan–Meier

FloatList = list[float]


def _km_ticks(curves: Mapping[str, KaplanMeier], risk_times: Sequence[float] | None) -> FloatList:
    if risk_times is not None:
        return [float(t) for t in risk_times]
    tmax = max(float(k.time[-1]) for k in curves.values())
    ticks = MaxNLocator(nbins=7, steps=[1, 2, 2.5, 3, 5, 6, 10]).tick_values(0.0, tmax)
    return [float(t) for t in ticks if 0.0 <= t <= tmax * 1.0001]


def km_plot(
    curves: Mapping[str, KaplanMeier],
    *,
    title: str | None = None,
    xlabel: str = "Time",
    ylabel: str = "Survival probability",
    risk_times: Sequence[float] | None = None,
    show_ci: bool = True,
    width: float = 8.0,
    height: float | None = None,
) -> Figure:
    """Kaplan–Meier step curves with censor marks and a numbers-at-risk table.

    Parameters
    ----------
    curves : mapping of label → KaplanMeier
        One curve per group, drawn in mapping order.
    title : str, optional
        Headline; the method line ("Kaplan–Meier, 95% CI log-log transform, Greenwood
        variance") is always added under it.
    risk_times : sequence of float, optional
        Times for the x ticks and the numbers-at-risk columns (default: automatic ticks).
    show_ci : bool
        Shade the pointwise confidence band.

    Returns
    -------
    Figure
        Two axes: the curves (``fig.axes[0]``) and the risk table (``fig.axes[1]``, label
        ``"numbers-at-risk"``) sharing the x axis, so every count sits under its tick.
    """
    if not curves:
        raise ValueError("curves: at least one curve is needed")
    ticks = _km_ticks(curves, risk_times)
    n_groups = len(curves)
    fig_h = height or 5.2 + 0.28 * n_groups
    fig = _new_figure(width, fig_h, constrained=False)
    first = next(iter(curves.values()))
    xmax = max(ticks[-1], max(float(k.time[-1]) for k in curves.values()))
    at_risk = [[str(n) for n in numbers_at_risk(km, ticks)] for km in curves.values()]
    labels = [f"{label} (n={km.n}, events={km.events})" for label, km in curves.items()]
    labels.append("censored")
    ncol = 2 if max(len(lb) for lb in labels) <= 30 else 1
    level = round(first.conf_level * 100)
    method = (
        f"Kaplan–Meier; {level}% pointwise CI, {first.conf_type} transform, "
        f"{first.variance.capitalize()} variance"
    )
    suptitle = f"{title}\n{method}" if title else method

    # Fixed layout in points, from the sizes of the text around the axes (top to bottom):
    # title lines, legend rows, curves, tick labels + x label, "Number at risk", risk rows.
    tick_labels = [f"{t:g}" for t in ticks]
    legend_rows = math.ceil(len(labels) / ncol)
    legend_pt = SMALL_PT * (
        2 * mpl.rcParams["legend.borderpad"]
        + legend_rows * LINE
        + (legend_rows - 1) * mpl.rcParams["legend.labelspacing"]
        + mpl.rcParams["legend.borderaxespad"]
    )
    top_pt = EDGE_PT + LINE * TITLE_PT * suptitle.count("\n") + TITLE_PT + 6 + legend_pt
    gap_pt = (
        _axis_band_pt("x", LINE * _pt("xtick.labelsize"))
        + 4
        + LINE * SMALL_PT
        + mpl.rcParams["axes.titlepad"]
    )
    row_pt = 1.6 * SMALL_PT
    risk_pt = row_pt * n_groups
    # Group names sit left of the t = 0 counts, which are centred on the y axis.
    first_col = _max_width_pt([row[0] for row in at_risk], SMALL_PT) / 2 + 9
    left_pt = EDGE_PT + max(
        _axis_band_pt("y", _text_width_pt("0.0", _pt("ytick.labelsize"))),
        _max_width_pt(list(curves), SMALL_PT) + first_col,
    )
    # Centred counts and the tick label at the last tick may reach past the axes' right edge.
    right_pt = EDGE_PT + (
        max(
            _max_width_pt([row[-1] for row in at_risk], SMALL_PT),
            _text_width_pt(tick_labels[-1], _pt("xtick.labelsize")),
        )
        / 2
    )
    fig_w_pt, fig_h_pt = 72 * width, 72 * fig_h
    bottom_pt = EDGE_PT
    main_pt = max(fig_h_pt - top_pt - gap_pt - risk_pt - bottom_pt, 0.3 * fig_h_pt)
    x0, w = left_pt / fig_w_pt, (fig_w_pt - left_pt - right_pt) / fig_w_pt
    ax = fig.add_axes((x0, (bottom_pt + risk_pt + gap_pt) / fig_h_pt, w, main_pt / fig_h_pt))
    risk = fig.add_axes((x0, bottom_pt / fig_h_pt, w, risk_pt / fig_h_pt), sharex=ax)
    risk.set_label("numbers-at-risk")

    for i, (label, km) in enumerate(zip(labels, curves.values(), strict=False)):
        colour = PALETTE[i % len(PALETTE)]
        x = np.concatenate(([0.0], km.time))
        ax.step(
            x, np.concatenate(([1.0], km.surv)), where="post", color=colour, lw=1.8, label=label
        )
        if show_ci:
            lo = np.concatenate(([1.0], km.lower))
            hi = np.concatenate(([1.0], km.upper))
            ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.15, lw=0)
        cens = km.n_censor > 0
        if cens.any():  # an empty marker line is still an artist to lay out and draw
            ax.plot(
                km.time[cens], km.surv[cens], ls="none", marker="|", ms=8, mew=1.3, color=colour
            )

    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0.0, xmax)
    ax.set_xticks(ticks)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.grid(True, alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], ls="none", marker="|", ms=8, color="0.3"))
    # Legend above the plot area, so it never hides a curve or its band.
    ax.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        fontsize=SMALL_PT,
        ncol=ncol,
        frameon=False,
    )
    fig.suptitle(suptitle, fontsize=TITLE_PT, y=1 - EDGE_PT / fig_h_pt, va="top")

    # Risk table: one row per group, counts centred under each tick. The axis itself is off
    # (no tick objects to build or draw); group names are figure texts placed on the rows.
    for row, counts in enumerate(at_risk):
        colour = PALETTE[row % len(PALETTE)]
        for t, n_at in zip(ticks, counts, strict=True):
            risk.text(t, row, n_at, ha="center", va="center", fontsize=SMALL_PT, color=colour)
    risk.set_ylim(n_groups - 0.5, -0.5)
    risk.set_axis_off()
    names = offset_copy(
        blended_transform_factory(risk.transAxes, risk.transData),
        fig=fig,
        x=-first_col,
        units="points",
    )
    for row, name in enumerate(curves):
        fig.text(
            0.0,
            row,
            name,
            transform=names,
            ha="right",
            va="center",
            fontsize=SMALL_PT,
            color=PALETTE[row % len(PALETTE)],
        )
    # An explicit y skips matplotlib's per-draw search for tick labels above the axes.
    risk.set_title("Number at risk", fontsize=SMALL_PT, loc="left", y=1.0)
    return fig


# --------------------------------------------------------------------------- forest


@dataclass(frozen=True)
class ForestRow:
    """One subgroup: label, rate (0–1) and its CI; ``k``/``n`` printed when given."""

    label: str
    rate: float
    ci: tuple[float, float]
    k: int | None = None
    n: int | None = None


def forest_plot(
    rows: Sequence[ForestRow],
    *,
    title: str = "Overall response rate by subgroup",
    method: str = "95% CI Clopper–Pearson",
    reference: float | None = None,
    width: float = 8.0,
) -> Figure:
    """Rates with CIs by subgroup (percent scale), one row each, values printed on the right."""
    if not rows:
        raise ValueError("rows: at least one row is needed")
    fig_h = 1.2 + 0.38 * len(rows)
    fig = _new_figure(width, fig_h, constrained=False)
    names = [r.label for r in rows]
    values = [
        (f"{r.k}/{r.n}  " if r.k is not None and r.n is not None else "")
        + f"{r.rate * 100:.1f} ({r.ci[0] * 100:.1f}–{r.ci[1] * 100:.1f})"
        for r in rows
    ]
    # Fixed layout in points: subgroup names left, values right, title above, x axis below.
    gap = 6.0  # between the axes and the names/values beside it
    name_pt = _pt("ytick.labelsize")
    left_pt = EDGE_PT + _max_width_pt(names, name_pt) + gap
    right_pt = EDGE_PT + _max_width_pt(values, SMALL_PT) + gap
    top_pt = EDGE_PT + LINE * TITLE_PT + mpl.rcParams["axes.titlepad"]
    bottom_pt = EDGE_PT + _axis_band_pt("x", LINE * _pt("xtick.labelsize"))
    fig_w_pt, fig_h_pt = 72 * width, 72 * fig_h
    ax = fig.add_axes(
        (
            left_pt / fig_w_pt,
            bottom_pt / fig_h_pt,
            (fig_w_pt - left_pt - right_pt) / fig_w_pt,
            (fig_h_pt - top_pt - bottom_pt) / fig_h_pt,
        )
    )
    y = np.arange(len(rows))
    rates = np.array([r.rate for r in rows]) * 100
    lo = np.array([r.ci[0] for r in rows]) * 100
    hi = np.array([r.ci[1] for r in rows]) * 100
    ax.errorbar(
        rates,
        y,
        xerr=[rates - lo, hi - rates],
        fmt="s",
        color=PALETTE[0],
        ecolor=PALETTE[0],
        capsize=3,
        ms=6,
    )
    if reference is not None:
        ax.axvline(reference * 100, color="0.4", ls="--", lw=1)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    # Padded limits: a square at 0% or 100% would otherwise be cut in half by the frame.
    ax.set_xlim(-2, 102)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(f"Rate (%), {method}")
    ax.grid(True, axis="x", alpha=0.3)
    # Names and values are plain texts on the rows (y in data units, x at an axes edge):
    # 2 × n y-axis tick objects (one axis a secondary axes) cost more to build and draw.
    ax.set_yticks([])
    name_at = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-gap, units="points")
    value_at = offset_copy(ax.get_yaxis_transform(), fig=fig, x=gap, units="points")
    for yi, name, value in zip(range(len(rows)), names, values, strict=True):
        ax.text(
            0.0,
            yi,
            name,
            transform=name_at,
            ha="right",
            va="center",
            fontsize=name_pt,
        )
        ax.text(
            1.0,
            yi,
            value,
            transform=value_at,
            ha="left",
            va="center",
            fontsize=SMALL_PT,
        )
    ax.set_title(title, fontsize=TITLE_PT, y=1.0)
    return fig


# --------------------------------------------------------------------------- swimmer


@dataclass(frozen=True)
class SwimmerLane:
    """One patient: time on study, whether follow-up continues, and dated events."""

    patient_id: str
    end: float
    ongoing: bool = False
    response: Sequence[tuple[float, str]] = field(default_factory=tuple)  # (time, "CR"/"PR"...)
    progression: float | None = None
    death: float | None = None


# Marker, colour, size (points) and legend label per kind of event; responses keyed by the
# upper-case response code so "CRi"/"CRI" share the CR star.
_RESPONSE_MARKERS = {"CR": ("*", "#009E73"), "CRI": ("*", "#009E73"), "PR": ("^", "#0072B2")}
_PROGRESSION = ("X", "#D55E00")
_DEATH = ("s", "black")
_ONGOING_COLOUR = "0.3"
#: Lane pitch: 0.17 in (12 pt) keeps 7.5-pt patient ids apart; 40 lanes fit on one A4 page.
LANE_IN = 0.17
LANE_LABEL_PT = 7.5


def swimmer_plot(
    lanes: Sequence[SwimmerLane],
    *,
    title: str = "Time on study after infusion",
    xlabel: str = "Months after infusion",
    width: float = 8.0,
) -> Figure:
    """Horizontal bar per patient with response, progression and death markers.

    Lanes are drawn top to bottom in the given order (sort by time on study first for the
    usual look). An arrow past the bar end means the patient was alive at last contact.
    """
    if not lanes:
        raise ValueError("lanes: at least one patient is needed")
    n = len(lanes)
    ids = [lane.patient_id for lane in lanes]
    legend_labels = ["CR/CRi", "PR", "Progression", "Death", "Alive at last contact"]
    # Fixed layout in points (as km_plot/forest_plot): constrained layout measured every
    # artist in an extra draw pass, the largest cost of a figure with 40 lanes.
    gap = 4.0  # between the axes' left edge and the patient ids
    left_pt = EDGE_PT + _max_width_pt(ids, LANE_LABEL_PT) + gap
    right_pt = EDGE_PT + _text_width_pt("00", _pt("xtick.labelsize")) / 2
    legend_pt = SMALL_PT * (
        2 * mpl.rcParams["legend.borderpad"] + LINE + mpl.rcParams["legend.borderaxespad"]
    )
    top_pt = EDGE_PT + LINE * TITLE_PT + 4 + legend_pt
    bottom_pt = EDGE_PT + _axis_band_pt("x", LINE * _pt("xtick.labelsize"))
    fig_h_pt = top_pt + bottom_pt + 72 * LANE_IN * max(n, 4)
    fig_w_pt = 72 * width
    fig = _new_figure(width, fig_h_pt / 72, constrained=False)
    ax = fig.add_axes(
        (
            left_pt / fig_w_pt,
            bottom_pt / fig_h_pt,
            (fig_w_pt - left_pt - right_pt) / fig_w_pt,
            (fig_h_pt - top_pt - bottom_pt) / fig_h_pt,
        )
    )
    y = np.arange(n)
    ends = np.array([lane.end for lane in lanes], dtype=float)
    xmax = float(ends.max()) * 1.08 or 1.0
    # One call per kind of artist (a bar container, one Line2D per marker kind, one quiver):
    # an artist per lane and event cost several times more to draw.
    # Bars as one thick-line collection: barh adds a Rectangle artist per lane (~40% of
    # this figure's build time at 40 lanes). Width in points = 55% of the lane pitch.
    ax.hlines(y, 0.0, ends, colors="#C8C8C8", lw=0.55 * 72 * LANE_IN, capstyle="butt")
    points: dict[tuple[str, str], tuple[list[float], list[int]]] = {}
    for i, lane in enumerate(lanes):
        for when, kind in lane.response:
            key = _RESPONSE_MARKERS.get(kind.upper(), ("o", "#56B4E9"))
            points.setdefault(key, ([], []))[0].append(when)
            points[key][1].append(i)
        for when_or_none, key in ((lane.progression, _PROGRESSION), (lane.death, _DEATH)):
            if when_or_none is not None:
                points.setdefault(key, ([], []))[0].append(when_or_none)
                points[key][1].append(i)
    sizes = {"*": 9.0, "^": 6.5, "X": 6.5, "s": 5.0, "o": 6.0}
    # Drawn in this order so a death square never hides the progression cross on its day.
    order = [
        _DEATH,
        _PROGRESSION,
        ("o", "#56B4E9"),
        _RESPONSE_MARKERS["PR"],
        _RESPONSE_MARKERS["CR"],
    ]
    for key in order:
        if key in points:
            xs, ys = points[key]
            ax.plot(
                xs,
                ys,
                ls="none",
                marker=key[0],
                color=key[1],
                ms=sizes[key[0]],
                mew=0.5,
                mec="white" if key[0] == "*" else key[1],
            )
    ongoing = [i for i, lane in enumerate(lanes) if lane.ongoing]
    if ongoing:
        arrow = 0.035 * xmax  # same length on every lane
        ax.quiver(
            ends[ongoing],
            np.array(ongoing, dtype=float),
            np.full(len(ongoing), arrow),
            np.zeros(len(ongoing)),
            angles="xy",
            scale_units="xy",
            scale=1.0,
            color=_ONGOING_COLOUR,
            width=0.0025,
            headwidth=5,
            headlength=5,
            headaxislength=4.5,
        )
    ax.set_ylim(n - 0.5 if n >= 4 else 3.5, -0.5)
    ax.set_xlim(0, xmax + 0.04 * xmax)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 3, 6, 10]))
    ax.set_xlabel(xlabel)
    ax.grid(True, axis="x", alpha=0.3)
    # Ids as texts on the lanes (y in data units): 40 y-tick objects cost more to lay out.
    ax.set_yticks([])
    at = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-gap, units="points")
    for i, pid in enumerate(ids):
        ax.text(0.0, i, pid, transform=at, ha="right", va="center", fontsize=LANE_LABEL_PT)
    legend = [
        Line2D([], [], marker="*", color="#009E73", ls="none", ms=9, mec="white", mew=0.5),
        Line2D([], [], marker="^", color="#0072B2", ls="none", ms=6.5),
        Line2D([], [], marker="X", color="#D55E00", ls="none", ms=6.5),
        Line2D([], [], marker="s", color="black", ls="none", ms=5),
        Line2D([], [], marker=r"$\rightarrow$", color=_ONGOING_COLOUR, ls="none", ms=10),
    ]
    # Legend above the lanes, so it never covers a bar end or a marker.
    ax.legend(
        legend,
        legend_labels,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=5,
        fontsize=SMALL_PT,
        frameon=False,
        handletextpad=0.3,
        columnspacing=1.2,
    )
    fig.suptitle(title, fontsize=TITLE_PT, y=1 - EDGE_PT / fig_h_pt, va="top")
    return fig


# --------------------------------------------------------------------------- toxicity


@dataclass(frozen=True)
class GradePrevalence:
    """One toxicity: per day, the number of patients with an ongoing episode of each grade.

    ``counts[g][d]`` is the count for grade ``g`` on ``days[d]`` of the plot; ``name`` is the
    panel title and should name the grading scale (e.g. ``"CRS (ASTCT 2019)"``)."""

    name: str
    counts: Mapping[int, Sequence[int]]


def toxicity_prevalence_plot(
    panels: Sequence[GradePrevalence],
    days: Sequence[int],
    n: int,
    *,
    title: str = "Patients with ongoing CRS and neurotoxicity by day after infusion",
    ylabel: str | None = None,
    width: float = 7.5,
) -> Figure:
    """Cohort view: % of *n* patients with an ongoing episode per day, stacked by grade.

    One panel per toxicity, sharing the x (day) and y (%) axes so the panels compare at a
    glance. Days are whole days after infusion (day 0 = infusion); each day is a bar.
    """
    if not panels:
        raise ValueError("panels: at least one toxicity is needed")
    if n <= 0:
        raise ValueError("n: the denominator must be positive")
    for p in panels:
        for g, c in p.counts.items():
            if len(c) != len(days):
                raise ValueError(f"{p.name}: grade {g} has {len(c)} counts for {len(days)} days")
    d = np.asarray(days, dtype=float)
    edges = np.concatenate((d - 0.5, [d[-1] + 0.5]))
    grades = sorted({g for p in panels for g in p.counts})
    totals = [
        np.sum([np.asarray(p.counts[g], dtype=float) for g in p.counts], axis=0)
        if p.counts
        else np.zeros(len(d))
        for p in panels
    ]
    peak = max(float(t.max()) for t in totals) * 100 / n
    ymax = max(5.0, peak * 1.1)
    panel_in = 1.9
    legend_pt = SMALL_PT * (
        2 * mpl.rcParams["legend.borderpad"] + LINE + mpl.rcParams["legend.borderaxespad"]
    )
    title_pt = LINE * TITLE_PT
    panel_title_pt = LINE * SMALL_PT + mpl.rcParams["axes.titlepad"]
    # The legend sits above the first panel's title, both above its axes.
    top_pt = EDGE_PT + title_pt + 4 + legend_pt + panel_title_pt
    bottom_pt = EDGE_PT + _axis_band_pt("x", LINE * _pt("xtick.labelsize"))
    between_pt = panel_title_pt + 6
    fig_h_pt = top_pt + bottom_pt + len(panels) * 72 * panel_in + (len(panels) - 1) * between_pt
    fig_w_pt = 72 * width
    fig = _new_figure(width, fig_h_pt / 72, constrained=False)
    left_pt = EDGE_PT + _axis_band_pt("y", _text_width_pt("100", _pt("ytick.labelsize")))
    right_pt = EDGE_PT + 4
    axes: list[Axes] = []
    for i, p in enumerate(panels):
        y0 = bottom_pt + (len(panels) - 1 - i) * (72 * panel_in + between_pt)
        ax = fig.add_axes(
            (
                left_pt / fig_w_pt,
                y0 / fig_h_pt,
                (fig_w_pt - left_pt - right_pt) / fig_w_pt,
                72 * panel_in / fig_h_pt,
            ),
        )
        axes.append(ax)
        # One filled step band per grade (the picture of stacked daily bars without a
        # rectangle per day and grade); fill_between's collection skips the Bézier extents
        # pass that a stairs patch costs when the axes update their limits.
        base = np.zeros(len(d) + 1)
        for g in grades:
            pct = np.asarray(p.counts.get(g, [0] * len(d)), dtype=float) * 100 / n
            top = base + np.append(pct, pct[-1])
            if pct.any():
                ax.fill_between(edges, base, top, step="post", color=GRADE_COLOURS[min(g, 5)], lw=0)
            base = top
        ax.step(edges, base, where="post", color="0.25", lw=0.6)  # any-grade outline
        ax.set_ylim(0, ymax)
        ax.set_xlim(edges[0], edges[-1])
        ax.set_title(p.name, fontsize=SMALL_PT + 0.5, loc="left", y=1.0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
        ax.grid(True, axis="y", alpha=0.3)
        if i < len(panels) - 1:
            # No x ticks above the last panel (same limits, grid on y only): tick objects
            # are the largest cost of drawing these panels.
            ax.set_xticks([])
    # Weekly ticks: day 7/14/21/28 are the visits clinicians read the course by.
    axes[-1].set_xticks(range(0, int(d[-1]) + 1, 7))
    axes[-1].set_xlabel("Days after infusion (day 0 = infusion)")
    fig.supylabel(
        ylabel or f"% of patients (N = {n})",
        fontsize=_pt("axes.labelsize"),
        x=EDGE_PT / fig_w_pt,
        ha="left",
    )
    legend = [Patch(facecolor=GRADE_COLOURS[min(g, 5)], label=f"Grade {g}") for g in grades]
    axes[0].legend(
        handles=legend,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0 + panel_title_pt / (72 * panel_in)),
        ncol=max(len(legend), 1),
        fontsize=SMALL_PT,
        frameon=False,
    )
    fig.suptitle(title, fontsize=TITLE_PT, y=1 - EDGE_PT / fig_h_pt, va="top")
    return fig
