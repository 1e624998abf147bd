"""Centre user management in the pages (issue 11, item 5): a centre administrator adds
users to its own centre, sets roles, deactivates, resets passwords, lists and revokes API
tokens — audited, scoped to its centre (another centre's user or token is a 404) — and the
welcome page says what each role can do and where to start."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from tests.web.conftest import CAST_ROLES, PASSWORD, client_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-password-93"


def _events(model: str, action: str) -> list[Any]:
    from cartwatch.web.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(model=model, action=action).order_by("id"))


def test_the_admin_adds_a_nurse_who_then_signs_in(cast: Any) -> None:
    from django.contrib.auth.models import User

    admin = client_for("admin_a")
    page = admin.get("/centre/users/")
    assert page.status_code == 200
    rows = {name for name in CAST_ROLES if f'data-user="{name}"'.encode() in page.content}
    assert rows == {"admin_a", "physician_a", "nurse_a", "data_manager_a", "researcher_a"}

    response = admin.post("/centre/users/new/", {
        "username": "nina", "email": "nina@example.org", "role": "nurse",
        "password": PASSWORD, "password_again": PASSWORD,
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/centre/users/"
    nina = User.objects.get(username="nina")
    assert nina.membership.centre == cast.centre_a and nina.membership.role == "nurse"
    assert not nina.is_superuser and not nina.is_staff
    memberships = _events("centres.Membership", "create")
    created = next(e for e in memberships if e.after["user_id"] == nina.pk)
    assert created.actor == "admin_a" and created.centre == "A"
    assert created.reason == "user management: add user"

    client = Client()
    signed_in = client.post("/accounts/login/", {"username": "nina", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert client.get("/").headers["Location"] == "/welcome/"


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"username": "nurse_a"}, "username", "already taken"),
        ({"username": "two words"}, "username", "no spaces"),
        ({"role": "network_reviewer"}, "role", "choose one of"),
        ({"role": ""}, "role", "choose one of"),
        ({"password": "short", "password_again": "short"}, "password", "too short"),
        ({"password_again": "something-else-42"}, "password_again", "differ"),
        ({"email": "not-an-address"}, "email", "not an e-mail address"),
    ],
)
def test_a_bad_new_user_is_refused_on_the_field(
    cast: Any, form: dict[str, str], field: str, message: str
) -> None:
    from django.contrib.auth.models import User

    good = {"username": "nina", "email": "", "role": "nurse",
            "password": PASSWORD, "password_again": PASSWORD}  # fmt: skip
    before = User.objects.count()
    response = client_for("admin_a").post("/centre/users/new/", {**good, **form})
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    assert f'id="f-{field.replace("_", "-")}"' in body and 'aria-invalid="true"' in body
    assert PASSWORD not in body  # a password is never sent back
    assert User.objects.count() == before


def test_role_change_deactivation_and_password_reset_are_audited(cast: Any, api: Any) -> None:
    nurse = cast.users["nurse_a"]
    admin = client_for("admin_a")
    assert admin.get(f"/centre/users/{nurse.pk}/").status_code == 200
    response = admin.post(f"/centre/users/{nurse.pk}/", {"role": "physician"})  # not active
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.membership.role == "physician" and not nurse.is_active
    assert api("nurse_a", "GET", "/api/me").status_code == 401  # tokens stop with the account
    [role] = _events("centres.Membership", "update")
    assert role.before["role"] == "nurse" and role.after["role"] == "physician"
    [active] = [e for e in _events("auth.User", "update") if "is_active" in (e.after or {})]
    assert active.before["is_active"] is True and active.after["is_active"] is False
    assert active.actor == "admin_a" and active.reason == "user management: edit user"

    reset = admin.post(
        f"/centre/users/{nurse.pk}/password/",
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert reset.status_code == 302
    nurse.refresh_from_db()
    assert nurse.check_password(NEW_PASSWORD)
    event = _events("auth.User", "update")[-1]
    assert event.after["password"] == "(changed)" and NEW_PASSWORD not in str(event.after)
    assert event.reason == "user management: password reset"


def test_an_admin_cannot_lock_its_centre_out(cast: Any) -> None:
    admin_user = cast.users["admin_a"]
    admin = client_for("admin_a")
    demoted = admin.post(f"/centre/users/{admin_user.pk}/", {"role": "nurse", "active": "true"})
    assert demoted.status_code == 422
    assert b"your own administrator role" in demoted.content
    deactivated = admin.post(f"/centre/users/{admin_user.pk}/", {"role": "centre_admin"})
    assert deactivated.status_code == 422 and b"deactivate your own" in deactivated.content
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.membership.role == "centre_admin"


def test_another_centres_users_and_tokens_are_404(cast: Any) -> None:
    from cartwatch.web.centres.models import ApiToken

    foreign = cast.users["physician_b"]
    token = ApiToken.objects.get(user=foreign)
    admin = client_for("admin_a")
    assert admin.get(f"/centre/users/{foreign.pk}/").status_code == 404
    assert admin.get(f"/centre/users/{foreign.pk}/password/").status_code == 404
    assert admin.post(
        f"/centre/users/{foreign.pk}/", {"role": "nurse", "active": "true"}
    ).status_code == 404  # fmt: skip
    assert admin.post(f"/centre/tokens/{token.pk}/revoke/").status_code == 404
    reviewer = cast.users["reviewer"]  # no centre: not the admin's either
    assert admin.get(f"/centre/users/{reviewer.pk}/").status_code == 404
    token.refresh_from_db()
    foreign.refresh_from_db()
    assert not token.revoked and foreign.membership.role == "physician"


@pytest.mark.parametrize("user", [u for u in CAST_ROLES if u != "admin_a"])
def test_no_other_role_manages_users(cast: Any, user: str) -> None:
    from cartwatch.web.centres.models import ApiToken

    nurse = cast.users["nurse_a"]
    token = ApiToken.objects.get(user=nurse)
    client = client_for(user)
    for url in (f"/centre/users/{nurse.pk}/", f"/centre/users/{nurse.pk}/password/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/centre/users/{nurse.pk}/", {"role": "centre_admin"}).status_code == 403
    assert client.post(f"/centre/tokens/{token.pk}/revoke/").status_code == 403
    assert client.post("/centre/users/new/", {"username": "x"}).status_code == 403
    token.refresh_from_db()
    assert not token.revoked


def test_the_admin_lists_and_revokes_the_centres_tokens(cast: Any, api: Any) -> None:
    from cartwatch.web.centres.models import ApiToken

    admin = client_for("admin_a")
    page = admin.get("/centre/tokens/").content.decode()
    mine = ApiToken.objects.filter(user__membership__centre=cast.centre_a)
    for token in ApiToken.objects.all():
        assert (token.prefix in page) == (token in mine)
    assert cast.tokens["nurse_a"] not in page  # never the token itself
    nurse_token = ApiToken.objects.get(user=cast.users["nurse_a"])
    response = admin.post(f"/centre/tokens/{nurse_token.pk}/revoke/")
    assert response.status_code == 302
    assert api("nurse_a", "GET", "/api/me").status_code == 401
    [event] = _events("centres.ApiToken", "update")
    assert event.actor == "admin_a" and event.after["revoked"] is True
    assert admin.get(f"/centre/tokens/{nurse_token.pk}/revoke/").status_code == 405


def test_the_welcome_page_says_where_to_start(cast: Any) -> None:
    admin = client_for("admin_a").get("/welcome/").content.decode()
    assert "Add a user" in admin and "register a referral" in admin
    nurse = client_for("nurse_a").get("/welcome/").content.decode()
    assert "No patient is registered yet" in nurse
    assert "physician_a" in nurse and "data_manager_a" in nurse  # who registers patients
    assert "record daily assessments" in nurse
    physician = client_for("physician_a").get("/welcome/").content.decode()
    assert 'href="/patients/new/"' in physician
    reviewer = client_for("reviewer").get("/welcome/").content.decode()
    assert 'href="/network/"' in reviewer and "Add a user" not in reviewer
    # While the centre has no patient, "/" shows it; the reviewer has no centre to fill.
    assert client_for("nurse_a").get("/")["Location"] == "/welcome/"
    assert client_for("reviewer").get("/")["Location"] == "/network/"


def test_the_welcome_page_opens_the_fhir_and_registry_doors_by_role(
    cast: Any, patient_a: Any
) -> None:
    """The FHIR import is offered to who may enter assessments, the registry to who may
    report to it (once there is a patient), each with its link; to nobody else."""
    pages = {u: client_for(u).get("/welcome/").content.decode()
             for u in ("nurse_a", "data_manager_a", "admin_a", "researcher_a")}  # fmt: skip
    fhir, registry = 'href="/imports/fhir/"', 'href="/registry/"'
    assert fhir in pages["nurse_a"] and registry not in pages["nurse_a"]
    assert fhir in pages["data_manager_a"] and registry in pages["data_manager_a"]
    assert fhir not in pages["admin_a"] and registry in pages["admin_a"]
    assert fhir not in pages["researcher_a"] and registry not in pages["researcher_a"]


def test_the_install_superuser_is_told_where_it_works(cast: Any) -> None:
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", "", PASSWORD)
    response = client_for("root").get("/worklist/")
    assert response.status_code == 403 and b"/admin/" in response.content
    assert client_for("root").get("/")["Location"] == "/admin/"
