"""The FHIR doors of the pages: the FHIR R4 format on the export page, one patient's bundle on
the patient page, and the import page (``/imports/fhir/``), which calls the service the API
and ``cartwatch fhir import`` call. Runs on SQLite and, with DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from tests.unit.interop import fhir_samples as fs
from tests.web.conftest import CAST_ROLES, actor_of, client_for, infused_patient
from tests.web.fhir_journeys import build_journeys, remove_patients
from tests.web.test_stored_bad_records import _write_bad_row

pytestmark = pytest.mark.django_db

IMPORT = "/imports/fhir/"


def _upload(content: bytes | dict[str, Any], name: str = "bundle.json") -> Any:
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    return SimpleUploadedFile(name, data, content_type="application/json")


def _post(user: str, content: bytes | dict[str, Any], client: Any = None) -> Any:
    return (client or client_for(user)).post(IMPORT, {"bundle": _upload(content)})


def _counts() -> tuple[int, int, int, int]:
    from cartwatch.web.imports.models import ImportedResource
    from cartwatch.web.patients import models as m

    return (
        m.Patient.objects.count(),
        m.CrsAssessment.objects.count(),
        m.Lab.objects.count(),
        ImportedResource.objects.count(),
    )


def _last_export() -> Any:
    from cartwatch.web.audit.models import AuditEvent

    return AuditEvent.objects.filter(action="export").latest("id")


# --- the export page -----------------------------------------------------------------------


def test_the_export_page_offers_fhir_and_the_pseudonymise_choice(patient_a: Any) -> None:
    body = client_for("data_manager_a").get("/exports/").content.decode()
    assert 'data-format="fhir-r4"' in body and "FHIR R4 Bundle (JSON)" in body
    assert 'name="pseudonymise"' in body
    assert 'href="/imports/fhir/"' in body
    research = client_for("researcher_a").get("/exports/").content.decode()
    assert 'data-format="fhir-r4"' in research
    assert 'name="pseudonymise"' not in research  # a researcher always gets the research view
    assert 'href="/imports/fhir/"' not in research  # a researcher may not import


def _zip(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def _patients_in(archive: zipfile.ZipFile) -> list[str]:
    bundle = json.loads(archive.read("cartwatch-A-fhir-r4.json"))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    return sorted(
        e["resource"]["identifier"][0]["value"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Patient"
    )


def test_the_fhir_download_is_the_services_bundle_audited(cast: Any) -> None:
    build_journeys(cast)  # H-002 did not consent to research
    response = client_for("data_manager_a").post("/exports/fhir-r4/")
    archive = _zip(response)
    assert archive.namelist() == ["cartwatch-A-fhir-r4.json"]
    assert "cartwatch-A-fhir-r4.zip" in response["Content-Disposition"]
    assert _patients_in(archive) == ["H-001", "H-002"]
    text = archive.read("cartwatch-A-fhir-r4.json").decode()
    assert "Ward 7" in text and "MRN-777" not in text  # free text yes, hospital number never
    event = _last_export()
    assert event.object_id == "fhir-r4" and event.actor == "data_manager_a"
    assert event.after["files"] == ["cartwatch-A-fhir-r4.json"]
    assert event.after["patients"] == 2 and event.after["pseudonymised"] is False


@pytest.mark.parametrize(("user", "form"), [("data_manager_a", {"pseudonymise": "on"}),
                                            ("researcher_a", {})])  # fmt: skip
def test_pseudonymised_and_research_downloads_are_the_research_view(
    cast: Any, user: str, form: dict[str, str]
) -> None:
    build_journeys(cast)
    archive = _zip(client_for(user).post("/exports/fhir-r4/", form))
    assert _patients_in(archive) == ["H-001"]  # only the patient who consented
    text = archive.read("cartwatch-A-fhir-r4.json").decode()
    assert "Ward 7" not in text
    assert _last_export().after["pseudonymised"] is True


def test_a_patient_whose_stored_record_fails_the_checks_is_left_out_and_named(
    cast: Any, patient_a: Any
) -> None:
    infused_patient(actor_of(cast, "physician_a"), patient_id="A-002")
    _write_bad_row(patient_a, "infusion-9999")
    archive = _zip(client_for("data_manager_a").post("/exports/fhir-r4/"))
    assert _patients_in(archive) == ["A-002"]
    excluded = archive.read("EXCLUDED.txt").decode()
    assert excluded.startswith("1 patient(s) left out because a stored record fails the checks")
    assert "A-001: cell_therapy record" in excluded and "A-002" not in excluded
    event = _last_export()
    assert event.after["excluded"] == ["A-001"]
    assert event.after["files"] == ["EXCLUDED.txt", "cartwatch-A-fhir-r4.json"]


def test_the_api_export_route_offers_the_same_zip(patient_a: Any, api: Any) -> None:
    archive = _zip(api("data_manager_a", "GET", "/api/exports/fhir-r4"))
    assert _patients_in(archive) == ["A-001"]


# --- one patient's bundle on the patient page -------------------------------------------------

BUNDLE_LINK = 'action="/patients/A-001/fhir-bundle/"'


@pytest.mark.parametrize("user", ["admin_a", "data_manager_a", "researcher_a"])
def test_the_patient_page_offers_the_bundle_to_exporting_roles(patient_a: Any, user: str) -> None:
    client = client_for(user)
    assert BUNDLE_LINK in client.get("/patients/A-001/").content.decode()
    response = client.post("/patients/A-001/fhir-bundle/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert "cartwatch-A-001-fhir-r4.json" in response["Content-Disposition"]
    bundle = json.loads(response.content)
    patients = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert [p["identifier"][0]["value"] for p in patients] == ["A-001"]
    event = _last_export()
    assert event.after["patient"] == "A-001" and event.actor == user
    assert event.after["pseudonymised"] is (user == "researcher_a")


@pytest.mark.parametrize("user", ["physician_a", "nurse_a"])
def test_other_roles_see_no_link_and_a_forced_download_is_403_in_words(
    patient_a: Any, user: str
) -> None:
    from cartwatch.web.audit.models import AuditEvent

    client = client_for(user)
    assert BUNDLE_LINK not in client.get("/patients/A-001/").content.decode()
    before = AuditEvent.objects.filter(action="export").count()
    response = client.post("/patients/A-001/fhir-bundle/")
    assert response.status_code == 403
    assert "may not export the centre&#x27;s data" in response.content.decode()
    assert AuditEvent.objects.filter(action="export").count() == before


def test_the_bundle_of_a_patient_with_a_failing_record_is_refused_in_words(
    patient_a: Any,
) -> None:
    _write_bad_row(patient_a, "infusion-9999")
    client = client_for("data_manager_a")
    response = client.post("/patients/A-001/fhir-bundle/", follow=True)
    assert response.redirect_chain == [("/patients/A-001/", 302)]
    body = response.content.decode()
    assert "No FHIR bundle: 1 patient(s) left out because a stored record fails the checks" in body


# --- the import page -----------------------------------------------------------------------


def test_an_ehr_bundle_becomes_drafts_the_page_lists_and_links(patient_a: Any) -> None:
    from cartwatch.web.patients import models as m

    before = _counts()
    response = _post("nurse_a", fs.ehr_bundle())
    assert response.status_code == 200
    body = response.content.decode()
    assert "Imported from bundle.json" in body
    assert "2 draft CRS assessments, 1 blood count" in body
    assert "A nurse must confirm each draft." in body
    drafts = m.CrsAssessment.objects.filter(patient=patient_a, form_status="incomplete")
    assert drafts.count() == 2
    for draft in drafts:
        assert f'href="/patients/A-001/records/crs/{draft.pk}/"' in body
    lab = m.Lab.objects.get(patient=patient_a)
    assert f'href="/patients/A-001/records/labs/{lab.pk}/"' in body
    assert "Neutropenia grade 4; Thrombocytopenia grade 3; Anaemia grade 3" in body
    assert "Body temperature 101.3 °F = 38.5 °C (Observation/t-2)" in body  # not [degF], Cel
    assert "[degF]" not in body and "10*3/uL" not in body and "[#/volume]" not in body
    # Every resource not imported: entry index, Type/id and the reason.
    section = body[body.index('id="not-imported"') :]
    assert "<td>5</td><td>Observation/bp-1</td>" in section
    assert "<td>12</td><td>MedicationRequest/mr-1</td>" in section
    assert "{" not in section  # no raw JSON
    assert _counts() == (before[0], before[1] + 2, before[2] + 1, before[3] + 10)

    again = _post("nurse_a", fs.ehr_bundle()).content.decode()
    assert "Stored: 0 draft CRS assessments, 0 blood counts" in again
    assert "10 resources had been imported already and were left as stored." in again
    assert _counts() == (before[0], before[1] + 2, before[2] + 1, before[3] + 10)


def test_the_import_is_audited_as_the_service_does(patient_a: Any) -> None:
    from cartwatch.web.audit.models import AuditEvent

    before = AuditEvent.objects.filter(actor="data_manager_a", action="create").count()
    assert _post("data_manager_a", fs.ehr_bundle()).status_code == 200
    after = AuditEvent.objects.filter(actor="data_manager_a", action="create").count()
    assert after == before + 3  # two CRS drafts and one blood count


def _journey_bundle(cast: Any) -> dict[str, Any]:
    from cartwatch.web.services.fhir_export import export_bundle

    build_journeys(cast)
    bundle = export_bundle(actor_of(cast, "data_manager_a")).bundle
    remove_patients(cast.centre_a)
    return copy.deepcopy(bundle)


def test_a_journey_bundle_registers_its_patients_and_names_grade_differences(
    cast: Any,
) -> None:
    bundle = _journey_bundle(cast)
    nurse = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "crs-assessment"
        and e["resource"]["effectiveDateTime"].startswith("2025-07-03")
    )
    true_grade = nurse["valueInteger"]
    nurse["valueInteger"] = 0
    crs_event = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "AdverseEvent"
        and e["resource"]["event"]["coding"][0]["code"] == "crs"
    )
    crs_event["extension"][0]["valueInteger"] = 1
    response = _post("data_manager_a", bundle)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Records from a cartwatch export" in body
    assert "2 patients registered" in body
    assert "1 blood count," in body and "3 CRS assessments" in body
    assert "stored as complete: verifying against the source is this centre's act" in body
    section = body[body.index("Grades that differ") :]
    assert "<td>Grade</td><td>0</td><td>" + str(true_grade) + "</td>" in section
    assert "<td>CRS grade</td><td>1</td><td>" + str(true_grade) + "</td>" in section
    assert "grade_" not in section and "Crs" not in section  # words, not field codes


def test_a_nurse_may_not_register_the_patients_of_a_journey_bundle(cast: Any) -> None:
    bundle = _journey_bundle(cast)
    before = _counts()
    response = _post("nurse_a", bundle)
    assert response.status_code == 403
    body = response.content.decode()
    assert "bundle.json was not imported; nothing was stored." in body
    assert "may not register patients" in body
    assert _counts() == before


REFUSED = [
    (
        "another-centre",
        json.dumps(fs.ehr_bundle(centre="B")).encode(),
        "Entry 0 of the bundle: Patient A-001 belongs to centre B, not A: nothing imported.",
    ),
    ("not-json", b"these are not the droids", "The file is not valid JSON"),
    (
        "invalid-json",
        b'{"resourceType": "Bundle", "type": "collection", "entry": [',
        "The file is not valid JSON, so it is not a FHIR bundle.",
    ),
    (
        "a-patient",
        json.dumps(fs.patient("A-001")).encode(),
        "The file holds a single Patient resource, not a Bundle.",
    ),
    (
        "wrong-type",
        json.dumps(fs.bundle(kind="document")).encode(),
        "The bundle is of type &#x27;document&#x27;; cartwatch imports these types: collection,",
    ),
]


@pytest.mark.parametrize(("case", "content", "words"), REFUSED, ids=[c for c, _, _ in REFUSED])
def test_a_refused_bundle_is_named_at_the_top_and_nothing_is_written(
    patient_a: Any, case: str, content: bytes, words: str
) -> None:
    from cartwatch.web.audit.models import AuditEvent

    client = client_for("data_manager_a")
    before, events = _counts(), AuditEvent.objects.count()
    response = _post("data_manager_a", content, client)
    assert response.status_code == 422
    body = response.content.decode()
    top = body[body.index('id="error-summary"') : body.index('id="upload"')]
    assert "bundle.json was not imported; nothing was stored." in top
    assert words in top and 'href="#bundle"' in top
    assert _counts() == before and AuditEvent.objects.count() == events


def test_no_file_chosen_is_said_in_words(patient_a: Any) -> None:
    response = client_for("nurse_a").post(IMPORT, {})
    assert response.status_code == 422
    assert "Choose the bundle file (JSON) to import." in response.content.decode()


def _padded(size: int) -> bytes:
    """A valid, empty Bundle of exactly *size* bytes (white space is JSON too)."""
    head = json.dumps(fs.bundle(kind="collection")).encode()
    return head + b" " * (size - len(head))


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    from cartwatch.web.services import fhir_import

    monkeypatch.setattr(fhir_import, "WEB_MAX_BYTES", 4096)
    return 4096


def test_a_file_at_the_limit_is_imported_one_byte_over_is_refused(
    patient_a: Any, small_limit: int
) -> None:
    at = _post("nurse_a", _padded(small_limit))
    assert at.status_code == 200 and "Imported from bundle.json" in at.content.decode()
    before = _counts()
    over = _post("nurse_a", _padded(small_limit + 1))
    assert over.status_code == 413
    body = over.content.decode()
    assert f"({small_limit:,} bytes). Nothing was imported." in body
    assert "cartwatch fhir import BUNDLE.json --centre A --user nurse_a" in body
    assert _counts() == before


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    patient_a: Any, small_limit: int
) -> None:
    from cartwatch.web.ui.views.fhir import FORM_SLACK

    response = _post("nurse_a", _padded(small_limit + FORM_SLACK + 1))
    assert response.status_code == 413
    assert "Nothing was imported" in response.content.decode()


def test_the_real_limit_is_the_apis_20_mb(patient_a: Any) -> None:
    from cartwatch.web.api.fhir import FHIR_MAX_BYTES

    over = _post("nurse_a", _padded(FHIR_MAX_BYTES + 1))
    assert FHIR_MAX_BYTES == 20 * 1024 * 1024
    assert over.status_code == 413
    assert "larger than the 20 MB the web pages accept (20,971,520 bytes)" in (
        over.content.decode()
    )


def test_the_import_form_needs_the_csrf_token(patient_a: Any) -> None:
    from django.contrib.auth import get_user_model

    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="nurse_a"))
    before = _counts()
    assert client.post(IMPORT, {"bundle": _upload(fs.ehr_bundle())}).status_code == 403
    assert _counts() == before
    page = client.get(IMPORT)
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    assert 'enctype="multipart/form-data"' in page.content.decode()


def test_the_nav_shows_the_import_page_to_the_roles_that_may_import(cast: Any) -> None:
    from cartwatch.web.access import ROLE_PERMISSIONS, Perm
    from cartwatch.web.centres.models import Role

    for user, (role, _) in CAST_ROLES.items():
        body = client_for(user).get("/welcome/").content.decode()
        may = Perm.WRITE_ASSESSMENTS in ROLE_PERMISSIONS[Role(role)]
        assert ('href="/imports/fhir/"' in body) is may, user


@pytest.mark.parametrize(
    ("note", "shown"),
    [
        (
            "Body temperature 99.1 [degF] = 37.2778 Cel (Observation/t-1)",
            "Body temperature 99.1 °F = 37.2778 °C (Observation/t-1)",
        ),
        (
            "Neutrophils [#/volume] in Blood by Automated count 0.4 10*3/uL = 0.4 10*9/L (n)",
            "Neutrophils in Blood by Automated count 0.4 ×10³/µL = 0.4 ×10⁹/L (n)",
        ),
        (
            "norepinephrine given 2025-07-02T15:00:00 at 0.05 ug/kg/min (ma-1)",
            "norepinephrine given 2025-07-02 15:00 at 0.05 µg/kg/min (ma-1)",
        ),
        (
            "tocilizumab given 2025-07-02T16:00:00+02:00 (ma-2)",
            "tocilizumab given 2025-07-02 16:00 (ma-2)",
        ),
        ("Hemoglobin 79 g/L = 7.9 g/dL (h-1)", "Hemoglobin 79 g/L = 7.9 g/dL (h-1)"),  # as written
        ("a unit not listed 5 mmol/L (x)", "a unit not listed 5 mmol/L (x)"),
    ],
)
def test_import_notes_are_shown_in_ward_units(note: str, shown: str) -> None:
    from cartwatch.web.ui.views.fhir import _source_words

    assert _source_words(note) == shown
