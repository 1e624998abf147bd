"""Plain functions behind ``cartwatch serve / createuser / createtoken / audit verify|anchor``.

The Typer layer (``cli/web_commands.py``) only parses arguments and prints; Django is
imported here, inside ``web/``, and only when a web command runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cartwatch.web.serving import ServeOptions


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartwatch.web.settings")
    import django

    django.setup()


def database_description() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite at {db['NAME']}"
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    return f"{engine} database {db['NAME']!r} on {db.get('HOST') or 'localhost'}"


def migrate() -> list[str]:
    """Apply migrations, then repair what an older installation may hold; returns the
    usernames of centre members that were superusers and are no longer (see
    ``centres/separation.py``)."""
    from django.core.management import call_command

    from cartwatch.web.centres.separation import demote_privileged_members

    call_command("migrate", interactive=False, verbosity=0)
    return demote_privileged_members()


def serve(options: ServeOptions) -> None:
    from cartwatch.web.serving import serve as run

    run(options)


class CommandError(Exception):
    """A user-facing failure of a web command (printed, exit 1)."""


@dataclass(frozen=True)
class CreatedUser:
    username: str
    role: str
    centre: str | None
    centre_created: bool


def create_user(
    username: str,
    password: str,
    role: str | None,
    centre_code: str | None,
    *,
    email: str = "",
    superuser: bool = False,
    create_centre_name: str | None = None,
) -> CreatedUser:
    """A centre user (role, centre), or with *superuser* the install-wide administrator:
    no role, no centre, the only account that reaches /admin/ (centres/separation.py)."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from cartwatch.web.centres.models import Centre
    from cartwatch.web.services.users import new_centre_user

    role_value = check_new_user(
        username, role, centre_code, superuser=superuser, create_centre_name=create_centre_name
    )
    check_password(password, username, email)
    with transaction.atomic(), _command_line_actor("cartwatch createuser"):
        centre = None
        created = False
        if centre_code:
            centre = Centre.objects.filter(code=centre_code).first()
            if centre is None:
                assert create_centre_name  # check_new_user refused a missing centre
                centre = Centre.objects.create(code=centre_code, name=create_centre_name)
                created = True
        if role_value is None:
            User.objects.create_superuser(username, email, password)
            return CreatedUser(username, "install-wide superuser", None, False)
        new_centre_user(centre, username, email, role_value, password)
    return CreatedUser(username, role_value.value, centre_code, created)


def check_new_user(
    username: str,
    role: str | None,
    centre_code: str | None,
    *,
    superuser: bool = False,
    create_centre_name: str | None = None,
) -> Any:
    """Everything about a new user except the password, checked before anyone is asked
    for one; returns the Role (None for the install-wide superuser) or raises CommandError."""
    from django.contrib.auth.models import User

    from cartwatch.web.centres.models import Centre, Role

    if superuser:
        if role or centre_code or create_centre_name:
            raise CommandError(
                "--superuser makes the install-wide administrator, who has no centre role: "
                "leave out --role, --centre and --create-centre (centre users are never "
                "superusers)"
            )
        role_value = None
    else:
        role_value = _role(role)
        if role_value is Role.NETWORK_REVIEWER and centre_code:
            raise CommandError("a network reviewer belongs to no centre; leave out --centre")
        if role_value is not Role.NETWORK_REVIEWER and not centre_code:
            raise CommandError(f"role {role} needs --centre CODE")
        if (
            centre_code
            and not create_centre_name
            and not Centre.objects.filter(code=centre_code).exists()
        ):
            raise CommandError(f"no centre {centre_code!r}; add --create-centre NAME to create it")
    if User.objects.filter(username=username).exists():
        raise CommandError(f"user {username!r} already exists")
    return role_value


