"""Presentation helpers: record tables and the patient timeline (an inline SVG).

Nothing here grades or decides: grades, reasons and standards are the stored results the
services computed at save time, rows come from ``services.present.present`` (which blanks
identifying fields for roles without access to them), and the obligations come from the
schedule engine of the label in force. This module only lays them out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cartwatch.outcomes.plots import GRADE_COLOURS

# --------------------------------------------------------------------------- record tables


@dataclass(frozen=True)
class Cell:
    text: str = ""
    items: tuple[str, ...] = ()  # shown as a list (reasons)
    grade: int | None = None  # shown as a grade badge


@dataclass(frozen=True)
class Column:
    label: str
    get: Callable[[dict[str, Any]], Cell]


def _dig(rec: dict[str, Any], path: str) -> Any:
    node: Any = rec
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def fmt(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "; ".join(fmt(v) for v in value) or "—"
    if isinstance(value, str) and "T" in value and len(value) >= 16 and value[4] == "-":
        return value[:16].replace("T", " ")  # ISO local date-time → "2025-07-02 08:00"
    return str(value).replace("_", " ")


def col(label: str, path: str, unit: str = "") -> Column:
    def get(rec: dict[str, Any]) -> Cell:
        value = _dig(rec, path)
        text = fmt(value)
        return Cell(text + (f" {unit}" if unit and value is not None else ""))

    return Column(label, get)


def grade_col(label: str, path: str = "result.grade") -> Column:
    def get(rec: dict[str, Any]) -> Cell:
        value = _dig(rec, path)
        return Cell(fmt(value), grade=value if isinstance(value, int) else None)

    return Column(label, get)


def reasons_col() -> Column:
    def get(rec: dict[str, Any]) -> Cell:
        reasons = _dig(rec, "result.reasons") or []
        return Cell(items=tuple(str(r) for r in reasons))

    return Column("Reasons", get)


def _oxygen(rec: dict[str, Any]) -> Cell:
    device = _dig(rec, "data.oxygen_device") or "none"
    flow = _dig(rec, "data.oxygen_flow_l_min")
    return Cell(fmt(device) + (f", {flow:g} L/min" if isinstance(flow, int | float) else ""))


def _ice(rec: dict[str, Any]) -> Cell:
    items = _dig(rec, "data.ice_items")
    if isinstance(items, dict):
        return Cell(f"{sum(v for v in items.values() if isinstance(v, int))} (items)")
    if _dig(rec, "data.capd_score") is not None:
        return Cell(f"CAPD {_dig(rec, 'data.capd_score')}")
    return Cell(fmt(_dig(rec, "data.ice_score")))


def _dose(rec: dict[str, Any]) -> Cell:
    dose, unit = _dig(rec, "data.dose"), _dig(rec, "data.dose_unit")
    return Cell("—" if dose is None else f"{dose:g} {unit or ''}".strip())


STANDARD = col("Standard", "result.standard")

#: Columns per record kind (the keys of services.records.KINDS, plus eligibility).
COLUMNS: dict[str, tuple[Column, ...]] = {
    "eligibility": (
        col("Decision date", "data.as_of"),
        col("Eligible", "result.eligible"),
        col("Label version", "result.label_version"),
        reasons_col(),
    ),
    "prior-lines": (
        col("Line", "data.line_number"),
        col("Agents", "data.agents"),
        col("Start", "data.start_date"),
        col("End", "data.end_date"),
        col("Outcome", "data.outcome"),
    ),
    "cell-therapy": (
        col("Product", "data.product"),
        col("Apheresis", "data.apheresis_date"),
        col("Lymphodepletion", "data.lymphodepletion_start"),
        col("Regimen", "data.lymphodepletion_regimen"),
        col("Infusion", "data.infusion_date"),
        col("Lot", "data.lot"),
        col("Dose (× 10⁶ CAR+ T)", "data.dose_10e6_car_t_cells"),
    ),
    "crs": (
        col("Observed", "data.observed_at"),
        col("Temp.", "data.temperature_c", "°C"),
        col("Vasopressors", "data.vasopressors"),
        Column("Oxygen", _oxygen),
        grade_col("CRS grade"),
        reasons_col(),
        STANDARD,
    ),
    "icans": (
        col("Observed", "data.observed_at"),
        Column("ICE / CAPD", _ice),
        col("Consciousness", "data.consciousness"),
        col("Seizure", "data.seizure"),
        col("Motor", "data.motor_weakness"),
        col("Oedema", "data.cerebral_edema"),
        grade_col("ICANS grade"),
        reasons_col(),
        STANDARD,
    ),
    "treatments": (
        col("Given", "data.given_at"),
        col("Agent", "data.agent"),
        col("Indication", "data.indication"),
        Column("Dose", _dose),
    ),
    "labs": (
        col("Drawn", "data.observed_at"),
        col("ANC", "data.neutrophils_10e9_l"),
        col("Platelets", "data.platelets_10e9_l"),
        col("Hb", "data.hemoglobin_g_dl"),
        col("ALC", "data.lymphocytes_10e9_l"),
        grade_col("Neutropenia", "result.grade_neutrophil_count_decreased"),
        grade_col("Thrombocytopenia", "result.grade_platelet_count_decreased"),
        grade_col("Anaemia", "result.grade_anemia"),
        reasons_col(),
        STANDARD,
    ),
    "responses": (
        col("Assessed", "data.assessed_at"),
        col("Timepoint", "data.timepoint"),
        col("SPD (cm²)", "data.lymph_nodes_spd_cm2"),
        col("ALC", "data.lymphocytes_10e9_l"),
        col("Response", "result.response"),
        reasons_col(),
        STANDARD,
    ),
    "mrd": (
        col("Sampled", "data.sampled_at"),
        col("Sample", "data.sample"),
        col("Result", "data.result"),
        col("Level", "data.level"),
        col("Sensitivity", "data.sensitivity"),
        col("Method", "data.method"),
        col("Status", "result.status"),
        reasons_col(),
    ),
    "followup": (
        col("Date", "data.event_date"),
        col("Event", "data.event"),
        col("Cause of death", "data.death_cause"),
        col("Detail", "data.detail"),
    ),
}

TITLES: dict[str, str] = {
    "eligibility": "Eligibility checks",
    "prior-lines": "Prior lines of therapy",
    "cell-therapy": "CAR-T course",
    "crs": "CRS assessments",
    "icans": "ICANS assessments",
    "treatments": "Tocilizumab, steroids and other doses",
    "labs": "Blood counts",
    "responses": "iwCLL response assessments",
    "mrd": "MRD",
    "followup": "Follow-up events",
}


@dataclass
class RecordTable:
    kind: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    add_url: str | None = None
    add_label: str = ""


def record_table(kind: str, records: Sequence[dict[str, Any]]) -> RecordTable:
    columns = COLUMNS[kind]
    return RecordTable(
        kind=kind,
        title=TITLES[kind],
        headers=[c.label for c in columns],
        rows=[[c.get(rec) for c in columns] for rec in records],
    )


# --------------------------------------------------------------------------- timeline


@dataclass
class Timeline:
    svg: str
    summary: list[str] = field(default_factory=list)


def _local_date(iso: str | None) -> dt.date | None:
    if not iso:
        return None
    when = parse_datetime(iso)
    if when is None:
        return dt.date.fromisoformat(iso[:10])
    return timezone.localtime(when).date() if timezone.is_aware(when) else when.date()


STEROIDS = ("dexamethasone", "methylprednisolone")

# Geometry of the SVG (user units; it scales with the page width).
W, LEFT, RIGHT = 960, 150, 20
LANE = 26


def _daily_max(points: list[tuple[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for day, grade in points:
        out[day] = max(grade, out.get(day, 0))
    return out


def timeline(
    infusion: dt.date | None,
    crs: Sequence[dict[str, Any]],
    icans: Sequence[dict[str, Any]],
    treatments: Sequence[dict[str, Any]],
    labs: Sequence[dict[str, Any]],
    obligations: Sequence[tuple[str, dt.date]] = (),
) -> Timeline | None:
    """CRS/ICANS grade per day after infusion, doses, counts and obligation end dates.

    Day 0 = infusion. Each grade cell shows the highest stored grade of that day; the
    reasons stay in the tables under the chart (and in the SVG tooltips).
    """
    if infusion is None:
        return None

    def day(iso: str | None) -> int | None:
        d = _local_date(iso)
        return None if d is None else (d - infusion).days

    crs_pts = [(day(r["data"]["observed_at"]), r["result"]["grade"]) for r in crs]
    icans_pts = [(day(r["data"]["observed_at"]), r["result"]["grade"]) for r in icans]
    crs_day = _daily_max([(d, g) for d, g in crs_pts if d is not None and d >= 0])
    icans_day = _daily_max([(d, g) for d, g in icans_pts if d is not None and d >= 0])
    doses = [
        (day(t["data"]["given_at"]), t["data"]["agent"], t["data"].get("dose"),
         t["data"].get("dose_unit"))
        for t in treatments
    ]  # fmt: skip
    doses = [x for x in doses if x[0] is not None and x[0] >= 0]
    counts = [
        (day(lab["data"]["observed_at"]), lab["data"].get("neutrophils_10e9_l"),
         lab["data"].get("platelets_10e9_l"))
        for lab in labs
    ]  # fmt: skip
    counts = [x for x in counts if x[0] is not None and x[0] >= 0]
    obligation_days = [((until - infusion).days, what, until) for what, until in obligations]

    data_days = [*crs_day, *icans_day, *(d for d, *_ in doses), *(d for d, *_ in counts)]
    last = max([14, *data_days, *(d for d, _, _ in obligation_days if d <= 60)])
    last = min(last, 60)
    span = last + 1
    x0, x1 = LEFT, W - RIGHT
    cell = (x1 - x0) / span

    def x(d: float) -> float:
        return x0 + (d + 0.5) * cell

    parts: list[str] = []
    y = 30
    # Axis: day numbers.
    step = 1 if span <= 21 else 2 if span <= 42 else 5
    for d in range(0, span, step):
        parts.append(f'<text x="{x(d):.1f}" y="{y}" class="tl-tick">{d}</text>')
    parts.append(f'<text x="{LEFT - 8}" y="{y}" class="tl-label">day</text>')
    y += 10
    top = y

    def lane(label: str, cells: dict[int, int], name: str) -> None:
        nonlocal y
        parts.append(f'<text x="{LEFT - 8}" y="{y + LANE * 0.65:.1f}" class="tl-label">'
                     f"{escape(label)}</text>")  # fmt: skip
        for d in range(span):
            g = cells.get(d)
            fill = "#f3f4f6" if g is None else ("#e5f5e0" if g == 0 else GRADE_COLOURS[min(g, 5)])
            title = f"day {d}: no {name} assessment" if g is None else f"day {d}: {name} grade {g}"
            parts.append(
                f'<rect x="{x0 + d * cell + 1:.1f}" y="{y}" width="{cell - 2:.1f}" '
                f'height="{LANE - 4}" rx="3" fill="{fill}"><title>{escape(title)}</title></rect>'
            )
            if g is not None:
                ink = "#ffffff" if g >= 3 else "#1f2937"
                parts.append(
                    f'<text x="{x(d):.1f}" y="{y + LANE * 0.55:.1f}" class="tl-grade" '
                    f'fill="{ink}">{g}</text>'
                )
        y += LANE

    lane("CRS grade", crs_day, "CRS")
    lane("ICANS grade", icans_day, "ICANS")

    def dose_lane(label: str, agents: Sequence[str], colour: str) -> None:
        nonlocal y
        parts.append(f'<text x="{LEFT - 8}" y="{y + LANE * 0.65:.1f}" class="tl-label">'
                     f"{escape(label)}</text>")  # fmt: skip
        parts.append(
            f'<line x1="{x0}" x2="{x1}" y1="{y + LANE / 2}" y2="{y + LANE / 2}" stroke="#e5e7eb" />'
        )
        for d, agent, dose, unit in doses:
            if agent not in agents or d > last:
                continue
            cy = y + LANE / 2
            text = f"{agent} {'' if dose is None else f'{dose:g} {unit or ''}'}".strip()
            parts.append(
                f'<circle cx="{x(d):.1f}" cy="{cy}" r="7" fill="{colour}">'
                f"<title>day {d}: {escape(text)}</title></circle>"
            )
        y += LANE

    dose_lane("Tocilizumab", ("tocilizumab",), "#0072B2")
    dose_lane("Steroids", STEROIDS, "#CC79A7")

    # Counts: ANC and platelets as two small line charts (own scales).
    def count_lane(label: str, idx: int, colour: str, threshold: float | None) -> None:
        nonlocal y
        height = 48
        pts = [(d, c[idx - 1]) for d, *c in counts if c[idx - 1] is not None and d <= last]
        parts.append(f'<text x="{LEFT - 8}" y="{y + height / 2 + 4:.1f}" class="tl-label">'
                     f"{escape(label)}</text>")  # fmt: skip
        top_value = max([v for _, v in pts] + [threshold or 0, 1e-9])

        def yy(v: float) -> float:
            return y + height - 4 - (height - 8) * (v / top_value)

        parts.append(f'<rect x="{x0}" y="{y}" width="{x1 - x0}" height="{height}" '
                     'fill="none" stroke="#e5e7eb" />')  # fmt: skip
        if threshold is not None:
            parts.append(
                f'<line x1="{x0}" x2="{x1}" y1="{yy(threshold):.1f}" y2="{yy(threshold):.1f}" '
                f'stroke="{colour}" stroke-dasharray="4 3" stroke-opacity="0.6" />'
            )
        if pts:
            path = " ".join(f"{x(d):.1f},{yy(v):.1f}" for d, v in sorted(pts))
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         'stroke-width="2" />')  # fmt: skip
            for d, v in pts:
                parts.append(
                    f'<circle cx="{x(d):.1f}" cy="{yy(v):.1f}" r="3" fill="{colour}">'
                    f"<title>day {d}: {escape(label)} {v:g} × 10⁹/L</title></circle>"
                )
        y += height + 6

    count_lane("ANC (×10⁹/L)", 1, "#D55E00", 0.5)
    count_lane("Platelets (×10⁹/L)", 2, "#009E73", 50.0)

    # Infusion and obligation end dates as vertical markers.
    bottom = y
    parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{bottom}" '
                 'stroke="#111827" stroke-width="1.5" />')  # fmt: skip
    summary = [f"Day 0 = infusion on {infusion.isoformat()}."]
    for d, what, until in obligation_days:
        summary.append(f"{what} until {until.isoformat()} (day {d}).")
        if d > last:
            continue
        parts.append(
            f'<line x1="{x(d):.1f}" x2="{x(d):.1f}" y1="{top}" y2="{bottom + 4}" '
            'stroke="#6b7280" stroke-dasharray="5 3" />'
        )
        parts.append(f'<text x="{x(d):.1f}" y="{bottom + 18}" class="tl-obl">'
                     f"{escape(what)} until {until.isoformat()}</text>")  # fmt: skip
    height = bottom + 30
    desc = (
        "Daily highest CRS and ICANS grade (ASTCT 2019), tocilizumab and steroid doses, "
        "neutrophil and platelet counts by day after infusion. " + " ".join(summary)
    )
    svg = (
        f'<svg class="timeline" viewBox="0 0 {W} {height}" role="img" '
        f'aria-labelledby="tl-title tl-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="tl-title">Patient timeline after infusion</title>'
        f'<desc id="tl-desc">{escape(desc)}</desc>' + "".join(parts) + "</svg>"
    )
    return Timeline(svg=svg, summary=summary)
