"""The FHIR doors of the pages: import a Bundle (``/imports/fhir/``) and download one
patient's Bundle.

Both call the services the API and the command line call (``services/fhir_import.py``,
``services/fhir_export.py``): scoping, checks and the audit are theirs. This module only
takes the upload, bounded as the API bounds it, and says what happened in words.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from cartwatch.interop.fhir_bundle import ACCEPTED_TYPES
from cartwatch.web.access import Actor, Perm, scoped
from cartwatch.web.services import fhir_export, fhir_import, records
from cartwatch.web.ui import history
from cartwatch.web.ui.views.edit import record_url
from cartwatch.web.ui.views.layout import page

#: The file field of the upload form (also the anchor the problems at the top link to).
FIELD = "bundle"
#: Room in a request for the form's other fields and the multipart headers: a body longer
#: than the limit and this is refused before any of it is read.
FORM_SLACK = 64 * 1024
CLI_HINT = "cartwatch fhir import BUNDLE.json --centre {centre} --user {user}"
#: The lab grades of an imported blood count (CTCAE v5.0 terms) as the record page names them.
LAB_TERMS = ("neutrophil_count_decreased", "platelet_count_decreased", "anemia")
#: The journey report's record kinds that are not ``services.records.KINDS``.
KIND_WORDS = {
    "patient": ("patient", "patients"),
    "eligibility": ("eligibility check", "eligibility checks"),
    "adverse-event": ("adverse event", "adverse events"),
}
#: The UCUM codes of the import's notes as a nurse writes the unit (fhir_codes' units and
#: the common EHR ones); a code not listed is shown as it came.
UNITS_SHOWN = {
    "[degF]": "°F",
    "Cel": "°C",
    "10*3/uL": "×10³/µL",
    "10*3/mm3": "×10³/mm³",
    "10*9/L": "×10⁹/L",
    "/uL": "/µL",
    "/mm3": "/mm³",
    "ug/kg/min": "µg/kg/min",
    "ug/min": "µg/min",
    "[iU]/min": "IU/min",
}
#: A LOINC property in brackets ("[#/volume]", "[Mass/volume]"): a code, not words.
_LOINC_PROPERTY = re.compile(r"^\[[^\]]*/volume\]$")
_ISO_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?"
)
#: Adverse-event terms without a record field of their own (the cytopenias have one).
AE_TERMS = {"crs": "CRS grade", "icans": "ICANS grade"}


class _BoundedUpload(FileUploadHandler):
    """Stops the upload past *limit* bytes, before more of it is kept (in memory or on disk);
    the handlers after it never see the rest, and the view says why."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=False)  # the rest of the body is read and dropped
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) builds the file


def _cli_hint(actor: Actor) -> str:
    assert actor.centre is not None  # WRITE_ASSESSMENTS is a centre role's
    return CLI_HINT.format(centre=actor.centre.code, user=actor.username)


def _too_large(actor: Actor) -> str:
    limit = fhir_import.WEB_MAX_BYTES
    hint = _cli_hint(actor)
    return (
        f"The file is larger than the {limit // (1024 * 1024)} MB the web pages accept "
        f"({limit:,} bytes). Nothing was imported. Import a larger bundle on the server with "
        f"the command: {hint}"
    )


def _plain(problem: str) -> str:
    """A refusal of the whole bundle (``path: problem`` from ``interop.fhir_bundle`` and
    ``fhir_import``) in the words of the page; the path stays where it says where to look."""
    path, _, message = problem.partition(": ")
    if path == "input" and message.startswith("not valid JSON"):
        return (
            "The file is not valid JSON, so it is not a FHIR bundle. Check that you chose the "
            "bundle file itself, exported as JSON (the file may be cut short or damaged)."
        )
    if path == "resourceType":
        got = message.partition(", got ")[2].strip("'")
        what = f"a single {got} resource" if got else "no FHIR resource at all"
        return (
            f"The file holds {what}, not a Bundle. Export a Bundle (a collection of resources) "
            "from the hospital record."
        )
    if path == "type":
        got = message.partition(", got ")[2]
        return (
            f"The bundle is of type {got}; cartwatch imports these types: "
            f"{', '.join(ACCEPTED_TYPES)}."
        )
    entry = path.removeprefix("entry[").removesuffix("]")
    if entry.isdigit():
        return f"Entry {entry} of the bundle: {message}."
    return problem


def _form(
    request: HttpRequest, actor: Actor, problems: list[str], status: int = 200, **more: Any
) -> HttpResponse:
    context = {
        "title": "Import a FHIR bundle",
        "field": FIELD,
        "limit_mb": fhir_import.WEB_MAX_BYTES // (1024 * 1024),
        "cli_hint": _cli_hint(actor),
        "problems": problems,
        **more,
    }
    return page(request, actor, "fhir_import.html", context, status=status)


def _when(value: str) -> str:
    """``2025-07-02T14:00:00`` → ``2025-07-02 14:00`` (the pages' way of writing a time)."""
    return value.replace("T", " ")[:16]


def _source_words(note: str) -> str:
    """An import note ("Body temperature 101.3 [degF] = 38.5 Cel (Observation/t-2)") as the
    page says it: units as written on a ward, times without the ISO 'T', no LOINC codes."""
    words = [UNITS_SHOWN.get(w, w) for w in note.split(" ") if not _LOINC_PROPERTY.match(w)]
    return _ISO_TIME.sub(r"\1 \2", " ".join(words))


