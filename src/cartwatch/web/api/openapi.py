"""The OpenAPI document names each request body's real schema.

The record endpoints take ``{"data": {...}}`` for any of several record kinds and the
grading and eligibility endpoints take a contract document; the handlers validate them with
the same pydantic models as the CLI (``cartwatch.schemas``, ``cartwatch.centre.records``),
inside the services, so the error paths stay the contract's. Declared as free-form objects,
those bodies would show up in ``/api/docs`` as ``{}``. This module puts the models' JSON
schemas into the document instead — only the document: validation is unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from pydantic import BaseModel

JsonSchema = dict[str, Any]


def inline_schema(model: type[BaseModel], drop: Iterable[str] = ()) -> JsonSchema:
    """*model*'s JSON schema with its ``$defs`` inlined (they would not resolve inside the
    OpenAPI document) and the fields in *drop* (given by the URL) removed."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                rest = {k: resolve(v) for k, v in node.items() if k != "$ref"}
                return {**resolve(defs[ref.rsplit("/", 1)[1]]), **rest}
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    out: JsonSchema = resolve(schema)
    for name in drop:
        out.get("properties", {}).pop(name, None)
        if name in out.get("required", []):
            out["required"] = [r for r in out["required"] if r != name]
    return out


def any_of(named: dict[str, JsonSchema]) -> JsonSchema:
    """One of several schemas, each titled with the URL value that selects it. ``anyOf``,
    not ``oneOf``: a small row can fit more than one kind; the URL decides which applies."""
    return {"anyOf": [{**schema, "title": name} for name, schema in named.items()]}


def _kinds() -> dict[str, Any]:
    from cartwatch.web.services.records import KINDS

    return KINDS


def _record_kinds() -> dict[str, JsonSchema]:
    return {
        name: inline_schema(kind.row_model, drop={"patient_id"}) for name, kind in _kinds().items()
    }


def _patient_row() -> JsonSchema:
    from cartwatch.web.patients.models import Patient
    from cartwatch.web.services.rows import ROW_MODELS

    return inline_schema(ROW_MODELS[Patient][1], drop={"centre_id"})


def _eligibility() -> JsonSchema:
    from cartwatch.schemas.eligibility import EligibilityIn

    return inline_schema(EligibilityIn)


def _live_kinds() -> dict[str, type[BaseModel]]:
    """The live-grading endpoint's kinds (``services.grading.LIVE_KINDS``) and their models."""
    from cartwatch.schemas.crs import CrsObservationIn
    from cartwatch.schemas.cytopenia import CytopeniaObservationIn
    from cartwatch.schemas.icans import IcansObservationIn
    from cartwatch.web.services.grading import LIVE_KINDS

    models: dict[str, type[BaseModel]] = {"crs": CrsObservationIn, "icans": IcansObservationIn}
    models["cytopenia"] = CytopeniaObservationIn
    assert tuple(models) == LIVE_KINDS
    return models


def _live_grading() -> JsonSchema:
    return any_of({name: inline_schema(model) for name, model in _live_kinds().items()})


#: (method, path without the API prefix) → (the body's ``data`` schema or the whole body,
#: whether it is wrapped in the RecordIn / RecordUpdateIn envelope).
BODIES: dict[tuple[str, str], tuple[Callable[[], JsonSchema], bool]] = {
    ("post", "/patients"): (_patient_row, True),
    ("put", "/patients/{patient_id}"): (_patient_row, True),
    ("post", "/patients/{patient_id}/{kind}"): (lambda: any_of(_record_kinds()), True),
    ("put", "/patients/{patient_id}/{kind}/{record_id}"): (
        lambda: any_of(_record_kinds()),
        True,
    ),
    ("post", "/patients/{patient_id}/eligibility"): (_eligibility, False),
    ("post", "/grade/{kind}"): (_live_grading, False),
}

#: Path parameters with a fixed set of values: (path, parameter) → values.
ENUMS: dict[tuple[str, str], Callable[[], list[str]]] = {
    ("/patients/{patient_id}/{kind}", "kind"): lambda: list(_kinds()),
    ("/patients/{patient_id}/{kind}/{record_id}", "kind"): lambda: list(_kinds()),
    ("/grade/{kind}", "kind"): lambda: list(_live_kinds()),
}


def document_bodies(schema: OpenAPISchema, prefix: str) -> OpenAPISchema:
    components = schema.get("components", {}).get("schemas", {})
    for (method, path), (make, enveloped) in BODIES.items():
        operation = schema["paths"][prefix + path.lstrip("/")][method]
        content = operation["requestBody"]["content"]["application/json"]
        body = make()
        if enveloped:
            envelope_name = content["schema"]["$ref"].rsplit("/", 1)[1]
            envelope = copy.deepcopy(components[envelope_name])
            envelope["properties"]["data"] = {
                **body,
                "description": envelope["properties"]["data"].get("description", ""),
            }
            body = envelope
        content["schema"] = body
    for (path, name), values in ENUMS.items():
        for operation in schema["paths"][prefix + path.lstrip("/")].values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == name:
                    parameter["schema"]["enum"] = values()
    return schema


class DocumentedBodiesAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        prefix = path_prefix if path_prefix is not None else self.get_root_path(path_params or {})
        return document_bodies(schema, prefix)
