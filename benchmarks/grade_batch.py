"""Batch versus per-record ASTCT 2019 CRS grading on synthetic observations.

    .venv/bin/python benchmarks/grade_batch.py [--rows 1000000] [--sample 20000] [--seed 2019]
        [--no-csv]

1. Generates ``--rows`` synthetic CRS observations as columns with a seeded numpy Generator,
   covering every oxygen device, every vasopressor (and aliases' combinations), attribution
   flags, therapy, death, missing temperatures and the values either side of each cut-off
   (38.0 °C, 6 L/min, including values that print alike but fall on different sides).
2. Times the batch path: building ``CrsColumns`` (which checks its own consistency) and
   ``grade_crs_columns``.
3. Times the per-record path on a random sample: ``CrsObservation(...)`` and ``grade_crs``
   for each sampled row.
4. Checks that both paths agree on grade and reason text for every sampled row; exits 1 on
   any disagreement.
5. For context, writes the observations to a CSV file and times the whole CSV batch command
   path (``cartwatch grade crs --csv IN -o OUT``: read, validate column-wise, grade, write).

Target on the project's 2-core machine: 1 M rows graded in under 2 s, ≥50× the per-record
path. The numbers are printed, never asserted: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from cartwatch.clinical.crs import (
    NOT_COUNTED_TOWARDS_MULTIPLE,
    OXYGEN_DEVICE_CODES,
    VASOPRESSOR_BITS,
    CrsColumns,
    CrsObservation,
    OxygenDevice,
    Vasopressor,
    grade_crs,
    grade_crs_columns,
)

# Values on and around the cut-offs, mixed into the random draws.
EDGE_TEMPERATURES = (37.9, 37.95, 37.96, 37.99, 37.999, 38.0, 38.04, 38.05, 25.0, 45.0)
EDGE_FLOWS = (0.0, 5.9, 5.95, 5.96, 6.0, 6.04, 6.05, 6.1, 15.0)
_VASOPRESSIN_BIT = VASOPRESSOR_BITS[Vasopressor.VASOPRESSIN]
_COUNTED_BITS = [
    bit for drug, bit in VASOPRESSOR_BITS.items() if drug not in NOT_COUNTED_TOWARDS_MULTIPLE
]
BOOL_RATES = {
    "fever_attributable_to_other_cause": 0.05,
    "antipyretic_or_anticytokine_given": 0.2,
    "hypotension": 0.25,
    "hypotension_attributable_to_other_cause": 0.05,
    "hypoxia_attributable_to_other_cause": 0.05,
    "death_due_to_crs": 0.005,
}


def synthetic_columns(n: int, seed: int) -> dict[str, np.ndarray]:
    """Raw column arrays (the inputs of ``CrsColumns``) for *n* observations."""
    rng = np.random.default_rng(seed)
    temperature = np.round(rng.uniform(35.0, 41.5, n), 1)
    temperature[rng.random(n) < 0.1] = math.nan
    edge = rng.random(n) < 0.05
    temperature[edge] = rng.choice(EDGE_TEMPERATURES, int(edge.sum()))

    # Each drug independently, most rows without any; vasopressin alone and in combination.
    mask = np.zeros(n, dtype=np.uint8)
    for drug, bit in VASOPRESSOR_BITS.items():
        rate = 0.12 if drug in (Vasopressor.NOREPINEPHRINE, Vasopressor.VASOPRESSIN) else 0.04
        mask |= np.where(rng.random(n) < rate, bit, 0).astype(np.uint8)
    bits = np.unpackbits(mask[:, None], axis=1)[:, ::-1]  # column i = bit i
    counted = sum(bits[:, int(math.log2(b))].astype(np.int64) for b in _COUNTED_BITS)

    devices = list(OxygenDevice)
    weights = np.array([0.55] + [0.05] * (len(devices) - 1))
    device = rng.choice(len(devices), n, p=weights / weights.sum()).astype(np.int8)
    flow = np.round(rng.uniform(0.5, 15.0, n), 1)
    flow_edge = rng.random(n) < 0.2
    flow[flow_edge] = rng.choice(EDGE_FLOWS, int(flow_edge.sum()))
    cannula = device == OXYGEN_DEVICE_CODES[OxygenDevice.NASAL_CANNULA]
    # Flow is required for a nasal cannula, refused without a device, optional otherwise.
    flow = np.where(cannula | ((device > 0) & (rng.random(n) < 0.5)), flow, math.nan)

    cols: dict[str, np.ndarray] = {
        "temperature_c": temperature,
        "vasopressor_count": np.asarray(counted, dtype=np.int64),
        "vasopressin": (mask & _VASOPRESSIN_BIT) > 0,
        "vasopressor_mask": mask,
        "oxygen_device": device,
        "oxygen_flow_l_min": flow,
    }
    for name, rate in BOOL_RATES.items():
        cols[name] = rng.random(n) < rate
    return cols


def record_kwargs(cols: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    """Row *i* as plain Python keyword arguments of ``CrsObservation``."""
    t = float(cols["temperature_c"][i])
    flow = float(cols["oxygen_flow_l_min"][i])
    mask = int(cols["vasopressor_mask"][i])
    return {
        "temperature_c": None if math.isnan(t) else t,
        "vasopressors": tuple(v for v, bit in VASOPRESSOR_BITS.items() if mask & bit),
        "oxygen_device": list(OxygenDevice)[int(cols["oxygen_device"][i])],
        "oxygen_flow_l_min": None if math.isnan(flow) else flow,
        **{name: bool(cols[name][i]) for name in BOOL_RATES},
    }


def time_batch(cols: dict[str, np.ndarray]) -> tuple[float, Any]:
    start = time.perf_counter()
    graded = grade_crs_columns(CrsColumns(**cols))
    return time.perf_counter() - start, graded


def time_records(kwargs: list[dict[str, Any]]) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    results = [grade_crs(CrsObservation(**kw)) for kw in kwargs]
    return time.perf_counter() - start, results


def disagreements(sample: np.ndarray, graded: Any, results: list[Any]) -> list[str]:
    out = []
    for i, result in zip(sample.tolist(), results, strict=True):
        reasons = "; ".join(result.reasons)
        if int(graded.grades[i]) != result.grade or graded.reasons[i] != reasons:
            out.append(
                f"row {i}: batch grade {int(graded.grades[i])} {graded.reasons[i]!r} vs "
                f"per-record grade {result.grade} {reasons!r}"
            )
    return out


def write_csv(cols: dict[str, np.ndarray], path: Path) -> None:
    """The observations as a contract CSV (the batch command's input format)."""
    names = [v.value for v in VASOPRESSOR_BITS]
    lists = {
        m: ";".join(n for n, b in zip(names, VASOPRESSOR_BITS.values(), strict=True) if m & b)
        for m in range(64)
    }
    devices = [d.value for d in OxygenDevice]
    flags = list(BOOL_RATES)
    header = ["temperature_c", "vasopressors", "oxygen_device", "oxygen_flow_l_min", *flags]

    def number(x: float) -> str:
        return "" if math.isnan(x) else repr(x)

    columns = [
        [number(x) for x in cols["temperature_c"].tolist()],
        [lists[m] for m in cols["vasopressor_mask"].tolist()],
        [devices[d] for d in cols["oxygen_device"].tolist()],
        [number(x) for x in cols["oxygen_flow_l_min"].tolist()],
        *(["true" if b else "false" for b in cols[name].tolist()] for name in flags),
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*columns, strict=True))


