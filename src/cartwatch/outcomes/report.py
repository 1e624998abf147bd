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
from cartwatch.outcomes import tables as tb
from cartwatch.outcomes.survival import CONF_TYPES, km_median_ci, numbers_at_risk

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
            f"{table.population}. Squares: ORR; bars: exact 95% CI; dashed line: ORR of all "
            "patients. Right: responders/n, ORR % (95% CI)."
        ),
        png_base64=_png_base64(fig, dpi),
        data={
            "rows": [
                {"label": r.label, "k": r.k, "n": r.n, "rate": r.rate, "ci": list(r.ci)}
                for r in rows
            ]
        },
    )


# --------------------------------------------------------------------------- build


def _cut_off(adsl: pd.DataFrame) -> str:
    if "DCUTDT" not in adsl.columns:
        return "not recorded (ADSL.DCUTDT absent)"
    d = pd.to_datetime(adsl["DCUTDT"], errors="coerce").dropna()
    return d.max().date().isoformat() if not d.empty else "not recorded"


def _headline(data: tb.AdamData, efficacy: tb.Table, crs: tb.Table) -> dict[str, dict[str, object]]:
    def first_pair(row: tb.Row) -> dict[str, object]:
        return dict(row.cells[0].values)

    def safety(row_key: str, col: int) -> dict[str, object]:
        return dict(crs.row(row_key).cells[col].values)

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
    km_figs = tuple(
        _km_figure(d, fits[d.paramcd], eff_label, conf_type, figure_dpi)
        for d in tte
        if d.paramcd in ("PFS", "OS", "DOR") and fits[d.paramcd].groups
    )
    ae_table = tb.ae_incidence_table(adsl, data.adae)
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
            km_figs,
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
        ),
        Section(
            "subgroups",
            "Overall response by high-risk subgroup",
            f"ORR within subgroups; {tb.CP_METHOD}",
            (subgroups,),
            (forest,) if forest else (),
        ),
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
