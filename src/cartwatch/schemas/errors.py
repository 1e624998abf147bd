"""Turn validation failures into the contract's ``path: problem`` lines.

Every interface (CLI, CSV batch, web API) reports bad input the same way: one line per
problem, naming the field path as the CLI contract writes it (``oxygen_flow_l_min``,
``ice_items.orientation``, ``[2].vasopressors[0]``: array indices in brackets, object keys
joined with dots) and saying in plain words what is wrong. This module formats pydantic
``ValidationError`` and ``ClinicalInputError`` into those lines; it decides nothing clinical.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.errors import PydanticUserError
from pydantic_core import ErrorDetails

from cartwatch.clinical.errors import ClinicalInputError

__all__ = [
    "join_path",
    "loc_to_path",
    "number_constraints",
    "number_requirement",
    "problem_pairs",
    "problems_from",
]

#: Path printed for a problem with the whole document (or a whole array item without prefix).
ROOT_PATH = "input"

# Pydantic adds the union member to the location when every member of a union fails
# (``('observed_at', 'date')``, ``('observed_at', 'datetime')``). Those tags are not fields:
# they are dropped so the path stays the contract path. Field names in the schemas are
# lower snake_case, so a tag is recognised by its spelling.
_UNION_TAGS = frozenset(
    {"int", "float", "str", "bool", "none", "list", "dict", "date", "datetime", "time"}
)
_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_MAX_SHOWN = 40  # longest input value echoed back in a message


def join_path(prefix: str, path: str) -> str:
    """Join an outer path (``[2]``) and an inner one (``vasopressors[0]``) contract-style."""
    if not prefix:
        return path
    if not path or path == ROOT_PATH:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_]+$")


def key_text(key: str) -> str:
    """An object key as printed in a path: as is when plain, else JSON-quoted with every
    unprintable character escaped, so a problem always stays on one line."""
    if _PLAIN_KEY.match(key):
        return key
    quoted = json.dumps(key, ensure_ascii=False)
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in quoted)


def loc_to_path(loc: Sequence[int | str], *, keep_last: bool = False) -> str:
    """``('ice_items', 'orientation')`` → ``ice_items.orientation``; ``(2, 'x', 0)`` → ``[2].x[0]``.

    With *keep_last* the last element is kept verbatim even if it looks like a union tag (it
    is then a key the user wrote, e.g. an unknown field).
    """
    path = ""
    last = len(loc) - 1
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif (keep_last and i == last) or _is_field_name(part):
            path = f"{path}.{key_text(part)}" if path else key_text(part)
    return path or ROOT_PATH


def _is_field_name(part: str) -> bool:
    return part not in _UNION_TAGS and _FIELD_NAME.match(part) is not None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


# --- bounds and types from the model's JSON schema ------------------------------------


@cache
def _json_schema(model: type[BaseModel]) -> Mapping[str, Any] | None:
    try:
        return model.model_json_schema()
    except PydanticUserError:  # a type without a JSON schema: messages lose their ranges
        return None


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The concrete alternatives of a schema node ($ref followed, null branch dropped)."""
    if "$ref" in node:
        return _resolve(defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {}), defs)
    if "anyOf" in node:
        out: list[Mapping[str, Any]] = []
        for alt in node["anyOf"]:
            out.extend(a for a in _resolve(alt, defs) if a.get("type") != "null")
        return out
    return [node]


def _leaf_schema(model: type[BaseModel], loc: Sequence[int | str]) -> Mapping[str, Any] | None:
    schema = _json_schema(model)
    if schema is None:
        return None
    defs: Mapping[str, Any] = schema.get("$defs", {})
    nodes = _resolve(schema, defs)
    for part in loc:
        following: list[Mapping[str, Any]] = []
        for node in nodes:
            if isinstance(part, int) and "items" in node:
                following.extend(_resolve(node["items"], defs))
            elif isinstance(part, str) and part in node.get("properties", {}):
                following.extend(_resolve(node["properties"][part], defs))
        if following:
            nodes = following
        elif isinstance(part, int) or _is_field_name(part):
            return None
    numeric = [n for n in nodes if n.get("type") in ("number", "integer")]
    return numeric[0] if len(numeric) == 1 else None


def _number_phrase(leaf: Mapping[str, Any]) -> str:
    kind = "an integer" if leaf.get("type") == "integer" else "a number"
    lo, hi = leaf.get("minimum"), leaf.get("maximum")
    xlo, xhi = leaf.get("exclusiveMinimum"), leaf.get("exclusiveMaximum")
    if lo is not None and hi is not None:
        return f"must be {kind} between {_num(lo)} and {_num(hi)}"
    parts = []
    if lo is not None:
        parts.append(f"≥ {_num(lo)}")
    if xlo is not None:
        parts.append(f"> {_num(xlo)}")
    if hi is not None:
        parts.append(f"≤ {_num(hi)}")
    if xhi is not None:
        parts.append(f"< {_num(xhi)}")
    return f"must be {kind}" + (" " + " and ".join(parts) if parts else "")


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- messages ---------------------------------------------------------------------------

