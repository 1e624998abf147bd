"""The report on the hand-built ADaM fixture of test_tables.py: header, self-contained HTML,
JSON holding every number shown, text, PDF, and bad input."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from test_tables import MONTH, make_adam

from cartwatch.outcomes.report import Report, ReportInputError, build_report
from cartwatch.outcomes.report_render import render_html, render_json, render_pdf, render_text

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
    # Seven figures (PFS, OS, DOR by best response; swimmer; CRS/neurotoxicity by day;
    # forest; PFS by del(17p)/TP53), all inline PNG. The cure-model figure needs ≥5 events
    # in a response group, which this fixture does not have.
    assert html.count('src="data:image/png;base64,') == 7
    for key in ("swimmer_responders", "crs_neurotox_by_day"):
        assert f'id="figure-{key}"' in html
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


# --------------------------------------------------------------------------- new figures


def _dated_adam() -> dict[str, pd.DataFrame]:
    """make_adam with dates: infusion 2023-01-01 for everyone; response assessments of the
    label-population responders (S01 CR, S02 CRi, S03 PR) dated; OS/PFS with EVNTDESC."""
    f = make_adam()
    f["ADSL"] = f["ADSL"].assign(TRTSDT=pd.Timestamp("2023-01-01"))
    adrs = f["ADRS"][f["ADRS"]["PARAMCD"] != "OVRLRESP"]
    # Days after infusion on the ADTTE scale (infusion = day 1): 2023-01-31 = day 31,
    # 2023-03-02 = day 61, 2023-04-01 = day 91, 2023-05-01 = day 121.
    ovr = pd.DataFrame(
        [
            ("S01", "OVRLRESP", "PR", "Y", "2023-01-31"),
            ("S01", "OVRLRESP", "CR", "Y", "2023-04-01"),
            ("S01", "OVRLRESP", "CR", "Y", "2023-05-01"),  # later CR: not the first
            ("S02", "OVRLRESP", "CRi", "Y", "2023-03-02"),
            ("S03", "OVRLRESP", "PR", "Y", "2023-01-31"),
            ("S03", "OVRLRESP", "PD", "Y", "2023-05-01"),
        ],
        columns=["USUBJID", "PARAMCD", "AVALC", "ANL01FL", "ADT"],
    )
    f["ADRS"] = pd.concat([adrs, ovr], ignore_index=True)
    # (paramcd, subject, months, CNSR, EVNTDESC): S01 alive at 30 months; S02 died at 20
    # (its PFS event is the death); S03 progressed at 10, alive at 12.
    tte = [
        ("OS", "S01", 30.0, 1, "Last known alive date"),
        ("OS", "S02", 20.0, 0, "Death"),
        ("OS", "S03", 12.0, 1, "Last known alive date"),
        ("PFS", "S01", 24.5, 1, "Last adequate response assessment"),
        ("PFS", "S02", 20.0, 0, "Death"),
        ("PFS", "S03", 10.0, 0, "Disease progression (iwCLL 2018)"),
    ]
    f["ADTTE"] = pd.DataFrame(
        [(s, p, m * MONTH, float(c), e) for p, s, m, c, e in tte],
        columns=["USUBJID", "PARAMCD", "AVAL", "CNSR", "EVNTDESC"],
    )
    return f


def _figure_json(r: Report, key: str) -> dict:  # type: ignore[type-arg]
    data = json.loads(render_json(r))
    return next(f for s in data["sections"] for f in s["figures"] if f["key"] == key)


def test_swimmer_lanes_in_json() -> None:
    r = build_report(_dated_adam(), figure_dpi=30)
    swim = _figure_json(r, "swimmer_responders")
    assert (swim["n_responders"], swim["n_shown"], swim["time_unit"]) == (3, 3, "months")
    d = 30.4375  # days per month
    approx = pytest.approx
    # Longest follow-up first: S01 (30 months), S02 (20), S03 (12).
    assert [lane["usubjid"] for lane in swim["lanes"]] == ["S01", "S02", "S03"]
    s01, s02, s03 = swim["lanes"]
    assert s01 == {
        "usubjid": "S01",
        "bor": "CR",
        "end_months": approx(30.0),
        "ongoing": True,
        "cr_cri_months": approx(91 / d),
        "pr_months": approx(31 / d),
        "progression_months": None,
        "death_months": None,
    }
    # S02: CRi at day 61; the PFS event is the death (EVNTDESC "Death"), not a progression.
    assert (s02["cr_cri_months"], s02["pr_months"]) == (approx(61 / d), None)
    assert (s02["ongoing"], s02["death_months"], s02["progression_months"]) == (
        False,
        approx(20.0),
        None,
    )
    assert (s03["pr_months"], s03["progression_months"], s03["ongoing"]) == (
        approx(31 / d),
        approx(10.0),
        True,
    )
    fig = r.figure("swimmer_responders")
    assert "US label population (N = 6)" in fig.caption and "all 3 responders" in fig.caption
    assert "USUBJID" in fig.caption and "ADTTE OS" in fig.caption


def test_swimmer_shows_40_longest_and_says_so() -> None:
    ids = [f"R{i:02d}" for i in range(45)]
    adsl = pd.DataFrame({"USUBJID": ids, "SAFFL": "Y", "EFFFL": "Y"})
    adrs = pd.DataFrame({"USUBJID": ids, "PARAMCD": "BOR", "AVALC": "PR"})
    # R00 followed 100 days, R01 101, ... R44 144: the 40 longest are R44 down to R05.
    adtte = pd.DataFrame(
        {"USUBJID": ids, "PARAMCD": "OS", "AVAL": [100.0 + i for i in range(45)], "CNSR": 1}
    )
    r = build_report({"ADSL": adsl, "ADRS": adrs, "ADTTE": adtte}, figure_dpi=30)
    fig = r.figure("swimmer_responders")
    assert "40 of 45 responders with the longest follow-up" in fig.caption
    swim = _figure_json(r, "swimmer_responders")
    assert (swim["n_responders"], swim["n_shown"]) == (45, 40)
    assert [lane["usubjid"] for lane in swim["lanes"]] == [f"R{i:02d}" for i in range(44, 4, -1)]
    assert "40 of 45 responders" in render_html(r)


def test_crs_neurotox_counts_by_day(report: Report) -> None:
    tox = _figure_json(report, "crs_neurotox_by_day")
    assert tox["days"] == list(range(29)) and tox["n"] == 9
    crs, nt = tox["categories"]
    assert (crs["category"], crs["scale"]) == ("CRS", "ASTCT 2019")

    def days(*ranges: range) -> list[int]:
        return [int(any(d in rg for rg in ranges)) for d in range(29)]

    # Safety set only (S10's grade 4 is not counted). Episodes run ONSDYINF .. +ADURN-1:
    # S01 g1 days 2-4; S04 g1 7-10 and g2 20-21; S02 g2 4-8; S03 g3 1-10.
    by_grade = {g["grade"]: g["counts"] for g in crs["by_grade"]}
    assert by_grade == {
        1: days(range(2, 5), range(7, 11)),
        2: days(range(4, 9), range(20, 22)),
        3: days(range(1, 11)),
    }
    assert crs["any_grade"][:12] == [0, 1, 2, 2, 3, 2, 2, 3, 3, 2, 2, 0]
    assert crs["any_grade"][20:22] == [1, 1] and crs["n_unresolved_episodes"] == 0
    # Neurotoxicity: S03 g3 days 5-7; S05 g1 day 8.
    by_grade = {g["grade"]: g["counts"] for g in nt["by_grade"]}
    assert by_grade == {1: days(range(8, 9)), 3: days(range(5, 8))}
    fig = report.figure("crs_neurotox_by_day")
    assert "Safety set (N = 9)" in fig.caption and "ASTCT 2019" in fig.caption
    assert "day 0 = infusion" in fig.caption


def test_patient_counted_once_a_day_at_highest_grade() -> None:
    f = make_adam()
    # A second, overlapping grade-1 CRS record for S03 (grade 3, days 1-10) on days 3-4.
    extra = f["ADAE"].iloc[[2]].assign(AETOXGRN=1, AETOXGR="1", ONSDYINF=3, ADURN=2)
    f["ADAE"] = pd.concat([f["ADAE"], extra], ignore_index=True)
    r = build_report(f, figure_dpi=30)
    crs = _figure_json(r, "crs_neurotox_by_day")["categories"][0]
    assert crs["any_grade"][:5] == [0, 1, 2, 2, 3]  # unchanged
    by_grade = {g["grade"]: g["counts"] for g in crs["by_grade"]}
    assert by_grade[1][3] == 1  # S01 only; S03 stays grade 3 that day