def _record_rows(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    rows = []
    for r in report["records"]:
        if r["kind"] != kind:
            continue
        if kind == "crs":
            grade = "not gradable" if r["grade"] is None else f"grade {r['grade']}"
        else:
            grades = r["grades"]
            grade = "; ".join(
                f"{history.label(f'grade_{t}')} "
                f"{'not gradable' if grades[t] is None else grades[t]}"
                for t in LAB_TERMS
            )
        rows.append(
            {
                "patient_id": r["patient_id"],
                "when": _when(r["observed_at"]),
                "grade": grade,
                "standard": r["standard"],
                "reasons": r["reasons"],
                "sources": [_source_words(n) for n in r["from"]],
                "url": record_url(r["patient_id"], kind, r["record_id"]),
            }
        )
    return rows


def _kind_words(kind: str, n: int = 1) -> str:
    """A record kind of the journey report in words: "CRS assessment", "2 CAR-T courses"."""
    if kind in KIND_WORDS:
        singular, plural = KIND_WORDS[kind]
    else:
        meta = records.KINDS[kind].model._meta
        singular, plural = str(meta.verbose_name), str(meta.verbose_name_plural)
    return singular if n == 1 else plural


def _result_words(kind: str, field: str) -> str:
    """The differing result in words: "Grade", "CRS grade", "Neutropenia grade"."""
    if kind != "adverse-event":
        return history.label(field)
    term = field.removesuffix(" grade")
    return AE_TERMS.get(term) or history.label(f"grade_{term}")


def _shown(value: Any) -> str:
    if value is None:
        return "none (not gradable)"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _journey(report: dict[str, Any]) -> dict[str, Any] | None:
    journey = report["journey"]
    if journey is None:
        return None
    return {
        "records": [f"{n} {_kind_words(k, n)}" for k, n in journey["records"].items()],
        "patients_created": journey["patients_created"],
        "verified_now_complete": journey["verified_now_complete"],
        "adverse_events_checked": journey["adverse_events_checked"],
        "differences": [
            {
                "patient_id": d["patient_id"],
                "record": history.sentence_case(_kind_words(d["kind"])),
                "exported_as": d["record"],
                "field": _result_words(d["kind"], d["field"]),
                "exported": _shown(d["exported"]),
                "stored": _shown(d["stored"]),
                "note": d["note"],
            }
            for d in journey["grade_differences"]
        ],
    }


def _result(request: HttpRequest, actor: Actor, report: dict[str, Any], name: str) -> HttpResponse:
    return _form(
        request,
        actor,
        [],
        report=report,
        file_name=name,
        crs_rows=_record_rows(report, "crs"),
        lab_rows=_record_rows(report, "labs"),
        journey=_journey(report),
    )


@csrf_protect
def _post(request: HttpRequest, actor: Actor, bounded: _BoundedUpload) -> HttpResponse:
    upload = request.FILES.get(FIELD)
    if bounded.too_large:
        return _form(request, actor, [_too_large(actor)], status=413)
    if upload is None:
        return _form(request, actor, ["Choose the bundle file (JSON) to import."], status=422)
    name = upload.name or "the file"
    try:
        with upload.open("rb") as stream:
            report = fhir_import.import_bundle(actor, stream, max_bytes=fhir_import.WEB_MAX_BYTES)
    except fhir_import.BundleTooLarge:
        return _form(request, actor, [_too_large(actor)], status=413)
    except fhir_import.BundleRefused as exc:
        return _form(request, actor, [_plain(p) for p in exc.problems], status=422, refused=name)
    except PermissionDenied as exc:  # a journey bundle registers patients
        return _form(request, actor, [str(exc)], status=403, refused=name)
    return _result(request, actor, report, name)


@csrf_exempt  # checked by _post, after the bounded upload handler is in place (Django docs)
@scoped(Perm.WRITE_ASSESSMENTS)
def import_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    """GET: the upload form; POST (CSRF-checked): import and say what was stored."""
    if request.method != "POST":
        return _form(request, actor, [])
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > fhir_import.WEB_MAX_BYTES + FORM_SLACK:
        # Refused before the body is read: nothing is written, so nothing for CSRF to guard.
        return _form(request, actor, [_too_large(actor)], status=413)
    bounded = _BoundedUpload(request, fhir_import.WEB_MAX_BYTES)
    request.upload_handlers.insert(0, bounded)
    return _post(request, actor, bounded)


@require_POST
@scoped(Perm.EXPORT)
def patient_bundle(request: HttpRequest, actor: Actor, patient_id: str) -> HttpResponse:
    """One patient's journey as a FHIR R4 Bundle (JSON), as the API's ``$everything``: POST
    with CSRF, since an export is an audited action, never a prefetchable link."""
    result = fhir_export.export_bundle(actor, patient_id=patient_id)  # Http404 when foreign
    if result.problems:
        messages.error(
            request,
            f"No FHIR bundle: {result.note()}. Correct the record (see the work list), then "
            "download again.",
        )
        return redirect("ui:patient", patient_id=patient_id)
    response = HttpResponse(
        json.dumps(result.bundle, ensure_ascii=False), content_type=fhir_export.FHIR_JSON
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"cartwatch-{patient_id}-{fhir_export.FORMAT}.json"
    )
    response["Cache-Control"] = "no-store"
    return response
