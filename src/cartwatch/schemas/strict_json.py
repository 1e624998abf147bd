"""Strict JSON for clinical documents, shared by the CLI and the API.

A clinical document must never contain what plain ``json.loads`` lets through or guesses
at: ``NaN``/``Infinity`` (also numbers too large for a float) and duplicate keys — the
standard library keeps the last of a repeated key, so ``{"temperature_c": 39.4,
"temperature_c": 37.0}`` would silently become 37.0 (no fever). Each problem is reported
as ``path: problem`` with the contract's field path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NoReturn

from cartwatch.schemas.errors import ROOT_PATH, key_text


class JsonProblems(ValueError):
    """The text is not one strict JSON document; ``problems`` are ``path: problem`` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class _DuplicateKeys(dict[str, Any]):
    """A JSON object whose source repeated at least one key (kept to report the path)."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    duplicates: list[str] = []
    for key, value in pairs:
        if key in obj and key not in duplicates:
            duplicates.append(key)
        obj[key] = value
    if not duplicates:
        return obj
    flagged = _DuplicateKeys(obj)
    flagged.duplicates = duplicates
    return flagged


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed (not standard JSON)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is too large")
    return value


def _child(path: str, key: str) -> str:
    return f"{path}.{key_text(key)}" if path else key_text(key)


def _duplicate_problems(value: object, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value, _DuplicateKeys):
            for key in value.duplicates:
                yield f"{_child(path, key)}: duplicate key (a repeated field is ambiguous)"
        for key, item in value.items():
            yield from _duplicate_problems(item, _child(path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _duplicate_problems(item, f"{path}[{i}]")


def loads(text: str | bytes) -> Any:
    """Parse one strict JSON document (no NaN/Infinity, no overflowing numbers, no duplicates)."""
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as exc:
        raise JsonProblems(
            [f"{ROOT_PATH}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]
        ) from None
    except ValueError as exc:  # NaN/Infinity, float overflow, int longer than 4300 digits
        raise JsonProblems([f"{ROOT_PATH}: not valid JSON: {exc}"]) from None
    except RecursionError:
        raise JsonProblems([f"{ROOT_PATH}: not valid JSON: nested too deeply"]) from None
    duplicates = list(_duplicate_problems(value))
    if duplicates:
        raise JsonProblems(duplicates)
    return value
