"""requirements.lock (scripts/lock) pins every dependency of pyproject.toml, with hashes.

Fails when a dependency is added to pyproject.toml without regenerating the lock
(``./scripts/lock``), or when the pinned version no longer satisfies the declared range.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(s) for s in specs]


def _pinned() -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes)."""
    pins: dict[str, tuple[str, int]] = {}
    current = ""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        found = _PIN.match(line)
        if found:
            current = canonicalize_name(found.group(1))
            pins[current] = (found.group(2), 0)
        elif "--hash=sha256:" in line and current:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


@pytest.mark.parametrize("requirement", _declared(), ids=lambda r: r.name)
def test_every_dependency_is_locked_within_its_range(requirement: Requirement) -> None:
    pins = _pinned()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{requirement.name} is not in requirements.lock: run ./scripts/lock"
    version, _ = pins[name]
    assert requirement.specifier.contains(version, prereleases=True), (
        f"{requirement.name}=={version} in requirements.lock is outside {requirement}: "
        "run ./scripts/lock"
    )


def test_every_pin_has_hashes() -> None:
    pins = _pinned()
    assert len(pins) > 50
    assert not [n for n, (_, hashes) in pins.items() if hashes == 0]


def test_setup_installs_from_the_lock_with_hashes() -> None:
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in setup
    assert "--no-deps" in setup
