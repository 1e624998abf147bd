"""The centre administrator's pages: the centre's users, their roles, access and passwords,
and the centre's API tokens. Scope (``Actor.members()`` / ``tokens()`` through
``@scoped(Perm.MANAGE_USERS)``) → service (services.users, audited) → template.

A user or token of another centre is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cartwatch.web.access import PERM_WORDS, ROLE_PERMISSIONS, Actor, Perm, scoped
from cartwatch.web.centres.models import Role
from cartwatch.web.services import users
from cartwatch.web.ui import forms as f
from cartwatch.web.ui.views.entry import _form_page
from cartwatch.web.ui.views.layout import page

ROLE_CHOICES: f.Choices = tuple((r.value, r.label) for r in users.CENTRE_ROLES)
PASSWORD_HELP = (
    "At least 12 characters; not a common password, not only digits, not like the username. "
    "Tell it to the person in person; they sign in with it at once."
)
PASSWORD_FIELDS = (
    f.Field("password", "Password", "password", required=True, help=PASSWORD_HELP),
    f.Field("password_again", "Password again", "password", required=True),
)
ROLE_FIELD = f.Field("role", "Role", "choice", ROLE_CHOICES, required=True)

USER_NEW = (
    f.Section(
        "New user of the centre",
        (
            f.Field("username", "Username", required=True,
                    help="Letters, digits and @ . + - _ (no spaces); what they sign in with."),
            f.Field("email", "E-mail"),
            ROLE_FIELD,
            *PASSWORD_FIELDS,
        ),
    ),
)  # fmt: skip
USER_EDIT = (
    f.Section(
        "Role and access",
        (
            ROLE_FIELD,
            f.Field("active", "Account active", "bool",
                    help="An inactive account cannot sign in and its API tokens stop working."),
        ),
    ),
)  # fmt: skip
USER_PASSWORD = (f.Section("New password", PASSWORD_FIELDS),)


def role_descriptions() -> list[tuple[str, str]]:
    """Each centre role and what it may do, in words (the users page explains the roles)."""
    return [
        (role.label, "; ".join(PERM_WORDS[p] for p in Perm if p in ROLE_PERMISSIONS[role]))
        for role in users.CENTRE_ROLES
    ]


def _to_users() -> HttpResponse:
    return HttpResponseRedirect(reverse("ui:users"))


def _user_form(
    request: HttpRequest,
    actor: Actor,
    title: str,
    sections: Sequence[f.Section],
    *,
    initial: dict[str, Any] | None = None,
    problems: Sequence[tuple[str, str]] = (),
) -> HttpResponse:
    return _form_page(
        request, actor, title=title, sections=sections, patient=None, initial=initial,
        problems=problems,
    )  # fmt: skip


@scoped(Perm.MANAGE_USERS)
def user_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    return page(
        request,
        actor,
        "users.html",
        {"title": "Users", "rows": users.member_rows(actor), "roles": role_descriptions()},
    )


@require_http_methods(["GET", "POST"])
@scoped(Perm.MANAGE_USERS)
def user_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    title = "Add a user"
    if request.method == "POST":
        try:
            payload = f.parse(USER_NEW, request.POST)[""]
            user = users.create_member(actor, payload)
        except (f.ParseError, users.InvalidInput) as exc:
            return _user_form(request, actor, title, USER_NEW, problems=exc.problems)
        messages.success(
            request,
            f"Added {user.get_username()} ({Role(payload['role']).label.lower()}); "
            "they can sign in now with the password you set.",
        )
        return _to_users()
    return _user_form(request, actor, title, USER_NEW, initial={"role": Role.NURSE.value})


@require_http_methods(["GET", "POST"])
@scoped(Perm.MANAGE_USERS)
def user_edit(request: HttpRequest, actor: Actor, user_id: int) -> HttpResponse:
    membership = actor.member(user_id)
    title = f"User {membership.user.get_username()}"
    if request.method == "POST":
        try:
            payload = f.parse(USER_EDIT, request.POST)[""]
            users.update_member(actor, user_id, payload)
        except (f.ParseError, users.InvalidInput) as exc:
            return _user_form(request, actor, title, USER_EDIT, problems=exc.problems)
        messages.success(request, f"Saved {membership.user.get_username()}.")
        return _to_users()
    initial = {"role": membership.role, "active": membership.user.is_active}
    return _user_form(request, actor, title, USER_EDIT, initial=initial)


@require_http_methods(["GET", "POST"])
@scoped(Perm.MANAGE_USERS)
def user_password(request: HttpRequest, actor: Actor, user_id: int) -> HttpResponse:
    membership = actor.member(user_id)
    name = membership.user.get_username()
    title = f"New password for {name}"
    if request.method == "POST":
        try:
            payload = f.parse(USER_PASSWORD, request.POST)[""]
            users.reset_password(actor, user_id, payload)
        except (f.ParseError, users.InvalidInput) as exc:
            return _user_form(request, actor, title, USER_PASSWORD, problems=exc.problems)
        messages.success(request, f"New password set for {name}; their open sessions ended.")
        return _to_users()
    return _user_form(request, actor, title, USER_PASSWORD)


@scoped(Perm.MANAGE_USERS)
def token_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    return page(
        request, actor, "tokens.html", {"title": "API tokens", "rows": users.centre_tokens(actor)}
    )


@require_POST
@scoped(Perm.MANAGE_USERS)
def token_revoke(request: HttpRequest, actor: Actor, token_id: int) -> HttpResponse:
    token = users.revoke_centre_token(actor, token_id)
    messages.success(
        request, f"Revoked token {token.prefix}… ({token.name}) of {token.user.get_username()}."
    )
    return HttpResponseRedirect(reverse("ui:tokens"))
