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

Baselines, side by side: the export against the centre-format export of the same stored rows
(read, check, write CSV); the import against storing the same rows from the centre format
(the same per-record write path without FHIR). The project machine has 2 cores shared with
other work: when wall ≫ CPU it was busy. Numbers are printed, never asserted (timings belong
here, not in tests).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stored_centre import CENTRE, stored_centre, timed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="data folder to use and keep")
    args = parser.parse_args()
    centre = stored_centre(args.n, args.seed, args.keep)
    from cartwatch.web import commands
    from cartwatch.web.centres.models import Centre
    from cartwatch.web.patients import models as m
    from cartwatch.web.services.exports import export_centre

    # Baseline: the centre-format export of the same stored rows (read, check, write CSV).
    (_, csv_zip), csv_wall, _ = timed(lambda: export_centre(centre.actor, "centre-csv"))
    folder = centre.folder
    out = folder / "bundle.json"
    report, wall, cpu = timed(lambda: commands.fhir_export(CENTRE, "bench.dm", str(out)))
    print(
        f"export: {report['patients']} patients, {report['resources']:,} resources, "
        f"{report['bytes'] / 1e6:.1f} MB, {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"({report['resources'] / wall:,.0f} resources/s)"
    )
    print(
        f"  the centre-format export of the same rows: {csv_wall:.1f} s wall "
        f"({len(csv_zip) / 1e6:.1f} MB zip): ratio {wall / csv_wall:.1f}×"
    )
    print(f"  {report['resource_types']}")
    for patient in m.Patient.objects.filter(centre=Centre.objects.get(code=CENTRE)):
        patient.delete()
    back, wall, cpu = timed(lambda: commands.fhir_import(str(out), CENTRE, "bench.md"))
    journey = back["journey"]
    records = sum(journey["records"].values())
    print(
        f"import: {records:,} records, {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"({back['resources'] / wall:,.0f} resources/s); not imported: {len(back['unmapped'])}; "
        f"differences from the exported results: {len(journey['grade_differences'])}"
    )
    print(
        f"  the same rows loaded as centre-format rows (same write path): {centre.load_wall:.1f} s"
        f" wall: ratio {wall / centre.load_wall:.2f}×"
    )
    print(f"data folder: {folder}")
    return 1 if journey["grade_differences"] or back["unmapped"] else 0


if __name__ == "__main__":
    sys.exit(main())
