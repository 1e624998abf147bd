"""ADaM derivation time against the clinical engines' own time on a synthetic cohort.

    .venv/bin/python benchmarks/adam_derive.py [--n 1000] [--seed 7] [--repeat 3]

1. Synthesises ``--n`` patients (``cartwatch.synth.cohort.synthesize``; timed for context).
2. Baselines, the part of the derivation no refactoring of ``adam/`` can remove:
   * ``episodes``: each patient's CRS and ICANS observations, time-ordered, converted with the
     row models' ``to_domain()`` and graded with ``grade_crs_episode`` /
     ``grade_icans_episode`` (the example the issue gives);
   * ``engines``: that, plus every blood count through ``grade_cytopenia`` and every
     post-baseline assessment through ``assess_response`` (against the baseline, nadir so
     far) - every engine call ``derive_adam`` makes, and nothing else.
3. Times ``derive_adam`` on the same data.

Each step is repeated and the minimum CPU time (``time.process_time``) is printed, steps
interleaved, because the project's 2-core machine is shared and wall times swing by ±30 %.
The ratio derive / engines is the overhead of the ADaM layer itself (grouping, dates, flags,
pandas assembly). Numbers are printed, never asserted: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

from cartwatch.adam.derive import derive_adam
from cartwatch.centre.loader import CentreData
from cartwatch.clinical import crs, cytopenia, icans, iwcll
from cartwatch.synth.cohort import synthesize


def _when(value: dt.date | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _by_patient(rows: Sequence[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for row in rows:
        out.setdefault(row.patient_id, []).append(row)
    return {pid: sorted(v, key=lambda r: _when(r.observed_at)) for pid, v in out.items()}


def grade_episodes(data: CentreData) -> int:
    """Every patient's CRS and ICANS series through the episode engines; returns the count."""
    n = 0
    for rows, grade in (
        (data.crs_observations, crs.grade_crs_episode),
        (data.icans_observations, icans.grade_icans_episode),
    ):
        for series in _by_patient(rows).values():
            grade([r.to_domain() for r in series])
            n += 1
    return n


def _nadir(history: list[iwcll.Measurements]) -> iwcll.Measurements:
    def smallest(name: str) -> float | None:
        values = [v for m in history if (v := m.number(name)) is not None]
        return min(values, default=None)

    return iwcll.Measurements(
        lymph_nodes_spd_cm2=smallest("lymph_nodes_spd_cm2"), spleen_cm=smallest("spleen_cm")
    )


def grade_everything(data: CentreData) -> int:
    """grade_episodes, plus every blood count and every post-baseline assessment."""
    n = grade_episodes(data)
    for lab in data.labs:
        if not lab.counts_missing:
            cytopenia.grade_cytopenia(lab.to_domain())
            n += 1
    baseline = {
        a.patient_id: a.to_domain()
        for a in data.response_assessments
        if a.timepoint.value == "baseline"
    }
    posts: dict[str, list[Any]] = {}
    for a in data.response_assessments:
        if a.timepoint.value == "post":
            posts.setdefault(a.patient_id, []).append(a)
    for pid, rows in posts.items():
        if pid not in baseline:
            continue
        history = [baseline[pid]]
        for row in sorted(rows, key=lambda r: r.assessed_at):
            current = row.to_domain()
            iwcll.assess_response(history[0], current, _nadir(history))
            history.append(current)
            n += 1
    return n


def _cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.process_time()
    data = synthesize(args.n, args.seed)
    synth_s = time.process_time() - start
    derive_adam(synthesize(20, args.seed))  # warm imports and caches of pandas once

    steps: dict[str, Callable[[], object]] = {
        "episodes": lambda: grade_episodes(data),
        "engines": lambda: grade_everything(data),
        "derive": lambda: derive_adam(data),
    }
    best = {name: float("inf") for name in steps}
    for _ in range(args.repeat):
        for name, fn in steps.items():
            best[name] = min(best[name], _cpu(fn))

    patients = len(data.patients)
    calls = grade_everything(data)
    print(f"cohort: {patients} patients (synthesize {synth_s:.2f} s CPU), seed {args.seed}")
    print(f"best of {args.repeat}, CPU seconds:")
    print(f"  baseline CRS+ICANS episodes  {best['episodes']:7.3f} s")
    print(f"  baseline all engine calls    {best['engines']:7.3f} s  ({calls} calls)")
    print(
        f"  derive_adam                  {best['derive']:7.3f} s  "
        f"{patients / best['derive']:7.0f} patients/s"
    )
    print(f"  derive / episodes            {best['derive'] / best['episodes']:7.2f} x")
    print(f"  derive / all engines         {best['derive'] / best['engines']:7.2f} x")


if __name__ == "__main__":
    main()
