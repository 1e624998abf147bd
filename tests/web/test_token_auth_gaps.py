"""Issue 12, finding 9 (auth gaps): a locked-out user's API token is refused; tokens are
listed and revoked from the command line (audited); pages with patient data and the API
send ``Cache-Control: no-store``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def _lock_out(username: str, settings: Any) -> None:
    """Fail the sign-in until django-axes locks the username at the test client's address."""
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": username, "password": "wrong"})


def test_a_locked_out_users_token_is_refused_until_the_lock_is_lifted(
    cast: Any, api: Any, settings: Any
) -> None:
    from axes.utils import reset

    assert api("nurse_a", "GET", "/api/me").status_code == 200
    _lock_out("nurse_a", settings)
    locked = api("nurse_a", "GET", "/api/me")
    assert locked.status_code == 403
    assert "locked" in locked.json()["detail"]
    assert api("physician_a", "GET", "/api/me").status_code == 200  # only that account
    reset(username="nurse_a")
    assert api("nurse_a", "GET", "/api/me").status_code == 200


def test_tokens_list_and_revoke_from_the_command_line_are_audited(cast: Any, api: Any) -> None:
    from cartwatch.web.audit.models import AuditEvent
    from cartwatch.web.commands import CommandError, revoke_token, token_rows

    rows = token_rows(centre_code="A")
    assert {r.username for r in rows} == {
        "admin_a", "physician_a", "nurse_a", "data_manager_a", "researcher_a",
    }  # fmt: skip
    assert [r.username for r in token_rows(username="reviewer")] == ["reviewer"]
    assert all(not r.revoked and r.centre == "A" for r in rows)

    nurse = next(r for r in rows if r.username == "nurse_a")
    row, changed = revoke_token(str(nurse.token_id))
    assert changed and row.revoked
    assert api("nurse_a", "GET", "/api/me").status_code == 401
    assert revoke_token(nurse.prefix)[1] is False  # by prefix, already revoked: no new event
    event = AuditEvent.objects.filter(model="centres.ApiToken", action="update").get()
    assert event.reason == "cartwatch tokens revoke" and event.actor.endswith("(command line)")
    assert event.before["revoked"] is False and event.after["revoked"] is True
    assert event.after["token_hash"] == "(hidden)" and event.centre == "A"
    with pytest.raises(CommandError, match="no token"):
        revoke_token("cw_nothing")
    with pytest.raises(CommandError, match="give the id"):
        revoke_token("cw_")  # every token starts so: ambiguous


@pytest.mark.parametrize("url", ["/patients/A-001/", "/patients/", "/worklist/", "/dashboard/"])
def test_pages_with_patient_data_are_never_stored(patient_a: Any, url: str) -> None:
    response = client_for("physician_a").get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_the_api_is_never_stored(patient_a: Any, api: Any) -> None:
    for path in ("/api/patients/A-001", "/api/patients", "/api/me"):
        assert api("physician_a", "GET", path)["Cache-Control"] == "no-store"
    assert Client().get("/api/patients")["Cache-Control"] == "no-store"  # even a 401
