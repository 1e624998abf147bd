"""Plain functions behind ``cartwatch serve / createuser / createtoken / audit verify|anchor``.

The Typer layer (``cli/web_commands.py``) only parses arguments and prints; Django is
imported here, inside ``web/``, and only when a web command runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


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


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def wsgi_app() -> Any:
    """The app with static files served (the Swagger UI's assets) for the built-in server."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    return StaticFilesHandler(get_wsgi_application())


def serve(host: str, port: int, threads: int) -> None:
    import waitress

    waitress.serve(wsgi_app(), host=host, port=port, threads=threads, ident="cartwatch")


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
    role: str,
    centre_code: str | None,
    *,
    email: str = "",
    superuser: bool = False,
    create_centre_name: str | None = None,
) -> CreatedUser:
    from django.contrib.auth.models import User
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from cartwatch.web.centres.models import Centre, Membership, Role

    try:
        role_value = Role(role)
    except ValueError:
        raise CommandError(
            f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}"
        ) from None
    if role_value is Role.NETWORK_REVIEWER and centre_code:
        raise CommandError("a network reviewer belongs to no centre; leave out --centre")
    if role_value is not Role.NETWORK_REVIEWER and not centre_code:
        raise CommandError(f"role {role} needs --centre CODE")
    if User.objects.filter(username=username).exists():
        raise CommandError(f"user {username!r} already exists")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise CommandError("password rejected: " + " ".join(exc.messages)) from None
    with transaction.atomic(), _command_line_actor("cartwatch createuser"):
        centre = None
        created = False
        if centre_code:
            centre = Centre.objects.filter(code=centre_code).first()
            if centre is None:
                if not create_centre_name:
                    raise CommandError(
                        f"no centre {centre_code!r}; add --create-centre NAME to create it"
                    )
                centre = Centre.objects.create(code=centre_code, name=create_centre_name)
                created = True
        if superuser:
            user = User.objects.create_superuser(username, email, password)
        else:
            user = User.objects.create_user(username, email, password)
        Membership.objects.create(user=user, centre=centre, role=role_value)
    return CreatedUser(username, role_value.value, centre_code, created)


def create_token(username: str, name: str) -> str:
    from django.contrib.auth import get_user_model

    from cartwatch.web.centres.models import ApiToken

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user {username!r}")
    with _command_line_actor("cartwatch createtoken"):
        _, raw = ApiToken.issue(user, name)
    return raw


def _command_line_actor(command: str) -> Any:
    """Audit context for changes made from a shell: the operating-system account, since
    no application user is signed in."""
    import getpass

    from cartwatch.web.audit.chain import audit_context

    try:
        account = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        account = "unknown"
    return audit_context(f"{account} (command line)", reason=command)


def verify_audit(anchors_text: str | None = None) -> tuple[bool, str]:
    """(intact, message); a malformed *anchors_text* raises ``AnchorFileError``."""
    from cartwatch.web.audit.chain import parse_anchors, verify_chain

    report = verify_chain(parse_anchors(anchors_text) if anchors_text is not None else ())
    return report.intact, report.describe()


def audit_anchor() -> str | None:
    """The anchor line of the chain's head, or None for an empty log."""
    from cartwatch.web.audit.chain import current_anchor

    anchor = current_anchor()
    return anchor.line() if anchor else None


def manage(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)
