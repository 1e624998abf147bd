"""FHIR journey export and its import back, on a synthetic centre (default 200 patients).

    .venv/bin/python benchmarks/fhir_export.py [--n 200] [--seed 7] [--keep DIR]

In a fresh data folder (SQLite, or ``DATABASE_URL``): a centre ``BENCH`` with a data
manager and a physician, ``synthesize(n, seed)`` stored through the record services; then

1. ``fhir export`` of the whole centre (the web command behind ``cartwatch fhir export``:
   scoping, stored-record checks, Bundle build, R4B validation of every resource, atomic
   write): wall/CPU seconds, resources, bytes;
2. the centre emptied, ``fhir import`` of that Bundle (stream, plan, every record through
   the write path with its grade recomputed, ledger): wall/CPU seconds, records, and the
   number of results that differ from the exported ones (must be 0; exit 1 otherwise).

The project machine has 2 cores shared with other work: when wall ≫ CPU it was busy.
Numbers are printed, never asserted (timings belong here, not in tests).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _timed(step: Any) -> tuple[Any, float, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - wall0, time.process_time() - cpu0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="data folder to use and keep")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="cartwatch-fhir-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CARTWATCH_DATA_DIR", str(folder))

    from cartwatch.web import commands

    commands.setup()
    commands.migrate()
    from cartwatch.synth.cohort import synthesize
    from cartwatch.web.access import resolve_actor
    from cartwatch.web.centres.models import Centre
    from cartwatch.web.patients import models as m
    from cartwatch.web.services.imports import load_centre_data

    password = "bench-password-2026-long"
    commands.create_user("bench.dm", password, "data_manager", "BENCH", create_centre_name="B")
    commands.create_user("bench.md", password, "physician", "BENCH")
    from django.contrib.auth.models import User

    actor = resolve_actor(User.objects.get(username="bench.dm"))
    data = synthesize(args.n, seed=args.seed)
    stored, wall, cpu = _timed(lambda: load_centre_data(actor, data))
    print(f"load {args.n} synthetic patients: {stored} rows, {wall:.1f} s wall, {cpu:.1f} s CPU")

    out = folder / "bundle.json"
    report, wall, cpu = _timed(lambda: commands.fhir_export("BENCH", "bench.dm", str(out)))
    print(
        f"export: {report['patients']} patients, {report['resources']:,} resources, "
        f"{report['bytes'] / 1e6:.1f} MB, {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"({report['resources'] / wall:,.0f} resources/s)"
    )
    print(f"  {report['resource_types']}")
    for patient in m.Patient.objects.filter(centre=Centre.objects.get(code="BENCH")):
        patient.delete()
    back, wall, cpu = _timed(lambda: commands.fhir_import(str(out), "BENCH", "bench.md"))
    journey = back["journey"]
    records = sum(journey["records"].values())
    print(
        f"import: {records:,} records, {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"({back['resources'] / wall:,.0f} resources/s); not imported: {len(back['unmapped'])}; "
        f"differences from the exported results: {len(journey['grade_differences'])}"
    )
    print(f"data folder: {folder}")
    return 1 if journey["grade_differences"] or back["unmapped"] else 0


if __name__ == "__main__":
    sys.exit(main())
