"""Centre pages: dashboard, KM images, network aggregates, exports, audit log."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from cartwatch.web.access import Actor, Perm, scoped
from cartwatch.web.audit.models import AuditEvent
from cartwatch.web.services import aggregates, exports, fhir_export, network_survival
from cartwatch.web.services.errors import NothingToReport, Unavailable
from cartwatch.web.ui import analytics
from cartwatch.web.ui.views.layout import page

# --------------------------------------------------------------------------- centre


@scoped(Perm.CENTRE_ANALYTICS)
def dashboard(request: HttpRequest, actor: Actor) -> HttpResponse:
    return page(
        request,
        actor,
        "dashboard.html",
        {"title": "Centre dashboard", "outcomes": analytics.centre_outcomes(actor)},
    )


@scoped(Perm.CENTRE_ANALYTICS)
def km_png(request: HttpRequest, actor: Actor, endpoint: str) -> HttpResponse:
    image = analytics.km_png(actor, endpoint.upper())
    if image is None:
        return HttpResponse(status=404)
    response = HttpResponse(image, content_type="image/png")
    response["Cache-Control"] = "private, no-store"  # patient-derived, per centre
    return response


@scoped(Perm.NETWORK_AGGREGATES)
def network(request: HttpRequest, actor: Actor) -> HttpResponse:
    data = aggregates.network_aggregates(actor)
    survival = network_survival.network_survival(actor)
    return page(
        request, actor, "network.html", {"title": "Network", "data": data, "survival": survival}
    )


EXPORT_FORMATS = (
    ("adam-xpt", "ADaM datasets as SAS XPT v5 (ADSL, ADRS, ADTTE, ADAE)"),
    ("adam-csv", "ADaM datasets as CSV with metadata"),
    ("centre-csv", "Centre data format (CSV folder)"),
    (
        "fhir-r4",
        "FHIR R4 Bundle (JSON): the patients' CAR-T journeys with their grades, for another "
        "hospital system or a registry",
    ),
)


@scoped(Perm.EXPORT)
def export_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    assert actor.centre is not None
    recent = AuditEvent.objects.filter(centre=actor.centre.code, action="export").order_by("-id")[
        :10
    ]
    return page(
        request,
        actor,
        "exports.html",
        {
            "title": "Export",
            "formats": EXPORT_FORMATS,
            "recent": recent,
            "pseudonymised": not actor.identifiable,
            "can_import": actor.can(Perm.WRITE_ASSESSMENTS),
        },
    )


@require_POST
@scoped(Perm.EXPORT)
def export_download(request: HttpRequest, actor: Actor, fmt: str) -> HttpResponse:
    """POST (with CSRF): an export is an audited action, never a prefetchable link."""
    if fmt not in exports.FORMATS:
        return HttpResponse(status=404)
    try:
        if fmt == fhir_export.FORMAT:
            pseudonymise = request.POST.get("pseudonymise") == "on"
            filename, content = fhir_export.export_zip(actor, pseudonymise=pseudonymise)
        else:
            filename, content = exports.export_centre(actor, fmt)
    except Unavailable as exc:
        messages.error(request, str(exc))
        return page(
            request,
            actor,
            "exports.html",
            {"title": "Export", "formats": EXPORT_FORMATS, "recent": [], "unavailable": str(exc)},
            status=501,
        )
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@scoped(Perm.EXPORT)
def report_download(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The centre's outcomes report as one HTML file; POST and audited like the exports."""
    try:
        filename, content = exports.export_report(actor)
    except (Unavailable, NothingToReport) as exc:
        status = 501 if isinstance(exc, Unavailable) else 409
        return page(
            request,
            actor,
            "exports.html",
            {
                "title": "Export",
                "formats": EXPORT_FORMATS,
                "recent": [],
                "pseudonymised": not actor.identifiable,
                "unavailable": str(exc),
            },
            status=status,
        )
    response = HttpResponse(content, content_type="text/html; charset=utf-8")
    # Downloaded, not shown: the report's inline CSS would break this origin's CSP, and an
    # attachment keeps patient-derived numbers out of the browser's page history.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@scoped(Perm.VIEW_AUDIT)
def audit_log(request: HttpRequest, actor: Actor) -> HttpResponse:
    assert actor.centre is not None
    from cartwatch.web.ui.history import event_subjects

    events = list(AuditEvent.objects.filter(centre=actor.centre.code).order_by("-id")[:200])
    subjects = event_subjects(events)
    rows = [(e, subjects[e.pk]) for e in events]
    return page(request, actor, "audit.html", {"title": "Audit log", "rows": rows})


@scoped(Perm.VERIFY_RECORDS)
def data_quality(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Soft data-quality findings and forms to complete, for the data manager."""
    from cartwatch.web.services import completeness, quality
    from cartwatch.web.ui.history import label
    from cartwatch.web.ui.views.edit import describe, kind_of, record_url

    flags = []
    for flag in quality.centre_flags(actor):
        record = flag.record
        patient_id = record.patient.patient_id  # type: ignore[attr-defined]
        flags.append(
            {
                "patient_id": patient_id,
                "record": describe(record),
                "field": label(flag.field),
                "message": flag.message,
                "url": record_url(patient_id, kind_of(record), record.pk, "edit"),
            }
        )
    return page(
        request,
        actor,
        "data_quality.html",
        {"title": "Data quality", "flags": flags, "forms": completeness.by_patient(actor)},
    )