def _role(role: str | None) -> Any:
    from cartwatch.web.centres.models import Role

    if not role:
        raise CommandError(
            "--role is required (one of: "
            + ", ".join(r.value for r in Role)
            + "), or --superuser for the install-wide administrator"
        )
    try:
        return Role(role)
    except ValueError:
        raise CommandError(
            f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}"
        ) from None


class PasswordRejected(CommandError):
    """The password fails the installation's password rules (the message says which)."""


def check_password(password: str, username: str, email: str = "") -> None:
    """Raise PasswordRejected with Django's validators' messages (length, common, …)."""
    from django.contrib.auth.models import User
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        raise PasswordRejected("password rejected: " + " ".join(exc.messages)) from None


def create_token(username: str, name: str) -> str:
    from django.contrib.auth import get_user_model

    from cartwatch.web.centres.models import ApiToken

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user {username!r}")
    with _command_line_actor("cartwatch createtoken"):
        _, raw = ApiToken.issue(user, name)
    return raw


def token_rows(username: str | None = None, centre_code: str | None = None) -> list[Any]:
    """Every API token (newest first), optionally of one user or one centre's users."""
    from cartwatch.web.centres.models import ApiToken
    from cartwatch.web.services.users import token_rows as rows

    tokens = ApiToken.objects.select_related("user__membership__centre")
    if username is not None:
        tokens = tokens.filter(user__username=username)
    if centre_code is not None:
        tokens = tokens.filter(user__membership__centre__code=centre_code)
    return rows(tokens.order_by("-created_at", "-id"))


def revoke_token(key: str) -> tuple[Any, bool]:
    """Revoke the token with id or prefix *key* (audited as the command line); returns its
    row and False when it was already revoked."""
    from cartwatch.web.centres.models import ApiToken
    from cartwatch.web.services.users import revoke
    from cartwatch.web.services.users import token_rows as rows

    matches = list(
        ApiToken.objects.filter(pk=int(key))
        if key.isdigit()
        else ApiToken.objects.filter(prefix__startswith=key)
    )
    if not matches:
        raise CommandError(f"no token {key!r} (give its id or prefix from 'cartwatch tokens list')")
    if len(matches) > 1:
        raise CommandError(f"{len(matches)} tokens start with {key!r}; give the id instead")
    token = matches[0]
    account = command_line_account()
    changed = revoke(token, f"{account} (command line)", "cartwatch tokens revoke")
    return rows([token])[0], changed


def command_line_account() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return "unknown"


def _command_line_actor(command: str) -> Any:
    """Audit context for changes made from a shell: the operating-system account, since
    no application user is signed in."""
    from cartwatch.web.audit.chain import audit_context

    return audit_context(f"{command_line_account()} (command line)", reason=command)


def verify_audit(anchors_text: str | None = None) -> tuple[bool, str]:
    """(intact, message): the hash chain (and *anchors_text*), then every audited row
    against its last audit event (``audit/drift.py``). A malformed *anchors_text* raises
    ``AnchorFileError``."""
    from cartwatch.web.audit.chain import parse_anchors, verify_chain
    from cartwatch.web.audit.drift import find_drift

    report = verify_chain(parse_anchors(anchors_text) if anchors_text is not None else ())
    if not report.intact:
        return False, report.describe()
    drift = [d.describe() for d in find_drift()]
    if drift:
        lines = [
            f"{report.describe()}, but {len(drift)} difference(s) between the data and the log:"
        ]
        return False, "\n".join(lines + [f"  {line}" for line in drift])
    return True, f"{report.describe()}; every row equals its last audit event"


def audit_anchor() -> str | None:
    """The anchor line of the chain's head, or None for an empty log."""
    from cartwatch.web.audit.chain import current_anchor

    anchor = current_anchor()
    return anchor.line() if anchor else None


