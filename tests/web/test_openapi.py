"""``/api/docs`` shows the request bodies the handlers really validate: each record kind's
row, the eligibility document and the live-grading observations (api/openapi.py)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def document() -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _body(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"][path][method]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    return schema


def test_every_reference_in_the_document_resolves(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    refs = _refs(document)
    assert refs  # the responses still use components
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in components


def test_record_bodies_list_every_kind_with_its_fields(document: dict[str, Any]) -> None:
    from cartwatch.web.services.records import KINDS

    for method, path in (
        ("post", "/api/patients/{patient_id}/{kind}"),
        ("put", "/api/patients/{patient_id}/{kind}/{record_id}"),
    ):
        data = _body(document, method, path)["properties"]["data"]
        assert [s["title"] for s in data["anyOf"]] == list(KINDS)
        kind = next(p for p in document["paths"][path][method]["parameters"] if p["name"] == "kind")
        assert kind["schema"]["enum"] == list(KINDS)
    crs = next(s for s in data["anyOf"] if s["title"] == "crs")
    assert "temperature_c" in crs["properties"] and "patient_id" not in crs["properties"]


def test_the_documented_crs_record_accepts_what_the_api_accepts_and_refuses_the_rest(
    document: dict[str, Any], cast: Any, patient_a: Any, api: Any
) -> None:
    body_schema = _body(document, "post", "/api/patients/{patient_id}/{kind}")
    good = {"data": {"observed_at": "2025-07-03T08:00:00", "temperature_c": 38.4}}
    bad = {"data": {"observed_at": "2025-07-03T08:00:00", "temperatur_c": 38.4}}
    jsonschema.validate(good, body_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, body_schema)
    assert api("nurse_a", "POST", "/api/patients/A-001/crs", good).status_code == 201
    assert api("nurse_a", "POST", "/api/patients/A-001/crs", bad).status_code == 422


def test_patient_eligibility_and_grading_bodies_are_the_contract_models(
    document: dict[str, Any],
) -> None:
    patient = _body(document, "post", "/api/patients")["properties"]["data"]
    assert {"patient_id", "age_years", "sex", "diagnosis"} <= set(patient["required"])
    assert "centre_id" not in patient["properties"]  # given by the caller's centre
    eligibility = _body(document, "post", "/api/patients/{patient_id}/eligibility")
    assert "prior_lines" in eligibility["properties"]
    grading = _body(document, "post", "/api/grade/{kind}")
    assert [s["title"] for s in grading["anyOf"]] == ["crs", "icans", "cytopenia"]
