"""Synthetic cohort → centre CSV folder → validated load, against a naive per-row loader.

    .venv/bin/python benchmarks/synth_load.py [--n 1000] [--seed 7] [--repeat 3] [--keep DIR]

1. Times ``synthesize(n, seed)`` (rows built by the generator, no validation).
2. Times ``write_centre_dir`` of that cohort into a temporary folder (or ``--keep DIR``).
3. Times ``load_centre_dir`` of the folder: every row validated by its pydantic model and
   the clinical engine's consistency check, every cross-file rule, all problems collected.
4. Times the naive baseline on the same folder: ``csv.DictReader``, cells converted with
   ``parse_cell``/``nest`` and ``Row.model_validate`` + the engine check, one row at a time
   (what the loader did before; it has no cross-file rules, so the ratio is conservative).
5. Checks that the loaded data equal the synthesized data and that the baseline validated
   the same number of rows; exits 1 otherwise.

Each step runs ``--repeat`` times; the best wall time is printed with its CPU time (the
project machine has 2 cores shared with other work: when wall ≫ CPU the machine was busy).
Targets from the issue for n = 1000: synth < 1.5 s, write < 1 s, load < 3 s. Numbers are
printed, never asserted: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from cartwatch.centre.columns import nest, parse_cell
from cartwatch.centre.loader import FILE_SPECS, CentreData, load_centre_dir, write_centre_dir
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.synth.cohort import synthesize
from cartwatch.synth.draws import DATA_CUT

T = TypeVar("T")


def timed(step: Callable[[], T], repeat: int) -> tuple[T, float, float]:
    """Result, best wall seconds and the CPU seconds of that run."""
    best: tuple[float, float] | None = None
    result: Any = None
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = step()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if best is None or wall < best[0]:
            best = (wall, cpu)
    assert best is not None
    return result, best[0], best[1]


def naive_load(folder: Path) -> int:
    """Per-row ``Row.model_validate`` + engine check; returns the number of valid rows."""
    valid = 0
    for spec in FILE_SPECS:
        path = folder / spec.filename
        if not path.is_file():
            continue
        columns = {c.name: c for c in spec.columns}
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for cells in csv.DictReader(handle):
                flat = {
                    columns[name].path: parse_cell(
                        raw.strip(), columns[name].kind, columns[name].item_kind
                    )
                    for name, raw in cells.items()
                    if raw.strip()
                }
                try:
                    row = spec.model.model_validate(nest(flat))
                    check = getattr(row, "check_domain", None) or getattr(row, "to_domain", None)
                    if check is not None:
                        check()
                except (ValidationError, ClinicalInputError):
                    continue
                valid += 1
    return valid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the folder here and keep it")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="synth_load_"))
    try:
        data, t_synth, c_synth = timed(lambda: synthesize(args.n, args.seed), args.repeat)
        n_rows = sum(len(data.rows(s.stem)) for s in FILE_SPECS)
        _, t_write, c_write = timed(lambda: write_centre_dir(data, folder), args.repeat)
        loaded: CentreData
        loaded, t_load, c_load = timed(lambda: load_centre_dir(folder, today=DATA_CUT), args.repeat)
        naive_rows, t_naive, c_naive = timed(lambda: naive_load(folder), args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)

    print(f"n = {args.n} patients, seed {args.seed}: {n_rows:,} rows in {len(FILE_SPECS)} files")
    print(f"best of {args.repeat}; CPU = process time of that run\n")
    print(f"{'step':<44} {'wall s':>8} {'CPU s':>8} {'rows/s':>11}")
    for name, wall, cpu in (
        ("synthesize", t_synth, c_synth),
        ("write_centre_dir", t_write, c_write),
        ("load_centre_dir (validate + cross-file)", t_load, c_load),
        ("naive: per-row Row.model_validate + engine", t_naive, c_naive),
    ):
        print(f"{name:<44} {wall:8.2f} {cpu:8.2f} {n_rows / wall:11,.0f}")
    print(f"\nload vs naive per-row baseline: {t_naive / t_load:.1f}× faster (wall), ", end="")
    print(f"{c_naive / c_load:.1f}× (CPU)")
    print(f"synth + write + load: {t_synth + t_write + t_load:.2f} s wall")

    ok = True
    if loaded != data:
        print("MISMATCH: the loaded folder differs from the synthesized data", file=sys.stderr)
        ok = False
    if naive_rows != n_rows:
        print(f"MISMATCH: naive baseline validated {naive_rows} of {n_rows} rows", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
