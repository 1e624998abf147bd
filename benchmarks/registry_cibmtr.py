"""The CIBMTR registry export of a synthetic centre (default 500 patients), side by side with
the centre-format export of the same stored rows.

    .venv/bin/python benchmarks/registry_cibmtr.py [--n 500] [--seed 7] [--repeat 3]

In a fresh data folder (SQLite, or ``DATABASE_URL``), ``synthesize(n, seed)`` is stored
through the record services (benchmarks/stored_centre.py). Then, best of ``--repeat``:

1. baseline: the centre-format export (``services.exports.export_centre``: read the stored
   rows, check them, write the CSV zip) — what any export of the centre costs;
2. ``registry cibmtr`` (``web.commands.registry_cibmtr``: the same read and checks, forms due
   by the data cut, one value per element with its provenance from the clinical engines,
   the four files written atomically).

It prints both times, their ratio, and the size of the registry export (form instances,
element rows). Numbers are printed, never asserted (timings belong here, not in tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys

from stored_centre import CENTRE, stored_centre
from timing import best_of


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    centre = stored_centre(args.n, args.seed)
    from cartwatch.synth.draws import DATA_CUT
    from cartwatch.web import commands
    from cartwatch.web.services.exports import export_centre

    out = centre.folder / "registry"

    def registry() -> dict[str, object]:
        shutil.rmtree(out, ignore_errors=True)
        return commands.registry_cibmtr(CENTRE, str(out), DATA_CUT)

    csv_wall, (_, csv_zip) = best_of(lambda: export_centre(centre.actor, "centre-csv"), args.repeat)
    reg_wall, summary = best_of(registry, args.repeat)
    elements = sum(1 for _ in (out / "elements.csv").open(encoding="utf-8")) - 1
    print(f"centre-format export (baseline): {csv_wall:.2f} s ({len(csv_zip) / 1e6:.1f} MB zip)")
    print(
        f"registry cibmtr (data cut {DATA_CUT:%Y-%m-%d}): {reg_wall:.2f} s; "
        f"{summary['forms_due']:,} form instances, {elements:,} element rows; "
        f"ratio {reg_wall / csv_wall:.2f}× the baseline"
    )
    print(f"best of {args.repeat}; {dt.datetime.now(dt.UTC):%Y-%m-%d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
