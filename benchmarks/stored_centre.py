"""A synthetic centre stored through the record services, for the benchmarks that need a
database (FHIR export/import, CIBMTR registry). Imported as ``from stored_centre import
stored_centre``: ``python benchmarks/x.py`` puts this folder on sys.path."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CENTRE = "BENCH"
PASSWORD = "bench-password-2026-long"


@dataclass(frozen=True)
class StoredCentre:
    folder: Path
    actor: Any  # the data manager (web.access.Actor)
    rows: int
    load_wall: float
    load_cpu: float


def timed(step: Any) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds) of one call: wall ≫ CPU means the machine was busy."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - wall0, time.process_time() - cpu0


def stored_centre(n: int, seed: int, keep: Path | None = None) -> StoredCentre:
    """A fresh data folder (SQLite, or ``DATABASE_URL``) with centre BENCH, a data manager
    ``bench.dm`` and a physician ``bench.md``, and ``synthesize(n, seed)`` stored through
    the record services (validated, graded, audited: the per-record write path)."""
    folder = keep or Path(tempfile.mkdtemp(prefix="cartwatch-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CARTWATCH_DATA_DIR", str(folder))
    from cartwatch.web import commands

    commands.setup()
    commands.migrate()
    from django.contrib.auth.models import User

    from cartwatch.synth.cohort import synthesize
    from cartwatch.web.access import resolve_actor
    from cartwatch.web.services.imports import load_centre_data

    commands.create_user("bench.dm", PASSWORD, "data_manager", CENTRE, create_centre_name="B")
    commands.create_user("bench.md", PASSWORD, "physician", CENTRE)
    actor = resolve_actor(User.objects.get(username="bench.dm"))
    data = synthesize(n, seed=seed)
    rows, wall, cpu = timed(lambda: load_centre_data(actor, data))
    print(f"load {n} synthetic patients: {rows:,} rows, {wall:.1f} s wall, {cpu:.1f} s CPU")
    return StoredCentre(folder, actor, rows, wall, cpu)
