"""``POST /api/fhir/Bundle`` and ``cartwatch fhir import``: an EHR export becomes draft
daily CRS assessments and graded lab records at the caller's centre, once; a foreign
patient, a wrong document or an oversized body writes nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from tests.unit.interop import fhir_samples as fs
from tests.web.conftest import actor_of

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    from cartwatch.web.imports.models import ImportedResource
    from cartwatch.web.patients import models as m

    return (
        m.CrsAssessment.objects.count(),
        m.Lab.objects.count(),
        ImportedResource.objects.count(),
    )


def test_an_ehr_bundle_becomes_drafts_and_graded_labs(patient_a: Any, api: Any) -> None:
    from cartwatch.web.patients import models as m
    from cartwatch.web.services import grading

    before = _counts()
    response = api("nurse_a", "POST", "/api/fhir/Bundle", fs.ehr_bundle())
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["stored"] == {"crs_drafts": 2, "labs": 1, "conditions_checked": 1}, report[
        "unmapped"
    ]
    draft = m.CrsAssessment.objects.get(
        patient=patient_a, observed_at__date="2025-07-02", form_status="incomplete"
    )
    assert draft.form_status == "incomplete"  # the nurse confirms it
    assert draft.temperature_c == 38.5 and draft.vasopressors == ["norepinephrine"]
    assert draft.hypotension is False  # never inferred from the blood pressure of 82/45
    expected = grading.grade_crs(
        {
            "temperature_c": 38.5,
            "vasopressors": ["norepinephrine"],
            "antipyretic_or_anticytokine_given": True,
        }
    )
    assert draft.grade == expected["grade"] and draft.reasons == expected["reasons"]
    calm = m.CrsAssessment.objects.get(patient=patient_a, observed_at__date="2025-07-03")
    assert calm.temperature_c == 37.1 and calm.form_status == "incomplete"
    lab = m.Lab.objects.get(patient=patient_a)
    assert (lab.neutrophils_10e9_l, lab.platelets_10e9_l, lab.hemoglobin_g_dl) == (0.4, 42, 7.9)
    # CTCAE v5.0: ANC < 0.5 grade 4; platelets 25–<50 grade 3; Hb < 8.0 g/dL grade 3.
    assert (
        lab.grade_neutrophil_count_decreased,
        lab.grade_platelet_count_decreased,
        lab.grade_anemia,
    ) == (4, 3, 3)
    assert lab.form_status == "complete"
    reasons = {u["id"]: u["reason"] for u in report["unmapped"]}
    assert set(reasons) == {"Observation/bp-1", "MedicationRequest/mr-1"}
    assert _counts() == (before[0] + 2, before[1] + 1, before[2] + 10)

    again = api("nurse_a", "POST", "/api/fhir/Bundle", fs.ehr_bundle()).json()
    assert again["stored"] == {"crs_drafts": 0, "labs": 0, "conditions_checked": 0}
    assert again["already_imported"] == 10
    assert _counts() == (before[0] + 2, before[1] + 1, before[2] + 10)


def test_a_patient_of_another_centre_is_refused_and_nothing_written(
    patient_a: Any, api: Any
) -> None:
    before = _counts()
    response = api("nurse_a", "POST", "/api/fhir/Bundle", fs.ehr_bundle(centre="B"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith("Patient A-001 belongs to centre B")
    assert _counts() == before


def test_centre_b_cannot_write_to_a_patient_of_centre_a(patient_a: Any, api: Any) -> None:
    before = _counts()
    named_a = api("physician_b", "POST", "/api/fhir/Bundle", fs.ehr_bundle(centre="A"))
    assert named_a.status_code == 422  # the bundle says the patient is A's
    unnamed = api("physician_b", "POST", "/api/fhir/Bundle", fs.ehr_bundle(centre=None))
    assert unnamed.status_code == 200
    report = unnamed.json()
    assert report["stored"] == {"crs_drafts": 0, "labs": 0, "conditions_checked": 0}
    assert all(
        "not registered at centre B" in u["reason"]
        for u in report["unmapped"]
        if u["id"] not in ("Observation/bp-1", "MedicationRequest/mr-1")
    )
    assert _counts() == before


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"resourceType": "Patient", "id": "x"}, "resourceType"),
        ({"resourceType": "Bundle", "type": "document", "entry": []}, "type"),
    ],
)
def test_a_document_that_is_not_an_importable_bundle_is_422(
    patient_a: Any, api: Any, body: Any, path: str
) -> None:
    before = _counts()
    response = api("nurse_a", "POST", "/api/fhir/Bundle", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["path"] == path
    assert _counts() == before


def test_a_50_mb_bundle_is_refused_before_it_is_read(patient_a: Any, cast: Any) -> None:
    from django.test import Client

    body = json.dumps(fs.ehr_bundle()).encode()
    big = body[:-1] + b"," + b" " * (50 * 1024 * 1024) + b"}"  # 50 MB of whitespace
    before = _counts()
    response = Client().post(
        "/api/fhir/Bundle",
        data=big,
        content_type="application/fhir+json",
        headers={"Authorization": f"Bearer {cast.tokens['nurse_a']}"},
    )
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]
    assert _counts() == before


def test_a_streamed_bundle_over_the_bound_writes_nothing(patient_a: Any, cast: Any) -> None:
    from cartwatch.web.services.fhir_import import BundleTooLarge, import_bundle

    before = _counts()
    body = json.dumps(fs.ehr_bundle()).encode()
    with pytest.raises(BundleTooLarge):
        import_bundle(actor_of(cast, "nurse_a"), io.BytesIO(body), max_bytes=len(body) - 100)
    assert _counts() == before


def test_the_command_line_imports_as_a_named_user(
    patient_a: Any, cast: Any, tmp_path: Any, capsys: Any
) -> None:
    from typer.testing import CliRunner

    from cartwatch.cli.app import app

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(fs.ehr_bundle()))
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "fhir",
            "import",
            str(path),
            "--centre",
            "A",
            "--user",
            cast.users["nurse_a"].username,
            "--format",
            "text",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "2 draft CRS assessment(s), 1 lab record(s)" in done.output
    wrong = runner.invoke(
        app,
        ["fhir", "import", str(path), "--centre", "B", "--user", cast.users["nurse_a"].username],
    )
    assert wrong.exit_code == 2
    assert "centre:" in wrong.output and "not B" in wrong.output
