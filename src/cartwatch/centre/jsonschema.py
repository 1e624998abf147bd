"""JSON Schema of every centre data file's row, generated from the pydantic row models.

The committed files ``centre/schema/<file>.schema.json`` are the published form of the format
(issue 4, item 1); ``scripts/gen_centre_schema.py`` rewrites them and
``tests/unit/centre/test_schema_files.py`` fails when they differ from :func:`generate`.

Each schema describes one row as a JSON object (the web API's form: nested objects such as
``ice_items`` stay nested). ``x-csv-columns`` lists the CSV header of the file, where nested
objects become dotted columns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cartwatch.centre.loader import FILE_SPECS

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
SCHEMA_BASE_ID = "https://cartwatch.example/centre-data/v1/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def generate() -> dict[str, dict[str, Any]]:
    """``{"patients.schema.json": schema, ...}`` for every file of the format."""
    out: dict[str, dict[str, Any]] = {}
    for spec in FILE_SPECS:
        body = spec.model.model_json_schema(mode="validation")
        schema: dict[str, Any] = {
            "$schema": DIALECT,
            "$id": f"{SCHEMA_BASE_ID}{spec.stem}.schema.json",
            "title": f"{spec.filename}: one row",
            **{k: v for k, v in body.items() if k != "title"},
            "x-csv-file": spec.filename,
            "x-csv-required": spec.required,
            "x-csv-columns": [c.name for c in spec.columns],
        }
        out[f"{spec.stem}.schema.json"] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    """The committed text of one schema: sorted-free, 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    """(Re)write every schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate().items():
        target = directory / name
        target.write_text(render(schema), encoding="utf-8")
        written.append(target)
    return written
