"""``cartwatch backup`` / ``cartwatch restore``: the whole database, byte for byte.

Not ``dumpdata``/``loaddata``: their JSON drops microseconds from timestamps, and an audit
event's hash covers its timestamp to the microsecond, so a restored log no longer verifies.
The database's own tools copy every value exactly:

* **SQLite** — the online backup API (``sqlite3.Connection.backup``): a consistent copy
  while the app keeps running (pages are copied under the database's own locking). Restore
  copies the backup back the same way, into the configured database file.
* **PostgreSQL** — ``pg_dump --format=custom`` (consistent: one snapshot) and
  ``pg_restore --clean --if-exists --single-transaction`` (all or nothing). ``pg_dump`` must
  be at least the server's major version (it refuses an older one); the version of both is
  checked first and named in the error.

Restore replaces every table of the configured database: stop ``cartwatch serve`` first. After
a restore, ``restore`` runs ``audit verify`` (the chain and every row against it).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A user-facing failure (printed, exit 1)."""


@dataclass(frozen=True)
class Database:
    vendor: str  # "sqlite" | "postgresql"
    settings: dict[str, Any]

    @property
    def sqlite_path(self) -> Path:
        return Path(str(self.settings["NAME"]))


def configured() -> Database:
    from django.db import connection

    return Database(connection.vendor, dict(connection.settings_dict))


def backup(destination: Path) -> str:
    """Write a backup of the configured database to *destination* (which must not exist);
    returns a one-line description."""
    if destination.exists():
        raise BackupError(f"{destination} exists; choose a new file (a backup never overwrites)")
    db = configured()
    if db.vendor == "sqlite":
        _sqlite_copy(db.sqlite_path, destination)
    elif db.vendor == "postgresql":
        _pg_check_versions(db)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(destination)], db)
    else:  # pragma: no cover - settings allow only these two
        raise BackupError(f"backup of {db.vendor} databases is not supported")
    return f"{db.vendor} database backed up to {destination} ({destination.stat().st_size} bytes)"


def restore(source: Path) -> str:
    """Replace the configured database's content with the backup *source*."""
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    head = source.read_bytes()[:16] if source.stat().st_size else b""
    db = configured()
    if db.vendor == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not an SQLite backup (made on another database?)")
        from django.db import connections

        connections.close_all()  # the copy replaces the file's pages under Django's feet
        _sqlite_copy(source, db.sqlite_path)
    elif db.vendor == "postgresql":
        if not head.startswith(PG_CUSTOM_MAGIC):
            raise BackupError(f"{source} is not a PostgreSQL backup (pg_dump --format=custom)")
        _pg_check_versions(db)
        from django.db import connections

        connections.close_all()
        command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
        _run([*command, str(source)], db, database_flag=True)
    else:  # pragma: no cover
        raise BackupError(f"restore of {db.vendor} databases is not supported")
    return f"{db.vendor} database restored from {source}"


def _sqlite_copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with (
        _closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        _closing(sqlite3.connect(destination)) as dst,
    ):
        src.backup(dst)


class _closing:
    """sqlite3's context manager commits but does not close; this closes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _pg_env(db: Database) -> dict[str, str]:
    s = db.settings
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if s.get(key):
            env[var] = str(s[key])
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return env


def _run(command: list[str], db: Database, database_flag: bool = False) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} not found: install the PostgreSQL client tools")
    name = str(db.settings["NAME"])
    args = [*command[:-1], "--dbname", name, command[-1]] if database_flag else [*command, name]
    done = subprocess.run(args, env=_pg_env(db), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def _pg_check_versions(db: Database) -> None:
    """pg_dump/pg_restore refuse a newer server; say so before starting, with both versions."""
    from django.db import connection

    connection.ensure_connection()
    server = int(getattr(connection, "pg_version", 0)) // 10000
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            raise BackupError(f"{tool} not found: install the PostgreSQL client tools")
        done = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
        # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
        found = re.search(r"\)\s*(\d+)", done.stdout)
        if found is None:
            raise BackupError(f"cannot read the version of {tool}: {done.stdout.strip()!r}")
        client = int(found.group(1))
        if client < server:
            raise BackupError(
                f"{tool} is version {client} but the server is {server}: install the "
                f"PostgreSQL {server} client tools (postgresql-client-{server})"
            )
