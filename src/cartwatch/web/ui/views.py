"""HTML views: scope (access.scoped) → service → template. No clinical logic here.

Every view starts from the actor that ``@scoped(Perm.X)`` resolved: a role without the
permission gets 403 before any patient is looked up, and ``actor.patient(...)`` makes a
foreign-centre patient a 404, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Max, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.errors import problem_pairs
from cartwatch.web.access import Actor, NotAuthenticated, Perm, resolve_actor, scoped
from cartwatch.web.audit.models import AuditEvent
from cartwatch.web.centres.models import Role
from cartwatch.web.patients import models as m
from cartwatch.web.services import aggregates, alerts, exports, records
from cartwatch.web.services.errors import NothingToReport, Unavailable
from cartwatch.web.services.present import present
from cartwatch.web.ui import analytics, display
from cartwatch.web.ui import forms as f

# --------------------------------------------------------------------------- layout


def nav(actor: Actor) -> list[tuple[str, str]]:
    """The links a role may follow (hiding the others is courtesy; the views still check)."""
    links: list[tuple[str, str, Perm]] = [
        ("Work list", reverse("ui:worklist"), Perm.CENTRE_ANALYTICS),
        ("Patients", reverse("ui:patients"), Perm.READ_PATIENTS),
        ("Dashboard", reverse("ui:dashboard"), Perm.CENTRE_ANALYTICS),
        ("Network", reverse("ui:network"), Perm.NETWORK_AGGREGATES),
        ("Export", reverse("ui:exports"), Perm.EXPORT),
        ("Audit log", reverse("ui:audit"), Perm.VIEW_AUDIT),
    ]
    return [(label, url) for label, url, perm in links if actor.can(perm)]


def page(
    request: HttpRequest, actor: Actor, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {
        "actor": actor,
        "role_label": Role(actor.role).label,
        "nav": nav(actor),
        **context,
    }
    return render(request, f"ui/{template}", context, status=status)


class LoginView(auth_views.LoginView):
    template_name = "ui/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        # One transaction for the sign-in's writes (last_login and its audit event): there
        # is no per-request transaction, and the event must not outlive a failed login.
        with transaction.atomic():
            return super().form_valid(form)


def home(request: HttpRequest) -> HttpResponse:
    """Where a role starts: the work list for clinical roles, the network view for reviewers."""
    try:
        actor = resolve_actor(request.user)
    except NotAuthenticated:
        return HttpResponseRedirect(reverse("ui:login"))
    if actor.can(Perm.NETWORK_AGGREGATES):
        return HttpResponseRedirect(reverse("ui:network"))
    if actor.role == Role.RESEARCHER:
        return HttpResponseRedirect(reverse("ui:dashboard"))
    return HttpResponseRedirect(reverse("ui:worklist"))


# --------------------------------------------------------------------------- work list

# Order of the work list: what needs a doctor first (presentation order, not a rule).
RULE_ORDER = {
    "crs_grade_ge2": 0,
    "icans_grade_ge2": 0,
    "crs_grade_rose": 1,
    "icans_grade_rose": 1,
    "missed_assessment": 2,
    "obligation_ending": 3,
}
RULE_LABEL = {
    "crs_grade_ge2": "CRS grade ≥2",
    "icans_grade_ge2": "ICANS grade ≥2",
    "crs_grade_rose": "CRS grade rose",
    "icans_grade_rose": "ICANS grade rose",
    "missed_assessment": "Missed daily assessment",
    "obligation_ending": "Obligation ending",
    "schedule_unavailable": "Schedule unavailable",
}


@scoped(Perm.CENTRE_ANALYTICS)
def worklist(request: HttpRequest, actor: Actor) -> HttpResponse:
    items = sorted(
        alerts.work_list(actor), key=lambda a: (RULE_ORDER.get(a.rule, 9), a.patient_id, a.when)
    )
    rows = [
        {
            "patient_id": a.patient_id,
            "rule": a.rule,
            "label": RULE_LABEL.get(a.rule, a.rule),
            "urgent": RULE_ORDER.get(a.rule, 9) == 0,
            "message": a.message,
            "when": display.fmt(a.when),
        }
        for a in items
    ]
    return page(request, actor, "worklist.html", {"rows": rows, "title": "Work list"})


# --------------------------------------------------------------------------- patients


def _highest(model: type[m.PatientRecord], column: str) -> Subquery:
    """The patient's highest *column* among its *model* rows (NULL without rows)."""
    rows = model.objects.filter(patient=OuterRef("pk")).order_by().values("patient")
    return Subquery(rows.annotate(top=Max(column)).values("top")[:1])


