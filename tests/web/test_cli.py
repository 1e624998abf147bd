"""``cartwatch createuser``, ``createtoken``, ``audit verify`` and ``serve`` in subprocesses
against a fresh SQLite data dir (the documented default set-up)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-enough-password-42\n"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(CARTWATCH_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPO / "src"))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def cartwatch(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
        check=False,
    )


def test_createuser_makes_the_first_administrator(tmp_path: Path) -> None:
    made = cartwatch(
        tmp_path, "createuser", "admin", "--role", "centre_admin", "--centre", "MUC",
        "--create-centre", "Munich", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "created admin (centre_admin at MUC (centre created))" in made.stdout
    assert (tmp_path / "cartwatch.sqlite3").is_file()
    again = cartwatch(
        tmp_path, "createuser", "admin", "--role", "nurse", "--centre", "MUC",
        "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr


def test_createuser_refuses_an_unknown_centre(tmp_path: Path) -> None:
    missing = cartwatch(
        tmp_path, "createuser", "n", "--role", "nurse", "--centre", "X", "--password-stdin",
        stdin=PASSWORD,
    )  # fmt: skip
    assert missing.returncode == 1 and "--create-centre" in missing.stderr


@pytest.mark.django_db
def test_create_user_refuses_weak_passwords_and_role_centre_mismatch() -> None:
    from cartwatch.web.commands import CommandError, create_user

    with pytest.raises(CommandError, match="password rejected"):
        create_user("n", "123", "network_reviewer", None)
    with pytest.raises(CommandError, match="needs --centre"):
        create_user("n", PASSWORD.strip(), "nurse", None)
    with pytest.raises(CommandError, match="no centre"):
        create_user("n", PASSWORD.strip(), "network_reviewer", "A")


@pytest.mark.django_db
def test_createtoken_prints_a_token_that_authenticates() -> None:
    from django.test import Client

    from cartwatch.web.commands import create_token, create_user

    create_user("r", PASSWORD.strip(), "network_reviewer", None)
    token = create_token("r", "script")
    response = Client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["role"] == "network_reviewer"


def test_audit_verify_reports_intact_then_names_the_broken_link(tmp_path: Path) -> None:
    intact = cartwatch(tmp_path, "audit", "verify")  # also creates the database
    assert intact.returncode == 0
    assert intact.stdout.strip() == "chain intact: 0 events; every row equals its last audit event"
    with sqlite3.connect(tmp_path / "cartwatch.sqlite3") as db:
        for i in range(3):  # rows written behind the app's back: not chained
            db.execute(
                "INSERT INTO audit_auditevent (timestamp, actor, action, model, object_id, centre,"
                " before, after, reason, prev_hash, hash) VALUES "
                "('2025-01-01 00:00:00', 'x', 'login', '', '', '', NULL, NULL, '', ?, ?)",
                (f"p{i}", f"h{i}"),
            )
    broken = cartwatch(tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert "chain broken at event #1" in broken.stderr


def test_audit_anchor_then_verify_detects_a_truncated_log(tmp_path: Path) -> None:
    empty = cartwatch(tmp_path, "audit", "anchor")
    assert empty.returncode == 1 and "empty" in empty.stderr and empty.stdout == ""
    made = cartwatch(
        tmp_path, "createuser", "admin", "--role", "centre_admin", "--centre", "MUC",
        "--create-centre", "Munich", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    anchor = cartwatch(tmp_path, "audit", "anchor")
    assert anchor.returncode == 0, anchor.stderr
    anchors = tmp_path / "anchors.txt"
    anchors.write_text("# kept off the database server\n" + anchor.stdout, encoding="utf-8")
    event_id = int(anchor.stdout.split()[1])

    ok = cartwatch(tmp_path, "audit", "verify", "--anchors", str(anchors))
    assert ok.returncode == 0 and "; 1 anchor(s) match" in ok.stdout
    with sqlite3.connect(tmp_path / "cartwatch.sqlite3") as db:
        db.execute("DELETE FROM audit_auditevent WHERE id >= ?", (event_id,))
    # The chain alone is intact, but the rows those events recorded now have none.
    alone = cartwatch(tmp_path, "audit", "verify")
    assert alone.returncode == 1 and "chain intact" in alone.stderr
    assert "no audit event records this row" in alone.stderr
    cut = cartwatch(tmp_path, "audit", "verify", "--anchors", str(anchors))
    assert cut.returncode == 1 and f"chain broken at event #{event_id}" in cut.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [("t 1 nothex\n", "line 1: hash is not 64"), (None, "cannot read")],
    ids=["malformed", "missing-file"],
)
def test_audit_verify_refuses_a_bad_anchor_file(
    tmp_path: Path, content: str | None, message: str
) -> None:
    anchors = tmp_path / "anchors.txt"
    if content is not None:
        anchors.write_text(content, encoding="utf-8")
    bad = cartwatch(tmp_path, "audit", "verify", "--anchors", str(anchors))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("--anchors: ") and message in bad.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_until_up(tmp_path: Path, port: int, *args: str, wait: float = 60) -> str:
    """Run ``cartwatch <args> --port <port>`` until the API and the sign-in page answer, then
    stop it; returns what it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cartwatch.cli.app", *args, "--port", str(port)],
        env={**_env(tmp_path), "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json") as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as r:
            assert r.status == 200
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    return output


