"""``cartwatch start``: the first run in one command (issue 11, item 8).

Applies the migrations, and on a fresh installation (no user yet) makes a sample centre with
its first centre administrator and synthetic patients (``web/firstrun.py``); then serves the
centre web app like ``cartwatch serve``. The administrator's password comes from
--password-file or CARTWATCH_PASSWORD, is asked on a terminal, or — with no terminal — is
generated and printed once. Later runs find a user and only serve.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cartwatch.cli.passwords import PasswordUnavailable, ask_password, given_password
from cartwatch.cli.web_commands import _report_demoted, _web, serve


def _first_admin_password(admin: str, password_file: Path | None) -> tuple[str, bool]:
    """(password, generated?) for the first administrator."""
    from cartwatch.web import commands, firstrun

    password = given_password(password_file, password_stdin=False)
    if password is not None:
        commands.check_password(password, admin)
        return password, False
    if sys.stdin.isatty() and sys.stderr.isatty():
        typer.echo(f"Choose a password for {admin}, the sample centre's administrator.", err=True)
        return ask_password(
            lambda pw: commands.check_password(pw, admin), commands.PasswordRejected
        ), False
    return firstrun.generated_password(), True


def start(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    admin: Annotated[
        str, typer.Option(help="Username of the first centre administrator (first run only).")
    ] = "admin",
    sample: Annotated[
        bool,
        typer.Option(
            "--sample/--no-sample",
            help="Load synthetic patients into the sample centre (first run only).",
        ),
    ] = True,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            metavar="FILE",
            help="The first administrator's password: first line of FILE (- for stdin).",
        ),
    ] = None,
) -> None:
    """Start the centre web app on SQLite; on the first run, also make a sample centre with
    its administrator and synthetic patients, so you can sign in and look around at once."""
    web = _web()
    _report_demoted(web.migrate())
    from cartwatch.web import firstrun

    if firstrun.is_fresh():
        try:
            password, generated = _first_admin_password(admin, password_file)
        except (web.CommandError, PasswordUnavailable) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        typer.echo("First run: making the sample centre with synthetic patients (under a minute)…")
        made = firstrun.first_run(
            admin, password, sample=sample, actor=web.command_line_account() + " (command line)"
        )
        typer.echo(
            f"Sample centre {made.centre_code}: {made.patients} synthetic patients "
            f"({made.rows} records), graded by the engines and on the audit log."
        )
        typer.echo(f"Sign in as: {made.admin}")
        if generated:
            typer.echo(f"Password:   {password}")
            typer.echo(
                "  (shown this once; change it under Users → New password. A terminal asks "
                "for one instead; CARTWATCH_PASSWORD or --password-file pass one.)"
            )
    serve(host=host, port=port, no_migrate=True)


def register(app: typer.Typer) -> None:
    app.command("start")(start)