def time_csv(cols: dict[str, np.ndarray], rows: int) -> None:
    from cartwatch.batch.csv_grading import grade_csv

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        write_csv(cols, source)
        start = time.perf_counter()
        report = grade_csv("crs", str(source), str(target))
        seconds = time.perf_counter() - start
    failed = len(report.failed_rows)
    print(
        f"CSV command path:   {rows:>9,} rows in {seconds:6.3f} s = {rows / seconds:>12,.0f} rows/s"
        f"  (read + validate + grade + write; {report.graded:,} graded, {failed:,} failed)"
    )
    if failed:
        print(f"unexpected row failures, first: {report.problems[0]}", file=sys.stderr)
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--no-csv", action="store_true", help="skip the CSV command timing")
    args = parser.parse_args(argv)
    rows, k = args.rows, min(args.sample, args.rows)

    cols = synthetic_columns(rows, args.seed)
    batch_s, graded = time_batch(cols)
    sample = np.sort(np.random.default_rng(args.seed + 1).choice(rows, k, replace=False))
    kwargs = [record_kwargs(cols, i) for i in sample.tolist()]
    record_s, results = time_records(kwargs)

    batch_rate, record_rate = rows / batch_s, k / record_s
    print(f"batch path:         {rows:>9,} rows in {batch_s:6.3f} s = {batch_rate:>12,.0f} rows/s")
    print(f"per-record path:    {k:>9,} rows in {record_s:6.3f} s = {record_rate:>12,.0f} rows/s")
    print(f"ratio batch/record: {batch_rate / record_rate:,.1f}×")
    grade_counts = np.bincount(graded.grades, minlength=6)
    print("grades 0-5:         " + " ".join(f"{c:,}" for c in grade_counts.tolist()))

    bad = disagreements(sample, graded, results)
    if bad:
        print(f"{len(bad)} of {k} sampled rows disagree; first: {bad[0]}", file=sys.stderr)
        return 1
    print(f"agreement:          all {k:,} sampled rows (grade and reasons)")
    if not args.no_csv:
        time_csv(cols, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
