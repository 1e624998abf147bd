"""The committed JSON Schemas equal the ones generated from the row models, and they accept
the rows the models accept (centre/jsonschema.py)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from cartwatch.centre.jsonschema import SCHEMA_DIR, generate, render
from cartwatch.centre.loader import FILE_SPECS
from cartwatch.synth.cohort import synthesize


def test_one_schema_per_file() -> None:
    assert sorted(generate()) == sorted(f"{s.stem}.schema.json" for s in FILE_SPECS)


@pytest.mark.parametrize("name", sorted(generate()))
def test_committed_schema_is_current(name: str) -> None:
    committed = SCHEMA_DIR / name
    assert committed.is_file(), f"{name} missing: run scripts/gen_centre_schema.py"
    assert committed.read_text(encoding="utf-8") == render(generate()[name]), (
        f"{name} is stale: run scripts/gen_centre_schema.py"
    )


def test_schemas_are_valid_and_accept_synthetic_rows() -> None:
    data = synthesize(3, seed=11)
    for spec in FILE_SPECS:
        schema = json.loads((SCHEMA_DIR / f"{spec.stem}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for row in data.rows(spec.stem):
            validator.validate(row.model_dump(mode="json", exclude_none=True))


def test_schema_rejects_unknown_field() -> None:
    schema = generate()["patients.schema.json"]
    row = {
        "patient_id": "P1",
        "centre_id": "C1",
        "age_years": 60,
        "sex": "F",
        "diagnosis": "CLL",
        "consent_research": True,
    }
    jsonschema.validate(row, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**row, "name": "Jane Doe"}, schema)
