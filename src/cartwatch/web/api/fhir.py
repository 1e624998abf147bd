"""FHIR R4 in the API: import a Bundle, export one patient's journey.

* ``POST /api/fhir/Bundle``: a FHIR R4 Bundle (an EHR export, or a cartwatch journey export)
  into the caller's centre. Parse, scope, call ``services.fhir_import``, return: the body
  is streamed from the request (never held whole) under ``FHIR_MAX_BYTES``; a larger body is
  413 before anything is read.
* ``GET /api/fhir/Patient/{patient_id}/$everything``: the patient's journey as a Bundle
  (FHIR's Patient ``$everything`` operation, the GET form; ``services.fhir_export``), with
  the export permission, centre-scoped (another centre's patient is 404 like a missing
  one), in the research view for a role without the 'identifiable' permission; audited.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.web.access import Perm, scope
from cartwatch.web.api.schemas import Message
from cartwatch.web.services import fhir_export, fhir_import

#: Bundles posted to the API: 20 MB (larger exports go through ``cartwatch fhir import``).
FHIR_MAX_BYTES = fhir_import.WEB_MAX_BYTES
ERRORS: dict[int, Any] = {401: Message, 403: Message, 413: Message, 422: Message}
FHIR_JSON = fhir_export.FHIR_JSON

fhir_router = Router(tags=["FHIR"])


@fhir_router.post("/fhir/Bundle", response={200: dict[str, Any], **ERRORS})
def import_bundle(request: HttpRequest) -> dict[str, Any]:
    actor = scope(request, Perm.WRITE_ASSESSMENTS)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > FHIR_MAX_BYTES:
        raise HttpError(413, f"the bundle is larger than the limit of {FHIR_MAX_BYTES:,} bytes")
    try:
        return fhir_import.import_bundle(actor, request, max_bytes=FHIR_MAX_BYTES)  # type: ignore[arg-type]
    except fhir_import.BundleTooLarge as exc:
        raise HttpError(413, exc.problems[0].split(": ", 1)[-1]) from None
    except fhir_import.BundleRefused as exc:
        pairs = [tuple(p.split(": ", 1)) if ": " in p else ("input", p) for p in exc.problems]
        raise ClinicalInputError([(a, b) for a, b in pairs]) from None


@fhir_router.get(
    "/fhir/Patient/{patient_id}/$everything",
    response={200: dict[str, Any], 401: Message, 403: Message, 404: Message},
)
def patient_everything(request: HttpRequest, patient_id: str) -> HttpResponse:
    actor = scope(request, Perm.EXPORT)
    result = fhir_export.export_bundle(actor, patient_id=patient_id)
    return HttpResponse(json.dumps(result.bundle), content_type=FHIR_JSON)
