"""Where a command gets a new password from: a file, stdin, an environment variable, or a
prompt that asks again after a rejected password.

Without a terminal (CI, a pipe, a cron job) nobody can answer a prompt: the command stops
at once and says how to pass the password, instead of hanging or failing inside getpass.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

import typer

PASSWORD_ENV = "CARTWATCH_PASSWORD"
#: Prompts before giving up: enough for typos, not an unattended loop.
MAX_ATTEMPTS = 5

NO_TERMINAL = (
    "no terminal to ask for the password: pass it in the environment variable "
    f"{PASSWORD_ENV}, with --password-file FILE (its first line; - reads standard input) "
    "or with --password-stdin"
)


class PasswordUnavailable(Exception):
    """No password source and no terminal to ask on; the message says what to pass."""


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def given_password(password_file: Path | None, password_stdin: bool) -> str | None:
    """The password passed without a prompt, or None when none was passed."""
    if password_file is not None:
        if str(password_file) == "-":
            return _first_line(sys.stdin.read())
        try:
            return _first_line(password_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(
                f"cannot read {password_file}: {exc}", param_hint="--password-file"
            ) from None
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    from_env = os.environ.get(PASSWORD_ENV)
    return from_env if from_env else None


def ask_password(check: Callable[[str], None], rejected: type[Exception]) -> str:
    """Prompt twice until both entries agree and *check* accepts the password (it raises
    *rejected* with the reason); raises PasswordUnavailable without a terminal."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise PasswordUnavailable(NO_TERMINAL)
    for _ in range(MAX_ATTEMPTS):
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            typer.echo("the two entries differ; please try again", err=True)
            continue
        try:
            check(password)
        except rejected as exc:
            typer.echo(f"{exc}; please try again", err=True)
            continue
        return password
    raise PasswordUnavailable(f"no acceptable password after {MAX_ATTEMPTS} attempts")
