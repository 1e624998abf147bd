"""The research contract's example documents, as data (docs, tests and benchmarks use them).

``SIMULATION`` is the ``simulate survival`` example of research-contract.md: the design that
``design survival`` gives for HR 0.6 (217 patients, 161 events), with a treatment arm that
cures 30 % of patients.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["SIMULATION", "simulation"]

SIMULATION: dict[str, Any] = {
    "replicates": 10000,
    "seed": 1,
    "subjects": 217,
    "allocation_ratio": 1,
    "accrual_months": 24,
    "analysis": {"events": 161},
    "arms": {
        "control": {"cure_fraction": 0.0, "median_months": 12},
        "treatment": {"cure_fraction": 0.3, "median_months": 20},
    },
    "dropout_rate": 0.0,
    "dropout_months": 12,
    "alpha": 0.025,
    "sided": 1,
    "tests": ["logrank", "rmst", "milestone"],
    "tau_months": 24,
    "milestone_months": 24,
}


def simulation(**changes: Any) -> dict[str, Any]:
    """A deep copy of :data:`SIMULATION` with top-level *changes* applied."""
    return {**copy.deepcopy(SIMULATION), **changes}