_NUMBER_ERRORS = frozenset(
    {
        "float_type",
        "float_parsing",
        "int_type",
        "int_parsing",
        "int_from_float",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "finite_number",
        "decimal_type",
        "decimal_parsing",
        "int_parsing_size",
    }
)

_PLAIN = {
    "extra_forbidden": "unknown field",
    "missing": "required field missing",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be an array",
    "tuple_type": "must be an array",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "dataclass_type": "must be an object",
    "none_required": "must be null",
    "finite_number": "must be a finite number",
    "int_from_float": "must be a whole number",
}


def _date_message(types: set[str], detail: str | None) -> str:
    has_date = any(t.startswith("date_") for t in types)
    has_datetime = any(t.startswith("datetime_") for t in types)
    if has_date and has_datetime:
        what = "an ISO 8601 date (YYYY-MM-DD) or date-time"
    elif has_datetime:
        what = "an ISO 8601 date-time"
    else:
        what = "an ISO 8601 date (YYYY-MM-DD)"
    return f"must be {what}" + (f" ({detail})" if detail else "")


def _is_date_error(kind: str) -> bool:
    return kind.startswith(("date_", "datetime_"))


def _message(err: ErrorDetails, model: type[BaseModel] | None) -> str:
    kind = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind in ("enum", "literal_error"):
        expected = ctx.get("expected", "")
        value = err.get("input")
        if isinstance(value, str):
            return f"unknown value {_shown(value)}; expected {expected}"
        return f"must be {expected}"
    if kind in _NUMBER_ERRORS and model is not None:
        leaf = _leaf_schema(model, err["loc"])
        if leaf is not None:
            phrase = _number_phrase(leaf)
            return phrase if kind != "int_from_float" else phrase + " (a whole number)"
    if kind in _PLAIN:
        return _PLAIN[kind]
    if kind in _NUMBER_ERRORS:
        return _lower_first(err["msg"].replace("Input should be", "must be"))
    if kind in ("too_short", "too_long"):
        return _lower_first(
            err["msg"].replace("List should", "must").replace("Input should", "must")
        )
    return _lower_first(err["msg"].replace("Input should be", "must be"))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _validation_pairs(
    exc: ValidationError, prefix: str, model: type[BaseModel] | None
) -> list[tuple[str, str]]:
    # Group per path so a union's per-member failures (date | datetime) give one line.
    date_errors: dict[str, tuple[set[str], str | None]] = {}
    pairs: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        path = join_path(
            prefix, loc_to_path(err["loc"], keep_last=err["type"] == "extra_forbidden")
        )
        if _is_date_error(err["type"]):
            ctx = err.get("ctx") or {}
            types, detail = date_errors.get(path, (set(), None))
            types.add(err["type"])
            date_errors[path] = (types, detail or (str(ctx["error"]) if "error" in ctx else None))
            if len(types) == 1:
                pairs.append((path, ""))  # placeholder keeps input order
            continue
        pairs.append((path, _message(err, model)))
    out: list[tuple[str, str]] = []
    for path, message in pairs:
        pair = (path, message or _date_message(*date_errors[path]))
        if pair not in out:
            out.append(pair)
    return out


def number_constraints(model: type[BaseModel], loc: Sequence[int | str]) -> Mapping[str, Any]:
    """The JSON-schema number constraints at *loc* of *model* (``minimum``, ``maximum``,
    ``exclusiveMinimum``, ``exclusiveMaximum``, ``type``); empty when there are none."""
    return _leaf_schema(model, loc) or {}


def number_requirement(model: type[BaseModel], loc: Sequence[int | str]) -> str:
    """What a number at *loc* of *model* must be: ``must be a number between 25 and 45``."""
    leaf = _leaf_schema(model, loc)
    return _number_phrase(leaf) if leaf is not None else "must be a number"


def problem_pairs(
    exc: ValidationError | ClinicalInputError,
    prefix: str = "",
    *,
    model: type[BaseModel] | None = None,
) -> list[tuple[str, str]]:
    """``(path, problem)`` for each problem in *exc*, each path prefixed with *prefix*.

    *prefix* is the outer path, e.g. ``[2]`` for the third item of an array. Give *model*
    (the model that raised) to have number errors name the allowed range, e.g.
    ``temperature_c: must be a number between 25 and 45``.
    """
    if isinstance(exc, ClinicalInputError):
        return [(join_path(prefix, path) or ROOT_PATH, message) for path, message in exc.problems]
    return _validation_pairs(exc, prefix, model)


def problems_from(
    exc: ValidationError | ClinicalInputError,
    prefix: str = "",
    *,
    model: type[BaseModel] | None = None,
) -> list[str]:
    """One ``path: problem`` line per problem in *exc* (see :func:`problem_pairs`)."""
    return [f"{path}: {message}" for path, message in problem_pairs(exc, prefix, model=model)]
