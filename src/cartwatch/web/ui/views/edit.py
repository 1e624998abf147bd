"""Correct, verify and delete saved records from the pages; each record's history.

One page per saved record (``records/<kind>/<id>/``): its form status, who verified it, the
buttons the role may use, and its history (who, when, what changed from → to, the reason).
Edits go through the same services as the API (``services.records``): the version read is
quoted (a newer save is shown side by side, never overwritten silently), a complete record
needs a reason, and the server grades again on save.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.web.access import Actor, Perm, scoped
from cartwatch.web.patients import models as m
from cartwatch.web.services import eligibility, quality, records
from cartwatch.web.services.errors import Conflict, ReasonRequired
from cartwatch.web.services.present import present
from cartwatch.web.ui import edit_forms as ef
from cartwatch.web.ui import forms as f
from cartwatch.web.ui import history
from cartwatch.web.ui.display import fmt, without_version
from cartwatch.web.ui.views.entry import FORM_ERRORS, _form_page, _problems, _saved_message
from cartwatch.web.ui.views.layout import page

PATIENT = "patient"
ELIGIBILITY = "eligibility"


def _model(kind: str) -> tuple[type[m.AuditedModel], Perm]:
    """The model and write permission of a record kind of the URL (404 for an unknown one)."""
    from django.http import Http404

    if kind == PATIENT:
        return m.Patient, Perm.WRITE_PATIENTS
    if kind == ELIGIBILITY:
        return m.EligibilityCheck, Perm.EDIT_ELIGIBILITY
    if kind in records.KINDS:
        spec = records.KINDS[kind]
        return spec.model, spec.write_perm
    raise Http404("no such record kind")


def kind_of(instance: m.AuditedModel) -> str:
    """The URL kind of a stored record (the inverse of :func:`_model`)."""
    if isinstance(instance, m.Patient):
        return PATIENT
    if isinstance(instance, m.EligibilityCheck):
        return ELIGIBILITY
    return next(name for name, spec in records.KINDS.items() if spec.model is type(instance))


def _instance(actor: Actor, patient: m.Patient, kind: str, pk: int | None) -> m.AuditedModel:
    if kind == PATIENT:
        return patient
    model, _ = _model(kind)
    return actor.record(model, int(pk or 0), patient.patient_id)


def record_url(patient_id: str, kind: str, pk: int, action: str = "") -> str:
    if kind == PATIENT:
        return reverse("ui:patient_" + (action or "history"), args=[patient_id])
    name = "ui:record" + (f"_{action}" if action else "")
    return reverse(name, args=[patient_id, kind, pk])


def describe(instance: m.AuditedModel) -> str:
    """ "CRS assessment of 2025-07-02 08:00" — the record in words for titles."""
    name = history.sentence_case(str(instance._meta.verbose_name))
    for field in quality.DATE_FIELDS.get(type(instance), ()):
        value = getattr(instance, field, None)
        if value is not None:
            return f"{name} of {history.shown(value)}"
    return name


# --------------------------------------------------------------------------- initial values


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            out[key] = value
    return out


def _form_value(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 19 and value[10] == "T" and value.endswith(":00"):
        return value[:16]  # "2025-07-02T08:00:00" → the datetime-local input's minutes
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "\n".join("; ".join(map(_agent_name, line.get("agents", []))) for line in value)
    return value


def initial_of(actor: Actor, instance: m.AuditedModel, kind: str) -> dict[str, Any]:
    data = _flat(present(actor, instance)["data"])
    if kind == ELIGIBILITY:
        answer = data.get("relapsed_or_refractory")
        data["relapsed_or_refractory"] = (
            "yes" if answer is True else "no" if answer is False else ""
        )
    out: dict[str, Any] = {}
    for section in ef.EDIT_FORMS[kind]:
        for spec in section.fields:
            out[section.prefix + spec.name] = _form_value(data.get(spec.name))
    status = instance.form_status
    out["change.form_status"] = m.FormStatus.COMPLETE if status == m.FormStatus.VERIFIED else status
    out["change.version"] = instance.version
    return out


# --------------------------------------------------------------------------- conflict


def _same(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def _conflict(
    actor: Actor, kind: str, sections: Sequence[f.Section], post: Any, current: m.AuditedModel
) -> dict[str, Any]:
    """Your values next to the ones saved meanwhile, for every field that differs."""
    theirs_bound, _ = f.bind(sections, None, initial_of(actor, current, kind))
    yours_bound, _ = f.bind(sections, post)
    rows = []
    for theirs_section, yours_section in zip(theirs_bound, yours_bound, strict=True):
        if theirs_section.section.prefix == "change.":
            continue
        for theirs, yours in zip(theirs_section.fields, yours_section.fields, strict=True):
            a, b = yours.value, theirs.value
            if isinstance(a, list) or isinstance(b, list):
                a, b = "; ".join(map(str, a or [])), "; ".join(map(str, b or []))
            if not _same(a, b):
                rows.append((theirs.spec.label, fmt(a), fmt(b)))
    who = current.updated_by.get_username() if current.updated_by else "another user"
    return {"who": who, "version": current.version, "rows": rows}


# --------------------------------------------------------------------------- edit


def _payload(kind: str, payloads: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if kind in ("crs", "icans"):
        return {**payloads[kind + "."], "observed_at": payloads[""].get("observed_at")}
    return payloads[""]


def _save_edit(
    actor: Actor,
    kind: str,
    instance: m.AuditedModel,
    payload: dict[str, Any],
    change: dict[str, Any],
) -> m.AuditedModel:
    try:
        version = int(change.get("version") or 0)
    except ValueError:
        version = 0
    reason = str(change.get("reason") or "")
    status = change.get("form_status")
    if status is None:
        raise ClinicalInputError.single("change.form_status", "choose incomplete or complete")
    if kind == PATIENT:
        assert isinstance(instance, m.Patient)
        return records.update_patient(
            actor, instance, payload, version=version, reason=reason, form_status=status
        )
    if kind == ELIGIBILITY:
        assert isinstance(instance, m.EligibilityCheck)
        payload.setdefault("prior_lines", [])
        doc = eligibility.document(actor, instance.patient, payload)
        return eligibility.update_eligibility(
            actor, instance, doc, version=version, reason=reason, form_status=status
        )
    assert isinstance(instance, m.PatientRecord)
    return records.update_record(
        actor, records.KINDS[kind], instance, payload, version=version, reason=reason,
        form_status=status,
    )  # fmt: skip


def _edit(
    request: HttpRequest, actor: Actor, patient_id: str, kind: str, pk: int | None
) -> HttpResponse:
    patient = actor.patient(patient_id)
    actor.require(_model(kind)[1])
    instance = _instance(actor, patient, kind, pk)
    sections = (*ef.EDIT_FORMS[kind], ef.CHANGE)
    title = f"Correct: {describe(instance)} — {patient.patient_id}"
    live = "assessment" if kind in ("crs", "icans") else ""
    editing = {"save_label": "Save correction", "live_kinds": [kind]}
    crs_pk = pk if kind == "crs" else None  # the live CRS grade leaves its stored version out
    if request.method == "GET":
        return _form_page(
            request, actor, title=title, sections=sections, patient=patient, live=live,
            live_crs_record=crs_pk, initial=initial_of(actor, instance, kind), extra=editing,
        )  # fmt: skip
    payload: dict[str, Any] = {}
    try:
        payloads = f.parse(sections, request.POST)
        payload = _payload(kind, payloads)
        saved = _save_edit(actor, kind, instance, payload, payloads["change."])
    except Conflict:
        current = type(instance).objects.get(pk=instance.pk)
        post = request.POST.copy()
        post["change.version"] = str(current.version)  # saving again replaces theirs, knowingly
        problem = (
            "This record was changed by someone else while you were editing it. "
            "Your changes are not saved yet: compare both versions below."
        )
        return _form_page(
            request, actor, title=title, sections=sections, patient=patient, live=live,
            live_crs_record=crs_pk, problems=[("", problem)], post=post,
            extra={"conflict": _conflict(actor, kind, sections, request.POST, current),
                   "save_label": "Save my version", "live_kinds": [kind]},
        )  # fmt: skip
    except FORM_ERRORS as exc:
        model = _model(kind)[0]
        prefix = kind + "." if kind in ("crs", "icans") else ""
        problems = [
            (p if p in ("observed_at", "change.reason") or p.startswith("change.") or not prefix
             else prefix + p, msg)
            for p, msg in _problems(exc, model=model, payload=payload)
        ]  # fmt: skip
        return _form_page(
            request, actor, title=title, sections=sections, patient=patient, live=live,
            live_crs_record=crs_pk, problems=problems, extra=editing,
        )  # fmt: skip
    messages.success(request, _saved_message(saved) + f" Version {saved.version}.")
    return HttpResponseRedirect(reverse("ui:patient", args=[patient.patient_id]))


@require_http_methods(["GET", "POST"])
@scoped(Perm.READ_PATIENTS)
def record_edit(
    request: HttpRequest, actor: Actor, patient_id: str, kind: str, pk: int
) -> HttpResponse:
    return _edit(request, actor, patient_id, kind, pk)


# --------------------------------------------------------------------------- record page


def _record_page(
    request: HttpRequest, actor: Actor, patient_id: str, kind: str, pk: int | None
) -> HttpResponse:
    patient = actor.patient(patient_id)
    model, write_perm = _model(kind)
    if kind == PATIENT:
        versions = actor.patient_history(patient)
    else:
        versions = actor.record_history(model, int(pk or 0), patient)
    current = None if versions[-1].history_type == "-" else _instance(actor, patient, kind, pk)
    subject = describe(versions[-1].instance)
    ident = int(pk or 0)
    return page(
        request,
        actor,
        "record.html",
        {
            "title": f"{subject} — {patient.patient_id}",
            "patient_id": patient.patient_id,
            "record": current,
            "deleted": current is None,
            "entries": history.entries(versions),
            "edit_url": record_url(patient_id, kind, ident, "edit")
            if current and actor.can(write_perm) else None,
            "delete_url": record_url(patient_id, kind, ident, "delete")
            if current and actor.can(Perm.DELETE_RECORDS) else None,
            "verify_url": record_url(patient_id, kind, ident, "verify")
            if current and actor.can(Perm.VERIFY_RECORDS)
            and current.form_status == m.FormStatus.COMPLETE else None,
            "rerun_url": reverse("ui:eligibility_rerun", args=[patient_id, ident])
            if current and kind == ELIGIBILITY and actor.can(Perm.EDIT_ELIGIBILITY) else None,
        },
    )  # fmt: skip


@scoped(Perm.IDENTIFIABLE)
def record_page(
    request: HttpRequest, actor: Actor, patient_id: str, kind: str, pk: int
) -> HttpResponse:
    return _record_page(request, actor, patient_id, kind, pk)


# --------------------------------------------------------------------------- verify, delete


def _in_words(exc: Exception) -> str:
    if isinstance(exc, ClinicalInputError):
        return "; ".join(problem for _, problem in exc.problems)
    return str(exc)


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@require_POST
@scoped(Perm.VERIFY_RECORDS)
def record_verify(
    request: HttpRequest, actor: Actor, patient_id: str, kind: str, pk: int
) -> HttpResponse:
    patient = actor.patient(patient_id)
    instance = _instance(actor, patient, kind, pk)
    try:
        records.verify_record(actor, instance, version=_version(request))
    except (Conflict, ClinicalInputError) as exc:
        messages.error(request, f"Not verified: {_in_words(exc)}")
    else:
        messages.success(request, f"Verified: {describe(instance)}.")
    return HttpResponseRedirect(record_url(patient_id, kind, pk))


@require_http_methods(["GET", "POST"])
@scoped(Perm.DELETE_RECORDS)
def record_delete(
    request: HttpRequest, actor: Actor, patient_id: str, kind: str, pk: int
) -> HttpResponse:
    patient = actor.patient(patient_id)
    instance = _instance(actor, patient, kind, pk)
    problem = ""
    if request.method == "POST":
        try:
            records.delete_record(
                actor, instance, version=_version(request), reason=request.POST.get("reason", "")
            )
        except (ReasonRequired, Conflict) as exc:
            problem = str(exc)
        except ClinicalInputError as exc:
            problem = _in_words(exc)
        else:
            messages.success(request, f"Deleted: {describe(instance)} (its history is kept).")
            if kind == PATIENT:
                return HttpResponseRedirect(reverse("ui:patients"))
            return HttpResponseRedirect(reverse("ui:patient", args=[patient_id]))
    return page(
        request,
        actor,
        "delete.html",
        {
            "title": f"Delete: {describe(instance)} — {patient.patient_id}",
            "patient_id": patient.patient_id,
            "record": instance,
            "problem": problem,
            "whole_patient": kind == PATIENT,
            "history_url": record_url(patient_id, kind, instance.pk),
        },
        status=422 if problem else 200,
    )


@require_POST
@scoped(Perm.EDIT_ELIGIBILITY)
def eligibility_rerun(request: HttpRequest, actor: Actor, patient_id: str, pk: int) -> HttpResponse:
    patient = actor.patient(patient_id)
    check = actor.record(m.EligibilityCheck, pk, patient.patient_id)
    before = check.eligible
    try:
        check = eligibility.rerun_eligibility(
            actor, check, version=_version(request), reason=request.POST.get("reason", "")
        )
    except (ReasonRequired, Conflict, ClinicalInputError) as exc:
        messages.error(request, f"Not re-run: {_in_words(exc)}")
    else:
        verdict = "eligible" if check.eligible else "not eligible"
        was = "eligible" if before else "not eligible"
        messages.success(
            request,
            f"Re-run on the current records: {verdict} under {check.label_version} "
            f"(was {was}): " + "; ".join(without_version(check.label_version, check.reasons)),
        )
    return HttpResponseRedirect(record_url(patient_id, ELIGIBILITY, pk))


def _agent_name(agent: Any) -> str:
    """An agent of a stored eligibility input: a name, or ``{"name", "class"}`` when the API
    declared its class (contract v2 item 5; the form edits names only)."""
    return agent if isinstance(agent, str) else str(agent.get("name", ""))
