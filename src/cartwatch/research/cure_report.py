"""Survival data for the cure fit (CSV columns or an ADaM ADTTE parameter) and its figure.

The CLI parses options; this module turns the columns into per-group (time, event) arrays
and draws the Kaplan–Meier curves with the fitted mixture cure survival over them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.outcomes.survival import kaplan_meier
from cartwatch.research.cure import CureFit
from cartwatch.research.plots import cure_curve

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["SurvivalFrame", "adtte_frame", "csv_frame", "cure_figure", "cure_text"]

FloatArray = npt.NDArray[np.float64]
Group = tuple[str, FloatArray, FloatArray]


@dataclass(frozen=True)
class SurvivalFrame:
    groups: list[Group]
    unit: str | None
    source: str


def csv_frame(
    time: npt.ArrayLike, event: npt.ArrayLike, labels: pd.Series | None, source: str
) -> SurvivalFrame:
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event, dtype=np.float64)
    if labels is None:
        return SurvivalFrame([("all", t, e)], None, source)
    values = labels.to_numpy()
    present = values != ""
    groups: list[Group] = []
    for label in sorted(set(values[present])):
        m = values == label
        groups.append((str(label), t[m], e[m]))
    return SurvivalFrame(groups, None, source)


def adtte_frame(path: Path, param: str, group: str | None) -> SurvivalFrame:
    """PARAMCD *param* of an ADaM ADTTE (XPT or CSV): time AVAL, event CNSR = 0."""
    from cartwatch.adam.xpt import AdamReadError, read_adam_csv, read_xpt

    try:
        df, _ = read_xpt(path) if path.suffix.lower() == ".xpt" else read_adam_csv(path)
    except AdamReadError as exc:
        raise ClinicalInputError([("file", p) for p in exc.problems]) from None
    except (OSError, ValueError) as exc:
        raise ClinicalInputError([("file", f"{path}: cannot read ({exc})")]) from None
    needed = ["PARAMCD", "AVAL", "CNSR", *([group] if group else [])]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ClinicalInputError([(c, f"no such variable in {path.name}") for c in missing])
    rows = df[df["PARAMCD"].astype(str).str.strip() == param]
    if rows.empty:
        known = ", ".join(sorted(set(df["PARAMCD"].astype(str)))[:8])
        raise ClinicalInputError([("param", f"no rows with PARAMCD {param!r} (has {known})")])
    unit = None
    if "AVALU" in rows.columns:
        units = sorted(set(rows["AVALU"].astype(str).str.strip()) - {""})
        unit = units[0].lower() if len(units) == 1 else None
    labels = rows[group].astype(str).str.strip() if group else None
    event = (rows["CNSR"].to_numpy(dtype=np.float64) == 0).astype(np.float64)
    frame = csv_frame(
        rows["AVAL"].to_numpy(dtype=np.float64), event, labels, f"{path.name} PARAMCD {param}"
    )
    return SurvivalFrame(frame.groups, unit, frame.source)


def cure_figure(
    groups: Sequence[Group], fits: Sequence[CureFit], *, title: str, unit: str | None
) -> Figure:
    steps = []
    curves = []
    for (label, t, e), fit in zip(groups, fits, strict=True):
        km = kaplan_meier(t, e)
        steps.append(([0.0, *km.time.tolist()], [1.0, *km.surv.tolist()], label))
        grid = np.linspace(0.0, float(t.max()) * 1.05, 200)
        curves.append((grid.tolist(), fit.survival(grid).tolist(), fit.cure_fraction, label))
    return cure_curve(steps, curves, title=title, xlabel=unit or "time")


def cure_text(result: Mapping[str, Any]) -> str:
    """A readable summary of a ``fit cure`` result: one paragraph per group."""
    unit = f" {result['time_unit']}" if result.get("time_unit") else ""
    lines = [f"{result['method']} ({result['source']})"]
    for g in result["groups"]:
        lo, hi = g["ci"]
        ci = "CI not estimable" if lo is None else f"95% CI {lo:.3f}–{hi:.3f}, logit Wald"
        plateau = g["km_plateau"]
        lines.append(
            f"{g['group']}: n {g['n']}, events {g['events']}; cure fraction "
            f"{g['cure_fraction']:.3f} ({ci}); KM plateau {plateau:.3f} from "
            f"{g['last_event_time']:g}{unit}; AIC {g['aic']:.1f} vs {g['aic_no_cure']:.1f} "
            f"without cure ({g['aic_prefers']} preferred)"
        )
        lines += [f"  • {note}" for note in g["notes"]]
    return "\n".join(lines)
