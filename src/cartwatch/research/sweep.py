"""Operating characteristics over a design grid, one simulation per cell, on Dask.

research-contract.md, ``cartwatch simulate sweep``. The grid's keys are dotted paths of
numeric fields of a ``simulate survival`` document (``subjects``,
``arms.treatment.cure_fraction``, ``analysis.events``, …); the cells are their Cartesian
product in grid order (the first key varies slowest). Cell i runs with its own seed
spawned from the base seed (``SeedSequence(base.seed).spawn(cells)[i]``), so the table is
the same whether the cells run here one after another, on a local cluster of worker
processes or on a remote ``dask.distributed`` scheduler.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.research.inputs import SimulateSurvivalIn, SweepIn, parse
from cartwatch.research.simulate import TESTS, simulate_survival

__all__ = [
    "METHOD",
    "Sweep",
    "SweepError",
    "build_sweep",
    "run_cell",
    "run_sweep",
]

METHOD = "grid of simulate-survival cells (seeds spawned from the base seed), dask.distributed"
#: Fields a grid may not vary: each cell's seed is spawned from ``base.seed``.
FIXED_FIELDS = frozenset({"seed"})
#: Connecting to a scheduler address gives up after this long.
CONNECT_TIMEOUT_S = 10


class SweepError(RuntimeError):
    """The sweep could not run (e.g. the scheduler is unreachable); the message says why."""


@dataclass(frozen=True)
class Sweep:
    """The validated cells of a sweep: grid values, seed and simulate document of each."""

    keys: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]  # one tuple per cell, in key order
    documents: tuple[dict[str, Any], ...]
    seeds: tuple[int, ...]
    scheduler: str | None
    workers: int


def _field_problem(key: str) -> str | None:
    """Why *key* is not a numeric field path of the simulate document (None when it is)."""
    model: type[BaseModel] = SimulateSurvivalIn
    parts = key.split(".")
    for depth, part in enumerate(parts):
        info = model.model_fields.get(part)
        if info is None:
            return "not a field of the simulate survival document"
        annotation = info.annotation
        nested = _model_of(annotation)
        if depth < len(parts) - 1:
            if nested is None:
                return "not a field of the simulate survival document"
            model = nested
        elif nested is not None or part == "tests":
            return "not a numeric field (give one of its numeric fields)"
    if key in FIXED_FIELDS:
        return "each cell's seed is spawned from base.seed; vary it there"
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for item in candidates:
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def _set(doc: dict[str, Any], key: str, value: float) -> None:
    parts = key.split(".")
    node = doc
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = child = dict(child) if isinstance(child, Mapping) else {}
        node = child
    if parts[0] == "analysis":  # the cut is either events or month: the grid's wins
        node.pop("month" if parts[-1] == "events" else "events", None)
    node[parts[-1]] = value


def cell_seeds(base_seed: int, cells: int) -> list[int]:
    """One 63-bit seed per cell from ``SeedSequence(base_seed).spawn(cells)``."""
    return [
        int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
        for child in np.random.SeedSequence(base_seed).spawn(cells)
    ]


def build_sweep(spec: SweepIn) -> Sweep:
    """Validate the grid against the base document and list the cells.

    Raises ClinicalInputError naming ``grid.<key>``, ``grid.<key>[i]`` or ``base.<field>``.
    """
    problems = [
        (f"grid.{key}", why) for key in spec.grid if (why := _field_problem(key)) is not None
    ]
    if problems:
        raise ClinicalInputError(problems)
    keys = tuple(spec.grid)
    base = _validated_base(spec.base)
    combos = list(itertools.product(*(range(len(spec.grid[k])) for k in keys)))
    values = tuple(
        tuple(spec.grid[k][i] for k, i in zip(keys, combo, strict=True)) for combo in combos
    )
    seeds = cell_seeds(base.seed, len(combos))
    documents: list[dict[str, Any]] = []
    for cell, (combo, seed) in enumerate(zip(combos, seeds, strict=True)):
        doc = copy.deepcopy(spec.base)
        for key, value in zip(keys, values[cell], strict=True):
            _set(doc, key, value)
        doc["seed"] = seed
        problems += _cell_problems(doc, keys, combo)
        documents.append(doc)
    if problems:
        raise ClinicalInputError(list(dict.fromkeys(problems)))
    return Sweep(keys, values, tuple(documents), tuple(seeds), spec.scheduler, spec.workers)


def _validated_base(base: dict[str, Any]) -> SimulateSurvivalIn:
    try:
        return parse(SimulateSurvivalIn, base)
    except (ValidationError, ClinicalInputError) as exc:
        from cartwatch.schemas.errors import problem_pairs

        pairs = problem_pairs(exc, "base", model=SimulateSurvivalIn)
        raise ClinicalInputError(pairs) from None


def _cell_problems(
    doc: dict[str, Any], keys: Sequence[str], combo: Sequence[int]
) -> list[tuple[str, str]]:
    try:
        parse(SimulateSurvivalIn, doc)
    except (ValidationError, ClinicalInputError) as exc:
        from cartwatch.schemas.errors import problem_pairs

        out = []
        for path, message in problem_pairs(exc, model=SimulateSurvivalIn):
            hit = [(k, i) for k, i in zip(keys, combo, strict=True) if path in (k, *_parents(k))]
            where = f"grid.{hit[0][0]}[{hit[0][1]}]" if hit else f"base.{path}"
            out.append((where, message))
        return out
    return []


def _parents(key: str) -> list[str]:
    parts = key.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def run_cell(document: dict[str, Any]) -> dict[str, Any]:
    """Simulate one cell (a plain dict in and out, so it travels to any Dask worker)."""
    result = simulate_survival(parse(SimulateSurvivalIn, document)).to_dict()
    keep = (
        "power",
        "mc_se",
        "not_evaluable",
        "mean_events",
        "mean_analysis_month",
        "events_not_reached",
    )
    return {k: result[k] for k in keep}


@contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Any]:
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"scheduler: cannot connect to {scheduler!r} ({exc})") from None
        with client:
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def _run_serial(documents: Sequence[dict[str, Any]], done: Callable[[], None]) -> list[Any]:
    results = []
    for doc in documents:
        results.append(run_cell(doc))
        done()
    return results


def _run_dask(
    documents: Sequence[dict[str, Any]],
    scheduler: str | None,
    workers: int,
    done: Callable[[], None],
) -> list[Any]:
    from dask.distributed import as_completed

    with _client(scheduler, workers) as client:
        futures = client.map(run_cell, list(documents), pure=False)
        for _ in as_completed(futures):  # type: ignore[no-untyped-call]
            done()
        return list(client.gather(futures))


def run_sweep(
    sweep: Sweep, *, serial: bool = False, done: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Run every cell (here one by one when *serial*, else on Dask) and build the table."""
    tick = done or (lambda: None)
    started = time.perf_counter()
    if serial:
        results = _run_serial(sweep.documents, tick)
    else:
        results = _run_dask(sweep.documents, sweep.scheduler, sweep.workers, tick)
    cells = []
    for values, seed, result in zip(sweep.values, sweep.seeds, results, strict=True):
        cells.append({**dict(zip(sweep.keys, values, strict=True)), "seed": seed, **result})
    elapsed = time.perf_counter() - started
    return {
        "cells": cells,
        "grid_keys": list(sweep.keys),
        "workers": None if serial or sweep.scheduler else sweep.workers,
        "scheduler": "serial" if serial else (sweep.scheduler or "local cluster"),
        "elapsed_s": round(elapsed, 3),
        "method": METHOD,
        "notes": [
            f"{len(cells)} cells in grid order (the first key varies slowest)",
            "each cell's seed is spawned from the base seed: the cells are identical "
            "serially, on a local cluster or on a remote one",
        ],
    }


def table_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The cells flattened for CSV: ``power.logrank``, ``mc_se.logrank``, …"""
    rows = []
    for cell in result["cells"]:
        row: dict[str, Any] = {}
        for key, value in cell.items():
            if isinstance(value, Mapping):
                row.update({f"{key}.{test}": value[test] for test in TESTS if test in value})
            else:
                row[key] = value if not (isinstance(value, float) and math.isnan(value)) else ""
        rows.append(row)
    return rows
