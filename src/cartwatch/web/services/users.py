"""A centre's users, roles, passwords and API tokens: the one write path for them.

The centre administrator's pages (ui/views/users.py) and the command line (``cartwatch
tokens``, ``createuser``) call these functions. The pages reach users only through the
actor's scope (``Actor.members()`` / ``member()`` / ``tokens()``), so a user or token of
another centre is a 404, exactly like one that does not exist. Every change is saved inside
``audit_context`` and recorded by the audit signals (users, memberships and tokens are
access-control models there; password and token hashes never enter the log).

Rules a centre administrator cannot break from the pages:

* users are created in the administrator's own centre, in a centre role (the network
  reviewer belongs to no centre and is made by the install administrator);
* nobody made here is a superuser or staff (centres/separation.py);
* an administrator cannot deactivate or demote itself, and a centre keeps at least one
  active centre administrator, so no centre can lock itself out of its own user management.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count

from cartwatch.web.access import Actor
from cartwatch.web.audit.chain import audit_context
from cartwatch.web.centres.models import ApiToken, Centre, Membership, Role

#: Roles a centre administrator may give: every role that works inside one centre.
CENTRE_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.NETWORK_REVIEWER)
USERNAME_MAX = 150
TOKEN_NAME_MAX = 100


class InvalidInput(Exception):
    """Field problems as ``(field, message)`` pairs, in words, for the form to place."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))


# --------------------------------------------------------------------------- checks


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    return value.strip() if isinstance(value, str) else ""


def _username_problems(username: str) -> list[str]:
    if not username:
        return ["required"]
    if len(username) > USERNAME_MAX:
        return [f"at most {USERNAME_MAX} characters"]
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        return ["letters, digits and @ . + - _ only (no spaces)"]
    if User.objects.filter(username__iexact=username).exists():
        return ["this username is already taken"]
    return []


def password_problems(password: str, user: User) -> list[str]:
    """Django's password rules (length, similarity, common, numeric), in their words."""
    if not password:
        return ["required"]
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _role(value: str) -> Role | None:
    return next((r for r in CENTRE_ROLES if r.value == value), None)


ROLE_PROBLEM = "choose one of: " + ", ".join(r.label.lower() for r in CENTRE_ROLES)


def _new_password_problems(payload: Mapping[str, Any], user: User) -> list[tuple[str, str]]:
    password = payload.get("password") if isinstance(payload.get("password"), str) else ""
    problems = [("password", m) for m in password_problems(str(password), user)]
    if payload.get("password_again") != password:
        problems.append(("password_again", "the two passwords differ"))
    return problems


# --------------------------------------------------------------------------- members


@dataclass(frozen=True)
class MemberRow:
    user_id: int
    username: str
    email: str
    role: str
    role_label: str
    active: bool
    last_login: Any
    active_tokens: int


