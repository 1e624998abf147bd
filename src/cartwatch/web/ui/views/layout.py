"""Page layout shared by every HTML view: the menu, the page frame, sign-in, home, 403."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from cartwatch.web.access import Actor, NotAuthenticated, NotPermitted, Perm, resolve_actor
from cartwatch.web.centres.models import Role

# --------------------------------------------------------------------------- layout


def nav(actor: Actor) -> list[tuple[str, str]]:
    """The links a role may follow (hiding the others is courtesy; the views still check)."""
    links: list[tuple[str, str, Perm]] = [
        ("Work list", reverse("ui:worklist"), Perm.CENTRE_ANALYTICS),
        ("Patients", reverse("ui:patients"), Perm.READ_PATIENTS),
        ("Dashboard", reverse("ui:dashboard"), Perm.CENTRE_ANALYTICS),
        ("Network", reverse("ui:network"), Perm.NETWORK_AGGREGATES),
        ("Export", reverse("ui:exports"), Perm.EXPORT),
        ("FHIR import", reverse("ui:fhir_import"), Perm.WRITE_ASSESSMENTS),
        ("Data quality", reverse("ui:data_quality"), Perm.VERIFY_RECORDS),
        ("Registry", reverse("ui:registry"), Perm.REGISTRY),
        ("Audit log", reverse("ui:audit"), Perm.VIEW_AUDIT),
        ("Users", reverse("ui:users"), Perm.MANAGE_USERS),
    ]
    return [(label, url) for label, url, perm in links if actor.can(perm)]


def page(
    request: HttpRequest, actor: Actor, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {
        "actor": actor,
        "role_label": Role(actor.role).label,
        "nav": nav(actor),
        **context,
    }
    return render(request, f"ui/{template}", context, status=status)


#: Session key set at a user's first sign-in; "/" then shows the welcome page.
FIRST_SIGN_IN = "cartwatch_first_sign_in"


class LoginView(auth_views.LoginView):
    template_name = "ui/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        first = form.get_user().last_login is None
        # One transaction for the sign-in's writes (last_login and its audit event): there
        # is no per-request transaction, and the event must not outlive a failed login.
        with transaction.atomic():
            response = super().form_valid(form)
        if first:  # "/" shows the welcome page once (views/welcome.py)
            self.request.session[FIRST_SIGN_IN] = True
        return response


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page (``handler403``): what was refused and why, in words, with the menu of
    what this role may do instead, never a bare "Forbidden"."""
    try:
        actor: Actor | None = resolve_actor(request.user)
    except (NotAuthenticated, PermissionDenied):
        actor = None
    if isinstance(exception, NotPermitted):
        reason = str(exception)
    elif actor is None and getattr(request.user, "is_superuser", False):
        reason = (
            "This is the install-wide administrator account: it has no centre role and "
            "works in the administration site (/admin/) only."
        )
    elif actor is None and request.user.is_authenticated:
        reason = (
            "Your account is not a member of any centre, or it is inactive. "
            "Ask your centre administrator to add you."
        )
    else:
        reason = "You may not open this page with your role."
    context: dict[str, Any] = {"title": "Not allowed", "reason": reason}
    if actor is None:
        return render(request, "ui/403.html", context, status=403)
    return page(request, actor, "403.html", context, status=403)
