"""Signal receivers that put every patient-data write and every login on the audit chain.

Receivers rather than explicit calls in the services: a save from anywhere (service, admin,
shell, a future import job) is recorded, so no write path can forget the audit. Bulk paths
that send no signals are refused by ``AuditedQuerySet``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from cartwatch.web.audit.chain import record_event, snapshot
from cartwatch.web.audit.models import Action
from cartwatch.web.patients.models import AuditedModel, Patient

_BEFORE_ATTR = "_audit_before"


def _is_audited(sender: type[Model]) -> bool:
    return issubclass(sender, AuditedModel) and not sender._meta.abstract


def _centre_code(instance: Model) -> str:
    patient = instance if isinstance(instance, Patient) else getattr(instance, "patient", None)
    if isinstance(patient, Patient):
        return str(patient.centre.code)
    return ""


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
    before = None if created else getattr(instance, _BEFORE_ATTR, None)
    record_event(
        Action.CREATE if created else Action.UPDATE,
        model=sender._meta.label,
        object_id=instance.pk,
        centre=_centre_code(instance),
        before=before,
        after=snapshot(instance),
    )


@receiver(post_delete, dispatch_uid="cartwatch_audit_post_delete")
def _record_delete(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if not _is_audited(sender):
        return
    record_event(
        Action.DELETE,
        model=sender._meta.label,
        object_id=instance.pk,
        centre=_centre_code(instance),
        before=snapshot(instance),
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
