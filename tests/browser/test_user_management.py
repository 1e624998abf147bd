"""Issue 11, item 5, in Chromium: a centre administrator adds a nurse, who then signs in.

The administrator's first sign-in shows the welcome page (what the role does, where to
start); a mistyped second password is shown at the top of the form and on the field, never
the password; the saved nurse signs in with the password and lands on its own welcome page.
Screenshots: artifacts/screenshots/users-*.png.
"""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import Page, expect
from tests.browser.conftest import REPO, login, shot

pytestmark = pytest.mark.browser

NURSE_PASSWORD = "ward-7-night-shift-42"


def test_centre_admin_adds_a_nurse_who_then_signs_in(page: Page) -> None:
    login(page, "admin_a", welcome=True)
    if page.url.endswith("/welcome/"):  # the first sign-in of admin_a in this server
        expect(page.get_by_role("heading", name="Welcome, admin_a")).to_be_visible()
        shot(page, "users-welcome-admin")
    page.get_by_role("link", name="Users", exact=True).click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.locator("tr[data-user=nurse_a]")).to_contain_text("Nurse")
    shot(page, "users-list")

    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("Username").fill("nina")
    page.get_by_label("E-mail").fill("nina@example.org")
    page.get_by_label("Role").select_option("nurse")
    page.locator("#f-password").fill(NURSE_PASSWORD)
    page.get_by_label("Password again").fill(NURSE_PASSWORD + "x")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".has-error")).to_contain_text("the two passwords differ")
    assert NURSE_PASSWORD not in page.content()
    shot(page, "users-add-error")

    page.locator("#f-password").fill(NURSE_PASSWORD)
    page.get_by_label("Password again").fill(NURSE_PASSWORD)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/centre/users/")
    expect(page.locator(".messages")).to_contain_text("Added nina (nurse)")
    expect(page.locator("tr[data-user=nina]")).to_contain_text("active")
    added = shot(page, "users-added")
    if os.environ.get("CARTWATCH_UPDATE_DOCS_IMAGES") == "1":
        shutil.copyfile(added, REPO / "docs/images/users.png")  # the README's picture
    page.get_by_role("button", name="Sign out").click()

    login(page, "nina", NURSE_PASSWORD, welcome=True)
    assert page.url.endswith("/welcome/")
    expect(page.get_by_role("heading", name="Welcome, nina")).to_be_visible()
    expect(page.locator("ul.can")).to_contain_text("record daily assessments")
    expect(page.locator(".who")).to_contain_text("nina · Nurse · centre A")
    shot(page, "users-nurse-first-sign-in")
    page.get_by_role("link", name="Work list").first.click()
    expect(page.get_by_role("heading", name="Work list")).to_be_visible()
    assert page.console_errors == []  # type: ignore[attr-defined]
