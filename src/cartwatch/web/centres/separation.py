"""Install-wide administration and centre work are separate accounts.

Issue 12, finding 1: a centre administrator who was also a Django superuser opened
``/admin/centres/membership/…/change/``, moved its own membership to another centre and
read that centre's patients with its API token. The admin site does not go through centre
scoping, so whoever can reach it can rewrite who belongs where. The rule, enforced here at
every layer a change can come from:

* a user with a centre membership (any role, the network reviewer included) is never a
  superuser and never staff — :func:`refuse_privileged_member` runs before every save of a
  user or a membership, from the pages, the API, the admin site, a shell or a command;
* ``/admin/`` admits only an active superuser without a membership
  (:class:`InstallAdminSite`);
* ``access.resolve_actor`` refuses a centre role to a superuser or staff account, so a row
  that slipped past the first rule (written with raw SQL) still gives no patient access;
* installations made before this rule (the README used to say ``createuser --superuser``
  for the first centre administrator) are repaired when the app starts:
  :func:`demote_privileged_members` clears the flags, audited, keeping the centre role.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from cartwatch.web.centres.models import Membership

MEMBER_IS_NEVER_ADMIN = (
    "a user with a centre role cannot be a superuser or staff: /admin/ is for the "
    "install-wide administrator, a separate account without a centre"
)


class PrivilegedMemberError(ValidationError):
    """A save would give a centre member the admin site (superuser or staff)."""

    def __init__(self) -> None:
        super().__init__(MEMBER_IS_NEVER_ADMIN, code="privileged_member")


def is_install_admin_flagged(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "is_staff", False))


def has_membership(user: Any) -> bool:
    return user.pk is not None and Membership.objects.filter(user_id=user.pk).exists()


@receiver(pre_save, sender=User, dispatch_uid="cartwatch_user_member_never_admin")
def _user_guard(sender: type[User], instance: User, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {"is_superuser", "is_staff"} & set(update_fields):
        return  # e.g. last_login at sign-in: an older installation's account can still sign in
    if is_install_admin_flagged(instance) and has_membership(instance):
        raise PrivilegedMemberError()


@receiver(pre_save, sender=Membership, dispatch_uid="cartwatch_membership_never_admin")
def _membership_guard(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    # Read the user fresh: a stale instance in memory must not decide this.
    user = User.objects.filter(pk=instance.user_id).first()
    if user is not None and is_install_admin_flagged(user):
        raise PrivilegedMemberError()


def refuse_privileged_member(user: Any) -> None:
    """For forms that validate before saving (the admin's): the same rule as the guards."""
    if is_install_admin_flagged(user) and has_membership(user):
        raise PrivilegedMemberError()


def demote_privileged_members() -> list[str]:
    """Clear superuser/staff of every user with a membership (audited, by the system);
    returns their usernames. Run at start-up by ``cartwatch serve`` and the other web
    commands, so an installation made before the rule is repaired, not locked out."""
    from cartwatch.web.audit.chain import audit_context

    demoted: list[str] = []
    members = User.objects.filter(membership__isnull=False).exclude(
        is_superuser=False, is_staff=False
    )
    for user in members.order_by("username"):
        with audit_context(
            "(system)", reason="centre member demoted: /admin/ is install-wide only"
        ):
            user.is_superuser = False
            user.is_staff = False
            user.save(update_fields=["is_superuser", "is_staff"])
        demoted.append(user.get_username())
    return demoted


class InstallAdminSite(admin.AdminSite):
    """The admin site for the install-wide superuser: active, superuser, no centre."""

    site_header = "cartwatch — install administration"
    site_title = "cartwatch install administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser and not has_membership(user))
