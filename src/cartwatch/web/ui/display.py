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
from django.utils.safestring import SafeString, mark_safe

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


def named_once(label_version: str, standard: str) -> str:
    """ "US PI 2025-06 (REMS removed)", not the same version twice when the standard is the
    label itself."""
    if not standard or standard in label_version:
        return label_version
    return f"{label_version} ({standard})"


def without_version(label_version: str, reasons: Sequence[str]) -> list[str]:
    """Reasons that repeat the label version in a message that already names it once."""
    return [r.replace(f" of {label_version}", " of the label") for r in reasons]


def col(label: str, path: str, unit: str = "") -> Column:
    def get(rec: dict[str, Any]) -> Cell:
        value = _dig(rec, path)
        text = fmt(value)
        return Cell(text + (f" {unit}" if unit and value is not None else ""))

    return Column(label, get)


#: How a null stored CRS grade reads (contract v2 item 1: no temperature, fever required).
CRS_NOT_GRADABLE = "not gradable (temperature missing)"


def grade_col(label: str, path: str = "result.grade", missing: str | None = None) -> Column:
    """A stored grade as a badge; *missing* is said in words where the grade is null (the
    engine found it not gradable), instead of a dash that reads like "nothing"."""

    def get(rec: dict[str, Any]) -> Cell:
        value = _dig(rec, path)
        if value is None and missing is not None:
            return Cell(missing)
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
        grade_col("CRS grade", missing=CRS_NOT_GRADABLE),
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
        col("B lymph.", "data.b_lymphocytes_10e9_l"),
        col("BTKi/PI3Ki", "data.bcr_inhibitor_ongoing"),
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


def _cell_html(cell: Cell) -> str:
    if cell.grade is not None:
        return f'<td><span class="grade g{int(cell.grade)}">{escape(str(cell.text))}</span></td>'
    if cell.items:
        items = "".join(f"<li>{escape(str(i))}</li>" for i in cell.items)
        return f'<td><ul class="reasons">{items}</ul></td>'
    return f"<td>{escape(str(cell.text or '—'))}</td>"


@dataclass
class RecordTable:
    kind: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    add_url: str | None = None
    add_label: str = ""
    #: Per row: the form status and the record page's URL ("" = the role may not open it).
    statuses: list[str] = field(default_factory=list)
    record_urls: list[str] = field(default_factory=list)

    @property
    def all_headers(self) -> list[str]:
        return [*self.headers, "Form"] if self.statuses else self.headers

    def _status_html(self, i: int) -> str:
        status = escape(self.statuses[i])
        badge = f'<span class="status status-{status}">{status}</span>'
        url = self.record_urls[i] if i < len(self.record_urls) else ""
        link = f' <a href="{escape(url)}">open</a>' if url else ""
        return f"<td>{badge}{link}</td>"

    def rows_html(self) -> SafeString:
        """The ``<tr>`` rows, every text escaped. Built here rather than in a template loop:
        the template engine's per-cell cost was most of rendering a long patient page."""

        def status(i: int) -> str:
            return self._status_html(i) if self.statuses else ""

        return mark_safe(  # every value above is escaped
            "\n".join(
                "<tr>" + "".join(_cell_html(c) for c in row) + status(i) + "</tr>"
                for i, row in enumerate(self.rows)
            )
        )


