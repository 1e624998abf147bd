"""``cartwatch fhir export`` (exit 2 with the field on bad input; the written file is a valid
Bundle that ``fhir import`` reads back) and ``GET /api/fhir/Patient/{id}/$everything``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import Cast
from tests.web.fhir_journeys import build_journeys, remove_patients, snapshot

pytestmark = pytest.mark.django_db

EVERYTHING = "/api/fhir/Patient/{}/$everything"


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from cartwatch.cli.app import app

    return CliRunner().invoke(app, ["fhir", *args])


def test_export_then_import_on_the_command_line(cast: Cast, tmp_path: Path) -> None:
    build_journeys(cast)
    before = snapshot(cast.centre_a)
    out = tmp_path / "bundle.json"
    done = _cli(
        "export", "--centre", "A", "--user", "data_manager_a", "-o", str(out), "--format", "text"
    )
    assert done.exit_code == 0, done.output
    assert "centre A: 2 patient(s)" in done.output
    bundle = json.loads(out.read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.json"]  # no temporary file left
    remove_patients(cast.centre_a)
    again = _cli("import", str(out), "--centre", "A", "--user", "physician_a", "--format", "text")
    assert again.exit_code == 0, again.output
    assert "2 patient(s) created" in again.output
    assert "differences from the exported results (0)" in again.output
    assert len(snapshot(cast.centre_a)["crs"]) == len(before["crs"])


def test_one_patient_as_json(cast: Cast, tmp_path: Path) -> None:
    build_journeys(cast)
    out = tmp_path / "one.json"
    done = _cli(
        "export",
        "--centre",
        "A",
        "--user",
        "data_manager_a",
        "--patient",
        "H-002",
        "--out",
        str(out),
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["patients"] == 1 and report["resource_types"]["Patient"] == 1
    assert report["resources"] == len(json.loads(out.read_text())["entry"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--centre", "Z", "--user", "data_manager_a"], "centre: no centre 'Z'"),
        (["--centre", "A", "--user", "nobody"], "user: no user 'nobody'"),
        (["--centre", "A", "--user", "nurse_a"], "user: nurse_a may not export"),
        (
            ["--centre", "B", "--user", "data_manager_a"],
            "centre: data_manager_a may export from A, not B",
        ),
        (
            ["--centre", "A", "--user", "data_manager_a", "--patient", "NO-SUCH"],
            "patient: no patient 'NO-SUCH' at A",
        ),
        (
            ["--centre", "A", "--user", "data_manager_a", "--patient", "H-002", "--pseudonymise"],
            "patient: no patient 'H-002' who consented to research at A",
        ),
        (["--user", "data_manager_a"], "centre: required"),
    ],
)
def test_bad_input_is_exit_2_naming_the_field(
    cast: Cast, tmp_path: Path, args: list[str], expected: str
) -> None:
    build_journeys(cast)
    out = tmp_path / "x.json"
    done = _cli("export", *args, "-o", str(out))
    assert done.exit_code == 2, done.output
    assert expected in done.stderr
    assert done.stdout == "" and not out.exists()


def test_an_output_folder_that_does_not_exist_is_exit_2(cast: Cast, tmp_path: Path) -> None:
    done = _cli(
        "export",
        "--centre",
        "A",
        "--user",
        "data_manager_a",
        "-o",
        str(tmp_path / "missing" / "b.json"),
    )
    assert done.exit_code == 2 and "out: folder" in done.stderr


def test_a_nurse_importing_a_journey_bundle_is_exit_2(cast: Cast, tmp_path: Path) -> None:
    build_journeys(cast)
    out = tmp_path / "bundle.json"
    assert (
        _cli("export", "--centre", "A", "--user", "data_manager_a", "-o", str(out)).exit_code == 0
    )
    remove_patients(cast.centre_a)
    done = _cli("import", str(out), "--centre", "A", "--user", "nurse_a")
    assert done.exit_code == 2 and "user: nurse_a may not import this bundle" in done.stderr


def test_everything_returns_the_patients_bundle(cast: Cast, api: Any) -> None:
    build_journeys(cast)
    response = api("data_manager_a", "GET", EVERYTHING.format("H-001"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    patients = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert [p["identifier"][0]["value"] for p in patients] == ["H-001"]
    assert "Ward 7" in response.content.decode()  # identifiable role: free text kept
    research = api("researcher_a", "GET", EVERYTHING.format("H-001"))
    assert research.status_code == 200 and "Ward 7" not in research.content.decode()
    # H-002 did not consent: for the researcher it does not exist.
    assert api("researcher_a", "GET", EVERYTHING.format("H-002")).status_code == 404


def test_a_foreign_patient_is_404_like_a_missing_one(cast: Cast, api: Any) -> None:
    from django.contrib.auth import get_user_model

    from cartwatch.web.audit.models import AuditEvent
    from cartwatch.web.centres.models import ApiToken, Membership

    build_journeys(cast)
    user = get_user_model().objects.create_user("data_manager_b", "dm@b.example", "x-42-y-42-z")
    Membership.objects.create(user=user, role="data_manager", centre=cast.centre_b)
    cast.tokens["data_manager_b"] = ApiToken.issue(user, "tests")[1]
    exports = AuditEvent.objects.filter(action="export").count()
    foreign = api("data_manager_b", "GET", EVERYTHING.format("H-001"))
    missing = api("data_manager_b", "GET", EVERYTHING.format("NO-SUCH"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert AuditEvent.objects.filter(action="export").count() == exports
    assert api("data_manager_a", "GET", EVERYTHING.format("H-001")).status_code == 200
    assert AuditEvent.objects.filter(action="export").count() == exports + 1
