"""The dependency direction of DEVELOPERS.md, checked in a fresh interpreter per package.

``clinical`` is pure (no pandas, pydantic, Django, Typer); ``schemas`` and ``outcomes`` never
pull in the web or CLI frameworks. Each import runs in its own subprocess so modules loaded
by the test session itself cannot hide (or fake) a violation.
"""

from __future__ import annotations

import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cartwatch

SRC = Path(cartwatch.__file__).resolve().parent

FORBIDDEN = {
    "clinical": ("pandas", "pydantic", "django", "typer"),
    "schemas": ("django", "typer"),
    "outcomes": ("django", "typer"),
    "research": ("django", "typer"),
    "interop": ("django", "typer"),
}


def _modules(package: str) -> list[str]:
    names = [f"cartwatch.{package}"]
    names += [
        f"cartwatch.{package}.{info.name}"
        for info in pkgutil.iter_modules([str(SRC / package)])
        if not info.name.startswith("_")
    ]
    return names


def _loaded_top_level(module: str) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, f"importing {module} failed:\n{done.stderr}"
    return set(json.loads(done.stdout))


CASES = [(module, FORBIDDEN[package]) for package in FORBIDDEN for module in _modules(package)]


@pytest.mark.parametrize(("module", "forbidden"), CASES, ids=[m for m, _ in CASES])
def test_module_imports_no_forbidden_framework(module: str, forbidden: tuple[str, ...]) -> None:
    loaded = _loaded_top_level(module)
    assert not loaded & set(forbidden), f"{module} pulls in {sorted(loaded & set(forbidden))}"


def test_the_check_sees_a_forbidden_import() -> None:
    """The detector itself works: importing the CLI does load Typer."""
    assert "typer" in _loaded_top_level("cartwatch.cli.app")


#: Packages below ``interop`` (DEVELOPERS.md): none of them may import it.
IMPORTS_INTEROP = re.compile(r"^\s*(from|import)\s+cartwatch\.interop\b", re.MULTILINE)
BELOW_INTEROP = ("clinical", "schemas", "centre", "batch", "outcomes", "adam", "synth")


@pytest.mark.parametrize("package", BELOW_INTEROP)
def test_lower_packages_do_not_import_interop(package: str) -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in sorted((SRC / package).rglob("*.py"))
        if IMPORTS_INTEROP.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"{offenders} import cartwatch.interop, which sits above {package}"
