"""The CIBMTR registry pages: the centre overview (per patient × form instance, how complete),
one patient's elements (value, status, provenance, a link to the record each came from; the
missing ones first, in words), and the download of the export files (POST, audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cartwatch.interop.cibmtr import FormInstance, Status, Value
from cartwatch.interop.cibmtr_forms import FORMS, unverified_count
from cartwatch.schemas.dates import plausible_date_problem
from cartwatch.web.access import Actor, Perm, scoped
from cartwatch.web.services import registry
from cartwatch.web.services.records import KINDS
from cartwatch.web.services.rows import ROW_MODELS
from cartwatch.web.ui.views.edit import record_url
from cartwatch.web.ui.views.layout import page

#: Centre-format file → the URL kind of its record page ("patients" → the patient's page).
KIND_OF_FILE = {ROW_MODELS[k.model][0]: name for name, k in KINDS.items() if k.model in ROW_MODELS}


def _as_of(request: HttpRequest) -> tuple[dt.date, str]:
    """The data cut from ``?as_of=`` (default today) and the problem with it, in words."""
    text = request.GET.get("as_of", "") or request.POST.get("as_of", "")
    today = dt.date.today()
    if not text:
        return today, ""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return today, f"Data cut: {text!r} is not a date (YYYY-MM-DD)"
    problem = plausible_date_problem(day)
    if problem:
        return today, f"Data cut: {problem}"
    return day, ""


def _context(as_of: dt.date, problem: str) -> dict[str, Any]:
    return {
        "as_of": as_of.isoformat(),
        # The page is still shown, for today; the download refuses instead (download()).
        "as_of_problem": f"{problem}; showing today instead" if problem else "",
        "unverified": unverified_count(),
    }


@scoped(Perm.REGISTRY)
def overview(request: HttpRequest, actor: Actor) -> HttpResponse:
    as_of, problem = _as_of(request)
    report = registry.centre_registry(actor, as_of)
    timepoints: list[tuple[str, str]] = []
    for f in report.export.forms:
        if (f.form, f.timepoint) not in timepoints:
            timepoints.append((f.form, f.timepoint))
    rows = []
    for p in report.export.patients:
        by = {(f.form, f.timepoint): f for f in p.forms}
        rows.append({"patient": p, "cells": [by.get(tp) for tp in timepoints]})
    return page(
        request,
        actor,
        "registry.html",
        {
            "title": "CIBMTR registry",
            "rows": rows,
            "columns": timepoints,
            "summary": report.summary(),
            "problems": [p.text() for p in report.problems],
            **_context(as_of, problem),
        },
    )


def _link(report: registry.CentreRegistry, patient_id: str, value: Value) -> str:
    for ref in value.sources:
        if ref.file == "patients":
            return record_url(patient_id, "patient", 0)
        pk = report.record_id(ref)
        kind = KIND_OF_FILE.get(ref.file)
        if pk is not None and kind is not None:
            return record_url(patient_id, kind, pk)
    return ""


def _form_view(report: registry.CentreRegistry, form: FormInstance) -> dict[str, Any]:
    order = {Status.MISSING: 0, Status.PRESENT: 1, Status.NOT_COLLECTED: 2}
    values = sorted(form.values, key=lambda v: order.get(v.status, 3))
    return {
        "form": form,
        "spec": FORMS[form.form],
        "values": [(v, _link(report, form.patient_id, v)) for v in values],
    }


@scoped(Perm.REGISTRY)
def patient_page(request: HttpRequest, actor: Actor, patient_id: str) -> HttpResponse:
    as_of, problem = _as_of(request)
    found, report = registry.patient_registry(actor, patient_id, as_of)
    forms = [_form_view(report, f) for f in found.forms] if found else []
    todo = [
        (f["form"], v)
        for f in forms
        for v, _ in f["values"]
        if v.status in (Status.MISSING, Status.NOT_COLLECTED)
    ]
    return page(
        request,
        actor,
        "registry_patient.html",
        {
            "title": f"CIBMTR registry — {patient_id}",
            "patient_id": patient_id,
            "found": found,
            "forms": forms,
            "todo": todo,
            "problems": [p.text() for p in report.problems],
            **_context(as_of, problem),
        },
    )


@require_POST
@scoped(Perm.REGISTRY)
def download(request: HttpRequest, actor: Actor) -> HttpResponse:
    """POST (with CSRF): the export is an audited action, never a prefetchable link."""
    as_of, problem = _as_of(request)
    if problem:  # nothing is exported for a data cut that was not the one asked for
        messages.error(request, f"{problem}: nothing was exported")
        return redirect("ui:registry")
    filename, content = registry.registry_zip(actor, as_of)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
