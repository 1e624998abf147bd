"""Every API endpoint and URL, called by every role, a foreign-centre user and nobody.

Expected outcome from the role table (access.ROLE_PERMISSIONS): the role has the endpoint's
permission → success; it does not → 403; a centre-B user asking for a centre-A patient → 404
(exactly what a non-existent patient gives, so nothing leaks); no credentials → 401.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from tests.unit.interop.fhir_samples import ehr_bundle
from tests.web.conftest import CAST_ROLES, CRS_ROW, PATIENT_ROW

P = "/api/patients/A-001"
FOLLOWUP = {"event_date": "2025-08-01", "event": "last_contact"}
FHIR_BUNDLE = ehr_bundle("A-001", centre=None)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {crs} is replaced by the fixture's CRS assessment id
    perm: str | None  # None: any member
    ok: int
    body: Any = None
    patient_scoped: bool = True


ENDPOINTS = [
    Endpoint("GET", "/api/me", None, 200, patient_scoped=False),
    Endpoint("GET", "/api/patients", "read_patients", 200, patient_scoped=False),
    Endpoint(
        "POST",
        "/api/patients",
        "write_patients",
        201,
        {"data": {**PATIENT_ROW, "patient_id": "A-002"}},
        patient_scoped=False,
    ),
    Endpoint("GET", P, "read_patients", 200),
    Endpoint(
        "PUT", P, "write_patients", 200, {"data": PATIENT_ROW, "version": 1, "reason": "typo"}
    ),
    Endpoint("DELETE", P, "delete_records", 204, {"version": 1, "reason": "duplicate"}),
    Endpoint("GET", P + "/eligibility", "read_patients", 200),
    Endpoint(
        "POST",
        P + "/eligibility",
        "edit_eligibility",
        201,
        {
            "product": "liso-cel",
            "diagnosis": "CLL",
            "age_years": 64,
            "relapsed_or_refractory": True,
            "prior_lines": [{"agents": ["ibrutinib"]}, {"agents": ["venetoclax"]}],
            "as_of": "2025-06-01",
        },
    ),
    Endpoint("GET", P + "/crs", "read_patients", 200),
    Endpoint("POST", P + "/crs", "write_assessments", 201, {"data": CRS_ROW}),
    Endpoint("GET", P + "/crs/{crs}", "read_patients", 200),
    Endpoint(
        "PUT",
        P + "/crs/{crs}",
        "write_assessments",
        200,
        {"data": {**CRS_ROW, "temperature_c": 39.0}, "version": 1, "reason": "misread"},
    ),
    Endpoint(
        "DELETE", P + "/crs/{crs}", "delete_records", 204, {"version": 1, "reason": "wrong patient"}
    ),
    Endpoint("GET", P + "/followup", "read_patients", 200),
    Endpoint("POST", P + "/followup", "write_patients", 201, {"data": FOLLOWUP}),
    Endpoint(
        "POST",
        P + "/treatments",
        "write_assessments",
        201,
        {
            "data": {
                "given_at": "2025-07-02T09:00:00",
                "agent": "tocilizumab",
                "indication": "crs",
                "dose": 8,
                "dose_unit": "mg/kg",
            }
        },
    ),
    Endpoint("POST", "/api/grade/crs", None, 200, {"temperature_c": 38.5}, patient_scoped=False),
    Endpoint("GET", "/api/alerts", "centre_analytics", 200, patient_scoped=False),
    Endpoint("GET", "/api/exports/centre-csv", "export", 200, patient_scoped=False),
    Endpoint("GET", "/api/report", "export", 200, patient_scoped=False),
    Endpoint("GET", "/api/audit", "view_audit", 200, patient_scoped=False),
    Endpoint("GET", "/api/network", "network_aggregates", 200, patient_scoped=False),
    # A centre-B user importing A-001's bundle gets 200 with nothing written (A-001 is not
    # registered at B); tests/web/test_fhir_import_api.py checks that nothing is written.
    Endpoint("POST", "/api/fhir/Bundle", "write_assessments", 200, FHIR_BUNDLE, False),
    Endpoint("GET", P.replace("patients", "fhir/Patient") + "/$everything", "export", 200),
]


def expected(endpoint: Endpoint, user: str) -> int:
    from cartwatch.web.access import ROLE_PERMISSIONS
    from cartwatch.web.centres.models import Role

    role, centre = CAST_ROLES[user]
    perms = {str(p) for p in ROLE_PERMISSIONS[Role(role)]}
    if endpoint.perm is not None and endpoint.perm not in perms:
        return 403
    if endpoint.patient_scoped and centre != "A":
        return 404
    return endpoint.ok


def _id(endpoint: Endpoint) -> str:
    return f"{endpoint.method} {endpoint.path}"


@pytest.mark.django_db
@pytest.mark.parametrize("user", list(CAST_ROLES))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_role_gets_expected_status(endpoint: Endpoint, user: str, patient_a: Any, api: Any) -> None:
    crs_id = patient_a.crsassessments.get().pk
    response = api(user, endpoint.method, endpoint.path.format(crs=crs_id), endpoint.body)
    assert response.status_code == expected(endpoint, user), response.content


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_anonymous_is_refused(endpoint: Endpoint, patient_a: Any, api: Any) -> None:
    crs_id = patient_a.crsassessments.get().pk
    response = api(None, endpoint.method, endpoint.path.format(crs=crs_id), endpoint.body)
    # Unsafe methods without credentials fail the session's CSRF check first (403).
    assert response.status_code in ((401,) if endpoint.method == "GET" else (401, 403))


@pytest.mark.django_db
def test_every_api_route_is_in_the_matrix() -> None:
    """A new endpoint must be added to ENDPOINTS (and so to the access matrix)."""
    from cartwatch.web.api.main import api

    schema = api.get_openapi_schema()
    routes = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    templates = (
        ("A-001", "{patient_id}"),
        ("{crs}", "{record_id}"),
        ("/grade/crs", "/grade/{kind}"),
        ("/crs", "/{kind}"),
        ("/followup", "/{kind}"),
        ("/treatments", "/{kind}"),
        ("centre-csv", "{fmt}"),
    )
    covered = set()
    for e in ENDPOINTS:
        path = e.path
        for concrete, template in templates:
            path = path.replace(concrete, template)
        covered.add((e.method, path))
    assert routes <= covered, routes - covered


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["prior-lines", "cell-therapy", "crs", "icans", "treatments",
                                  "labs", "responses", "mrd", "followup"])  # fmt: skip
def test_foreign_user_gets_404_for_every_kind(kind: str, patient_a: Any, api: Any) -> None:
    assert api("physician_a", "GET", f"{P}/{kind}").status_code == 200
    assert api("physician_b", "GET", f"{P}/{kind}").status_code == 404
    assert api("physician_b", "GET", f"{P}/{kind}/1").status_code == 404


@pytest.mark.django_db
def test_foreign_patient_looks_like_a_missing_one(patient_a: Any, api: Any) -> None:
    foreign = api("physician_b", "GET", P)
    missing = api("physician_b", "GET", "/api/patients/NO-SUCH")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


@pytest.mark.django_db
def test_patient_list_is_scoped_to_the_centre(patient_a: Any, api: Any) -> None:
    assert [p["patient_id"] for p in api("nurse_a", "GET", "/api/patients").json()] == ["A-001"]
    assert api("physician_b", "GET", "/api/patients").json() == []


@pytest.mark.django_db
def test_researcher_sees_pseudonymised_rows(patient_a: Any, api: Any) -> None:
    clinician = api("physician_a", "GET", P).json()["patient"]
    researcher = api("researcher_a", "GET", P).json()["patient"]
    assert clinician["data"]["hospital_number"] == "MRN-123"
    assert researcher["data"]["hospital_number"] is None
    assert researcher["patient_id"] == "A-001"  # the pseudonym stays


@pytest.mark.django_db
def test_reviewer_sees_counts_not_rows(patient_a: Any, api: Any) -> None:
    body = api("reviewer", "GET", "/api/network").json()
    # One patient: every count is a small cell (test_hardening.py pins the suppression).
    assert body["pooled"]["patients"] == "<5"
    assert body["pooled"]["infused"] == "<5"
    assert body["pooled"]["crs_any"]["k"] == "<5"
    assert "A-001" not in str(body)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "anonymous", "member"),
    [
        # The HTML pages (cartwatch.web.ui) own "/" and the login page: a signed-in user may
        # be sent on from the login page, so both outcomes are allowed there.
        ("/accounts/login/", {200}, {200, 302}),
        ("/api/docs", {200}, {200}),
        ("/api/openapi.json", {200}, {200}),
        ("/admin/", {302}, {302}),  # admin site: staff only; no patient data is registered there
        ("/", {302}, {200, 302}),
        ("/welcome/", {302}, {200}),  # every role: what it can do, where to start
        ("/centre/users/", {302}, {200, 403}),  # the centre administrator only (test_ui_access)
        ("/centre/tokens/", {302}, {200, 403}),
    ],
)
def test_html_urls(url: str, anonymous: set[int], member: set[int], cast: Any) -> None:
    from django.test import Client

    client = Client()
    assert client.get(url).status_code in anonymous
    for user in cast.users.values():
        client.force_login(user)
        assert client.get(url).status_code in member, (url, user)


REGISTRY_URLS = [
    ("GET", "/registry/"),
    ("GET", "/registry/A-001/"),
    ("POST", "/registry/download/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("user", list(CAST_ROLES))
@pytest.mark.parametrize(("method", "url"), REGISTRY_URLS)
def test_registry_pages_follow_the_role_table(
    method: str, url: str, user: str, patient_a: Any, cast: Any
) -> None:
    """The identifiable registry report: the data manager and the centre administrator
    (Perm.REGISTRY); every other role 403, with the reason in words."""
    from django.test import Client

    from cartwatch.web.access import ROLE_PERMISSIONS
    from cartwatch.web.centres.models import Role

    client = Client()
    client.force_login(cast.users[user])
    response = getattr(client, method.lower())(url)
    allowed = "registry" in {str(p) for p in ROLE_PERMISSIONS[Role(CAST_ROLES[user][0])]}
    assert response.status_code == (200 if allowed else 403), (user, url)
    if not allowed and CAST_ROLES[user][1] is not None:
        assert (
            "may not prepare the identifiable CIBMTR registry report" in response.content.decode()
        )


def _data_manager_b(cast: Any) -> Any:
    """A client signed in as a data manager of centre B (registry and export permissions,
    which the cast's centre-B physician lacks)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cartwatch.web.centres.models import Membership

    user = get_user_model().objects.create_user("data_manager_b", password="x-long-password-1")
    Membership.objects.create(user=user, centre=cast.centre_b, role="data_manager")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_registry_page_of_a_foreign_patient_is_404(patient_a: Any, cast: Any) -> None:
    client = _data_manager_b(cast)
    assert client.get("/registry/").status_code == 200
    assert client.get("/registry/A-001/").status_code == 404
    assert "A-001" not in client.get("/registry/").content.decode()


FHIR_PAGES = [
    ("POST", "/exports/fhir-r4/", "export", False),
    ("POST", "/patients/A-001/fhir-bundle/", "export", True),
    ("GET", "/imports/fhir/", "write_assessments", False),
    ("POST", "/imports/fhir/", "write_assessments", False),
]


@pytest.mark.django_db
@pytest.mark.parametrize("user", list(CAST_ROLES))
@pytest.mark.parametrize(("method", "url", "perm", "patient_scoped"), FHIR_PAGES)
def test_fhir_pages_follow_the_role_table(
    method: str, url: str, perm: str, patient_scoped: bool, user: str, patient_a: Any, cast: Any
) -> None:
    """The FHIR doors of the pages: the export download and the patient's bundle with the
    export permission, the import page with the API POST's (record entry); a refusal says
    why in words; the import page's POST without a file stores nothing (422)."""
    from django.test import Client

    from cartwatch.web.access import ROLE_PERMISSIONS
    from cartwatch.web.centres.models import Role

    client = Client()
    client.force_login(cast.users[user])
    response = getattr(client, method.lower())(url)
    allowed = perm in {str(p) for p in ROLE_PERMISSIONS[Role(CAST_ROLES[user][0])]}
    ok = 422 if (method, url) == ("POST", "/imports/fhir/") else 200
    foreign = patient_scoped and CAST_ROLES[user][1] != "A"
    assert response.status_code == (ok if allowed and not foreign else 404 if allowed else 403)
    if not allowed and CAST_ROLES[user][1] is not None:
        assert "Your role (" in response.content.decode()


@pytest.mark.django_db
def test_the_fhir_bundle_of_a_foreign_patient_is_404(patient_a: Any, cast: Any) -> None:
    """A centre-B user with the export permission: A's patient is not found, as a missing one."""
    client = _data_manager_b(cast)
    foreign = client.post("/patients/A-001/fhir-bundle/")
    missing = client.post("/patients/NO-SUCH/fhir-bundle/")
    assert foreign.status_code == missing.status_code == 404
    assert b"A-001" not in foreign.content
    centre = zipfile.ZipFile(io.BytesIO(client.post("/exports/fhir-r4/").content))
    assert b"A-001" not in centre.read("cartwatch-B-fhir-r4.json")
