"""The outcomes report download (HTML): role-checked, audited, built from the centre's data."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def _export_events() -> list[Any]:
    from cartwatch.web.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(action="export").order_by("id"))


def test_api_report_is_an_audited_html_download(synth_centre: int, api: Any) -> None:
    response = api("data_manager_a", "GET", "/api/report")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Disposition"] == 'attachment; filename="cartwatch-A-report.html"'
    html = response.content.decode()
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "centre A: 12 patients recorded in cartwatch" in html  # the data source line
    assert "data:image/png;base64," in html  # KM figures inline (self-contained file)
    [event] = _export_events()
    assert event.actor == "data_manager_a" and event.centre == "A"
    assert event.object_id == "report-html"
    assert event.after["files"] == ["cartwatch-A-report.html"]
    assert event.after["patients"] == 12 and event.after["pseudonymised"] is False
    assert event.after["data_cutoff"]


def test_researcher_report_is_marked_pseudonymised_and_has_no_hospital_number(
    cast: Any, patient_a: Any, api: Any
) -> None:
    response = api("researcher_a", "GET", "/api/report")
    assert response.status_code == 200, response.content
    assert b"MRN-123" not in response.content
    [event] = _export_events()
    assert event.after["pseudonymised"] is True


@pytest.mark.parametrize("user", ["physician_a", "nurse_a", "reviewer"])
def test_roles_without_export_get_403_and_nothing_is_audited(
    patient_a: Any, api: Any, user: str
) -> None:
    assert api(user, "GET", "/api/report").status_code == 403
    assert _export_events() == []


def test_a_centre_without_patients_gets_409_with_the_reason(cast: Any, api: Any) -> None:
    response = api("data_manager_a", "GET", "/api/report")
    assert response.status_code == 409
    assert "no patients" in response.json()["detail"]
    assert _export_events() == []


def test_export_page_offers_the_report_and_the_download_is_post_only(patient_a: Any) -> None:
    client = client_for("data_manager_a")
    page = client.get("/exports/").content.decode()
    assert 'action="/exports/report/"' in page and "Download report" in page
    assert client.get("/exports/report/").status_code == 405
    assert client_for("physician_a").post("/exports/report/").status_code == 403
    response = client.post("/exports/report/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="cartwatch-A-report.html"'
    assert [e.object_id for e in _export_events()] == ["report-html"]
    assert "report-html" in client.get("/exports/").content.decode()  # recent exports


def test_export_page_says_why_when_there_is_nothing_to_report(cast: Any) -> None:
    response = client_for("data_manager_a").post("/exports/report/")
    assert response.status_code == 409
    assert "no patients are recorded" in response.content.decode()


EXPORTERS = {"admin_a", "data_manager_a", "researcher_a"}


@pytest.mark.parametrize(
    "user",
    ["admin_a", "physician_a", "nurse_a", "data_manager_a", "researcher_a", "physician_b",
     "reviewer"],
)  # fmt: skip
def test_report_page_download_by_role(patient_a: Any, user: str) -> None:
    """Export roles of centre A get A's report; others 403. physician_b may not export either."""
    response = client_for(user).post("/exports/report/")
    assert response.status_code == (200 if user in EXPORTERS else 403)


def test_anonymous_report_download_goes_to_login(patient_a: Any) -> None:
    response = Client().post("/exports/report/")
    assert response.status_code in (302, 403)  # the CSRF check or the login redirect
    assert _export_events() == []
