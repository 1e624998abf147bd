"""``cartwatch serve``, ``createuser``, ``createtoken``, ``audit verify|anchor``, ``manage``.

Parsing and printing only; the work is in ``cartwatch.web.commands`` (imported when a
command runs, so the clinical commands never load Django).
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def _web() -> Any:
    from cartwatch.web import commands

    commands.setup()
    return commands


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    threads: Annotated[int, typer.Option(help="Worker threads.")] = 8,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="Skip migrations.")] = False,
) -> None:
    """Run the centre web app (applies database migrations first)."""
    web = _web()
    if not no_migrate:
        web.migrate()
    typer.echo(f"database: {web.database_description()}")
    typer.echo(f"cartwatch at http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    web.serve(host, port, threads)


def createuser(
    username: Annotated[str, typer.Argument()],
    role: Annotated[
        str,
        typer.Option(
            help="centre_admin, physician, nurse, data_manager, researcher, network_reviewer"
        ),
    ],
    centre: Annotated[
        str | None, typer.Option(help="Centre code (not for network_reviewer).")
    ] = None,
    email: Annotated[str, typer.Option()] = "",
    superuser: Annotated[
        bool, typer.Option("--superuser", help="Also a Django superuser (admin site).")
    ] = False,
    create_centre: Annotated[
        str | None, typer.Option("--create-centre", help="Create the centre with this name.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Create a user with a role at a centre (the first centre administrator, for instance)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            typer.echo("passwords differ", err=True)
            raise typer.Exit(1)
    web = _web()
    web.migrate()
    try:
        made = web.create_user(
            username,
            password,
            role,
            centre,
            email=email,
            superuser=superuser,
            create_centre_name=create_centre,
        )
    except web.CommandError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    where = (
        f" at {made.centre}" + (" (centre created)" if made.centre_created else "")
        if made.centre
        else ""
    )
    typer.echo(f"created {made.username} ({made.role}{where})")


def createtoken(
    username: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "script",
) -> None:
    """Issue an API token (printed once; only its hash is stored)."""
    web = _web()
    try:
        raw = web.create_token(username, name)
    except web.CommandError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(raw)


def audit_verify(
    anchors: Annotated[
        Path | None,
        typer.Option(
            help="File of lines from 'cartwatch audit anchor', kept outside the database: "
            "also detects a truncated or rebuilt log."
        ),
    ] = None,
) -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken link."""
    anchors_text = None
    if anchors is not None:
        try:
            anchors_text = anchors.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            typer.echo(f"--anchors: cannot read {anchors}: {exc}", err=True)
            raise typer.Exit(2) from None
    web = _web()
    web.migrate()  # a fresh installation has an empty, intact chain rather than no table
    from cartwatch.web.audit.chain import AnchorFileError

    try:
        intact, message = web.verify_audit(anchors_text)
    except AnchorFileError as exc:
        typer.echo(f"--anchors: {anchors}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(message, err=not intact)
    raise typer.Exit(0 if intact else 1)


def audit_anchor() -> None:
    """Print the chain's head as '<time> <event id> <hash>'; append it to a file kept
    outside the database (e.g. daily) for 'audit verify --anchors'."""
    web = _web()
    web.migrate()
    line = web.audit_anchor()
    if line is None:
        typer.echo("the audit log is empty: nothing to anchor", err=True)
        raise typer.Exit(1)
    typer.echo(line)


def manage(args: Annotated[list[str] | None, typer.Argument()] = None) -> None:
    """Pass arguments to Django's manage.py (e.g. ``cartwatch manage -- check --deploy``)."""
    web = _web()
    web.manage(["cartwatch manage", *(args or [])])


def register(app: typer.Typer) -> None:
    """Add the web commands to *app*."""
    app.command("serve")(serve)
    app.command("createuser")(createuser)
    app.command("createtoken")(createtoken)
    audit = typer.Typer(name="audit", help="Audit log tools.", no_args_is_help=True)
    audit.command("verify")(audit_verify)
    audit.command("anchor")(audit_anchor)
    app.add_typer(audit)
    app.command(
        "manage", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )(manage)