def manage(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


def centre_actor(username: str, centre_code: str, perm: Any, doing: str, where: str) -> Any:
    """The Actor of *username* at *centre_code* with *perm* (``Perm``), or CommandError
    naming the field: no such centre or user, a role without *perm* (*doing*, in words),
    or a member of another centre ("exports from A, not B")."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied

    from cartwatch.web.access import resolve_actor
    from cartwatch.web.centres.models import Centre

    if not Centre.objects.filter(code=centre_code).exists():
        raise CommandError(f"centre: no centre {centre_code!r}")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"user: no user {username!r}")
    try:
        actor = resolve_actor(user, perm)
    except PermissionDenied as exc:
        raise CommandError(f"user: {username} may not {doing} ({exc})") from None
    if actor.centre is None or actor.centre.code != centre_code:
        home = actor.centre.code if actor.centre else "no centre"
        raise CommandError(f"centre: {username} may {doing} {where} {home}, not {centre_code}")
    return actor


def fhir_import(path: str, centre_code: str, username: str) -> dict[str, Any]:
    """Import the FHIR Bundle at *path* into *centre_code* as *username* (who must enter
    records there: the same scoping and permission as the pages and the API)."""
    from django.core.exceptions import PermissionDenied

    from cartwatch.web.access import Perm
    from cartwatch.web.services.fhir_import import import_bundle

    actor = centre_actor(username, centre_code, Perm.WRITE_ASSESSMENTS, "enter records", "at")
    with open(path, "rb") as stream:
        try:
            return import_bundle(actor, stream)
        except PermissionDenied as exc:  # a journey bundle registers patients
            raise CommandError(f"user: {username} may not import this bundle ({exc})") from None


def fhir_export(
    centre_code: str,
    username: str,
    out: str,
    *,
    patient_id: str | None = None,
    pseudonymise: bool = False,
) -> dict[str, Any]:
    """Export *centre_code*'s journeys (or one patient's) as a FHIR R4 Bundle to *out*, as
    *username* (who must have the export permission there; audited like every export)."""
    from collections import Counter

    from django.http import Http404

    from cartwatch.interop.fhir_export import write_bundle
    from cartwatch.web.access import Perm
    from cartwatch.web.services.fhir_export import export_bundle

    actor = centre_actor(username, centre_code, Perm.EXPORT, "export", "from")
    try:
        result = export_bundle(actor, patient_id=patient_id, pseudonymise=pseudonymise)
    except Http404:
        research = not actor.identifiable or pseudonymise
        who = " who consented to research" if research else ""
        raise CommandError(f"patient: no patient {patient_id!r}{who} at {centre_code}") from None
    size = write_bundle(result.bundle, out)
    types = Counter(e["resource"]["resourceType"] for e in result.bundle["entry"])
    return {
        "centre": centre_code,
        "out": out,
        "bytes": size,
        "bundle_id": result.bundle["id"],
        "patients": result.patients,
        "resources": result.resources,
        "resource_types": dict(sorted(types.items())),
        "pseudonymised": pseudonymise or not actor.identifiable,
        "excluded": [p.text(actor.identifiable) for p in result.problems],
    }


def registry_cibmtr(centre_code: str, out: str, as_of: Any, force: bool = False) -> dict[str, Any]:
    """``cartwatch registry cibmtr``: the centre's CIBMTR registry export written to *out*
    (audited as an export by the operating-system account); returns the summary."""
    from pathlib import Path

    from cartwatch.interop.cibmtr_files import ExportFolderError
    from cartwatch.web.centres.models import Centre
    from cartwatch.web.patients.models import Patient
    from cartwatch.web.services.registry import write_registry

    centre = Centre.objects.filter(code=centre_code).first()
    if centre is None:
        raise CommandError(f"centre: no centre {centre_code!r}")
    patients = Patient.objects.filter(centre=centre).select_related("centre")
    who = f"{command_line_account()} (command line)"
    try:
        report = write_registry(patients, centre.code, as_of, Path(out), force, who)
    except ExportFolderError as exc:
        raise CommandError(f"out: {exc.path}: {exc.message}") from None
    return {**report.summary(), "out": out}
