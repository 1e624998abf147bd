"""Signal receivers that put every patient-data write, every change to who may do what
(users, centres, memberships and their roles, API tokens) and every login on the audit chain.

Receivers rather than explicit calls in the services: a save from anywhere (service, admin,
shell, a future import job) is recorded, so no write path can forget the audit. Bulk paths
that send no signals are refused by ``AuditedQuerySet``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from cartwatch.web.audit.chain import record_event, snapshot
from cartwatch.web.audit.models import Action
from cartwatch.web.centres.models import ApiToken, Centre, Membership
from cartwatch.web.patients.models import AuditedModel, Patient

_BEFORE_ATTR = "_audit_before"


@dataclass(frozen=True)
class _AccessControl:
    """How an access-control model is logged: *secret* fields never enter the log (only
    whether they changed); a change of nothing but *routine* fields (the time of the last
    login, recorded as its own event) is not an event."""

    secret: frozenset[str] = frozenset()
    routine: frozenset[str] = frozenset()


ACCESS_CONTROL: dict[str, _AccessControl] = {
    "auth.user": _AccessControl(secret=frozenset({"password"}), routine=frozenset({"last_login"})),
    "centres.centre": _AccessControl(),
    "centres.membership": _AccessControl(),
    # The time of a token's last use is written by the API's authentication with update()
    # (no event, by design): routine, so audit verify does not call it drift.
    "centres.apitoken": _AccessControl(
        secret=frozenset({"token_hash"}), routine=frozenset({"last_used_at"})
    ),
}
HIDDEN, CHANGED = "(hidden)", "(changed)"


def _is_audited(sender: type[Model]) -> bool:
    if sender._meta.abstract:
        return False
    return issubclass(sender, AuditedModel) or sender._meta.label_lower in ACCESS_CONTROL


def _centre_code(instance: Model) -> str:
    if isinstance(instance, Centre):
        return str(instance.code)
    if isinstance(instance, Membership):
        return str(instance.centre.code) if instance.centre is not None else ""
    if isinstance(instance, ApiToken):
        return _user_centre(instance.user)
    patient = instance if isinstance(instance, Patient) else getattr(instance, "patient", None)
    if isinstance(patient, Patient):
        return str(patient.centre.code)
    if isinstance(instance, get_user_model()):
        return _user_centre(instance)
    return ""


def _redacted(
    sender: type[Model], before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None] | None:
    """*before*/*after* with secret fields replaced; None when only routine fields changed."""
    rules = ACCESS_CONTROL.get(sender._meta.label_lower)
    if rules is None:
        return before, after
    if before is not None and after is not None:
        changed = {k for k in after if before.get(k) != after[k]}
        if changed <= rules.routine:
            return None
    out_before = None if before is None else dict(before)
    out_after = None if after is None else dict(after)
    for name in rules.secret:
        if out_before is not None:
            out_before[name] = HIDDEN
        if out_after is not None:
            differs = before is not None and after is not None and before[name] != after[name]
            out_after[name] = CHANGED if differs else HIDDEN
    return out_before, out_after


@receiver(pre_save, dispatch_uid="cartwatch_audit_pre_save")
def _remember_before(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if not _is_audited(sender) or instance.pk is None or kwargs.get("raw"):
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    setattr(instance, _BEFORE_ATTR, snapshot(old) if old is not None else None)


@receiver(post_save, dispatch_uid="cartwatch_audit_post_save")
def _record_save(sender: type[Model], instance: Model, created: bool, **kwargs: Any) -> None:
    if not _is_audited(sender) or kwargs.get("raw"):
        return
    logged = _redacted(
        sender, None if created else getattr(instance, _BEFORE_ATTR, None), snapshot(instance)
    )
    if logged is None:
        return
    record_event(
        Action.CREATE if created else Action.UPDATE,
        model=sender._meta.label,
        object_id=instance.pk,
        centre=_centre_code(instance),
        before=logged[0],
        after=logged[1],
    )


@receiver(post_delete, dispatch_uid="cartwatch_audit_post_delete")
def _record_delete(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if not _is_audited(sender):
        return
    logged = _redacted(sender, snapshot(instance), None)
    assert logged is not None  # a deletion is never routine
    record_event(
        Action.DELETE,
        model=sender._meta.label,
        object_id=instance.pk,
        centre=_centre_code(instance),
        before=logged[0],
    )


def _user_centre(user: Any) -> str:
    membership = getattr(user, "membership", None)
    centre = getattr(membership, "centre", None)
    return str(centre.code) if centre is not None else ""


def _client(request: HttpRequest | None) -> dict[str, str] | None:
    if request is None:
        return None
    return {
        "ip_address": str(request.META.get("REMOTE_ADDR", "")),
        "user_agent": str(request.META.get("HTTP_USER_AGENT", ""))[:200],
    }


def _record_session_event(action: Action, request: HttpRequest | None, user: Any) -> None:
    """A login or logout of *user*, with the client it came from."""
    if user is None:  # logout of an anonymous session: nobody to attribute it to
        return
    record_event(
        action,
        actor=user.get_username(),
        model="auth.user",
        object_id=user.pk,
        centre=_user_centre(user),
        after=_client(request),
        reason="",
    )


@receiver(user_logged_in, dispatch_uid="cartwatch_audit_login")
def _record_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _record_session_event(Action.LOGIN, request, user)


@receiver(user_logged_out, dispatch_uid="cartwatch_audit_logout")
def _record_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _record_session_event(Action.LOGOUT, request, user)


@receiver(user_login_failed, dispatch_uid="cartwatch_audit_login_failed")
def _record_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django already replaces the password in credentials with asterisks; store only the
    # attempted username.
    record_event(
        Action.LOGIN_FAILED,
        actor=str(credentials.get("username", ""))[:150],
        model="auth.user",
        after=_client(request),
        reason="",
    )
