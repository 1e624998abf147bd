"""Data-entry pages: register a referral, add a record of any kind, the daily assessment,
the eligibility check. Scope (access.scoped) → service (services.records) → template."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pydantic
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.errors import problem_pairs
from cartwatch.web.access import Actor, Perm, scoped
from cartwatch.web.patients import models as m
from cartwatch.web.services import eligibility, quality, records
from cartwatch.web.services.errors import ReasonRequired
from cartwatch.web.services.rows import ROW_MODELS
from cartwatch.web.ui import display
from cartwatch.web.ui import forms as f
from cartwatch.web.ui.views.layout import page

# --------------------------------------------------------------------------- forms


def _problems(
    exc: Exception,
    prefix: str = "",
    *,
    model: type[m.AuditedModel] | None = None,
    payload: dict[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """``(path, problem)`` pairs of a refused form, in words: number problems name the allowed
    range (from the row model of *model*), and a refused value with a likely cause gets a
    hint (``quality.hints``: 102 °C "looks like °F")."""
    if isinstance(exc, f.ParseError):
        return exc.problems
    if isinstance(exc, ReasonRequired):
        return [("change.reason", str(exc))]
    if not isinstance(exc, pydantic.ValidationError | ClinicalInputError):
        raise exc
    row_model = ROW_MODELS[model][1] if model in ROW_MODELS else None
    if isinstance(exc, pydantic.ValidationError):
        pairs = problem_pairs(exc, model=row_model)
    else:
        pairs = problem_pairs(exc)
    hinted = dict(quality.hints(model, payload or {})) if model is not None else {}
    pairs = [(p, f"{msg} — {hinted[p]}" if p in hinted else msg) for p, msg in pairs]
    return [(prefix + p if p else p, msg) for p, msg in pairs]


#: The exceptions a form turns into problems on the page (anything else is a bug: 500).
FORM_ERRORS = (f.ParseError, pydantic.ValidationError, ClinicalInputError, ReasonRequired)


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
    live_crs_record: int | None = None,
    post: Any = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """*live*: the live grading of the daily assessment; its CRS grade is the one the save
    will store, in the patient's course (*live_crs_record*: the CRS assessment corrected)."""
    if post is None and request.method == "POST":
        post = request.POST
    course = {"patient_id": patient.patient_id} if live and patient else {}
    if course and live_crs_record is not None:
        course["record_id"] = str(live_crs_record)
    bound, top = f.bind(sections, post, initial, problems)
    status = 409 if extra and extra.get("conflict") else 422 if problems else 200
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
            "live_crs_query": urlencode(course),
            **(extra or {}),
        },
        status=status,
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
        except FORM_ERRORS as exc:
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
            payload: dict[str, Any] = {}
            try:
                payload = f.parse(sections, request.POST)[""]
                instance = records.create_record(actor, kind, patient, payload)
            except FORM_ERRORS as exc:
                return _form_page(
                    request, actor, title=heading, sections=sections, patient=patient,
                    problems=_problems(exc, model=kind.model, payload=payload),
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
            model = records.KINDS[kind].model
            problems += [
                (p if p == "observed_at" else prefix + p, msg)
                for p, msg in _problems(exc, model=model, payload=payload)
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
            payload.setdefault("prior_lines", [])
            check = records.create_eligibility(
                actor, patient, eligibility.document(actor, patient, payload)
            )
        except FORM_ERRORS as exc:
            return _form_page(
                request, actor, title=title, sections=f.ELIGIBILITY, patient=patient,
                problems=_problems(exc),
            )  # fmt: skip
        verdict = "eligible" if check.eligible else "not eligible"
        reasons = display.without_version(check.label_version, check.reasons)
        messages.success(request, f"{verdict} under {check.label_version}: " + "; ".join(reasons))
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