@pytest.mark.slow
def test_serve_migrates_and_serves_the_api(tmp_path: Path) -> None:
    port = _free_port()
    output = _serve_until_up(tmp_path, port, "serve", "--threads", "2")
    assert f"SQLite at {tmp_path / 'cartwatch.sqlite3'}" in output
    assert f"http://127.0.0.1:{port}/" in output


def test_cli_start_up_does_not_import_django(tmp_path: Path) -> None:
    """The web commands import Django only when one of them runs: ``cartwatch --help`` and
    the clinical commands start without it."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cartwatch.cli.app import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'serve' in result.output\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_createuser_without_a_terminal_says_how_to_pass_the_password(tmp_path: Path) -> None:
    args = ("createuser", "n", "--role", "nurse", "--centre", "MUC", "--create-centre", "Munich")
    asked = cartwatch(tmp_path, *args)  # stdin is a pipe: nobody can answer a prompt
    assert asked.returncode == 1 and asked.stdout == ""
    assert "CARTWATCH_PASSWORD" in asked.stderr and "--password-file" in asked.stderr

    weak = tmp_path / "weak.txt"
    weak.write_text("12345\n", encoding="utf-8")
    rejected = cartwatch(tmp_path, *args, "--password-file", str(weak))
    assert rejected.returncode == 1 and "password rejected" in rejected.stderr

    good = tmp_path / "password.txt"
    good.write_text(PASSWORD, encoding="utf-8")
    assert cartwatch(tmp_path, *args, "--password-file", str(good)).returncode == 0
    env = subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", "createuser", "d", "--role", "data_manager",
         "--centre", "MUC"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**_env(tmp_path), "CARTWATCH_PASSWORD": PASSWORD.strip()},
    )  # fmt: skip
    assert env.returncode == 0, env.stderr


def test_tokens_list_and_revoke_on_the_command_line(tmp_path: Path) -> None:
    made = cartwatch(
        tmp_path, "createuser", "p", "--role", "physician", "--centre", "MUC",
        "--create-centre", "Munich", "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    raw = cartwatch(tmp_path, "createtoken", "p", "--name", "nightly").stdout.strip()
    listed = cartwatch(tmp_path, "tokens", "list")
    assert listed.returncode == 0
    header, row = listed.stdout.splitlines()
    assert header.split()[:5] == ["id", "prefix", "name", "user", "centre"]
    assert row.split()[1:5] == [raw[:10], "nightly", "p", "MUC"] and row.endswith("active")
    assert raw not in listed.stdout  # only the prefix, never the token
    revoked = cartwatch(tmp_path, "tokens", "revoke", raw[:10])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert cartwatch(tmp_path, "tokens", "list", "--user", "p").stdout.rstrip().endswith("revoked")
    assert cartwatch(tmp_path, "audit", "verify").returncode == 0


_CHECK_FIRST_RUN = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartwatch.web.settings")
from cartwatch.web import commands
commands.setup()
from django.contrib.auth.models import User
from cartwatch.web.access import resolve_actor
from cartwatch.web.patients.models import Patient
admin = User.objects.get(username="admin")
assert admin.check_password(sys.argv[1])
actor = resolve_actor(admin)
loader = User.objects.get(username="sample_data")
print(actor.role, actor.centre.code, actor.patients().count(), Patient.objects.count(),
      loader.is_active, loader.has_usable_password(), User.objects.count())
"""


@pytest.mark.slow
def test_start_makes_a_working_sample_centre_once_then_only_serves(tmp_path: Path) -> None:
    """README's first command without a terminal (stdin a pipe): the sample centre, its
    administrator with a password printed once, the server answering; a second start finds
    the installation and only serves."""

    def run_start() -> str:
        return _serve_until_up(tmp_path, _free_port(), "start", wait=240)

    first = run_start()
    assert "Sample centre SAMPLE: 12 synthetic patients" in first, first
    assert "Sign in as: admin" in first
    password = next(ln.split()[-1] for ln in first.splitlines() if ln.startswith("Password:"))
    checked = subprocess.run(
        [sys.executable, "-c", _CHECK_FIRST_RUN, password],
        capture_output=True, text=True, env=_env(tmp_path), timeout=120, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    # admin is the SAMPLE centre's administrator and sees its 12 patients; the sample rows'
    # account cannot sign in; admin + sample_data are the only users.
    assert checked.stdout.split() == ["centre_admin", "SAMPLE", "12", "12", "False", "False", "2"]

    second = run_start()
    assert "Password:" not in second and "Sample centre" not in second
    assert cartwatch(tmp_path, "audit", "verify").returncode == 0
