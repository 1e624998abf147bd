"""``cartwatch backup`` / ``restore`` (issue 12 finding 10), on the database of the run
(PostgreSQL when ``DATABASE_URL`` is set: a scratch database; else SQLite).

An installation with a synthetic centre (every row through the services, so audited) is
backed up; the data are then changed and damaged; restore brings back exactly the state of
the backup: ``audit verify`` passes (chain and every row against it) and the ADaM exports
are identical — the CSV files byte for byte, the XPT files in every value (their header
carries the time they were written).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.web.processes import PASSWORD, cartwatch, install_env, python, scratch_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LOAD = """
from cartwatch.web import commands
commands.setup()
from django.contrib.auth.models import User
from cartwatch.synth.cohort import synthesize
from cartwatch.web.access import resolve_actor
from cartwatch.web.audit.chain import audit_context
from cartwatch.web.services.imports import load_centre_data
actor = resolve_actor(User.objects.get(username="dm"))
with audit_context("dm"):
    print(load_centre_data(actor, synthesize(12, seed=7)))
"""

EXPORT = """
import base64, io, json, zipfile
from cartwatch.web import commands
commands.setup()
from django.contrib.auth.models import User
from cartwatch.web.access import resolve_actor
from cartwatch.web.services.exports import export_centre
actor = resolve_actor(User.objects.get(username="dm"))
out = {}
for fmt in ("adam-csv", "adam-xpt"):
    _, content = export_centre(actor, fmt)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            out[fmt + "/" + name] = base64.b64encode(archive.read(name)).decode()
print(json.dumps(out))
"""

DAMAGE = """
from cartwatch.web import commands
commands.setup()
from django.db import connection
from cartwatch.web.patients.models import CrsAssessment, Lab
with connection.cursor() as cursor:
    cursor.execute(f"UPDATE {CrsAssessment._meta.db_table} SET grade = 0")
    cursor.execute(f"DELETE FROM {Lab._meta.db_table}")
"""


def _xpt_values(encoded: str, folder: Path) -> list[dict[str, object]]:
    import base64

    from cartwatch.adam.xpt import read_xpt

    path = folder / "x.xpt"
    path.write_bytes(base64.b64decode(encoded))
    frame, _ = read_xpt(path)
    return list(json.loads(frame.to_json(orient="records", date_format="iso")))


def test_backup_then_restore_gives_back_the_data_and_a_verified_audit_log(tmp_path: Path) -> None:
    with scratch_database("backup") as database:
        env = install_env(tmp_path / "install", database)
        made = ["dm", "--role", "data_manager", "--centre", "A", "--create-centre", "Centre A"]
        cartwatch("createuser", *made, "--password-stdin", env=env, stdin=PASSWORD)
        assert int(python(LOAD, env)) > 12
        before = json.loads(python(EXPORT, env))
        assert any(k.endswith(".xpt") for k in before) and any(k.endswith(".csv") for k in before)
        assert "every row equals" in cartwatch("audit", "verify", env=env)

        backup = tmp_path / "cartwatch.backup"
        assert "backed up" in cartwatch("backup", str(backup), env=env)
        python(DAMAGE, env)  # changed behind the app's back after the backup
        assert "no such" not in cartwatch("createtoken", "dm", env=env)  # and a legitimate write

        restored = cartwatch("restore", str(backup), "--yes", env=env)
        assert "restored" in restored and "every row equals its last audit event" in restored
        after = json.loads(python(EXPORT, env))
        assert sorted(after) == sorted(before)
        for name in before:
            if name.endswith(".xpt"):
                assert _xpt_values(after[name], tmp_path) == _xpt_values(before[name], tmp_path)
            else:
                assert after[name] == before[name], name  # byte for byte


def test_restore_refuses_without_yes_and_a_foreign_file(tmp_path: Path) -> None:
    import subprocess

    from tests.web.processes import cartwatch_argv

    env = install_env(tmp_path / "install", None)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup")
    no = subprocess.run(cartwatch_argv("restore", str(junk)), env=env, capture_output=True,
                        text=True, check=False)  # fmt: skip
    assert no.returncode == 2 and "--yes" in no.stderr
    bad = subprocess.run(cartwatch_argv("restore", str(junk), "--yes"), env=env,
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 1 and "not an SQLite backup" in bad.stderr
    existing = subprocess.run(cartwatch_argv("backup", str(junk)), env=env, capture_output=True,
                              text=True, check=False)  # fmt: skip
    assert existing.returncode == 1 and "never overwrites" in existing.stderr
