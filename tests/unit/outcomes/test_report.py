"""The report on the hand-built ADaM fixture of test_tables.py: header, self-contained HTML,
JSON holding every number shown, text, PDF, and bad input."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from test_tables import make_adam

from cartwatch.outcomes.report import (
    Report,
    ReportInputError,
    build_report,
    render_html,
    render_json,
    render_pdf,
    render_text,
)

WHEN = dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(make_adam(), source_label="hand fixture", generated_at=WHEN, figure_dpi=60)


def _numbers(value: object, out: set[float]) -> set[float]:
    """Every number in the JSON (any depth), skipping the display strings."""
    if isinstance(value, bool):
        return out
    if isinstance(value, int | float):
        out.add(float(value))
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != "text":
                _numbers(v, out)
    elif isinstance(value, list):
        for v in value:
            _numbers(v, out)
    return out


def test_header_states_source_cutoff_sets_version_and_time(report: Report) -> None:
    text = render_text(report)
    assert "Data source: hand fixture" in text
    assert "Data cut-off: 2024-06-30" in text
    assert "cartwatch 0.1.0, generated 2024-07-01T12:00:00+00:00" in text
    sets = {s["flag"]: s["n"] for s in report.meta["analysis_sets"]}  # type: ignore[attr-defined]
    assert sets == {"ENRLFL": 10, "SAFFL": 9, "EFFFL": 8, "PEASFL": 4, "LABELFL": 6}
    html = render_html(report)
    for needle in ("hand fixture", "2024-06-30", "Safety set N = 9", "US label population N = 6"):
        assert needle in html
    # Every section states its method.
    assert all(s.method for s in report.sections)
    assert text.count("Method:") >= len(report.sections)


def test_headline(report: Report) -> None:
    h = report.headline
    assert (h["cr_cri"]["k"], h["cr_cri"]["n"], h["cr_cri"]["percent"]) == (2, 6, 33.3)
    assert (h["orr"]["k"], h["orr"]["percent"]) == (3, 50.0)
    assert (h["crs_any"]["k"], h["crs_any"]["n"], h["crs_any"]["percent"]) == (4, 9, 44.4)
    assert h["neurotox_grade_ge_3"]["k"] == 1


def test_html_is_self_contained(report: Report) -> None:
    html = render_html(report)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<link" not in html.lower() and "@import" not in html
    # Four figures (PFS, OS, DOR by best response; forest), all inline PNG.
    assert html.count('src="data:image/png;base64,') == 4
    assert "ASTCT 2019" in html and "CTCAE v5.0" in html


def test_json_holds_every_percentage_and_count_shown(report: Report) -> None:
    data = json.loads(render_json(report))
    numbers = _numbers(data, set())
    text = render_text(report)
    percents = {float(p) for p in re.findall(r"(\d+\.\d)%", text)}
    assert percents, "the text rendering shows percentages"
    missing = sorted(p for p in percents if p not in numbers)
    assert not missing, f"percentages shown but not in the JSON: {missing}"
    # Every number in every table cell is in that cell's JSON values.
    for section in data["sections"]:
        for table in section["tables"]:
            for row in table["rows"]:
                for cell in row["cells"]:
                    if not re.match(r"\d", cell["text"]):
                        continue  # words: grading scales, set definitions
                    shown = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", cell["text"])}
                    held = _numbers({k: v for k, v in cell.items() if k != "text"}, set())
                    assert shown <= held, (table["key"], row["label"], cell)


def test_json_has_figure_data(report: Report) -> None:
    data = json.loads(render_json(report))
    km = next(f for s in data["sections"] for f in s["figures"] if f["key"] == "km_pfs_by_response")
    # Label population PFS by best response; times every 6 months (max 24.5): 0, 6, ... 24.
    assert km["risk_times"] == [0.0, 6.0, 12.0, 18.0, 24.0]
    cr = next(g for g in km["groups"] if g["group"] == "CR/CRi")
    assert cr["numbers_at_risk"] == [2, 2, 2, 2, 1]  # censored at 20 and 24.5 months
    forest = next(
        f for s in data["sections"] for f in s["figures"] if f["key"].startswith("forest")
    )
    assert forest["rows"][0] == {
        "label": "All patients",
        "k": 3,
        "n": 6,
        "rate": 0.5,
        "ci": forest["rows"][0]["ci"],
    }
    assert "png_base64" not in json.dumps(data)


def test_neurotoxicity_scale_is_named(report: Report) -> None:
    t = report.table("crs_neurotox")
    assert t.row("scale").cells[1].text == "ASTCT 2019"
    assert "did not grade neurotoxicity with ASTCT ICANS" in render_text(report)


def test_conf_type_changes_ci_and_is_stated() -> None:
    plain = build_report(make_adam(), conf_type="plain", figure_dpi=40)
    loglog = build_report(make_adam(), conf_type="log-log", figure_dpi=40)
    a = plain.table("time_to_event").row("PFS").cells[3].values["ci"]
    b = loglog.table("time_to_event").row("PFS").cells[3].values["ci"]
    assert a != b
    assert "plain CI" in plain.table("time_to_event").method
    with pytest.raises(ReportInputError):
        build_report(make_adam(), conf_type="arcsin")


def test_pdf(report: Report) -> None:
    pdf = render_pdf(report)
    assert pdf.startswith(b"%PDF")


def test_reads_an_adam_folder(tmp_path: Path) -> None:
    # Plain CSV without the .meta.json sidecar, as another tool would write it.
    for name, df in make_adam().items():
        df.to_csv(tmp_path / f"{name.lower()}.csv", index=False, date_format="%Y-%m-%d")
    r = build_report(tmp_path, figure_dpi=40)
    assert r.headline["orr"]["k"] == 3
    assert r.meta["data_source"] == str(tmp_path)


def test_bad_input() -> None:
    with pytest.raises(ReportInputError) as exc:
        build_report({"ADRS": pd.DataFrame()})
    assert exc.value.problems == ["ADSL: required dataset missing"]
    adsl = make_adam()["ADSL"].assign(SAFFL="N")
    with pytest.raises(ReportInputError, match="SAFFL"):
        build_report({"ADSL": adsl})


def test_report_without_optional_datasets() -> None:
    r = build_report({"ADSL": make_adam()["ADSL"]}, figure_dpi=40)
    assert r.headline["orr"]["n"] == 6 and r.headline["orr"]["k"] == 0
    assert "time-to-event analyses not available" in render_text(r)
