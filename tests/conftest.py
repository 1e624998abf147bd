"""Shared test fixtures: the public validation data folder and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def shared_data_dir() -> Path | None:
    """The shared validation data folder, or None when it is not next to this checkout."""
    configured = os.environ.get("CARTWATCH_SHARED_DATA")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    return candidate if (candidate / "reference" / "expected_values.json").is_file() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips (with the reason) when the folder is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip(
            "shared validation data not found: expected ../shared/data next to the checkout "
            "or CARTWATCH_SHARED_DATA pointing at it"
        )
    return path
