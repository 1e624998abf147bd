"""``cartwatch serve``, ``createuser``, ``createtoken``, ``tokens list|revoke``,
``audit verify|anchor``, ``manage``.

Parsing and printing only; the work is in ``cartwatch.web.commands`` (imported when a
command runs, so the clinical commands never load Django).
"""

from __future__ import annotations

import os
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
    threads: Annotated[int, typer.Option(help="Threads per process.")] = 8,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes (each with --threads threads). More than 1 needs PostgreSQL in "
            "practice: SQLite takes one writer at a time.",
        ),
    ] = 1,
    trusted_proxy: Annotated[
        str | None,
        typer.Option(
            envvar="CARTWATCH_TRUSTED_PROXY",
            help="Address of the TLS-terminating reverse proxy (e.g. 127.0.0.1): its "
            "X-Forwarded-Proto and X-Forwarded-For are believed, nobody else's.",
        ),
    ] = None,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="Skip migrations.")] = False,
) -> None:
    """Run the centre web app (applies database migrations first)."""
    if trusted_proxy:
        # Read by the settings (SECURE_PROXY_SSL_HEADER), which load in _web() below.
        os.environ["CARTWATCH_TRUSTED_PROXY"] = trusted_proxy
    web = _web()
    if not no_migrate:
        _report_demoted(web.migrate())
    typer.echo(f"database: {web.database_description()}")
    typer.echo(f"cartwatch at http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    from cartwatch.web.serving import ServeOptions

    web.serve(ServeOptions(host, port, threads, workers, trusted_proxy))


ROLES_HELP = "centre_admin, physician, nurse, data_manager, researcher, network_reviewer"


def _report_demoted(usernames: list[str]) -> None:
    for name in usernames:
        typer.echo(
            f"{name}: no longer a superuser (a centre user never is; /admin/ is for the "
            "install-wide administrator: cartwatch createuser NAME --superuser)",
            err=True,
        )


def createuser(
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    role: Annotated[str | None, typer.Option(help=ROLES_HELP)] = None,
    centre: Annotated[
        str | None, typer.Option(help="Centre code (not for network_reviewer).")
    ] = None,
    email: Annotated[str, typer.Option()] = "",
    superuser: Annotated[
        bool,
        typer.Option(
            "--superuser",
            help="The install-wide administrator for /admin/: no role, no centre "
            "(a centre user is never a superuser).",
        ),
    ] = False,
    create_centre: Annotated[
        str | None, typer.Option("--create-centre", help="Create the centre with this name.")
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            metavar="FILE",
            help="Read the password from the first line of FILE (- for standard input).",
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user with a role at a centre (the first centre administrator, for instance),
    or with --superuser the install-wide administrator.

    Password: from --password-file, --password-stdin or the environment variable
    CARTWATCH_PASSWORD, else asked on the terminal (again after a rejection).
    """
    from cartwatch.cli.passwords import PasswordUnavailable, ask_password, given_password

    web = _web()
    _report_demoted(web.migrate())
    try:
        web.check_new_user(
            username, role, centre, superuser=superuser, create_centre_name=create_centre
        )
        password = given_password(password_file, password_stdin)
        if password is None:
            password = ask_password(
                lambda pw: web.check_password(pw, username, email), web.PasswordRejected
            )
        made = web.create_user(
            username,
            password,
            role,
            centre,
            email=email,
            superuser=superuser,
            create_centre_name=create_centre,
        )
    except (web.CommandError, PasswordUnavailable) as exc:
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


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else "never"


def tokens_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    centre: Annotated[str | None, typer.Option(help="Only tokens of this centre's users.")] = None,
) -> None:
    """List API tokens: id, prefix, name, user, centre, created, last used, status (never
    the token itself: only its hash is stored)."""
    web = _web()
    web.migrate()
    rows = web.token_rows(user, centre)
    if not rows:
        typer.echo("no API tokens", err=True)
        return
    header = ("id", "prefix", "name", "user", "centre", "created", "last used", "status")
    table = [header] + [
        (
            str(r.token_id), r.prefix, r.name, r.username, r.centre or "-",
            _when(r.created_at), _when(r.last_used_at), "revoked" if r.revoked else "active",
        )
        for r in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def tokens_revoke(
    token: Annotated[str, typer.Argument(metavar="ID_OR_PREFIX", help="From 'tokens list'.")],
) -> None:
    """Revoke an API token at once (audited); scripts using it get 401 from then on."""
    web = _web()
    web.migrate()
    try:
        row, changed = web.revoke_token(token)
    except web.CommandError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    state = "revoked" if changed else "was already revoked"
    typer.echo(f"token {row.token_id} ({row.prefix}…, {row.name!r} of {row.username}) {state}")


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


def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")],
) -> None:
    """Back up the whole database (SQLite online backup; pg_dump for PostgreSQL): audit
    chain and timestamps exact, so 'audit verify' holds after a restore."""
    _web()  # Django set up on the configured database
    from cartwatch.web.backup import BackupError
    from cartwatch.web.backup import backup as run

    try:
        typer.echo(run(file))
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by 'cartwatch backup'.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: every table of the database is replaced.")
    ] = False,
) -> None:
    """Replace the database with a backup (stop 'cartwatch serve' first), then run 'audit
    verify'; exit 1 if the restored data does not verify."""
    if not yes:
        typer.echo("restore replaces every table of the database: add --yes to confirm", err=True)
        raise typer.Exit(2)
    web = _web()
    from cartwatch.web.backup import BackupError
    from cartwatch.web.backup import restore as run

    try:
        typer.echo(run(file))
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    intact, message = web.verify_audit()
    typer.echo(f"audit verify: {message}", err=not intact)
    raise typer.Exit(0 if intact else 1)


def register(app: typer.Typer) -> None:
    """Add the web commands to *app*."""
    app.command("serve")(serve)
    app.command("createuser")(createuser)
    app.command("createtoken")(createtoken)
    app.command("backup")(backup)
    app.command("restore")(restore)
    tokens = typer.Typer(name="tokens", help="API tokens: list, revoke.", no_args_is_help=True)
    tokens.command("list")(tokens_list)
    tokens.command("revoke")(tokens_revoke)
    app.add_typer(tokens)
    audit = typer.Typer(name="audit", help="Audit log tools.", no_args_is_help=True)
    audit.command("verify")(audit_verify)
    audit.command("anchor")(audit_anchor)
    app.add_typer(audit)
    app.command(
        "manage", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )(manage)