def member_rows(actor: Actor) -> list[MemberRow]:
    memberships = actor.members().order_by("user__username")
    live = dict(
        actor.tokens()
        .filter(revoked=False)
        .order_by()
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    return [
        MemberRow(
            user_id=m.user_id,
            username=m.user.get_username(),
            email=m.user.email,
            role=m.role,
            role_label=Role(m.role).label,
            active=m.user.is_active,
            last_login=m.user.last_login,
            active_tokens=live.get(m.user_id, 0),
        )
        for m in memberships
    ]


def new_centre_user(
    centre: Centre | None, username: str, email: str, role: Role, password: str | None
) -> User:
    """Create a user with a membership at *centre* (None: the network reviewer; a password
    of None: nobody can sign in with it). The caller holds the audit context and has checked
    every field."""
    user = User.objects.create_user(username, email, password)
    Membership.objects.create(user=user, centre=centre, role=role)
    return user


def create_member(actor: Actor, payload: Mapping[str, Any]) -> User:
    """A new user of the actor's centre: ``username``, ``email`` (optional), ``role``,
    ``password`` and ``password_again``."""
    actor.members()  # the permission check, before anything is looked at
    assert actor.centre is not None
    username, email = _text(payload, "username"), _text(payload, "email")
    problems = [("username", m) for m in _username_problems(username)]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(("email", "not an e-mail address"))
    role = _role(_text(payload, "role"))
    if role is None:
        problems.append(("role", ROLE_PROBLEM))
    problems += _new_password_problems(payload, User(username=username, email=email))
    if problems:
        raise InvalidInput(problems)
    assert role is not None
    with transaction.atomic(), audit_context(actor.username, reason="user management: add user"):
        return new_centre_user(actor.centre, username, email, role, str(payload["password"]))


def _active_admins(actor: Actor) -> int:
    return actor.members().filter(role=Role.CENTRE_ADMIN, user__is_active=True).count()


def update_member(actor: Actor, user_id: int, payload: Mapping[str, Any]) -> Membership:
    """Change the role and whether the account is active (``role``, ``active``)."""
    membership = actor.member(user_id)
    role = _role(_text(payload, "role"))
    active = bool(payload.get("active"))
    problems: list[tuple[str, str]] = []
    if role is None:
        problems.append(("role", ROLE_PROBLEM))
    is_self = membership.user_id == actor.user.pk
    if is_self and role is not None and role is not Role.CENTRE_ADMIN:
        problems.append(("role", "you cannot take away your own administrator role"))
    if is_self and not active:
        problems.append(("active", "you cannot deactivate your own account"))
    was_live_admin = membership.role == Role.CENTRE_ADMIN and membership.user.is_active
    stays_live_admin = role is Role.CENTRE_ADMIN and active
    if was_live_admin and not stays_live_admin and _active_admins(actor) <= 1:
        problems.append(("role", "the centre needs at least one active centre administrator"))
    if problems:
        raise InvalidInput(problems)
    assert role is not None
    with transaction.atomic(), audit_context(actor.username, reason="user management: edit user"):
        if membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        user = membership.user
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
    return membership


def reset_password(actor: Actor, user_id: int, payload: Mapping[str, Any]) -> User:
    """Set a new password (``password``, ``password_again``); the user's open sessions end
    with the old password (Django's session hash), its API tokens are unaffected."""
    user = actor.member(user_id).user
    problems = _new_password_problems(payload, user)
    if problems:
        raise InvalidInput(problems)
    with (
        transaction.atomic(),
        audit_context(actor.username, reason="user management: password reset"),
    ):
        user.set_password(str(payload["password"]))
        user.save(update_fields=["password"])
    return user


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class TokenRow:
    token_id: int
    prefix: str
    name: str
    username: str
    centre: str
    created_at: Any
    last_used_at: Any
    revoked: bool


def token_rows(tokens: Iterable[ApiToken]) -> list[TokenRow]:
    rows = []
    for t in tokens:
        membership = getattr(t.user, "membership", None)
        centre = membership.centre.code if membership and membership.centre else ""
        rows.append(
            TokenRow(
                token_id=t.pk,
                prefix=t.prefix,
                name=t.name,
                username=t.user.get_username(),
                centre=centre,
                created_at=t.created_at,
                last_used_at=t.last_used_at,
                revoked=t.revoked,
            )
        )
    return rows


def centre_tokens(actor: Actor) -> list[TokenRow]:
    tokens = actor.tokens().select_related("user__membership__centre")
    return token_rows(tokens.order_by("revoked", "-created_at"))


def revoke(token: ApiToken, audit_actor: str, reason: str) -> bool:
    """Revoke *token* (audited); False when it was already revoked."""
    if token.revoked:
        return False
    with transaction.atomic(), audit_context(audit_actor, reason=reason):
        token.revoked = True
        token.save(update_fields=["revoked"])
    return True


def revoke_centre_token(actor: Actor, token_id: int) -> ApiToken:
    token = actor.token(token_id)
    revoke(token, actor.username, "user management: token revoked")
    return token
