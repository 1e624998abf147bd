"""The data manager brings a patient's EHR export in through the FHIR import page in
Chromium: the drafts the nurse must confirm are listed with a link each, what could not be
imported is named with its reason, and a draft opens on its record page."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.browser.conftest import REPO, login, shot
from tests.unit.interop.fhir_samples import ehr_bundle


def _bundle_file(folder: Path) -> Path:
    """A-005's EHR export (seed.py: infused 4 days ago): fever on day 1, a calm day 2."""
    today = dt.datetime.now(dt.UTC).date()  # the server runs with CARTWATCH_TIME_ZONE=UTC
    fever, calm = ((today - dt.timedelta(days=n)).isoformat() for n in (3, 2))
    path = folder / "A-005-ehr-export.json"
    bundle = ehr_bundle("A-005", centre="A", days=(fever, calm), offset="+00:00")
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def test_data_manager_imports_an_ehr_bundle_and_opens_a_draft(page: Page, tmp_path: Path) -> None:
    login(page, "data_manager_a")
    page.get_by_role("link", name="FHIR import").click()
    expect(page.get_by_role("heading", name="Import a FHIR bundle")).to_be_visible()
    page.get_by_label("Bundle file (JSON, at most 20 MB)").set_input_files(_bundle_file(tmp_path))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Imported from A-005-ehr-export.json")).to_be_visible()
    drafts = page.locator("#crs-drafts")
    expect(drafts.get_by_text("A nurse must confirm each draft.")).to_be_visible()
    expect(drafts.locator("tbody tr")).to_have_count(2)
    expect(page.locator("#labs tbody tr")).to_have_count(1)
    expect(page.locator("#not-imported")).to_contain_text("Observation/bp-1")
    shot(page, "fhir-import-result")
    if os.environ.get("CARTWATCH_UPDATE_DOCS_IMAGES") == "1":
        # Only on request: a test run must not rewrite files of the checkout.
        shutil.copyfile(
            REPO / "artifacts/screenshots/fhir-import-result.png",
            REPO / "docs/images/fhir-import-result.png",
        )
    drafts.get_by_role("link", name="Open to confirm").first.click()
    expect(page).to_have_url(re.compile(r".*/patients/A-005/records/crs/\d+/"))
    expect(page.get_by_text("incomplete").first).to_be_visible()
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_a_file_that_is_not_a_bundle_is_named_at_the_top(page: Page, tmp_path: Path) -> None:
    login(page, "data_manager_a")
    page.goto("/imports/fhir/")
    wrong = tmp_path / "notes.json"
    wrong.write_text('{"resourceType": "Patient", "id": "x"}', encoding="utf-8")
    page.get_by_label("Bundle file (JSON, at most 20 MB)").set_input_files(wrong)
    page.get_by_role("button", name="Import").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("notes.json was not imported; nothing was stored.")
    expect(summary).to_contain_text("The file holds a single Patient resource, not a Bundle.")


def test_data_manager_downloads_the_fhir_bundles(page: Page) -> None:
    login(page, "data_manager_a")
    page.get_by_role("link", name="Export").click()
    row = page.locator("ul.exports li", has_text="FHIR R4 Bundle (JSON)")
    expect(row.get_by_label("Pseudonymise")).not_to_be_checked()
    shot(page, "exports-fhir")
    with page.expect_download() as centre:
        row.get_by_role("button", name="Download fhir-r4").click()
    assert centre.value.suggested_filename == "cartwatch-A-fhir-r4.zip"
    page.goto("/patients/A-001/")
    with page.expect_download() as one:
        page.get_by_role("button", name="FHIR R4 bundle").click()
    assert one.value.suggested_filename == "cartwatch-A-001-fhir-r4.json"
    bundle = json.loads(Path(one.value.path()).read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle" and bundle["entry"]
    shot(page, "patient-fhir-link", full_page=False)
    assert page.console_errors == []  # type: ignore[attr-defined]
