"""Report figures: Kaplan–Meier with numbers at risk, forest, swimmer and toxicity timeline.

Figures are built as :class:`matplotlib.figure.Figure` objects drawn with the Agg canvas, never
through ``pyplot``, so nothing leaks into a global figure registry (safe in the web app and in
tests). Every KM figure states its method and CI transform in the title, because R, SAS and
lifelines differ on the default transform (prior-art.md §4).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from cartwatch.outcomes.survival import KaplanMeier, numbers_at_risk

# Colour-blind-safe qualitative palette (Okabe & Ito 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
# Grade colours, light → dark: grade 1..5 (5 = death).
GRADE_COLOURS = {1: "#FEE391", 2: "#FDAE61", 3: "#E6550D", 4: "#A50F15", 5: "#000000"}


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # attach the Agg canvas explicitly (no pyplot state)
    return fig


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
    fig = _new_figure(width, height or 5.2 + 0.28 * n_groups)
    grid = fig.add_gridspec(2, 1, height_ratios=[5.0, 0.55 + 0.32 * n_groups])
    ax = fig.add_subplot(grid[0])
    risk = fig.add_subplot(grid[1], sharex=ax)
    risk.set_label("numbers-at-risk")

    first = next(iter(curves.values()))
    for i, (label, km) in enumerate(curves.items()):
        colour = PALETTE[i % len(PALETTE)]
        x = np.concatenate(([0.0], km.time))
        ax.step(
            x,
            np.concatenate(([1.0], km.surv)),
            where="post",
            color=colour,
            lw=1.8,
            label=f"{label} (n={km.n}, events={km.events})",
        )
        if show_ci:
            lo = np.concatenate(([1.0], km.lower))
            hi = np.concatenate(([1.0], km.upper))
            ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.15, lw=0)
        cens = km.n_censor > 0
        ax.plot(km.time[cens], km.surv[cens], ls="none", marker="|", ms=8, mew=1.3, color=colour)

    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0.0, max(ticks[-1], max(float(k.time[-1]) for k in curves.values())))
    ax.set_xticks(ticks)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], ls="none", marker="|", ms=8, color="0.3"))
    labels.append("censored")
    # Legend above the plot area, so it never hides a curve or its band.
    ax.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        fontsize=9,
        ncol=2 if max(len(lb) for lb in labels) <= 30 else 1,
        frameon=False,
    )
    level = round(first.conf_level * 100)
    method = (
        f"Kaplan–Meier; {level}% pointwise CI, {first.conf_type} transform, "
        f"{first.variance.capitalize()} variance"
    )
    fig.suptitle(f"{title}\n{method}" if title else method, fontsize=11)

    # Risk table: one row per group, counts centred under each tick.
    for row, km in enumerate(curves.values()):
        colour = PALETTE[row % len(PALETTE)]
        for t, n_at in zip(ticks, numbers_at_risk(km, ticks), strict=True):
            risk.text(t, row, str(n_at), ha="center", va="center", fontsize=9, color=colour)
    risk.set_ylim(n_groups - 0.5, -0.5)
    risk.set_yticks(range(n_groups))
    risk.set_yticklabels(list(curves), fontsize=9)
    for tick_label, colour in zip(risk.get_yticklabels(), PALETTE, strict=False):
        tick_label.set_color(colour)
    risk.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    # Pad the group labels so they clear the counts centred on the t = 0 column.
    risk.tick_params(axis="y", length=0, pad=18)
    for spine in risk.spines.values():
        spine.set_visible(False)
    risk.set_title("Number at risk", fontsize=9, loc="left")
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
    fig = _new_figure(width, 1.2 + 0.38 * len(rows))
    ax = fig.add_subplot()
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
    ax.set_yticks(y)
    ax.set_yticklabels([r.label for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"Rate (%), {method}")
    ax.grid(True, axis="x", alpha=0.3)
    right = ax.secondary_yaxis("right")
    right.set_yticks(y)
    right.set_yticklabels(
        [
            (f"{r.k}/{r.n}  " if r.k is not None and r.n is not None else "")
            + f"{r.rate * 100:.1f} ({r.ci[0] * 100:.1f}–{r.ci[1] * 100:.1f})"
            for r in rows
        ],
        fontsize=9,
    )
    right.tick_params(length=0)
    ax.set_title(title, fontsize=11)
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


_RESPONSE_MARKERS = {"CR": ("*", "#009E73"), "CRI": ("*", "#009E73"), "PR": ("^", "#0072B2")}


def swimmer_plot(
    lanes: Sequence[SwimmerLane],
    *,
    title: str = "Time on study after infusion",
    xlabel: str = "Months after infusion",
    width: float = 8.0,
) -> Figure:
    """Horizontal bar per patient with response, progression and death markers.

    Lanes are drawn in the given order (sort by time on study first for the usual look). An
    arrow at the bar end means follow-up is ongoing.
    """
    if not lanes:
        raise ValueError("lanes: at least one patient is needed")
    fig = _new_figure(width, 1.4 + 0.3 * len(lanes))
    ax = fig.add_subplot()
    arrow = 0.035 * max(lane.end for lane in lanes)  # same arrow length on every lane
    for i, lane in enumerate(lanes):
        ax.barh(i, lane.end, height=0.6, color="#D9D9D9", edgecolor="0.5", lw=0.5)
        for when, kind in lane.response:
            marker, colour = _RESPONSE_MARKERS.get(kind.upper(), ("o", "#56B4E9"))
            ax.plot(when, i, marker=marker, color=colour, ms=9, ls="none")
        if lane.progression is not None:
            ax.plot(lane.progression, i, marker="X", color="#D55E00", ms=8, ls="none")
        if lane.death is not None:
            ax.plot(lane.death, i, marker="s", color="black", ms=6, ls="none")
        if lane.ongoing:
            ax.annotate(
                "",
                xy=(lane.end + arrow, i),
                xytext=(lane.end, i),
                arrowprops={"arrowstyle": "->", "color": "0.3", "lw": 1.2},
            )
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([lane.patient_id for lane in lanes], fontsize=8)
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    ax.set_xlim(0, max(lane.end for lane in lanes) * 1.1)
    ax.set_xlabel(xlabel)
    ax.grid(True, axis="x", alpha=0.3)
    legend = [
        Line2D([], [], marker="*", color="#009E73", ls="none", ms=9, label="CR/CRi"),
        Line2D([], [], marker="^", color="#0072B2", ls="none", ms=8, label="PR"),
        Line2D([], [], marker="X", color="#D55E00", ls="none", ms=8, label="Progression"),
        Line2D([], [], marker="s", color="black", ls="none", ms=6, label="Death"),
        Line2D([], [], marker=r"$\rightarrow$", color="0.3", ls="none", ms=10, label="Ongoing"),
    ]
    fig.legend(handles=legend, loc="outside lower center", ncol=5, fontsize=8, frameon=False)
    ax.set_title(title, fontsize=11)
    return fig


# --------------------------------------------------------------------------- toxicity


@dataclass(frozen=True)
class ToxicityCourse:
    """Daily CRS and ICANS grades (ASTCT 2019) of one patient; day 0 = infusion."""

    patient_id: str
    days: Sequence[int]
    crs: Sequence[int | None]
    icans: Sequence[int | None]


def _grade_lane(ax: Axes, row: int, days: Sequence[int], grades: Sequence[int | None]) -> None:
    for day, grade in zip(days, grades, strict=True):
        if grade:
            ax.broken_barh(
                [(day - 0.5, 1.0)],
                (row - 0.4, 0.8),
                facecolors=GRADE_COLOURS[min(int(grade), 5)],
                edgecolor="white",
                lw=0.4,
            )


def toxicity_timeline(
    courses: Sequence[ToxicityCourse],
    *,
    title: str = "CRS and ICANS after infusion (ASTCT 2019 grades)",
    max_day: int | None = None,
    width: float = 8.0,
) -> Figure:
    """Per-patient daily CRS (top panel) and ICANS (bottom panel) grades as coloured cells."""
    if not courses:
        raise ValueError("courses: at least one patient is needed")
    for c in courses:
        if not (len(c.days) == len(c.crs) == len(c.icans)):
            raise ValueError(f"{c.patient_id}: days, crs and icans must have the same length")
    last = max_day if max_day is not None else max(max(c.days, default=0) for c in courses)
    n = len(courses)
    fig = _new_figure(width, 2.2 + 0.5 * n)
    crs_ax, icans_ax = fig.subplots(2, 1, sharex=True)
    for ax, name, attr in ((crs_ax, "CRS", "crs"), (icans_ax, "ICANS", "icans")):
        for row, c in enumerate(courses):
            _grade_lane(ax, row, c.days, getattr(c, attr))
        ax.set_yticks(range(n))
        ax.set_yticklabels([c.patient_id for c in courses], fontsize=8)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_ylabel(name)
        ax.grid(True, axis="x", alpha=0.3)
    icans_ax.set_xlim(-0.5, last + 0.5)
    icans_ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
    icans_ax.set_xlabel("Days after infusion (day 0 = infusion)")
    legend = [Patch(facecolor=GRADE_COLOURS[g], label=f"Grade {g}") for g in (1, 2, 3, 4, 5)]
    fig.legend(handles=legend, loc="outside lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    return fig
