"""Issue 12, finding 1 (High): /admin/ is for the install-wide superuser only.

The attack: a centre administrator who was also a Django superuser changed its own
membership to another centre in /admin/centres/membership/<id>/change/, then read that
centre's patients with its API token. Each test below fails without one layer of the fix
(centres/separation.py, access.resolve_actor, commands.create_user).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import PASSWORD, PATIENT_ROW, actor_of, client_for

pytestmark = pytest.mark.django_db


def _make_superuser_behind_the_apps_back(user: Any) -> None:
    """How an installation made before the fix looks: the README's old
    ``createuser … --superuser`` gave the first centre administrator both."""
    from django.contrib.auth.models import User

    User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)


def test_replay_the_attack_a_centre_admin_cannot_move_itself(cast: Any, api: Any) -> None:
    from cartwatch.web.access import resolve_actor
    from cartwatch.web.centres.models import Membership
    from cartwatch.web.services import records

    records.create_patient(actor_of(cast, "physician_b"), {**PATIENT_ROW, "patient_id": "B-001"})
    admin = cast.users["admin_a"]
    _make_superuser_behind_the_apps_back(admin)
    membership = Membership.objects.get(user=admin)

    client = client_for("admin_a")
    url = f"/admin/centres/membership/{membership.pk}/change/"
    assert client.get(url).status_code == 302  # to the admin login: no admin site for it
    moved = client.post(url, {"user": admin.pk, "centre": cast.centre_b.pk, "role": "centre_admin"})
    assert moved.status_code == 302 and "/admin/login/" in moved["Location"]
    membership.refresh_from_db()
    assert membership.centre_id == cast.centre_a.pk
    # Its token reads nothing while the account is both (and never centre B's patients).
    assert api("admin_a", "GET", "/api/patients/B-001").status_code == 403
    assert api("admin_a", "GET", "/api/patients").status_code == 403

    # Start-up repairs it: the superuser flag goes, the centre role stays, audited.
    from cartwatch.web.audit.models import AuditEvent
    from cartwatch.web.commands import migrate

    assert migrate() == ["admin_a"]
    admin.refresh_from_db()
    assert not admin.is_superuser and not admin.is_staff
    assert resolve_actor(admin).centre == cast.centre_a
    event = AuditEvent.objects.filter(model="auth.User", object_id=str(admin.pk)).last()
    assert event is not None and event.after["is_superuser"] is False
    assert "demoted" in event.reason
    assert api("admin_a", "GET", "/api/patients/B-001").status_code == 404


def test_a_centre_member_can_never_be_made_superuser_or_staff(cast: Any) -> None:
    from cartwatch.web.centres.separation import PrivilegedMemberError

    for flag in ("is_superuser", "is_staff"):
        user = cast.users["nurse_a"]
        setattr(user, flag, True)
        with pytest.raises(PrivilegedMemberError):
            user.save()
        user.refresh_from_db()
        assert not getattr(user, flag)


def test_a_superuser_can_never_get_a_membership(cast: Any) -> None:
    from django.contrib.auth.models import User

    from cartwatch.web.centres.models import Membership
    from cartwatch.web.centres.separation import PrivilegedMemberError

    root = User.objects.create_superuser("root", "", PASSWORD)
    with pytest.raises(PrivilegedMemberError):
        Membership.objects.create(user=root, centre=cast.centre_a, role="centre_admin")
    assert not Membership.objects.filter(user=root).exists()


def test_the_install_superuser_reaches_admin_and_no_patient(cast: Any, patient_a: Any) -> None:
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", "", PASSWORD)
    client = client_for("root")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/centres/membership/").status_code == 200
    # No centre role: the pages and the API refuse it (403), patient data is not in /admin/.
    assert client.get("/patients/A-001/").status_code == 403
    assert client.get("/api/patients").status_code == 403
    assert client.get("/admin/patients/").status_code == 404


def test_the_admin_forms_refuse_to_join_the_roles(cast: Any) -> None:
    """The install superuser cannot, by mistake, make a centre user staff or itself a member:
    the admin form says why instead of saving."""
    from django.contrib.auth.models import User

    from cartwatch.web.centres.models import Membership

    root = User.objects.create_superuser("root", "", PASSWORD)
    client = client_for("root")
    nurse = cast.users["nurse_a"]
    response = client.post(
        f"/admin/auth/user/{nurse.pk}/change/",
        {
            "username": "nurse_a", "is_active": "on", "is_staff": "on",
            "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2025-01-01", "initial-date_joined_1": "00:00:00",
        },
    )  # fmt: skip
    assert response.status_code == 200 and b"cannot be a superuser or staff" in response.content
    nurse.refresh_from_db()
    assert not nurse.is_staff
    response = client.post(
        "/admin/centres/membership/add/",
        {"user": root.pk, "centre": cast.centre_a.pk, "role": "physician"},
    )
    assert response.status_code == 200 and b"cannot be a superuser or staff" in response.content
    assert not Membership.objects.filter(user=root).exists()


def test_every_centre_role_is_refused_by_the_admin_site(cast: Any) -> None:
    for user in cast.users:
        response = client_for(user).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], user


def test_createuser_never_makes_a_centre_user_a_superuser() -> None:
    from django.contrib.auth.models import User

    from cartwatch.web.commands import CommandError, create_user

    with pytest.raises(CommandError, match="centre users are never superusers"):
        create_user(
            "a", PASSWORD, "centre_admin", "NORTH", superuser=True, create_centre_name="North"
        )
    assert not User.objects.filter(username="a").exists()
    made = create_user("root", PASSWORD, None, None, superuser=True)
    assert made.role == "install-wide superuser" and made.centre is None
    root = User.objects.get(username="root")
    assert root.is_superuser and not hasattr(root, "membership")
