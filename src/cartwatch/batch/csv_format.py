"""The batch CSV format: which columns a grading command accepts and how a cell is read.

Columns are the contract fields of the command's input schema, read from the pydantic
model's JSON schema so the CSV can never drift from the JSON contract:

* nested objects become dotted columns (``ice_items.orientation``, ``lln.neutrophils_10e9_l``);
* lists are ``;``-separated (``norepinephrine;vasopressin``), empty items ignored;
* booleans are ``true``/``false`` (any case);
* an empty cell (or only spaces) means the field is absent, so its default applies;
* one optional extra column, ``id``, is passed through untouched to identify rows;
* any other column is an error (a misspelt field must never be silently ignored), as is a
  repeated column name.

Rows are numbered from 1 = the first data record after the header; blank lines are skipped
and not counted (without blank lines or quoted line breaks, row N is on line N + 1).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from cartwatch.schemas.csv_numbers import PLAIN_NUMBER
from cartwatch.schemas.errors import number_requirement

ID_COLUMN = "id"
LIST_SEPARATOR = ";"
ColumnKind = Literal["number", "integer", "boolean", "array", "string"]


class CsvFileError(Exception):
    """A problem with the whole file (unreadable, bad header): nothing is graded or written."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based data record number
    path: str  # contract field path, e.g. "ice_items.orientation"
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.path}: {self.message}"


@dataclass(frozen=True)
class Column:
    name: str  # dotted contract path
    kind: ColumnKind
    required: bool


@dataclass(frozen=True)
class CsvLayout:
    """The columns one input schema accepts, in schema order."""

    model: type[BaseModel]
    columns: Mapping[str, Column]

    @classmethod
    def of(cls, model: type[BaseModel]) -> CsvLayout:
        schema = model.model_json_schema()
        columns: dict[str, Column] = {}
        _collect(schema, schema.get("$defs", {}), "", True, columns)
        return cls(model, columns)

    def check_header(self, header: Sequence[str]) -> list[str]:
        """File-level problems with *header* (unknown, repeated or missing required columns)."""
        problems: list[str] = []
        seen: set[str] = set()
        for i, name in enumerate(header, start=1):
            if name in seen:
                problems.append(f"column {i} '{name}': repeated column (ambiguous)")
            elif name != ID_COLUMN and name not in self.columns:
                problems.append(f"column {i} '{name}': unknown column")
            seen.add(name)
        problems.extend(
            f"column '{c.name}': required column missing"
            for c in self.columns.values()
            if c.required and c.name not in seen
        )
        return problems


def _alternatives(node: Mapping[str, Any], defs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "$ref" in node:
        return _alternatives(defs[str(node["$ref"]).rsplit("/", 1)[-1]], defs)
    if "anyOf" in node:
        return [a for alt in node["anyOf"] for a in _alternatives(alt, defs)]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _alternatives(node["allOf"][0], defs)
    return [node]


def _collect(
    node: Mapping[str, Any],
    defs: Mapping[str, Any],
    prefix: str,
    required: bool,
    out: dict[str, Column],
) -> None:
    alternatives = [a for a in _alternatives(node, defs) if a.get("type") != "null"]
    objects = [a for a in alternatives if "properties" in a]
    if objects:
        obj = objects[0]
        needed = set(obj.get("required", ()))
        for name, sub in obj["properties"].items():
            _collect(
                sub, defs, f"{prefix}.{name}" if prefix else name, required and name in needed, out
            )
        return
    types = {a.get("type") for a in alternatives} or {"string"}
    kind: ColumnKind
    if "boolean" in types:
        kind = "boolean"
    elif "array" in types:
        kind = "array"
    elif "number" in types:
        kind = "number"
    elif "integer" in types:
        kind = "integer"
    else:
        kind = "string"
    out[prefix] = Column(prefix, kind, required)


# --- reading rows -------------------------------------------------------------------------


def open_csv(path: str) -> io.TextIOWrapper:
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise CsvFileError([f"{path}: cannot read file: {exc.strerror or exc}"]) from None


def read_header(reader: Iterator[list[str]], path: str) -> list[str]:
    try:
        for header in reader:
            if any(cell.strip() for cell in header):
                return [cell.strip() for cell in header]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise CsvFileError([f"{path}: not a readable CSV file ({exc})"]) from None
    raise CsvFileError([f"{path}: empty file (a header row is required)"])


def records(reader: Iterator[list[str]], width: int, path: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records as (row number, cells); a record of the wrong width is yielded too,
    for :func:`width_problem` to report."""
    row = 0
    try:
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            row += 1
            yield row, cells
    except (csv.Error, UnicodeDecodeError) as exc:
        raise CsvFileError([f"{path}: unreadable after row {row} ({exc})"]) from None


def width_problem(row: int, cells: Sequence[str], width: int) -> RowProblem | None:
    if len(cells) == width:
        return None
    return RowProblem(row, "input", f"has {len(cells)} cells, the header has {width}")


# --- one record → one JSON value for the pydantic model ------------------------------------


def cell_value(column: Column, text: str, model: type[BaseModel]) -> tuple[object, str | None]:
    if column.kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true", None
        return None, "must be true or false"
    if column.kind in ("number", "integer"):
        # float() alone would also read "3_9" as 39 (schemas/csv_numbers.py).
        number = float(text) if PLAIN_NUMBER.fullmatch(text.strip()) else math.nan
        if not math.isfinite(number):
            return None, number_requirement(model, column.name.split("."))
        if column.kind == "integer" and number.is_integer():
            return int(number), None
        return number, None
    if column.kind == "array":
        return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()], None
    return text, None


def record_to_json(
    layout: CsvLayout, header: Sequence[str], cells: Sequence[str], row: int
) -> tuple[str, list[RowProblem]]:
    """The record as a JSON document for ``layout.model`` and any cell-level problems.

    Cells that cannot be read (``abc`` in a number column) are reported here and left out
    of the document, so the model does not report them a second time.
    """
    document: dict[str, Any] = {}
    problems: list[RowProblem] = []
    for name, raw in zip(header, cells, strict=True):
        text = raw.strip()
        if name == ID_COLUMN or not text:
            continue
        column = layout.columns[name]
        value, problem = cell_value(column, text, layout.model)
        if problem is not None:
            problems.append(RowProblem(row, name, problem))
            continue
        target = document
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return json.dumps(document), problems
