"""Helpers for tests that run cartwatch in other processes against their own database:
a scratch PostgreSQL database (when ``DATABASE_URL`` names a server) or a temporary SQLite
folder, and ``cartwatch`` commands run as subprocesses with that environment."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PASSWORD = "correct-horse-battery-42"
REPO = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def scratch_database(tag: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database on DATABASE_URL's server (dropped after), or None when the
    run uses SQLite."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield None
        return
    import psycopg

    parts = urlsplit(url)
    name = f"cartwatch_{tag}_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def install_env(folder: Path, database: str | None, **extra: str) -> dict[str, str]:
    """The environment of an installation in *folder* on *database* (None: SQLite)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CARTWATCH_"))}
    src = str(REPO / "src")
    env.update(
        CARTWATCH_DATA_DIR=str(folder), SECRET_KEY="x" * 60,
        DJANGO_SETTINGS_MODULE="cartwatch.web.settings",
        PYTHONPATH=os.pathsep.join([src, str(REPO), env.get("PYTHONPATH", "")]), **extra,
    )  # fmt: skip
    if database:
        env["DATABASE_URL"] = database
    return env


def cartwatch_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cartwatch.cli.app import main; main()", *args]


def cartwatch(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    """Run a cartwatch command; its stdout (it must succeed)."""
    done = subprocess.run(
        cartwatch_argv(*args), env=env, input=stdin, capture_output=True, text=True,
        timeout=600, check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def python(code: str, env: dict[str, str]) -> str:
    """Run *code* in a fresh interpreter of the installation; its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
        check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
