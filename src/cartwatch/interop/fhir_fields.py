"""A centre-format row as FHIR typed values, and back: the lossless part of a journey export.

Every input field of a cartwatch record travels as one typed value named by its field path
(``temperature_c``, ``ice_items.orientation``, ``vasopressors[1]``,
``prior_lines[0].agents[2]``): as an ``Observation.component`` (code in ``FIELD_SYSTEM``,
plus the LOINC code where ``fhir_codes.FIELD_LOINC`` has one) or, on resources without
components, as an extension ``FIELD_EXTENSION + path``. Types: booleans → valueBoolean,
integers → valueInteger, other numbers → valueQuantity (UCUM unit where the field has one),
dates → valueDateTime ``YYYY-MM-DD``, local date-times → valueDateTime with the centre's
UTC offset, text and enumerations → valueString. A missing value (None) is left out; the row
model restores its default when the record is read back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

from cartwatch.interop import fhir_codes as codes


class FieldProblem(ValueError):
    """A field value that cannot be read back (the message names the path)."""


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, scalar) of every non-missing leaf of a row dict, in field order."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from flatten(item, f"{path}[{i}]")
    elif value is not None:
        yield path, value


def local_iso(value: dt.datetime, zone: dt.tzinfo) -> str:
    """A centre's local wall-clock time (naive) as a FHIR dateTime with its UTC offset."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return aware.isoformat()


def typed_value(path: str, value: Any, zone: dt.tzinfo) -> dict[str, Any]:
    """The ``value[x]`` of one field (key and value, ready for a component or extension)."""
    name = path.rsplit(".", 1)[-1]
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, Enum):
        return {"valueString": str(value.value)}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        quantity: dict[str, Any] = {"value": value}
        unit = codes.FIELD_UNITS.get(name)
        if unit is not None:
            quantity |= {"unit": unit, "system": codes.UCUM, "code": unit}
        return {"valueQuantity": quantity}
    if isinstance(value, dt.datetime):
        return {"valueDateTime": local_iso(value, zone)}
    if isinstance(value, dt.date):
        return {"valueDateTime": value.isoformat()}
    if isinstance(value, str):
        return {"valueString": value}
    raise TypeError(f"{path}: no FHIR type for {type(value).__name__}")


def field_code(path: str) -> dict[str, Any]:
    coding = [{"system": codes.FIELD_SYSTEM, "code": path}]
    loinc = codes.FIELD_LOINC.get(path)
    if loinc is not None:
        coding.append({"system": codes.LOINC, "code": loinc})
    return {"coding": coding}


def components(fields: Mapping[str, Any], zone: dt.tzinfo) -> list[dict[str, Any]]:
    return [
        {"code": field_code(path), **typed_value(path, value, zone)}
        for path, value in flatten(fields)
    ]


def extensions(fields: Mapping[str, Any], zone: dt.tzinfo) -> list[dict[str, Any]]:
    return [
        {"url": codes.FIELD_EXTENSION + path, **typed_value(path, value, zone)}
        for path, value in flatten(fields)
    ]


# --- reading back -------------------------------------------------------------------------

_VALUE_KEYS = (
    "valueBoolean",
    "valueInteger",
    "valueQuantity",
    "valueString",
    "valueDateTime",
    "valueDecimal",
    "valueCode",
)
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def plain_value(item: Mapping[str, Any], zone: dt.tzinfo, path: str) -> Any:
    """The Python value of a component or extension as the row model reads it: a date-time
    with an offset becomes the receiving centre's local wall-clock time."""
    present = [k for k in _VALUE_KEYS if k in item]
    if len(present) != 1:
        raise FieldProblem(f"{path}: exactly one value is needed")
    key = present[0]
    value = item[key]
    if key == "valueQuantity":
        number = value.get("value") if isinstance(value, Mapping) else None
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise FieldProblem(f"{path}: valueQuantity.value must be a number")
        return float(number)
    if key == "valueDecimal":
        return float(value)
    if key == "valueDateTime" and isinstance(value, str) and "T" in value:
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise FieldProblem(f"{path}: not an ISO 8601 date-time: {value!r}") from None
        if moment.tzinfo is None:
            raise FieldProblem(f"{path}: a date-time needs its UTC offset")
        return moment.astimezone(zone).replace(tzinfo=None).isoformat()
    return value


def _split(path: str) -> list[str | int]:
    parts: list[str | int] = []
    pos = 0
    for match in _PATH_PART.finditer(path):
        if match.start() != pos and path[pos] != ".":
            raise FieldProblem(f"{path}: not a field path")
        name, index = match.groups()
        parts.append(int(index) if index is not None else name)
        pos = match.end()
    if not parts or isinstance(parts[0], int):
        raise FieldProblem(f"{path!r}: not a field path")
    return parts


def unflatten(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The nested row dict of (path, value) pairs (the inverse of :func:`flatten`); a path
    given twice with different values is a problem, never a silent choice."""
    root: dict[str, Any] = {}
    for path, value in pairs:
        parts = _split(path)
        node: Any = root
        for part, following in zip(parts, [*parts[1:], None], strict=True):
            if following is None:
                _put(node, part, value, path)
            else:
                node = _child(node, part, {} if isinstance(following, str) else [], path)
    return root


def _child(node: Any, part: str | int, empty: Any, path: str) -> Any:
    if isinstance(part, int):
        while len(node) <= part:
            node.append(None)
        if node[part] is None:
            node[part] = empty
        child = node[part]
    else:
        child = node.setdefault(part, empty)
    if type(child) is not type(empty):
        raise FieldProblem(f"{path}: clashes with another field of the record")
    return child


def _put(node: Any, part: str | int, value: Any, path: str) -> None:
    if isinstance(node, list):
        assert isinstance(part, int)
        while len(node) <= part:
            node.append(None)
        current = node[part]
        node[part] = value
    else:
        current = node.get(part)
        node[part] = value
    if current is not None and current != value:
        raise FieldProblem(f"{path}: given twice with different values")
