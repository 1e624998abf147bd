"""Changes to who may do what are on the audit chain: users, centres, memberships (roles) and
API tokens — made from the command line, the admin site or code — with secrets kept out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _events(model: str, action: str | None = None) -> list[Any]:
    from cartwatch.web.audit.models import AuditEvent

    queryset = AuditEvent.objects.filter(model=model).order_by("id")
    return list(queryset.filter(action=action) if action else queryset)


def _whole_log() -> str:
    from cartwatch.web.audit.models import AuditEvent

    return json.dumps([e.payload() for e in AuditEvent.objects.order_by("id")])


def test_createuser_records_centre_user_and_role_as_the_command_line(settings: Any) -> None:
    from cartwatch.web.commands import create_user

    create_user("admin", PASSWORD, "centre_admin", "MUC", create_centre_name="Munich")
    [centre] = _events("centres.Centre", "create")
    [user] = _events("auth.User", "create")
    [membership] = _events("centres.Membership", "create")
    assert centre.after["code"] == "MUC" and centre.centre == "MUC"
    assert user.after["username"] == "admin" and user.after["password"] == "(hidden)"
    assert membership.after["role"] == "centre_admin" and membership.centre == "MUC"
    for event in (centre, user, membership):
        assert event.actor.endswith(" (command line)")
        assert event.reason == "cartwatch createuser"


def test_a_role_change_in_the_admin_site_is_recorded_with_before_after_and_the_admin(
    cast: Any,
) -> None:
    from django.contrib.auth.models import User

    from cartwatch.web.centres.models import Membership

    # The install-wide superuser: no centre of its own (centres/separation.py).
    admin_user = User.objects.create_superuser("root", "", PASSWORD)
    nurse = Membership.objects.get(user=cast.users["nurse_a"])
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/centres/membership/{nurse.pk}/change/",
        {"user": nurse.user_id, "centre": cast.centre_a.pk, "role": "physician"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = _events("centres.Membership", "update")
    assert event.actor == "root" and event.centre == "A"
    assert event.before["role"] == "nurse" and event.after["role"] == "physician"


def test_a_password_change_is_recorded_without_any_hash(cast: Any) -> None:
    user = cast.users["nurse_a"]
    old_hash = user.password
    user.set_password("another-long-password-77")
    user.save()
    [event] = _events("auth.User", "update")
    assert event.before["password"] == "(hidden)" and event.after["password"] == "(changed)"
    log = _whole_log()
    assert old_hash not in log and user.password not in log


def test_a_login_is_one_login_event_not_also_a_user_update(cast: Any) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "nurse_a", "password": PASSWORD})
    assert response.status_code == 302  # signed in
    assert [e.actor for e in _events("auth.user", "login")] == ["nurse_a"]
    assert _events("auth.User", "update") == []  # last_login moved: routine, not a change


def test_token_issue_and_revocation_are_recorded_without_the_token(cast: Any, api: Any) -> None:
    from cartwatch.web.centres.models import ApiToken
    from cartwatch.web.commands import create_token

    raw = create_token("physician_a", "nightly export")
    [issued] = [e for e in _events("centres.ApiToken", "create") if e.after["name"] != "tests"]
    assert issued.after["token_hash"] == "(hidden)" and issued.centre == "A"
    assert issued.reason == "cartwatch createtoken"
    assert api("physician_a", "GET", "/api/me").status_code == 200  # use: no event
    assert _events("centres.ApiToken", "update") == []
    token = ApiToken.objects.get(name="nightly export")
    token.revoked = True
    token.save()
    [revoked] = _events("centres.ApiToken", "update")
    assert revoked.before["revoked"] is False and revoked.after["revoked"] is True
    assert raw not in _whole_log()


def test_deleting_a_user_records_the_user_membership_and_tokens(cast: Any) -> None:
    cast.users["researcher_a"].delete()
    assert [e.before["username"] for e in _events("auth.User", "delete")] == ["researcher_a"]
    assert [e.before["role"] for e in _events("centres.Membership", "delete")] == ["researcher"]
    [token] = _events("centres.ApiToken", "delete")
    assert token.before["token_hash"] == "(hidden)"
