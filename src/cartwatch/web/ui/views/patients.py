"""The work list, the patient list and the patient page (journey, timeline, record tables)."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.dates import plausible_date_problem
from cartwatch.web.access import Actor, Perm, scoped
from cartwatch.web.patients import models as m
from cartwatch.web.services import alerts, completeness, daily_window, records
from cartwatch.web.services.present import present
from cartwatch.web.ui import display
from cartwatch.web.ui.views.layout import page

# --------------------------------------------------------------------------- work list

# Order of the work list: what needs a doctor first (presentation order, not a rule).
RULE_ORDER = {
    "crs_grade_ge2": 0,
    "icans_grade_ge2": 0,
    "crs_not_gradable": 0,  # with a fever it would be grade ≥2: as urgent as that
    "crs_grade_rose": 1,
    "icans_grade_rose": 1,
    "missed_assessment": 2,
    "record_problem": 2,  # a stored record fails the checks: it is left out of the rules
    "obligation_ending": 3,
}
RULE_LABEL = {
    "crs_grade_ge2": "CRS grade ≥2",
    "icans_grade_ge2": "ICANS grade ≥2",
    "crs_not_gradable": "CRS not gradable: temperature missing",
    "crs_grade_rose": "CRS grade rose",
    "icans_grade_rose": "ICANS grade rose",
    "missed_assessment": "Missed daily assessment",
    "obligation_ending": "Obligation ending",
    "schedule_unavailable": "Schedule unavailable",
    "record_problem": "Record to correct",
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
    return page(
        request,
        actor,
        "worklist.html",
        {"rows": rows, "title": "Work list", "forms": completeness.by_patient(actor)},
    )


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
        ], display.named_once(schedule.label_version, schedule.standard)
    return [], ""


def _anchors_dates(day: dt.date | None) -> bool:
    return day is None or plausible_date_problem(day, allow_future=True) is None


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
    missing: list[str]


#: Computed presentations by (patient, role, time zone, fingerprint of every journey table).
#: Bounded LRU, per process; a key never matches once any row of the patient changes, so
#: stale clinical data cannot be shown (see :func:`_records_fingerprint`).
_PRESENTATIONS: OrderedDict[tuple[Any, ...], _Presentation] = OrderedDict()
_PRESENTATIONS_MAX = 512
_PRESENTATIONS_LOCK = threading.Lock()
_FINGERPRINT_SQL: str | None = None
#: A shared-cache entry expires after this; a stale key is never read again anyway.
SHARED_CACHE_SECONDS = 3600


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
    # A stored infusion date outside the plausible years (written before the rule, or by
    # hand: issue 12 finding 2) is shown in its table but anchors no schedule or timeline,
    # where date arithmetic on 9999-12-31 overflows; the work list names it.
    courses = [c for c in courses if _anchors_dates(c.infusion_date)]
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
    pid = patient.patient_id
    prefix = reverse("ui:patient", args=[pid]) + "records/"
    for kind in JOURNEY:
        # One reverse() per page, not per row: the record URL is the prefix + kind + id.
        opener = (lambda pk, k=kind: f"{prefix}{k}/{pk}/") if actor.identifiable else None
        table = display.record_table(kind, presented[kind], opener)
        if kind != "icans":  # one "Daily assessment" button for CRS + ICANS
            table.add_url = _add_url(actor, kind, patient.patient_id)
            table.add_label = ADD_LABEL[kind]
        tables.append(table)
    journey_html = render_to_string("ui/_patient_journey.html", {"timeline": tl, "tables": tables})
    missing = _missing(patient.patient_id, infusion, presented) if infusion else []
    return _Presentation(obligations, label_version, infusion, journey_html, missing)


def _missing(
    patient_id: str, infusion: dt.date, presented: dict[str, list[dict[str, Any]]]
) -> list[str]:
    """What is missing per day, from the rows already read for the page (no query)."""

    def halves(kind: str) -> list[completeness.Observed]:
        return [
            (dt.date.fromisoformat(str(r["data"]["observed_at"])[:10]), str(r["form_status"]))
            for r in presented[kind]
        ]

    gaps = completeness.missing_days(
        patient_id, infusion, halves("crs"), halves("icans"), timezone.localdate(),
        daily_window.window_days(),
    )  # fmt: skip
    return [gap.text for gap in gaps]


def _shared_presentation(key: tuple[Any, ...], actor: Actor, patient: m.Patient) -> _Presentation:
    """The presentation through the cache every server process shares (Redis, settings
    ``CARTWATCH_CACHE_URL``); the key holds the database state, as in the per-process LRU."""
    digest = "cartwatch:patient-page:" + hashlib.sha256(repr(key).encode()).hexdigest()
    hit = cache.get(digest)
    if isinstance(hit, _Presentation):
        return hit
    computed = _presentation(actor, patient)
    cache.set(digest, computed, timeout=SHARED_CACHE_SECONDS)
    return computed


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
        timezone.localdate(),  # what is "missing" depends on the day
        _records_fingerprint(patient),
    )
    if settings.CARTWATCH_SHARED_CACHE:
        return _shared_presentation(key, actor, patient)
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
            "missing": shown.missing,
            "can_edit_patient": actor.can(Perm.WRITE_PATIENTS),
            "can_open_history": actor.identifiable,
            "can_export": actor.can(Perm.EXPORT),
        },
    )
