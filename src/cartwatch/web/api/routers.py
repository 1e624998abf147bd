"""Routes: parse, call the scoping function and a service, return. No logic here."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Body, Query, Router, Status

from cartwatch.web.access import Perm, scope
from cartwatch.web.api.schemas import (
    AlertOut,
    DeleteIn,
    MeOut,
    Message,
    PatientDetailOut,
    RecordIn,
    RecordOut,
    RecordUpdateIn,
)
from cartwatch.web.audit.models import AuditEvent
from cartwatch.web.patients import models as m
from cartwatch.web.services import aggregates, alerts, exports, grading, records
from cartwatch.web.services.present import present

ERRORS: dict[int, Any] = {401: Message, 403: Message, 404: Message, 409: Message, 422: Message}

me_router = Router(tags=["me"])
patients_router = Router(tags=["patients"])
grade_router = Router(tags=["live grading"])
centre_router = Router(tags=["centre"])
network_router = Router(tags=["network"])


def _kind(name: str) -> records.Kind:
    if name not in records.KINDS:
        raise Http404("unknown record kind")
    return records.KINDS[name]


def _data_body(request: HttpRequest) -> None:
    request.body_loc = ("body", "data")  # type: ignore[attr-defined]  # where 422 paths sit


@me_router.get("/me", response={200: MeOut, **ERRORS})
def me(request: HttpRequest) -> dict[str, Any]:
    actor = scope(request)
    return {
        "username": actor.username,
        "role": str(actor.role),
        "centre": actor.centre.code if actor.centre else None,
        "permissions": sorted(str(p) for p in actor.permissions),
    }


# --- patients ----------------------------------------------------------------------------


@patients_router.get("/patients", response={200: list[RecordOut], **ERRORS})
def list_patients(request: HttpRequest) -> list[dict[str, Any]]:
    actor = scope(request, Perm.READ_PATIENTS)
    return [present(actor, p) for p in actor.patients()]


@patients_router.post("/patients", response={201: RecordOut, **ERRORS})
def create_patient(request: HttpRequest, payload: RecordIn) -> Status[dict[str, Any]]:
    actor = scope(request, Perm.WRITE_PATIENTS)
    _data_body(request)
    return Status(201, present(actor, records.create_patient(actor, payload.data)))


@patients_router.get("/patients/{patient_id}", response={200: PatientDetailOut, **ERRORS})
def patient_detail(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    actor = scope(request, Perm.READ_PATIENTS)
    patient = actor.patient(patient_id)
    return {
        "patient": present(actor, patient),
        "records": {
            name: [present(actor, r) for r in actor.patient_records(kind.model, patient)]
            for name, kind in records.KINDS.items()
        },
        "eligibility": [
            present(actor, r) for r in actor.patient_records(m.EligibilityCheck, patient)
        ],
    }


@patients_router.put("/patients/{patient_id}", response={200: RecordOut, **ERRORS})
def update_patient(
    request: HttpRequest, patient_id: str, payload: RecordUpdateIn
) -> dict[str, Any]:
    actor = scope(request, Perm.WRITE_PATIENTS)
    _data_body(request)
    patient = actor.patient(patient_id)
    updated = records.update_patient(
        actor, patient, payload.data, version=payload.version, reason=payload.reason
    )
    return present(actor, updated)


@patients_router.delete("/patients/{patient_id}", response={204: None, **ERRORS})
def delete_patient(request: HttpRequest, patient_id: str, payload: DeleteIn) -> Status[None]:
    actor = scope(request, Perm.DELETE_RECORDS)
    records.delete_record(
        actor, actor.patient(patient_id), version=payload.version, reason=payload.reason
    )
    return Status(204, None)


# --- eligibility (before the generic {kind} routes so the path wins) -----------------------


@patients_router.get(
    "/patients/{patient_id}/eligibility", response={200: list[RecordOut], **ERRORS}
)
def list_eligibility(request: HttpRequest, patient_id: str) -> list[dict[str, Any]]:
    actor = scope(request, Perm.READ_PATIENTS)
    patient = actor.patient(patient_id)
    return [present(actor, r) for r in actor.patient_records(m.EligibilityCheck, patient)]


@patients_router.post("/patients/{patient_id}/eligibility", response={201: RecordOut, **ERRORS})
def check_eligibility(
    request: HttpRequest,
    patient_id: str,
    payload: Body[dict[str, Any]],
) -> Status[dict[str, Any]]:
    actor = scope(request, Perm.EDIT_ELIGIBILITY)
    patient = actor.patient(patient_id)
    return Status(201, present(actor, records.create_eligibility(actor, patient, payload)))


# --- per-patient records -------------------------------------------------------------------


@patients_router.get("/patients/{patient_id}/{kind}", response={200: list[RecordOut], **ERRORS})
def list_records(request: HttpRequest, patient_id: str, kind: str) -> list[dict[str, Any]]:
    actor = scope(request, Perm.READ_PATIENTS)
    model = _kind(kind).model
    patient = actor.patient(patient_id)
    return [present(actor, r) for r in actor.patient_records(model, patient)]


@patients_router.post("/patients/{patient_id}/{kind}", response={201: RecordOut, **ERRORS})
def create_record(
    request: HttpRequest, patient_id: str, kind: str, payload: RecordIn
) -> Status[dict[str, Any]]:
    spec = _kind(kind)
    actor = scope(request, spec.write_perm)
    _data_body(request)
    patient = actor.patient(patient_id)
    created = records.create_record(actor, spec, patient, payload.data, completed=payload.completed)
    return Status(201, present(actor, created))


@patients_router.get(
    "/patients/{patient_id}/{kind}/{record_id}", response={200: RecordOut, **ERRORS}
)
def record_detail(
    request: HttpRequest, patient_id: str, kind: str, record_id: int
) -> dict[str, Any]:
    actor = scope(request, Perm.READ_PATIENTS)
    return present(actor, actor.record(_kind(kind).model, record_id, patient_id))


@patients_router.put(
    "/patients/{patient_id}/{kind}/{record_id}", response={200: RecordOut, **ERRORS}
)
def update_record(
    request: HttpRequest, patient_id: str, kind: str, record_id: int, payload: RecordUpdateIn
) -> dict[str, Any]:
    spec = _kind(kind)
    actor = scope(request, spec.write_perm)
    _data_body(request)
    instance = actor.record(spec.model, record_id, patient_id)
    updated = records.update_record(
        actor,
        spec,
        instance,
        payload.data,
        version=payload.version,
        reason=payload.reason,
        completed=payload.completed,
    )
    return present(actor, updated)


@patients_router.delete("/patients/{patient_id}/{kind}/{record_id}", response={204: None, **ERRORS})
def delete_record(
    request: HttpRequest, patient_id: str, kind: str, record_id: int, payload: DeleteIn
) -> Status[None]:
    spec = _kind(kind)
    actor = scope(request, Perm.DELETE_RECORDS)
    instance = actor.record(spec.model, record_id, patient_id)
    records.delete_record(actor, instance, version=payload.version, reason=payload.reason)
    return Status(204, None)


# --- live grading ----------------------------------------------------------------------------


@grade_router.post("/grade/{kind}", response={200: dict[str, Any], **ERRORS})
def grade_live(
    request: HttpRequest,
    kind: str,
    payload: Body[dict[str, Any]],
    patient_id: str | None = None,
    record_id: int | None = None,
) -> dict[str, Any]:
    """Grade one observation as the form is filled (crs, icans, cytopenia). Nothing is stored.

    CRS with ``patient_id`` (and ``record_id`` when correcting a stored assessment): the grade
    the save will store, graded with the patient's earlier CRS assessments (contract v2
    item 2), with ``earlier_assessments`` and ``note`` ("premedication: fever still
    required" when that applies)."""
    actor = scope(request)
    if kind not in grading.LIVE_KINDS:
        raise Http404("unknown grading")
    patient = actor.patient(patient_id) if patient_id is not None else None
    return grading.grade_live(kind, payload, patient, record_id)


# --- centre --------------------------------------------------------------------------------


@centre_router.get("/alerts", response={200: list[AlertOut], **ERRORS})
def work_list(request: HttpRequest) -> list[dict[str, Any]]:
    actor = scope(request, Perm.CENTRE_ANALYTICS)
    return [a.to_dict() for a in alerts.work_list(actor)]


@centre_router.get("/exports/{fmt}", response={200: None, **ERRORS, 501: Message})
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    actor = scope(request, Perm.EXPORT)
    if fmt not in exports.FORMATS:
        raise Http404("unknown export format")
    filename, content = exports.export_centre(actor, fmt)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@centre_router.get("/report", response={200: None, **ERRORS, 501: Message})
def report(request: HttpRequest) -> HttpResponse:
    """The centre's outcomes report (HTML, self-contained); audited like an export."""
    actor = scope(request, Perm.EXPORT)
    filename, content = exports.export_report(actor)
    # An attachment, never rendered on this origin: the report carries inline CSS, which the
    # app's CSP would block, and a download is what an archived report should be anyway.
    response = HttpResponse(content, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@centre_router.get("/audit", response={200: list[dict[str, Any]], **ERRORS})
def audit_events(
    request: HttpRequest,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="newest events to return (1–1000)")
    ] = 100,
) -> list[dict[str, Any]]:
    actor = scope(request, Perm.VIEW_AUDIT)
    assert actor.centre is not None
    events = AuditEvent.objects.filter(centre=actor.centre.code).order_by("-id")[:limit]
    return [
        {
            "id": e.pk,
            "timestamp": e.timestamp.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "model": e.model,
            "object_id": e.object_id,
            "before": e.before,
            "after": e.after,
            "reason": e.reason,
        }
        for e in events
    ]


@network_router.get("/network", response={200: dict[str, Any], **ERRORS})
def network(request: HttpRequest) -> dict[str, Any]:
    actor = scope(request, Perm.NETWORK_AGGREGATES)
    return aggregates.network_aggregates(actor)
