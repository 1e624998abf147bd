"""Premedication on the daily assessment form (contract v2 item 2, issue 10 item 3).

A nurse ticks "antipyretic given" (paracetamol premedication) on a patient who has had no
fever, with hypotension: the live grade, computed by the server with the patient's earlier
assessments, is grade 0 and says "premedication: fever still required"; a fever documented
at home makes the same therapy CRS therapy (grade 2).
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def test_live_grade_on_a_premedication_case_says_fever_still_required(page: Page) -> None:
    login(page, "nurse_a")
    page.goto("/patients/A-002/assessment/new/")
    # The evening of the infusion day (the seed infuses A-002 yesterday; the server runs in
    # UTC), before any assessment another scenario saves for A-002 "now".
    infusion_day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    page.get_by_label("Observed at (local time)").fill(f"{infusion_day.isoformat()}T20:00")
    page.get_by_label("Highest temperature").fill("37.0")
    page.get_by_label("Antipyretic, tocilizumab or steroid given", exact=True).check()
    page.get_by_label("Hypotension", exact=True).check()
    page.get_by_label("Neurological assessment done").uncheck()

    live = page.locator("#live-crs")
    grade, note = live.locator("[data-role=grade]"), live.locator("[data-role=note]")
    expect(grade).to_have_text("Grade 0")
    expect(note).to_have_text("premedication: fever still required")
    expect(live.locator("[data-role=standard]")).to_have_text("ASTCT 2019")
    expect(live.locator("[data-role=course]")).to_have_text("first CRS assessment of this patient")
    expect(live.locator("[data-role=reasons]")).to_contain_text("before CRS began")
    shot(page, "assessment-premedication")

    fever_at_home = page.get_by_label(
        "Fever ≥38.0 °C before this therapy, documented outside this record (e.g. at home)"
    )
    fever_at_home.check()
    expect(grade).to_have_text("Grade 2")
    expect(note).to_have_text("")
    fever_at_home.uncheck()
    expect(grade).to_have_text("Grade 0")
    # Not saved: the other scenarios expect A-002 without an assessment. That the save stores
    # the live grade is pinned by tests/web/test_crs_course.py (same service path).
    assert page.console_errors == []  # type: ignore[attr-defined]