def record_table(
    kind: str, records: Sequence[dict[str, Any]], record_url: Callable[[int], str] | None = None
) -> RecordTable:
    """The table of one record kind; with *record_url* (id → URL of the record's page) each
    row also shows its form status and a link to correct it and read its history."""
    columns = COLUMNS[kind]
    return RecordTable(
        kind=kind,
        title=TITLES[kind],
        headers=[c.label for c in columns],
        rows=[[c.get(rec) for c in columns] for rec in records],
        statuses=[str(rec.get("form_status", "")) for rec in records],
        record_urls=[record_url(rec["id"]) for rec in records] if record_url else [],
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
NOT_GRADABLE_FILL = "#fde68a"  # amber: assessed, grade unknown (not the green of grade 0)
W, LEFT, RIGHT = 960, 150, 20
LANE = 26


def _daily_max(points: Sequence[tuple[int | None, int | None]]) -> dict[int, int | None]:
    """Highest grade per day; None for a day whose assessments are all not gradable (a
    not-gradable assessment never lowers or replaces a graded one)."""
    out: dict[int, int | None] = {}
    for day, grade in points:
        if day is None or day < 0:
            continue
        if day not in out or out[day] is None:
            out[day] = grade
        elif grade is not None:
            out[day] = max(grade, out[day] or 0)
    return out


Dose = tuple[int, str, float | None, str | None]  # day, agent, dose, unit
Count = tuple[int, float | None, float | None]  # day, ANC, platelets


class _Svg:
    """Lanes stacked top to bottom over a shared day axis (day 0 = infusion)."""

    def __init__(self, last_day: int) -> None:
        self.span = last_day + 1
        self.x0, self.x1 = LEFT, W - RIGHT
        self.cell = (self.x1 - self.x0) / self.span
        self.parts: list[str] = []
        self.y = 30

    def x(self, d: float) -> float:
        return self.x0 + (d + 0.5) * self.cell

    def label(self, text: str, height: float) -> None:
        self.parts.append(
            f'<text x="{LEFT - 8}" y="{self.y + height / 2 + 4:.1f}" class="tl-label">'
            f"{escape(text)}</text>"
        )

    def axis(self) -> None:
        step = 1 if self.span <= 21 else 2 if self.span <= 42 else 5
        for d in range(0, self.span, step):
            self.parts.append(f'<text x="{self.x(d):.1f}" y="{self.y}" class="tl-tick">{d}</text>')
        self.parts.append(f'<text x="{LEFT - 8}" y="{self.y}" class="tl-label">day</text>')
        self.y += 10

    def grades(self, label: str, cells: dict[int, int | None], name: str) -> None:
        self.label(label, LANE)
        for d in range(self.span):
            g = cells.get(d)
            if d not in cells:
                fill, title, mark = "#f3f4f6", f"day {d}: no {name} assessment", ""
            elif g is None:  # assessed, but not gradable: a "?" in words, never a 0
                fill, title, mark = NOT_GRADABLE_FILL, f"day {d}: {name} not gradable", "?"
            else:
                fill = "#e5f5e0" if g == 0 else GRADE_COLOURS[min(g, 5)]
                title, mark = f"day {d}: {name} grade {g}", str(g)
            self.parts.append(
                f'<rect x="{self.x0 + d * self.cell + 1:.1f}" y="{self.y}" '
                f'width="{self.cell - 2:.1f}" height="{LANE - 4}" rx="3" fill="{fill}">'
                f"<title>{escape(title)}</title></rect>"
            )
            if mark:
                ink = "#ffffff" if g is not None and g >= 3 else "#1f2937"
                self.parts.append(
                    f'<text x="{self.x(d):.1f}" y="{self.y + LANE * 0.55:.1f}" class="tl-grade" '
                    f'fill="{ink}">{mark}</text>'
                )
        self.y += LANE

    def doses(self, label: str, doses: Sequence[Dose], colour: str) -> None:
        self.label(label, LANE)
        cy = self.y + LANE / 2
        self.parts.append(
            f'<line x1="{self.x0}" x2="{self.x1}" y1="{cy}" y2="{cy}" stroke="#e5e7eb" />'
        )
        for d, agent, dose, unit in doses:
            if d >= self.span:
                continue
            amount = "" if dose is None else f"{dose:g} {unit or ''}"
            text = f"{agent} {amount}".strip()
            self.parts.append(
                f'<circle cx="{self.x(d):.1f}" cy="{cy}" r="7" fill="{colour}">'
                f"<title>day {d}: {escape(text)}</title></circle>"
            )
        self.y += LANE

    def counts(
        self, label: str, pts: Sequence[tuple[int, float]], colour: str, threshold: float
    ) -> None:
        """A small line chart on its own scale, with a dashed reference line."""
        height = 56
        pts = [(d, v) for d, v in pts if d < self.span]
        self.label(label, height)
        top_value = max([v for _, v in pts] + [threshold])

        def yy(v: float) -> float:
            return self.y + height - 5 - (height - 18) * (v / top_value)

        self.parts.append(
            f'<rect x="{self.x0}" y="{self.y}" width="{self.x1 - self.x0}" height="{height}" '
            'fill="none" stroke="#e5e7eb" />'
        )
        self.parts.append(
            f'<line x1="{self.x0}" x2="{self.x1}" y1="{yy(threshold):.1f}" '
            f'y2="{yy(threshold):.1f}" stroke="{colour}" stroke-dasharray="4 3" '
            'stroke-opacity="0.6" />'
        )
        if pts:
            path = " ".join(f"{self.x(d):.1f},{yy(v):.1f}" for d, v in sorted(pts))
            self.parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" />'
            )
            for d, v in pts:
                self.parts.append(
                    f'<circle cx="{self.x(d):.1f}" cy="{yy(v):.1f}" r="3" fill="{colour}">'
                    f"<title>day {d}: {escape(label)} {v:g}</title></circle>"
                )
                if len(pts) <= 20:  # the values themselves, while they fit
                    self.parts.append(
                        f'<text x="{self.x(d):.1f}" y="{yy(v) - 5:.1f}" '
                        f'class="tl-value">{v:g}</text>'
                    )
        self.parts.append(
            f'<text x="{self.x1 - 3}" y="{yy(threshold) - 3:.1f}" '
            f'class="tl-ref">{threshold:g}</text>'
        )
        self.y += height + 6

    def markers(self, top: float, days: Sequence[tuple[int, str, dt.date]]) -> None:
        """Infusion at the start of day 0; an obligation through the end of its last day."""
        bottom = self.y
        start = self.x0
        self.parts.append(
            f'<line x1="{start:.1f}" x2="{start:.1f}" y1="{top}" y2="{bottom}" '
            'stroke="#111827" stroke-width="2"><title>infusion</title></line>'
        )
        by_day: dict[int, list[str]] = {}
        for d, what, _ in days:
            by_day.setdefault(d, []).append(what)
        lines = 0
        for d, whats in sorted(by_day.items()):
            if d >= self.span:
                continue
            until = next(u for dd, _, u in days if dd == d)
            edge = self.x(d) + self.cell / 2
            self.parts.append(
                f'<line x1="{edge:.1f}" x2="{edge:.1f}" y1="{top}" y2="{bottom + 4}" '
                'stroke="#6b7280" stroke-dasharray="5 3" />'
            )
            anchor = "end" if edge > W - 200 else "middle"
            text = f"{' and '.join(whats)} until {until.isoformat()} (inclusive)"
            self.parts.append(
                f'<text x="{edge:.1f}" y="{bottom + 18 + 14 * lines}" class="tl-obl" '
                f'text-anchor="{anchor}">{escape(text)}</text>'
            )
            lines += 1
        self.y = bottom + 22 + 14 * lines


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
    reasons stay in the tables under the chart (and in the SVG tooltips). The axis runs to
    day 14 or the last record or obligation date, whichever is later, at most day 60.
    """
    if infusion is None:
        return None

    def day(iso: str | None) -> int | None:
        d = _local_date(iso)
        return None if d is None else (d - infusion).days

    crs_day = _daily_max([(day(r["data"]["observed_at"]), r["result"]["grade"]) for r in crs])
    icans_day = _daily_max([(day(r["data"]["observed_at"]), r["result"]["grade"]) for r in icans])
    doses: list[Dose] = []
    for t in treatments:
        d = day(t["data"]["given_at"])
        if d is not None and d >= 0:
            doses.append((d, t["data"]["agent"], t["data"].get("dose"), t["data"].get("dose_unit")))
    counts: list[Count] = []
    for lab in labs:
        d = day(lab["data"]["observed_at"])
        if d is not None and d >= 0:
            counts.append(
                (d, lab["data"].get("neutrophils_10e9_l"), lab["data"].get("platelets_10e9_l"))
            )
    marks = [((until - infusion).days, what, until) for what, until in obligations]
    data_days = [*crs_day, *icans_day, *(d[0] for d in doses), *(c[0] for c in counts)]
    last = min(60, max([14, *data_days, *(d for d, _, _ in marks if d <= 60)]))

    svg = _Svg(last)
    svg.axis()
    top = svg.y
    svg.grades("CRS grade", crs_day, "CRS")
    svg.grades("ICANS grade", icans_day, "ICANS")
    svg.doses("Tocilizumab", [x for x in doses if x[1] == "tocilizumab"], "#0072B2")
    svg.doses("Steroids", [x for x in doses if x[1] in STEROIDS], "#CC79A7")
    # Reference lines: ANC 0.5 and platelets 50 × 10⁹/L (CTCAE grade 3 cut-offs, drawn as
    # orientation only; the graded values are in the blood-count table).
    svg.counts("ANC (×10⁹/L)", [(c[0], c[1]) for c in counts if c[1] is not None], "#D55E00", 0.5)
    svg.counts(
        "Platelets (×10⁹/L)", [(c[0], c[2]) for c in counts if c[2] is not None], "#009E73", 50.0
    )
    svg.markers(top, marks)
    summary = [f"Day 0 = infusion on {infusion.isoformat()}."] + [
        f"{what.capitalize()} until {until.isoformat()} (day {d})." for d, what, until in marks
    ]
    desc = (
        "Daily highest CRS and ICANS grade (ASTCT 2019), tocilizumab and steroid doses, "
        "neutrophil and platelet counts by day after infusion. " + " ".join(summary)
    )
    markup = (
        f'<svg class="timeline" viewBox="0 0 {W} {svg.y}" role="img" '
        'aria-labelledby="tl-title tl-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="tl-title">Patient timeline after infusion</title>'
        f'<desc id="tl-desc">{escape(desc)}</desc>' + "".join(svg.parts) + "</svg>"
    )
    return Timeline(svg=markup, summary=summary)