@scoped(Perm.READ_PATIENTS)
def patient_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    # One correlated sub-query per column: three Max() over joins would multiply each
    # patient's CRS, ICANS and course rows together before aggregating.
    patients = actor.patients().annotate(
        max_crs=_highest(m.CrsAssessment, "grade"),
        max_icans=_highest(m.IcansAssessment, "grade"),
        infused=_highest(m.CellTherapy, "infusion_date"),
    )
    rows = [
        {
            "patient": present(actor, p)["data"],
            "patient_id": p.patient_id,
            "infused": p.infused,
            "max_crs": p.max_crs,
            "max_icans": p.max_icans,
        }
        for p in patients
    ]
    return page(
        request,
        actor,
        "patient_list.html",
        {
            "rows": rows,
            "title": "Patients",
            "can_register": actor.can(Perm.WRITE_PATIENTS),
        },
    )


#: Record kinds on the patient page, in journey order.
JOURNEY = (
    "eligibility",
    "prior-lines",
    "cell-therapy",
    "crs",
    "icans",
    "treatments",
    "labs",
    "responses",
    "mrd",
    "followup",
)
ADD_LABEL = {
    "eligibility": "Check eligibility",
    "prior-lines": "Add prior line",
    "cell-therapy": "Record CAR-T course",
    "crs": "Daily assessment",
    "icans": "Daily assessment",
    "treatments": "Record dose",
    "labs": "Record blood count",
    "responses": "Record response",
    "mrd": "Record MRD",
    "followup": "Record follow-up",
}


def _add_url(actor: Actor, kind: str, patient_id: str) -> str | None:
    if kind == "eligibility":
        ok = actor.can(Perm.EDIT_ELIGIBILITY)
        name = "ui:eligibility_new"
    elif kind in ("crs", "icans"):
        ok = actor.can(Perm.WRITE_ASSESSMENTS)
        name = "ui:assessment_new"
    else:
        ok = actor.can(records.KINDS[kind].write_perm)
        name = f"ui:{kind}_new"
    return reverse(name, args=[patient_id]) if ok else None


def _obligations(courses: Sequence[m.CellTherapy]) -> tuple[list[tuple[str, dt.date]], str]:
    """Stay-near and no-driving end dates from the label in force on the infusion day."""
    from cartwatch.clinical.schedule import post_infusion_schedule

    for course in courses:
        if course.infusion_date is None:
            continue
        try:
            schedule = post_infusion_schedule(course.product, course.infusion_date)
        except ClinicalInputError as exc:
            return [], f"no label schedule: {exc}"
        return [
            ("stay near the centre", schedule.stay_near_centre_until),
            ("no driving", schedule.no_driving_until),
        ], f"{schedule.label_version} ({schedule.standard})"
    return [], ""


@dataclass(frozen=True)
class _Presentation:
    """The patient page's per-patient part that depends only on stored data and the role.

    ``journey_html`` is the timeline and the record tables already rendered: rendering them
    is most of a page view's cost, and with the role in the cache key (the add buttons
    depend on it) nothing in them differs between requests. No form or CSRF token is in it.
    """

    obligations: list[tuple[str, dt.date]]
    label_version: str
    infusion: dt.date | None
    journey_html: str


#: Computed presentations by (patient, role, time zone, fingerprint of every journey table).
#: Bounded LRU, per process; a key never matches once any row of the patient changes, so
#: stale clinical data cannot be shown (see :func:`_records_fingerprint`).
_PRESENTATIONS: OrderedDict[tuple[Any, ...], _Presentation] = OrderedDict()
_PRESENTATIONS_MAX = 512
_PRESENTATIONS_LOCK = threading.Lock()
_FINGERPRINT_SQL: str | None = None


def _journey_model(kind: str) -> type[m.AuditedModel]:
    return m.EligibilityCheck if kind == "eligibility" else records.KINDS[kind].model


