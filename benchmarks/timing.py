"""The timing rule every benchmark script shares: the best of a few runs (the machine is
shared, so the minimum is the least disturbed measurement). Imported by the scripts as
``from timing import best_of``: ``python benchmarks/x.py`` puts this folder on sys.path."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

REPEATS = 3


def best_of(fn: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """(the shortest wall time of *repeats* calls of *fn*, the result of the last call)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result
