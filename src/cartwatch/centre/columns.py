"""Flat CSV columns of a row model, and conversion of CSV cells to Python values and back.

A row model may nest contract objects (``ice_items``, ``lln``); in CSV they become dotted
columns (``ice_items.orientation``), DEVELOPERS.md "centre data format". This module derives
the column list from the pydantic model itself, so a field added to a clinical schema appears
as a column without a second definition.

Cell conventions: empty = missing; booleans ``true``/``false`` (case-insensitive, because
spreadsheets write ``TRUE``); lists ``;``-separated; dates ISO ``YYYY-MM-DD``; timestamps ISO
8601. A cell that does not convert is passed to pydantic unchanged, so the error message is
pydantic's (and names the field) rather than a second, differently worded one.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel

from cartwatch.schemas.csv_numbers import PLAIN_INTEGER, PLAIN_NUMBER

Kind = Literal["str", "bool", "int", "float", "date", "datetime", "timestamp", "list"]


@dataclass(frozen=True)
class Column:
    """One CSV column: its dotted name, the path into the nested row dict and its cell kind."""

    name: str
    path: tuple[str, ...]
    kind: Kind
    item_kind: Kind | None
    required: bool


def _unwrap(annotation: Any) -> list[Any]:
    """The non-None members of an (optional) union annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _scalar_kind(tp: Any) -> Kind:
    # Order matters: bool is an int subclass and datetime a date subclass.
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    if tp is float:
        return "float"
    if tp is dt.datetime:
        return "datetime"
    if tp is dt.date:
        return "date"
    if typing.get_origin(tp) is typing.Annotated:
        return _scalar_kind(typing.get_args(tp)[0])
    return "str"  # str, StrEnum, Literal


def _kind_of(members: list[Any]) -> tuple[Kind, Kind | None]:
    if len(members) > 1:
        kinds = {_scalar_kind(m) for m in members}
        if kinds == {"date", "datetime"}:
            return "timestamp", None
        if kinds <= {"int", "float"}:
            return "float", None
        return "str", None
    tp = members[0]
    if typing.get_origin(tp) in (list, tuple):
        args = typing.get_args(tp)
        item = _unwrap(args[0]) if args else [str]
        return "list", _kind_of(item)[0]
    return _scalar_kind(tp), None


def model_columns(
    model: type[BaseModel], prefix: tuple[str, ...] = (), parent_required: bool = True
) -> tuple[Column, ...]:
    """Every CSV column of *model*, nested models flattened to dotted names, in field order."""
    out: list[Column] = []
    for name, info in model.model_fields.items():
        if info.exclude is True:
            continue  # not part of the row (e.g. ``mrd`` of an assessment: its own file)
        members = _unwrap(info.annotation)
        required = parent_required and info.is_required()
        nested = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if nested:
            out.extend(model_columns(nested[0], (*prefix, name), required))
            continue
        kind, item_kind = _kind_of(members)
        out.append(Column(".".join((*prefix, name)), (*prefix, name), kind, item_kind, required))
    return tuple(out)


def parse_cell(raw: str, kind: Kind, item_kind: Kind | None = None) -> Any:
    """Convert one non-empty CSV cell; returns *raw* unchanged when it does not convert."""
    if kind == "list":
        items = [item.strip() for item in raw.split(";")]
        return [parse_cell(item, item_kind or "str") for item in items if item]
    try:
        return _parse_scalar(raw, kind)
    except ValueError:
        return raw


def _parse_scalar(raw: str, kind: Kind) -> Any:
    if kind == "bool":
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return raw
    if kind == "int":
        return int(raw) if PLAIN_INTEGER.fullmatch(raw) else raw
    if kind == "float":
        # Not float() alone: it reads "3_9" as 39 (schemas/csv_numbers.py); a cell that is
        # no plain number stays text and the row model reports it on its field.
        if PLAIN_INTEGER.fullmatch(raw):
            return int(raw)
        return float(raw) if PLAIN_NUMBER.fullmatch(raw) else raw
    if kind == "datetime":
        return dt.datetime.fromisoformat(raw)
    if kind == "date":
        return dt.date.fromisoformat(raw)
    if kind == "timestamp":
        has_time = "T" in raw or " " in raw
        return dt.datetime.fromisoformat(raw) if has_time else dt.date.fromisoformat(raw)
    return raw


def format_cell(value: Any) -> str:
    """The CSV text of a Python value (inverse of :func:`parse_cell`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return ";".join(format_cell(v) for v in value)
    return str(value)


def nest(flat: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """Dotted paths → nested dict (``{("lln", "x"): 1}`` → ``{"lln": {"x": 1}}``)."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return out


def get_path(data: Any, path: tuple[str, ...]) -> Any:
    """Value at *path* in a model or nested dict; None when a parent is missing."""
    node = data
    for key in path:
        if node is None:
            return None
        node = node.get(key) if isinstance(node, dict) else getattr(node, key, None)
    return node
