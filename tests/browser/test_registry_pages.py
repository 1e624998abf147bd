"""The data manager's CIBMTR registry pages in Chromium: the overview's completeness cells,
a patient's page (what is still needed at the top, each value's provenance with a link to
its record), the download, and the 403 in words for a researcher."""

from __future__ import annotations

import os
import re
import shutil

from playwright.sync_api import Page, expect
from tests.browser.conftest import REPO, login, shot
from tests.browser.test_scenarios import shot_path


def test_data_manager_sees_what_the_registry_still_needs(page: Page) -> None:
    login(page, "data_manager_a")
    page.get_by_role("link", name="Registry").click()
    expect(page.get_by_role("heading", name="CIBMTR registry")).to_be_visible()
    expect(page.get_by_text("elements are UNVERIFIED")).to_be_visible()
    cell = page.locator("#forms tr", has_text="A-004").locator("a.complete").nth(3)
    expect(cell).to_have_text(re.compile(r"^\d+/\d+$"))  # the 4100 100-day form: present/required
    shot(page, "registry-overview")
    page.get_by_role("link", name="A-004").click()
    expect(page.get_by_role("heading", name="What the registry still needs")).to_be_visible()
    crs = page.locator("#form-4100-100d tr", has_text="Did the recipient develop Cytokine")
    expect(crs).to_contain_text("Yes")
    expect(crs).to_contain_text("grade 2")
    crs.get_by_role("link", name="record").click()
    expect(page).to_have_url(re.compile(r".*/patients/A-004/records/crs/\d+/"))
    page.go_back()
    shot(page, "registry-patient")
    follow_up = shot_path("registry-4100-100d")
    page.locator("#form-4100-100d").screenshot(path=str(follow_up))
    if os.environ.get("CARTWATCH_UPDATE_DOCS_IMAGES") == "1":
        # Only on request: a test run must not rewrite files of the checkout.
        shutil.copyfile(follow_up, REPO / "docs/images/registry-4100-100d.png")
    with page.expect_download() as info:
        page.goto("/registry/")
        page.get_by_role("button", name="Download export").click()
    assert info.value.suggested_filename.startswith("cartwatch-A-cibmtr-")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_a_researcher_is_told_why_not(page: Page) -> None:
    login(page, "researcher_a")
    response = page.goto("/registry/")
    assert response is not None and response.status == 403
    expect(
        page.get_by_text("may not prepare the identifiable CIBMTR registry report")
    ).to_be_visible()
