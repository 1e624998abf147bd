"""The CIBMTR registry pages and download on a stored synthetic centre (SQLite, and
PostgreSQL when DATABASE_URL is set): the overview, one patient's elements with links to the
records, the zip (the same files as ``registry cibmtr``), its audit event, and stored records
that fail the checks being left out and named."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client
from tests.web.conftest import actor_of

pytestmark = pytest.mark.django_db

AS_OF = "2026-12-01"


def _client(cast: Any, user: str = "data_manager_a") -> Client:
    client = Client()
    client.force_login(cast.users[user])
    return client


def test_overview_lists_every_patient_with_completeness(cast: Any, synth_centre: int) -> None:
    from cartwatch.web.patients.models import Patient

    page = _client(cast).get(f"/registry/?as_of={AS_OF}").content.decode()
    for pid in Patient.objects.values_list("patient_id", flat=True):
        assert f"/registry/{pid}/" in page
    assert "elements are UNVERIFIED" in page
    assert "4100 100d" in page


def test_patient_page_shows_missing_first_and_links_records(cast: Any, synth_centre: int) -> None:
    from cartwatch.web.services.registry import centre_registry

    as_of = dt.date.fromisoformat(AS_OF)
    report = centre_registry(actor_of(cast, "data_manager_a"), as_of)
    patient = next(p for p in report.export.patients if p.forms)
    page = _client(cast).get(f"/registry/{patient.patient_id}/?as_of={AS_OF}").content.decode()
    assert "What the registry still needs" in page
    assert page.index("What the registry still needs") < page.index("Form 4000 —")
    assert f"/patients/{patient.patient_id}/records/crs/" in page  # CRS values link their rows
    assert "Did the recipient develop Cytokine Release Syndrome" in page


def test_bad_as_of_is_said_in_words(cast: Any, synth_centre: int) -> None:
    page = _client(cast).get("/registry/?as_of=9999-12-31").content.decode()
    assert "Data cut: year 9999 is outside" in page and "showing today instead" in page
    assert "as_of:" not in page  # a field code is not words
    page = _client(cast).get("/registry/?as_of=tomorrow").content.decode()
    assert "Data cut: &#x27;tomorrow&#x27; is not a date (YYYY-MM-DD)" in page


def test_download_is_the_export_and_is_audited(cast: Any, synth_centre: int) -> None:
    from cartwatch.web.audit.models import AuditEvent

    response = _client(cast).post("/registry/download/", {"as_of": AS_OF})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "README.txt",
        "completeness.csv",
        "elements.csv",
        "manifest.json",
    ]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["as_of"] == AS_OF and manifest["centre"] == "A"
    event = AuditEvent.objects.filter(action="export", object_id="cibmtr-registry").get()
    assert event.actor == "data_manager_a"
    assert event.after["patients"] == manifest["counts"]["patients"]
    assert _client(cast).get("/registry/download/").status_code == 405  # never a GET link
    refused = _client(cast).post("/registry/download/", {"as_of": "9999-12-31"}, follow=True)
    assert "Data cut: year 9999 is outside" in refused.content.decode()
    assert "nothing was exported" in refused.content.decode()
    assert AuditEvent.objects.filter(object_id="cibmtr-registry").count() == 1


def test_a_stored_record_failing_the_checks_is_left_out_and_named(
    cast: Any, patient_a: Any
) -> None:
    from cartwatch.web.patients.models import CellTherapy

    # A row the write path refuses today, stored before the rule existed (stored_checks.py).
    course = CellTherapy.objects.get(patient=patient_a)
    course.infusion_date = dt.date(9999, 12, 31)
    course.save()
    page = _client(cast).get("/registry/").content.decode()
    assert "Left out" in page and "A-001" in page
    response = _client(cast).post("/registry/download/")
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "EXCLUDED.txt" in names


def test_the_command_line_writes_the_same_files(
    cast: Any, synth_centre: int, tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from cartwatch.cli.app import app
    from cartwatch.web.audit.models import AuditEvent

    out = tmp_path / "cibmtr"
    runner = CliRunner()
    args = ["registry", "cibmtr", "--centre", "A", "--out", str(out), "--as-of", AS_OF]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "UNVERIFIED" in done.output and "form instances due" in done.output
    assert sorted(p.name for p in out.iterdir()) == [
        "README.txt",
        "completeness.csv",
        "elements.csv",
        "manifest.json",
    ]
    web = _client(cast).post("/registry/download/", {"as_of": AS_OF}).content
    archive = zipfile.ZipFile(io.BytesIO(web))
    assert archive.read("elements.csv") == (out / "elements.csv").read_bytes()
    assert AuditEvent.objects.filter(object_id="cibmtr-registry").count() == 2
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "out:" in again.output and "--force" in again.output
    assert runner.invoke(app, [*args, "--force", "--format", "json"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--centre", "Z"], "centre: no centre 'Z'"),
        (["--centre", "A", "--as-of", "2026-13-01"], "as_of: not a date"),
        (["--centre", "A", "--as-of", "1800-01-01"], "as_of: year 1800"),
        (["--centre", "A", "--format", "xml"], "format: must be one of"),
    ],
)
def test_bad_command_line_input_exits_2_with_the_field(
    cast: Any, tmp_path: Any, args: list[str], field: str
) -> None:
    from typer.testing import CliRunner

    from cartwatch.cli.app import app

    done = CliRunner().invoke(app, ["registry", "cibmtr", "--out", str(tmp_path / "x"), *args])
    assert done.exit_code == 2
    assert field in done.output
    assert not (tmp_path / "x").exists()