def _records_fingerprint(patient: m.Patient) -> tuple[Any, ...]:
    """Row count, highest id, sum of versions and latest ``updated_at`` of each journey table
    for *patient*, in one query. Every write goes through ``save()``/``delete()`` (bulk
    writes are refused), which bumps ``version`` and ``updated_at`` on update, a new
    AUTOINCREMENT id on insert and the count on delete, so any change gives a new value.
    Read before the rows, so a cached presentation is never older than its key.
    """
    global _FINGERPRINT_SQL
    if _FINGERPRINT_SQL is None:
        parts = []
        q = connection.ops.quote_name
        for i, kind in enumerate(JOURNEY):
            model = _journey_model(kind)
            column = {f: model._meta.get_field(f).column for f in ("id", "patient")}  # type: ignore[union-attr]
            parts.append(
                f"SELECT {i}, COUNT(*), MAX({q(column['id'])}), SUM({q('version')}), "  # type: ignore[arg-type]
                f"MAX({q('updated_at')}) FROM {q(model._meta.db_table)} "
                f"WHERE {q(column['patient'])} = %s"  # type: ignore[arg-type]
            )
        _FINGERPRINT_SQL = " UNION ALL ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL, [patient.pk] * len(JOURNEY))
        return tuple(sorted(tuple(row) for row in cursor.fetchall()))


def _presentation(actor: Actor, patient: m.Patient) -> _Presentation:
    presented: dict[str, list[dict[str, Any]]] = {}
    courses: list[m.CellTherapy] = []
    for kind in JOURNEY:
        rows = actor.patient_records(_journey_model(kind), patient, order_by=["pk"])
        if kind == "cell-therapy":
            courses = rows  # type: ignore[assignment]  # the schedule reads the same rows
        presented[kind] = [present(actor, r) for r in rows]
    for kind in ("crs", "icans", "treatments", "labs"):
        # Time order for the timeline and the tables (entry order may differ).
        key = "given_at" if kind == "treatments" else "observed_at"
        presented[kind].sort(key=lambda r, k=key: str(r["data"].get(k)))  # type: ignore[misc]
    obligations, label_version = _obligations(courses)
    infusion = next((c.infusion_date for c in courses if c.infusion_date), None)
    tl = display.timeline(
        infusion,
        presented["crs"],
        presented["icans"],
        presented["treatments"],
        presented["labs"],
        obligations,
    )
    tables = []
    for kind in JOURNEY:
        table = display.record_table(kind, presented[kind])
        if kind != "icans":  # one "Daily assessment" button for CRS + ICANS
            table.add_url = _add_url(actor, kind, patient.patient_id)
            table.add_label = ADD_LABEL[kind]
        tables.append(table)
    journey_html = render_to_string("ui/_patient_journey.html", {"timeline": tl, "tables": tables})
    return _Presentation(obligations, label_version, infusion, journey_html)


def _cached_presentation(actor: Actor, patient: m.Patient) -> _Presentation:
    if connection.in_atomic_block:  # uncommitted writes of this request: never cache them
        return _presentation(actor, patient)
    key = (
        connection.alias,
        patient.pk,
        patient.version,
        patient.updated_at,
        actor.role,
        actor.identifiable,
        timezone.get_current_timezone_name(),
        _records_fingerprint(patient),
    )
    with _PRESENTATIONS_LOCK:
        hit = _PRESENTATIONS.get(key)
        if hit is not None:
            _PRESENTATIONS.move_to_end(key)
            return hit
    computed = _presentation(actor, patient)
    with _PRESENTATIONS_LOCK:
        _PRESENTATIONS[key] = computed
        while len(_PRESENTATIONS) > _PRESENTATIONS_MAX:
            _PRESENTATIONS.popitem(last=False)
    return computed


@scoped(Perm.READ_PATIENTS)
def patient_detail(request: HttpRequest, actor: Actor, patient_id: str) -> HttpResponse:
    patient = actor.patient(patient_id)
    shown = _cached_presentation(actor, patient)
    return page(
        request,
        actor,
        "patient_detail.html",
        {
            "title": f"Patient {patient.patient_id}",
            "patient": present(actor, patient),
            "identifiable": actor.identifiable,
            "label_version": shown.label_version,
            "obligations": shown.obligations,
            "infusion": shown.infusion,
            "journey_html": shown.journey_html,
        },
    )


# --------------------------------------------------------------------------- forms


