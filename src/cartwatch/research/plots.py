"""Research figures: the sweep's power curve and the cure model over the Kaplan–Meier.

Built as :class:`matplotlib.figure.Figure` with the Agg canvas (never ``pyplot``), colours
from the Okabe & Ito (2008) colour-blind-safe palette, the method named in each title.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES = ("-", "--", ":", "-.")
Z95 = 1.959963984540054


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def power_curve(result: Mapping[str, Any]) -> Figure:
    """Power (±1.96 MC se) against the first grid key: a colour per test, a line style and
    marker per combination of the other grid keys, the legend outside the axes."""
    keys: list[str] = list(result["grid_keys"])
    cells: list[Mapping[str, Any]] = list(result["cells"])
    x_key, others = keys[0], keys[1:]
    tests = list(cells[0]["power"]) if cells else []
    fig = _figure(9.0, 4.6)
    ax = fig.add_subplot()
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for cell in cells:
        groups.setdefault(tuple(cell[k] for k in others), []).append(cell)
    dashes = itertools.cycle(LINESTYLES)
    for (combo, members), marker in zip(groups.items(), itertools.cycle(MARKERS), strict=False):
        members = sorted(members, key=lambda c: c[x_key])
        x = [c[x_key] for c in members]
        style = next(dashes)
        for test, colour in zip(tests, PALETTE, strict=False):
            y = [c["power"][test] for c in members]
            err = [Z95 * c["mc_se"][test] for c in members]
            label = test + "".join(f", {k} = {v:g}" for k, v in zip(others, combo, strict=True))
            ax.errorbar(
                x,
                y,
                yerr=err,
                marker=marker,
                color=colour,
                linestyle=style,
                capsize=3,
                linewidth=1.4,
                markersize=5,
                label=label,
            )
    ax.set_xlabel(x_key)
    ax.set_ylabel("power (rejection rate)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(f"Simulated power by {x_key} (±1.96 Monte Carlo SE)", fontsize=11)
    return fig


def operating_characteristics(
    curves: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike | None]],
    rates: npt.ArrayLike,
    *,
    p0: float,
    p1: float,
    alpha: float,
    power: float,
) -> Figure:
    """P(reject H0) (solid) and P(early stop) (dashed) against the true response rate."""
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot()
    for (label, (reject, stop)), colour in zip(curves.items(), PALETTE, strict=False):
        ax.plot(rates, reject, color=colour, linewidth=1.6, label=f"{label}: P(reject H0)")
        if stop is not None:
            ax.plot(
                rates,
                stop,
                color=colour,
                linewidth=1.2,
                linestyle="--",
                label=f"{label}: P(stop after stage 1)",
            )
    for x, name in ((p0, "p0"), (p1, "p1")):
        ax.axvline(x, color="#777777", linewidth=0.8, linestyle=":")
        ax.annotate(
            f"{name} = {x:g}",
            (x, 1.01),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.axhline(alpha, color="#999999", linewidth=0.8, linestyle=":")
    ax.axhline(power, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("true response rate")
    ax.set_ylabel("probability")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center right")
    ax.set_title("Operating characteristics (exact binomial)", fontsize=11, pad=14)
    return fig


def cure_curve(
    km_steps: Sequence[tuple[Sequence[float], Sequence[float], str]],
    fits: Sequence[tuple[Sequence[float], Sequence[float], float, str]],
    *,
    title: str,
    xlabel: str = "months",
) -> Figure:
    """KM step curves with the fitted cure-model survival and its cure fraction (dashed)."""
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot()
    colours = itertools.cycle(PALETTE)
    for (t, s, label), (ft, fs, cure, _), colour in zip(km_steps, fits, colours, strict=False):
        ax.step(t, s, where="post", color=colour, linewidth=1.6, label=f"{label} (KM)")
        ax.plot(
            ft,
            fs,
            color=colour,
            linewidth=1.2,
            linestyle="--",
            label=f"{label} cure model, cure fraction {cure:.2f}",
        )
        ax.axhline(cure, color=colour, linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("survival probability")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title, fontsize=11)
    return fig


def save_png(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    out = Path(path)
    fig.savefig(out, dpi=dpi, format="png")
    return out
