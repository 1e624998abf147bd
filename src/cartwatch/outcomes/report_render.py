"""The report's renderings: JSON (every number), text, self-contained HTML and PDF
(WeasyPrint on the same HTML). They only format a built
:class:`~cartwatch.outcomes.report.Report`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from importlib import resources

import numpy as np

from cartwatch.outcomes import tables as tb
from cartwatch.outcomes.report import Report


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
