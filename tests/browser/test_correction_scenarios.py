"""Issue 11 scenarios: correcting saved data in the pages, on the real server in Chromium.

1. A nurse corrects a mistyped temperature with a reason: the stored grade and the work list
   change, and the record's history shows 39.2 → 37.2 with the reason.
2. A date in the future is refused with the message at the top, linked to its field.
3. Two browsers edit one assessment: the second sees "changed by someone else" with both
   versions side by side, and nothing was overwritten.
4. A data manager verifies a form and its status changes; an unusual value is listed on the
   data-quality page.
5. A nurse opening the export page gets a 403 page that says why, with her menu.

Screenshots go to artifacts/screenshots/ (the README's come from here: form with error
summary, history view, data-quality page).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import REPO, login, shot

pytestmark = pytest.mark.browser

#: Screenshots copied into docs/images/ when CARTWATCH_UPDATE_DOCS_IMAGES=1.
README_IMAGES = ("form-error-summary", "record-history", "data-quality")


def _docs_image(name: str) -> None:
    if name in README_IMAGES and os.environ.get("CARTWATCH_UPDATE_DOCS_IMAGES") == "1":
        from tests.browser.conftest import SCREENSHOTS

        shutil.copyfile(SCREENSHOTS / f"{name}.png", REPO / "docs" / "images" / f"{name}.png")


def _local_now(hours: int = 0) -> str:
    # The test server runs with CARTWATCH_TIME_ZONE=UTC (conftest.server).
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=hours)
    return now.isoformat(timespec="minutes")


def test_nurse_corrects_a_mistyped_temperature_with_a_reason(page: Page) -> None:
    login(page, "nurse_a")
    page.goto("/patients/A-003/assessment/new/")
    page.get_by_label("Observed at (local time)").fill(_local_now(-1))
    page.get_by_label("Highest temperature").fill("39.2")  # the chart says 37.2
    page.get_by_label("Hypotension", exact=True).check()
    page.get_by_label("ICE score (total)").fill("10")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/patients/A-003/")
    expect(page.locator(".messages")).to_contain_text("grade 2")

    page.get_by_role("link", name="Work list").click()
    alert = page.locator("tr[data-rule=crs_grade_ge2]", has_text="A-003")
    expect(alert).to_contain_text("CRS grade 2")

    page.goto("/patients/A-003/")
    page.locator("#sec-crs").get_by_role("link", name="open").last.click()
    expect(page.locator("[data-status]")).to_have_text("complete")
    page.get_by_role("link", name="Correct").click()
    page.get_by_label("Highest temperature").fill("37.2")
    page.get_by_role("button", name="Save correction").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Please correct this problem")
    expect(summary.get_by_role("link", name="Reason for change")).to_be_visible()
    expect(summary).to_contain_text("a reason for change is required")
    shot(page, "form-error-summary", full_page=False)
    _docs_image("form-error-summary")

    summary.get_by_role("link", name="Reason for change").click()
    assert page.url.endswith("#f-change-reason")  # the link goes to the field
    expect(page.get_by_label("Reason for change")).to_be_in_viewport()
    page.get_by_label("Reason for change").fill("typo: the chart says 37.2 °C")
    page.get_by_role("button", name="Save correction").click()
    page.wait_for_url("**/patients/A-003/")
    expect(page.locator(".messages")).to_contain_text("grade 0")

    page.get_by_role("link", name="Work list").click()
    expect(page.locator("tr[data-rule=crs_grade_ge2]", has_text="A-003")).to_have_count(0)
    shot(page, "worklist-after-correction")

    page.goto("/patients/A-003/")
    page.locator("#sec-crs").get_by_role("link", name="open").last.click()
    history = page.locator("#history")
    expect(history).to_contain_text("Highest temperature: 39.2 → 37.2")
    expect(history).to_contain_text("Grade: 2 → 0")
    expect(history).to_contain_text("typo: the chart says 37.2 °C")
    expect(history).to_contain_text("nurse_a")
    shot(page, "record-history")
    _docs_image("record-history")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_a_future_date_is_refused_with_the_message_at_the_top(page: Page) -> None:
    login(page, "nurse_a")
    page.goto("/patients/A-003/labs/new/")
    page.get_by_label("Drawn at (local time)").fill(_local_now(72))
    page.get_by_role("spinbutton", name="Neutrophils (× 10⁹/L)", exact=True).fill("0.8")
    page.get_by_role("button", name="Save").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    link = summary.get_by_role("link", name="Drawn at (local time)")
    expect(link).to_be_visible()
    expect(summary).to_contain_text("is in the future")
    shot(page, "future-date-refused", full_page=False)
    link.click()
    assert page.url.endswith("#f-observed-at")
    expect(page.get_by_label("Drawn at (local time)")).to_be_in_viewport()


def test_two_browsers_edit_one_assessment_and_the_second_sees_the_conflict(
    browser: Browser, server: str
) -> None:
    pages = []
    for user in ("nurse_a", "physician_a"):
        context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        login(pg, user)
        pg.goto("/patients/A-001/")
        pg.locator("#sec-crs").get_by_role("link", name="open").nth(3).click()
        pg.get_by_role("link", name="Correct").click()
        pages.append(pg)
    nurse, physician = pages
    expect(nurse.get_by_label("Highest temperature")).to_have_value("38.2")

    nurse.get_by_label("Highest temperature").fill("38.6")
    nurse.get_by_label("Reason for change").fill("late reading added")
    nurse.get_by_role("button", name="Save correction").click()
    nurse.wait_for_url("**/patients/A-001/")

    physician.get_by_label("Highest temperature").fill("37.9")
    physician.get_by_label("Reason for change").fill("recheck")
    physician.get_by_role("button", name="Save correction").click()
    conflict = physician.locator("#conflict")
    expect(conflict).to_contain_text("Changed by someone else")
    expect(conflict).to_contain_text("nurse_a saved this record")
    row = conflict.locator("tr", has_text="Highest temperature")
    expect(row).to_contain_text("37.9")  # yours
    expect(row).to_contain_text("38.6")  # saved now by the nurse
    shot(physician, "edit-conflict")

    nurse.goto(physician.url.replace("/edit/", "/"))
    expect(nurse.locator("#history")).to_contain_text("38.2 → 38.6")
    expect(nurse.locator("#history")).not_to_contain_text("37.9")
    for pg in pages:
        pg.context.close()


def test_data_manager_verifies_a_form_and_checks_unusual_values(page: Page) -> None:
    login(page, "data_manager_a")
    page.goto("/patients/A-001/")
    first = page.locator("#sec-labs tbody tr").first
    expect(first.locator(".status")).to_have_text("complete")
    first.get_by_role("link", name="open").click()
    page.get_by_role("button", name="Verify against the source").click()
    expect(page.locator(".messages")).to_contain_text("Verified")
    expect(page.locator("[data-status]")).to_have_text("verified")
    expect(page.locator("#status")).to_contain_text("by data_manager_a")
    expect(page.locator("#history")).to_contain_text("verified against the source")
    shot(page, "record-verified")
    page.goto("/patients/A-001/")
    expect(page.locator("#sec-labs tbody tr").first.locator(".status")).to_have_text("verified")

    # Haemoglobin typed in g/L into the g/dL field: saved, flagged for the data manager.
    page.goto("/patients/A-001/labs/new/")
    page.get_by_label("Drawn at (local time)").fill(_local_now(-2))
    page.get_by_role("spinbutton", name="Haemoglobin (g/dL)", exact=True).fill("98")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/patients/A-001/")
    page.get_by_role("link", name="Data quality").click()
    flags = page.locator("#flags")
    expect(flags).to_contain_text("haemoglobin 98 g/dL is unusually high: was it entered in g/L?")
    expect(flags).to_contain_text("haemoglobin went from 9.8 to 98")
    expect(flags).not_to_contain_text("hemoglobin_g_dl")
    shot(page, "data-quality")
    _docs_image("data-quality")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_nurse_opening_the_export_gets_a_403_that_says_why(page: Page) -> None:
    login(page, "nurse_a")
    response = page.goto("/exports/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator(".errors")).to_contain_text(
        "Your role (nurse) may not export the centre's data."
    )
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Work list"))\
        .to_be_visible()  # fmt: skip
    shot(page, "forbidden-export")
