"""The issue's browser scenarios, on the real server with Debian's Chromium.

1. A nurse records a febrile patient on one vasopressor: the page shows CRS grade 3 with
   its reason *before* saving (live grading through the API), the saved assessment carries
   the server's grade, and the patient is on the work list afterwards.
2. A user of a second centre cannot find that patient: not in their lists, 404 by URL and
   by API.
3. A data manager exports ADaM and the export appears in the audit log.

Screenshots of the main pages are written to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.browser.conftest import REPO, login, shot

pytestmark = pytest.mark.browser


def test_nurse_sees_grade_3_live_then_on_the_work_list(page: Page) -> None:
    login(page, "nurse_a")
    expect(page.get_by_role("heading", name="Work list")).to_be_visible()
    page.goto("/patients/A-002/")
    page.get_by_role("link", name="Daily assessment").click()
    expect(page.get_by_role("heading", name="Daily assessment — A-002")).to_be_visible()

    page.get_by_label("Highest temperature").fill("38.9")
    page.get_by_label("Hypotension", exact=True).check()
    page.get_by_label("norepinephrine").check()
    page.get_by_label("ICE score (total)").fill("10")

    live = page.locator("#live-crs")
    expect(live.locator("[data-role=grade]")).to_have_text("Grade 3")
    expect(live.locator("[data-role=standard]")).to_have_text("ASTCT 2019")
    expect(live.locator("[data-role=reasons]")).to_contain_text("vasopressor")
    expect(page.locator("#live-icans [data-role=grade]")).to_have_text("Grade 0")
    shot(page, "assessment-live-grade")

    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/patients/A-002/")
    expect(page.locator(".messages")).to_contain_text("grade 3 (ASTCT 2019)")
    crs = page.locator("#sec-crs")
    expect(crs.locator(".grade").first).to_have_text("3")
    expect(crs).to_contain_text("vasopressor")
    shot(page, "patient-after-save")

    page.get_by_role("link", name="Work list").click()
    row = page.locator("tr[data-rule=crs_grade_ge2]", has_text="A-002")
    expect(row).to_contain_text("CRS grade 3")
    shot(page, "worklist")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_blank_form_is_not_graded_yet_until_a_temperature_is_typed(page: Page) -> None:
    # contract v2 item 1: a blank daily assessment never shows a green "Grade 0".
    login(page, "nurse_a")
    page.goto("/patients/A-002/assessment/new/")
    live = page.locator("#live-crs")
    grade = live.locator("[data-role=grade]")
    expect(grade).to_have_text("not graded yet")
    expect(grade).not_to_have_class("grade g0")
    expect(live.locator("[data-role=reasons]")).to_contain_text("temperature not recorded")
    page.get_by_label("Hypotension", exact=True).check()
    expect(live.locator("[data-role=reasons]")).to_contain_text(
        "with fever ≥38.0 °C this is grade 2"
    )
    expect(grade).to_have_text("not graded yet")
    shot(page, "assessment-not-graded-yet")
    page.get_by_label("Highest temperature").fill("37.4")
    expect(grade).to_have_text("Grade 0")
    page.get_by_label("Highest temperature").fill("38.3")
    expect(grade).to_have_text("Grade 2")
    shot(page, "assessment-graded-after-temperature")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_timeline_screenshot_for_the_readme(page: Page) -> None:
    login(page, "physician_a")
    page.goto("/patients/A-001/")
    timeline = page.locator("#timeline svg")
    expect(timeline).to_be_visible()
    expect(page.locator("#timeline figcaption")).to_contain_text("until")
    page.locator("#timeline").screenshot(path=str(shot_path("patient-timeline")))
    shot(page, "patient-detail")
    if os.environ.get("CARTWATCH_UPDATE_DOCS_IMAGES") == "1":
        # Only on request: a test run must not rewrite files of the checkout.
        shutil.copyfile(shot_path("patient-timeline"), REPO / "docs/images/patient-timeline.png")
    assert page.console_errors == []  # type: ignore[attr-defined]


def shot_path(name: str) -> object:
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_second_centre_cannot_find_the_patient(page: Page) -> None:
    login(page, "physician_b")
    page.goto("/patients/")
    expect(page.get_by_role("link", name="B-001")).to_be_visible()
    expect(page.get_by_text("A-002")).to_have_count(0)
    expect(page.get_by_text("A-001")).to_have_count(0)
    page.goto("/worklist/")
    expect(page.get_by_text("A-002")).to_have_count(0)
    response = page.goto("/patients/A-002/")
    assert response is not None and response.status == 404
    assert "MRN-0077" not in page.content()
    api = page.request.get("/api/patients/A-002")
    assert api.status == 404
    shot(page, "foreign-centre-404")


def test_data_manager_exports_adam_and_it_is_audited(page: Page) -> None:
    login(page, "data_manager_a")
    page.goto("/exports/")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download adam-xpt").click()
    download = info.value
    assert download.suggested_filename == "cartwatch-A-adam-xpt.zip"
    page.goto("/audit/")
    row = page.locator("tr[data-action=export]").first
    expect(row).to_contain_text("data_manager_a")
    expect(row).to_contain_text("adam-xpt")
    shot(page, "audit-log")


def test_main_pages_render_for_their_roles(page: Page) -> None:
    login(page, "physician_a")
    for path, name in (("/patients/", "patients"), ("/dashboard/", "dashboard"),
                       ("/patients/A-001/eligibility/new/", "eligibility-form")):  # fmt: skip
        response = page.goto(path)
        assert response is not None and response.status == 200
        shot(page, name)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    login(page, "reviewer")
    expect(page.get_by_role("heading", name="Network")).to_be_visible()
    shot(page, "network")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_data_manager_downloads_the_outcomes_report_and_it_is_audited(page: Page) -> None:
    login(page, "data_manager_a")
    page.goto("/exports/")
    shot(page, "exports")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download report").click()
    download = info.value
    assert download.suggested_filename == "cartwatch-A-report.html"
    html = Path(download.path()).read_text(encoding="utf-8")
    assert "centre A: 5 patients recorded in cartwatch" in html  # not B-001
    page.goto("/audit/")
    row = page.locator("tr[data-action=export]", has_text="report-html").first
    expect(row).to_contain_text("data_manager_a")
    assert page.console_errors == []  # type: ignore[attr-defined]
