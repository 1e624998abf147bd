"""Batch versus per-record ASTCT 2019 CRS grading on synthetic observations.

    .venv/bin/python benchmarks/grade_batch.py [--rows 1000000] [--sample 20000] [--seed 2019]
        [--repeat 3] [--no-csv]

1. Generates ``--rows`` realistic synthetic CRS observations as columns with a seeded numpy
   Generator: temperatures charted to 0.1 °C, nasal-cannula flows in 0.5 L/min steps, every
   oxygen device, every vasopressor combination, attribution flags, therapy, death, missing
   temperatures, and the values either side of each cut-off (38.0 °C, 6 L/min, including
   values that print alike but fall on different sides).
2. Times the batch path: building ``CrsColumns`` (which checks its own consistency) and
   ``grade_crs_columns`` (best of ``--repeat`` runs: the machine is shared).
3. Times the per-record path, ``grade_crs`` on prebuilt ``CrsObservation`` objects, on a
   random sample (best of ``--repeat``); construction + grading is printed for context.
4. Checks that both paths agree on grade and reason text for every sampled row, then does
   the same on a second, adversarial data set (arbitrary float temperatures and flows, values
   one ulp from the cut-offs and rounding halves), whose batch speed is printed separately.
   Exits 1 on any disagreement.
5. Writes the realistic observations to a CSV file and times the whole CSV command
   (``cartwatch grade crs --csv IN -o OUT`` in a fresh process: start-up, read, validate,
   grade, write), printed next to the batch grading time of the same rows.

Target on the project's 2-core machine: 1 M rows graded in under 2 s, ≥50× the per-record
path. The numbers are printed, never asserted: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import subprocess
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
    CrsObservation,
    OxygenDevice,
    Vasopressor,
    grade_crs,
)
from cartwatch.clinical.crs_columns import NOT_GRADABLE, CrsColumns, grade_crs_columns

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
FLAGS = (*BOOL_RATES, "fever_before_therapy")


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
    flow = rng.integers(1, 31, n) * 0.5  # charted in 0.5 L/min steps, 0.5–15 L/min
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
    # Only meaningful with therapy (a record refuses it without): a third of the therapy rows.
    therapy = cols["antipyretic_or_anticytokine_given"]
    cols["fever_before_therapy"] = therapy & (rng.random(n) < 0.3)
    return cols


def adversarial_columns(n: int, seed: int) -> dict[str, np.ndarray]:
    """Like synthetic_columns, with arbitrary floats for temperatures and flows."""
    rng = np.random.default_rng(seed)
    cols = synthetic_columns(n, seed)
    near = [
        f(v)
        for v in (38.0, 37.95, 38.05, 6.0, 5.95, 6.05, 0.25)
        for f in (
            lambda v: np.nextafter(v, -np.inf),
            lambda v: v,
            lambda v: np.nextafter(v, np.inf),
        )
    ]
    temperature = rng.uniform(25.0, 45.0, n)
    pick = rng.random(n)
    temperature[pick < 0.2] = rng.choice(near, int((pick < 0.2).sum()))
    temperature[pick > 0.95] = math.nan
    flow = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 60.0, n), rng.choice(near, n))
    cols["temperature_c"] = temperature
    cols["oxygen_flow_l_min"] = np.where(np.isnan(cols["oxygen_flow_l_min"]), math.nan, flow)
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
        **{name: bool(cols[name][i]) for name in FLAGS},
    }


def best_of(repeat: int, run: Any) -> tuple[float, Any]:
    """(fastest wall time, last result) of ``repeat`` calls of ``run``."""
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def time_batch(cols: dict[str, np.ndarray], repeat: int) -> tuple[float, Any]:
    return best_of(repeat, lambda: grade_crs_columns(CrsColumns(**cols)))


def time_records(observations: list[CrsObservation], repeat: int) -> tuple[float, list[Any]]:
    return best_of(repeat, lambda: [grade_crs(o) for o in observations])


def disagreements(sample: np.ndarray, graded: Any, results: list[Any]) -> list[str]:
    out = []
    for i, result in zip(sample.tolist(), results, strict=True):
        reasons = "; ".join(result.reasons)
        batch_grade = None if graded.grades[i] == NOT_GRADABLE else int(graded.grades[i])
        if batch_grade != result.grade or graded.reasons[i] != reasons:
            out.append(
                f"row {i}: batch grade {batch_grade} {graded.reasons[i]!r} vs "
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
    flags = list(FLAGS)
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


def time_csv(cols: dict[str, np.ndarray], rows: int, grading_s: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        write_csv(cols, source)
        command = [sys.executable, "-m", "cartwatch.cli.app", "grade", "crs", "--csv"]
        env = {**os.environ, "CI": "true"}  # no progress bar
        start = time.perf_counter()
        done = subprocess.run(
            [*command, str(source), "-o", str(target)], capture_output=True, text=True, env=env
        )
        seconds = time.perf_counter() - start
        with target.open(encoding="utf-8") as handle:
            written = sum(1 for _ in handle) - 1
    print(
        f"CSV command:        {rows:>9,} rows in {seconds:6.3f} s = {rows / seconds:>12,.0f} rows/s"
        f"  (whole command, wall; grading alone {grading_s:.3f} s; {written:,} rows written)"
    )
    if done.returncode != 0 or written != rows:
        print(f"unexpected CSV result: {done.stderr.strip()[-500:]}", file=sys.stderr)
        raise SystemExit(1)


def check(name: str, cols: dict[str, np.ndarray], k: int, seed: int, repeat: int) -> bool:
    """Time both paths on ``cols`` and compare them on a random sample of ``k`` rows."""
    rows = len(cols["temperature_c"])
    batch_s, graded = time_batch(cols, repeat)
    sample = np.sort(np.random.default_rng(seed).choice(rows, k, replace=False))
    kwargs = [record_kwargs(cols, i) for i in sample.tolist()]
    start = time.perf_counter()
    observations = [CrsObservation(**kw) for kw in kwargs]
    build_s = time.perf_counter() - start
    record_s, results = time_records(observations, repeat)
    batch_rate, record_rate = rows / batch_s, k / record_s
    print(f"[{name}]")
    print(f"batch path:         {rows:>9,} rows in {batch_s:6.3f} s = {batch_rate:>12,.0f} rows/s")
    print(
        f"per-record path:    {k:>9,} rows in {record_s:6.3f} s = {record_rate:>12,.0f} rows/s"
        f"  (grade_crs on prebuilt CrsObservation; with construction "
        f"{k / (record_s + build_s):,.0f} rows/s)"
    )
    print(f"ratio batch/record: {batch_rate / record_rate:,.1f}×")
    grade_counts = np.bincount(graded.grades.astype(np.int64) + 1, minlength=7)
    print(
        "grades 0-5:         "
        + " ".join(f"{c:,}" for c in grade_counts[1:].tolist())
        + f"; not gradable (null): {grade_counts[0]:,}"
    )
    print(f"distinct reasons:   {len(graded.reason_texts):,}")
    bad = disagreements(sample, graded, results)
    if bad:
        print(f"{len(bad)} of {k} sampled rows disagree; first: {bad[0]}", file=sys.stderr)
        return False
    print(f"agreement:          all {k:,} sampled rows (grade, null included, and reasons)")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--repeat", type=int, default=3, help="timings are the best of this")
    parser.add_argument("--no-csv", action="store_true", help="skip the CSV command timing")
    args = parser.parse_args(argv)
    rows, k = args.rows, min(args.sample, args.rows)

    cols = synthetic_columns(rows, args.seed)
    if not check("realistic", cols, k, args.seed + 1, args.repeat):
        return 1
    adversarial = adversarial_columns(rows, args.seed + 2)
    if not check("adversarial floats", adversarial, k, args.seed + 3, args.repeat):
        return 1
    if not args.no_csv:
        grading_s, _ = time_batch(cols, 1)
        time_csv(cols, rows, grading_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
