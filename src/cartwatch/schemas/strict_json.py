"""Strict JSON for clinical documents, shared by the CLI and the API.

A clinical document must never contain what plain ``json.loads`` lets through or guesses
at: ``NaN``/``Infinity`` (also numbers too large for a float) and duplicate keys — the
standard library keeps the last of a repeated key, so ``{"temperature_c": 39.4,
"temperature_c": 37.0}`` would silently become 37.0 (no fever) — nor a lone surrogate
(``"\\ud800"``, not a character: no database can store it) nor nesting deeper than
``MAX_DEPTH``. Each problem is reported as ``path: problem`` with the contract's field path.
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


#: The deepest nesting of objects and arrays a document may have. The deepest contract
#: documents are 3 levels ({"data": {"ice_items": {...}}}, prior_lines[i].agents[j]); a
#: deeper one is a mistake or an attack, and its depth would exhaust recursive validators.
MAX_DEPTH = 16


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed (not standard JSON)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is too large")
    return value


def _child(path: str, key: str) -> str:
    return f"{path}.{key_text(key)}" if path else key_text(key)


def _is_lone_surrogate(text: str) -> bool:
    # json.loads decodes a "\\ud800" escape without its pair to a lone surrogate, which is no
    # character: UTF-8 cannot encode it, so no database, file or page can hold it.
    return any("\ud800" <= c <= "\udfff" for c in text)


def _structure_problems(value: object) -> Iterator[str]:
    """Duplicate keys, lone surrogates and nesting deeper than MAX_DEPTH, with their paths.

    Iterative (an explicit stack): a document nested hundreds deep must be a problem to
    report, not a RecursionError in the checker.
    """
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if _is_lone_surrogate(item):
                yield f"{path or ROOT_PATH}: contains a lone surrogate (\\ud800–\\udfff), not text"
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_DEPTH:
            yield f"{path or ROOT_PATH}: nested deeper than {MAX_DEPTH} levels"
            continue
        if isinstance(item, _DuplicateKeys):
            for key in item.duplicates:
                yield f"{_child(path, key)}: duplicate key (a repeated field is ambiguous)"
        if isinstance(item, dict):
            for key in item:
                if _is_lone_surrogate(key):
                    yield f"{path or ROOT_PATH}: a key contains a lone surrogate, not text"
            children = [(v, _child(path, k), depth + 1) for k, v in item.items()]
        else:
            children = [(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item)]
        stack.extend(reversed(children))


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
    problems = list(_structure_problems(value))
    if problems:
        raise JsonProblems(problems)
    return value
