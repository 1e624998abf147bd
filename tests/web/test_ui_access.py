"""Every HTML page × every role of the cast (tests/web/conftest.py) → the expected status.

Who may see what (access.ROLE_PERMISSIONS, written out here so a change of the table or of a
view's decorator shows up as a failing row):

* centre roles of A see A's pages; ``physician_b`` (centre B) gets **404** for A's patient
  pages, never 403 and never data;
* write pages: physician and data manager (patient data), + nurse (daily assessments, labs,
  doses), physician only (eligibility);
* FHIR import page: the roles that record daily assessments (the API POST's permission);
* export: centre admin, data manager, researcher; audit log and the identifiable CIBMTR
  registry pages: centre admin, data manager;
* the network reviewer sees the network page only (aggregates, no patient rows);
* anonymous users are sent to the login page.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from tests.web.conftest import CAST_ROLES, PASSWORD, client_for

pytestmark = pytest.mark.django_db

PID = "A-001"  # the patient_a fixture, centre A
CENTRE = {"admin_a", "physician_a", "nurse_a", "data_manager_a", "researcher_a", "physician_b"}
A_CLINICAL = {"admin_a", "physician_a", "nurse_a", "data_manager_a", "researcher_a"}
WRITE_PATIENTS = {"physician_a", "data_manager_a"}
WRITE_ASSESSMENTS = {"physician_a", "nurse_a", "data_manager_a"}
IDENTIFIABLE = A_CLINICAL - {"researcher_a"}  # record pages show who changed what

# (url, users allowed (200), users for whom the page is about a foreign patient (404)).
# Everyone else: 403.
MATRIX: list[tuple[str, set[str], set[str]]] = [
    ("/worklist/", CENTRE, set()),
    ("/patients/", CENTRE, set()),
    ("/patients/new/", WRITE_PATIENTS | {"physician_b"}, set()),
    (f"/patients/{PID}/", A_CLINICAL, {"physician_b"}),
    (f"/patients/{PID}/eligibility/new/", {"physician_a"}, {"physician_b"}),
    (f"/patients/{PID}/prior-lines/new/", WRITE_PATIENTS, {"physician_b"}),
    (f"/patients/{PID}/cell-therapy/new/", WRITE_PATIENTS, {"physician_b"}),
    (f"/patients/{PID}/assessment/new/", WRITE_ASSESSMENTS, {"physician_b"}),
    (f"/patients/{PID}/treatments/new/", WRITE_ASSESSMENTS, {"physician_b"}),
    (f"/patients/{PID}/labs/new/", WRITE_ASSESSMENTS, {"physician_b"}),
    (f"/patients/{PID}/responses/new/", WRITE_PATIENTS, {"physician_b"}),
    (f"/patients/{PID}/mrd/new/", WRITE_PATIENTS, {"physician_b"}),
    (f"/patients/{PID}/followup/new/", WRITE_PATIENTS, {"physician_b"}),
    (f"/patients/{PID}/records/crs/{{crs}}/", IDENTIFIABLE, {"physician_b"}),
    (f"/patients/{PID}/records/crs/{{crs}}/edit/", WRITE_ASSESSMENTS, {"physician_b"}),
    (f"/patients/{PID}/records/crs/{{crs}}/delete/", {"data_manager_a"}, set()),
    (f"/patients/{PID}/history/", IDENTIFIABLE, {"physician_b"}),
    (f"/patients/{PID}/edit/", WRITE_PATIENTS, {"physician_b"}),
    (f"/patients/{PID}/delete/", {"data_manager_a"}, set()),
    ("/data-quality/", {"physician_a", "data_manager_a", "physician_b"}, set()),
    ("/dashboard/", CENTRE, set()),
    ("/network/", {"reviewer"}, set()),
    ("/exports/", {"admin_a", "data_manager_a", "researcher_a"}, set()),
    ("/imports/fhir/", WRITE_ASSESSMENTS | {"physician_b"}, set()),  # the API POST's permission
    ("/audit/", {"admin_a", "data_manager_a"}, set()),
    ("/registry/", {"admin_a", "data_manager_a"}, set()),
    (f"/registry/{PID}/", {"admin_a", "data_manager_a"}, set()),
    ("/welcome/", set(CAST_ROLES), set()),
    ("/centre/users/", {"admin_a"}, set()),
    ("/centre/users/new/", {"admin_a"}, set()),
    ("/centre/tokens/", {"admin_a"}, set()),
]


@pytest.mark.parametrize(("url", "ok", "foreign"), MATRIX, ids=[u for u, _, _ in MATRIX])
def test_page_status_for_every_role(
    patient_a: Any, url: str, ok: set[str], foreign: set[str]
) -> None:
    expected = {u: 200 if u in ok else 404 if u in foreign else 403 for u in CAST_ROLES}
    url = url.format(crs=patient_a.crsassessments.get().pk)
    seen = {}
    for user in CAST_ROLES:
        response = client_for(user).get(url)
        seen[user] = response.status_code
        if response.status_code != 200:
            # A refusal never carries the patient's data, not even its pseudonym.
            assert b"MRN-123" not in response.content
            assert PID.encode() not in response.content
    assert seen == expected


@pytest.mark.parametrize("url", [url for url, _, _ in MATRIX])
def test_anonymous_users_are_sent_to_login(patient_a: Any, url: str) -> None:
    response = Client().get(url.format(crs=patient_a.crsassessments.get().pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_is_public_and_home_redirects_by_role(patient_a: Any) -> None:
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "nurse_a", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").headers["Location"] == "/welcome/"  # the first sign-in, once
    assert client.get("/").headers["Location"] == "/worklist/"
    assert client.get("/worklist/").status_code == 200
    assert client_for("nurse_a").get("/")["Location"] == "/worklist/"
    assert client_for("reviewer").get("/")["Location"] == "/network/"
    assert client_for("researcher_a").get("/")["Location"] == "/dashboard/"


def test_km_images_follow_the_dashboard_permission(patient_a: Any) -> None:
    assert client_for("reviewer").get("/dashboard/km-pfs.png").status_code == 403
    assert client_for("physician_a").get("/dashboard/km-xyz.png").status_code == 404


# --- writes: refused roles and foreign centres change nothing ----------------------------------

AT = "2025-07-03T08:00"
WRITE_POSTS = [
    (f"/patients/{PID}/assessment/new/", {"observed_at": AT, "crs.temperature_c": "39"}),
    (f"/patients/{PID}/labs/new/", {"observed_at": AT, "neutrophils_10e9_l": "0.3"}),
    (f"/patients/{PID}/followup/new/", {"event_date": "2025-08-01", "event": "last_contact"}),
]
REFUSED = [("researcher_a", 403), ("admin_a", 403), ("physician_b", 404), ("reviewer", 403)]


@pytest.mark.parametrize(("url", "data"), WRITE_POSTS)
@pytest.mark.parametrize(("user", "expected"), REFUSED)
def test_refused_writes_store_nothing(
    patient_a: Any, url: str, data: dict[str, str], user: str, expected: int
) -> None:
    from cartwatch.web.audit.models import AuditEvent

    client = client_for(user)  # logging in is audited too: count after it
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == expected
    assert AuditEvent.objects.count() == before


def test_export_download_is_post_only_and_role_checked(patient_a: Any) -> None:
    assert client_for("data_manager_a").get("/exports/centre-csv/").status_code == 405
    assert client_for("physician_a").post("/exports/centre-csv/").status_code == 403
    assert client_for("reviewer").post("/exports/centre-csv/").status_code == 403
    response = client_for("data_manager_a").post("/exports/centre-csv/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"


def test_foreign_user_cannot_find_the_patient_anywhere(patient_a: Any) -> None:
    client = client_for("physician_b")
    for url in ("/patients/", "/worklist/", "/dashboard/", "/data-quality/"):
        response = client.get(url)
        assert response.status_code == 200
        assert PID.encode() not in response.content, url


def test_reviewer_sees_aggregates_but_no_patient_rows(patient_a: Any) -> None:
    response = client_for("reviewer").get("/network/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Pooled" in body
    assert PID not in body
    assert "MRN-123" not in body


def test_a_refusal_says_why_in_words_and_keeps_the_menu(patient_a: Any) -> None:
    response = client_for("nurse_a").post("/exports/centre-csv/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "Your role (nurse) may not export the centre&#x27;s data." in body
    assert "This is for: centre administrator, data manager, researcher" in body
    assert 'href="/worklist/"' in body and 'href="/patients/"' in body  # the menu
    assert 'href="/exports/"' not in body  # only what the role may open


def test_a_user_without_a_centre_is_told_whom_to_ask(cast: Any) -> None:
    from django.contrib.auth.models import User

    User.objects.create_user("stray", password=PASSWORD)
    client = Client()
    client.force_login(User.objects.get(username="stray"))
    response = client.get("/worklist/")
    assert response.status_code == 403
    assert "not a member of any centre" in response.content.decode()


# --- record pages: verify (POST) and delete (POST) by every role --------------------------------

VERIFY = {"physician_a", "data_manager_a"}


@pytest.mark.parametrize("user", list(CAST_ROLES))
def test_verify_and_delete_posts_follow_the_role_table(patient_a: Any, user: str) -> None:
    crs = patient_a.crsassessments.get()
    base = f"/patients/{PID}/records/crs/{crs.pk}/"
    client = client_for(user)
    verify = client.post(base + "verify/", {"version": str(crs.version)}).status_code
    # physician_b may verify, but not centre A's records: A's patient is not found (404).
    assert verify == (302 if user in VERIFY else 404 if user == "physician_b" else 403)
    crs.refresh_from_db()
    assert (crs.form_status == "verified") == (user in VERIFY)
    delete = client.post(base + "delete/", {"version": str(crs.version), "reason": "duplicate"})
    assert delete.status_code == (302 if user == "data_manager_a" else 403)
    assert patient_a.crsassessments.exists() == (user != "data_manager_a")