def _problems(exc: Exception, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(exc, f.ParseError):
        return exc.problems
    if isinstance(exc, pydantic.ValidationError | ClinicalInputError):
        return [(prefix + p if p else p, msg) for p, msg in problem_pairs(exc)]
    raise exc


def _form_page(
    request: HttpRequest,
    actor: Actor,
    *,
    title: str,
    sections: Sequence[f.Section],
    patient: m.Patient | None,
    initial: dict[str, Any] | None = None,
    problems: Sequence[tuple[str, str]] = (),
    live: str = "",
) -> HttpResponse:
    post = request.POST if request.method == "POST" else None
    bound, top = f.bind(sections, post, initial, problems)
    return page(
        request,
        actor,
        "form.html",
        {
            "title": title,
            "sections": bound,
            "errors": top,
            "patient_id": patient.patient_id if patient else None,
            "live": live,
        },
        status=422 if problems else 200,
    )


def _saved_message(instance: Any) -> str:
    kind = type(instance)._meta.verbose_name
    grade = getattr(instance, "grade", None)
    if grade is None:
        return f"Saved {kind}."
    reasons = "; ".join(getattr(instance, "reasons", []) or [])
    return f"Saved {kind}: grade {grade} ({instance.standard}) — {reasons}"


def _to_patient(patient_id: str) -> HttpResponse:
    return HttpResponseRedirect(reverse("ui:patient", args=[patient_id]))


@require_http_methods(["GET", "POST"])
@scoped(Perm.WRITE_PATIENTS)
def patient_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        try:
            payload = f.parse(f.PATIENT, request.POST)[""]
            patient = records.create_patient(actor, payload)
        except (f.ParseError, pydantic.ValidationError, ClinicalInputError) as exc:
            return _form_page(
                request, actor, title="Register a referral", sections=f.PATIENT, patient=None,
                problems=_problems(exc),
            )  # fmt: skip
        messages.success(request, f"Registered {patient.patient_id}.")
        return _to_patient(patient.patient_id)
    return _form_page(
        request, actor, title="Register a referral", sections=f.PATIENT, patient=None,
        initial={"sex": "U"},
    )  # fmt: skip


def _record_view(kind_name: str, sections: Sequence[f.Section], title: str) -> Callable[..., Any]:
    """A create page for one record kind, guarded by that kind's write permission."""
    kind = records.KINDS[kind_name]

    @require_http_methods(["GET", "POST"])
    @scoped(kind.write_perm)
    def view(request: HttpRequest, actor: Actor, patient_id: str) -> HttpResponse:
        patient = actor.patient(patient_id)
        heading = f"{title} — {patient.patient_id}"
        if request.method == "POST":
            try:
                payload = f.parse(sections, request.POST)[""]
                instance = records.create_record(actor, kind, patient, payload)
            except (f.ParseError, pydantic.ValidationError, ClinicalInputError) as exc:
                return _form_page(
                    request, actor, title=heading, sections=sections, patient=patient,
                    problems=_problems(exc),
                )  # fmt: skip
            messages.success(request, _saved_message(instance))
            return _to_patient(patient.patient_id)
        initial = f.default_datetime_fields(sections)
        if kind_name == "cell-therapy":
            initial["product"] = "liso-cel"
        return _form_page(
            request, actor, title=heading, sections=sections, patient=patient, initial=initial
        )

    view.__name__ = f"{kind_name.replace('-', '_')}_new"
    return view


prior_line_new = _record_view("prior-lines", f.PRIOR_LINE, "Prior line of therapy")
cell_therapy_new = _record_view("cell-therapy", f.CELL_THERAPY, "CAR-T course")
treatment_new = _record_view("treatments", f.TREATMENT, "Dose given")
lab_new = _record_view("labs", f.LAB, "Blood count")
response_new = _record_view("responses", f.RESPONSE, "iwCLL response")
mrd_new = _record_view("mrd", f.MRD, "MRD")
followup_new = _record_view("followup", f.FOLLOWUP, "Follow-up")


def _save_assessment(
    actor: Actor, patient: m.Patient, payloads: dict[str, dict[str, Any]]
) -> tuple[list[tuple[str, str]], list[m.PatientRecord]]:
    """Save the CRS and (if assessed) the ICANS half: both or neither, every problem named."""
    when = payloads[""].get("observed_at")
    icans = {**payloads["icans."], "observed_at": when}
    parts = [("crs.", "crs", {**payloads["crs."], "observed_at": when})]
    if icans.pop("assessed", False):
        parts.append(("icans.", "icans", icans))
    problems: list[tuple[str, str]] = []
    prepared: list[m.PatientRecord] = []
    for prefix, kind, payload in parts:
        try:
            prepared.append(records.new_record(actor, records.KINDS[kind], patient, payload))
        except (pydantic.ValidationError, ClinicalInputError) as exc:
            # observed_at is shared: its problem belongs on the one time input.
            problems += [
                (p if p == "observed_at" else prefix + p, msg) for p, msg in problem_pairs(exc)
            ]
    if problems:
        return problems, []
    # Graded before the write transaction: the SQLite write lock is held for the inserts only.
    records.save_new(actor, *prepared)
    return [], prepared


@require_http_methods(["GET", "POST"])
@scoped(Perm.WRITE_ASSESSMENTS)
def assessment_new(request: HttpRequest, actor: Actor, patient_id: str) -> HttpResponse:
    """The daily CRS + ICANS assessment; the server grades on save, the page grades live."""
    patient = actor.patient(patient_id)
    title = f"Daily assessment — {patient.patient_id}"
    if request.method == "POST":
        problems: list[tuple[str, str]] = []
        saved: list[m.PatientRecord] = []
        try:
            payloads = f.parse(f.ASSESSMENT, request.POST)
        except f.ParseError as exc:
            problems = exc.problems
        else:
            problems, saved = _save_assessment(actor, patient, payloads)
        if problems:
            return _form_page(
                request, actor, title=title, sections=f.ASSESSMENT, patient=patient,
                problems=problems, live="assessment",
            )  # fmt: skip
        for instance in saved:
            messages.success(request, _saved_message(instance))
        return _to_patient(patient.patient_id)
    initial = f.default_datetime_fields(f.ASSESSMENT)
    initial["icans.assessed"] = True
    initial["icans.age_years"] = patient.age_years
    return _form_page(
        request, actor, title=title, sections=f.ASSESSMENT, patient=patient, initial=initial,
        live="assessment",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@scoped(Perm.EDIT_ELIGIBILITY)
def eligibility_new(request: HttpRequest, actor: Actor, patient_id: str) -> HttpResponse:
    patient = actor.patient(patient_id)
    title = f"Label eligibility — {patient.patient_id}"
    if request.method == "POST":
        try:
            payload = f.parse(f.ELIGIBILITY, request.POST)[""]
            payload.setdefault("relapsed_or_refractory", False)
            payload.setdefault("prior_lines", [])
            check = records.create_eligibility(actor, patient, payload)
        except (f.ParseError, pydantic.ValidationError, ClinicalInputError) as exc:
            return _form_page(
                request, actor, title=title, sections=f.ELIGIBILITY, patient=patient,
                problems=_problems(exc),
            )  # fmt: skip
        verdict = "eligible" if check.eligible else "not eligible"
        messages.success(
            request, f"{verdict} under {check.label_version}: " + "; ".join(check.reasons)
        )
        return _to_patient(patient.patient_id)
    lines = actor.records(m.PriorLine).filter(patient=patient).order_by("line_number")
    initial = {
        "product": "liso-cel",
        "diagnosis": patient.diagnosis,
        "age_years": patient.age_years,
        "prior_lines": "\n".join("; ".join(line.agents) for line in lines),
        "as_of": f.today_input(),
    }
    return _form_page(
        request, actor, title=title, sections=f.ELIGIBILITY, patient=patient, initial=initial
    )


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
    return page(request, actor, "network.html", {"title": "Network", "data": data})


EXPORT_FORMATS = (
    ("adam-xpt", "ADaM datasets as SAS XPT v5 (ADSL, ADRS, ADTTE, ADAE)"),
    ("adam-csv", "ADaM datasets as CSV with metadata"),
    ("centre-csv", "Centre data format (CSV folder)"),
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
        },
    )


@require_POST
@scoped(Perm.EXPORT)
def export_download(request: HttpRequest, actor: Actor, fmt: str) -> HttpResponse:
    """POST (with CSRF): an export is an audited action, never a prefetchable link."""
    if fmt not in exports.FORMATS:
        return HttpResponse(status=404)
    try:
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
    events = AuditEvent.objects.filter(centre=actor.centre.code).order_by("-id")[:200]
    return page(request, actor, "audit.html", {"title": "Audit log", "events": events})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    raise PermissionDenied
