"""Reading JSON input, printing results and the exit-2 error path for the JSON commands.

* :func:`read_json` reads one JSON document from a path or ``-`` (stdin) and refuses what a
  clinical document must never contain: invalid JSON, ``NaN``/``Infinity`` (including numbers
  too large for a float), and duplicate keys (a repeated clinical field is ambiguous).
* :func:`emit` prints a result as JSON (default) or as a readable text summary.
* :func:`input_errors` turns the input error types into the contract's error path: exit
  status 2, nothing on stdout, one ``path: problem`` line per problem on stderr. Only
  input-driven errors are caught; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, NoReturn

import typer
from pydantic import BaseModel, ValidationError

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas import strict_json
from cartwatch.schemas.errors import problems_from


class OutputFormat(StrEnum):
    """``--format``: the contract JSON or a readable text summary (a Typer choice)."""

    JSON = "json"
    TEXT = "text"


STDIN = "-"

#: The spellings of every option that names where a command writes: ``-o`` as people
#: expect, ``--out`` as the contracts write it, ``--output`` for scripts written before.
#: tests/cli/test_conventions.py checks that every such option has all three.
OUT_FLAGS = ("-o", "--out", "--output")


class InputProblems(Exception):
    """Bad input found by the CLI itself (unreadable file, not JSON, duplicate key)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# --- reading ------------------------------------------------------------------------------


def parse_json(text: str) -> object:
    """Parse one strict JSON document (see :mod:`cartwatch.schemas.strict_json`)."""
    try:
        return strict_json.loads(text)
    except strict_json.JsonProblems as exc:
        raise InputProblems(exc.problems) from None


def read_json(source: str) -> object:
    """The JSON document at path *source*, or on stdin when *source* is ``-``."""
    try:
        if source == STDIN:
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8-sig") as handle:
                text = handle.read()
    except OSError as exc:
        raise InputProblems([f"{source}: cannot read file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise InputProblems([f"{source}: not UTF-8 text ({exc.reason})"]) from None
    return parse_json(text)


# --- the error path -----------------------------------------------------------------------


def fail(problems: Sequence[str]) -> NoReturn:
    """Exit 2 with one problem per line on stderr and nothing on stdout."""
    for line in problems:
        typer.echo(line, err=True)
    raise typer.Exit(code=2)


@contextmanager
def input_errors(model: type[BaseModel] | None = None, prefix: str = "") -> Iterator[None]:
    """Map the input error types raised in the block to the exit-2 error path."""
    try:
        yield
    except InputProblems as exc:
        fail(exc.problems)
    except (ValidationError, ClinicalInputError) as exc:
        fail(problems_from(exc, prefix, model=model))


# --- printing -----------------------------------------------------------------------------


def _jsonable(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def to_json(result: Mapping[str, object]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False, default=_jsonable)


def emit(result: Mapping[str, object], fmt: OutputFormat) -> None:
    """Print *result* (a contract dict) on stdout as JSON or as a text summary."""
    typer.echo(to_json(result) if fmt == "json" else render_text(result))


# Keys shown as the headline, in this order, when present.
_HEADLINE = ("grade", "grades", "worst", "response", "eligible", "instrument", "standard")
_TIMING = ("peak_index", "onset", "peak_at", "resolved_at", "duration_days")
_HANDLED = frozenset((*_HEADLINE, *_TIMING, "reasons", "observations", "events"))


def _scalar(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date | dt.datetime | enum.Enum):
        return str(_jsonable(value))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_scalar(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_scalar(v) for v in value) or "none"
    return str(value)


def _headline_value(key: str, value: object) -> str:
    # A null grade is "not gradable" (contract v2 item 1: the reasons say what is missing),
    # not a dash that reads like "nothing to grade".
    return "not gradable" if key == "grade" and value is None else _scalar(value)


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _observation_lines(index: int, item: object) -> list[str]:
    if not isinstance(item, Mapping):
        return [f"  [{index}]: {_scalar(item)}"]
    head = ", ".join(
        "not gradable" if k == "grade" and item[k] is None else f"{k} {_scalar(item[k])}"
        for k in _HEADLINE
        if k in item and k != "standard"
    )
    when = item.get("observed_at")
    at = f" {_scalar(when)}" if when is not None else ""
    reasons = item.get("reasons")
    bullets = [f"      • {r}" for r in reasons] if isinstance(reasons, list | tuple) else []
    return [f"  [{index}]{at}: {head}", *bullets]


def _section(title: str, value: object, line: Callable[[Any], list[str]]) -> list[str]:
    """``title:`` then the lines of each item of a non-empty list *value*."""
    if not isinstance(value, list | tuple) or not value:
        return []
    return [f"{title}:", *(text for item in value for text in line(item))]


def _event_lines(event: object) -> list[str]:
    if not isinstance(event, Mapping):
        return [f"  {_scalar(event)}"]
    return [f"  {_scalar(event.get('date'))}  {_scalar(event.get('what'))}"]


def _is_count(key: str, value: object) -> bool:
    """``events`` is a list section in clinical results but a number in research ones."""
    return key == "events" and isinstance(value, int | float) and not isinstance(value, bool)


def render_text(result: Mapping[str, object]) -> str:
    """A readable summary: headline, standard, reasons as bullets, timing, per-item lines."""
    lines = [f"{_label(k)}: {_headline_value(k, result[k])}" for k in _HEADLINE if k in result]
    lines += [
        f"{_label(key)}: {_scalar(value)}"
        for key, value in result.items()
        if (key not in _HANDLED and key not in _TIMING) or _is_count(key, value)
    ]
    lines += _section("Reasons", result.get("reasons"), lambda r: [f"  • {r}"])
    timing = [k for k in _TIMING if k in result]
    lines += _section("Episode", timing, lambda k: [f"  {_label(k)}: {_scalar(result[k])}"])
    lines += _section("Events", result.get("events"), _event_lines)
    items = result.get("observations")
    observations = list(enumerate(items)) if isinstance(items, list | tuple) else []
    lines += _section("Observations", observations, lambda pair: _observation_lines(*pair))
    return "\n".join(lines)
