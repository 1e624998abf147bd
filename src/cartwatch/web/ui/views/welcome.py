"""The welcome page: what the signed-in role can do and where to start (issue 11, item 5).

A user lands here on the first sign-in, and whenever its centre has no patient yet (an
empty work list explains nothing). What it says follows the role table
(``access.ROLE_PERMISSIONS``) and the centre's state: a centre administrator with no
patients is told to add the people who register referrals; a nurse with none is told who
registers patients, by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from cartwatch.web.access import (
    PERM_WORDS,
    ROLE_PERMISSIONS,
    Actor,
    NotAuthenticated,
    Perm,
    resolve_actor,
    roles_with,
)
from cartwatch.web.centres.models import Role
from cartwatch.web.ui.views.layout import FIRST_SIGN_IN, page

#: One sentence per role: the job, before the list of what the role may do.
ROLE_JOB: dict[Role, str] = {
    Role.CENTRE_ADMIN: "You run the centre's accounts: who works here, in which role, and "
    "the API tokens of scripts. You read patients, the work list, exports and the audit log; "
    "you do not enter clinical data.",
    Role.PHYSICIAN: "You register referrals, record CAR-T courses, daily assessments, "
    "responses and follow-up, decide label eligibility and verify forms.",
    Role.NURSE: "You record the daily CRS/ICANS assessment, blood counts and doses of the "
    "centre's patients; the server grades each assessment as you type.",
    Role.DATA_MANAGER: "You register and correct the centre's records, verify forms, keep "
    "the data-quality list short, export the centre's data and report it to the registry.",
    Role.RESEARCHER: "You read the centre's pseudonymised data: the dashboard and exports, "
    "without hospital numbers or free text.",
    Role.NETWORK_REVIEWER: "You see the network's pooled figures across centres; no "
    "patient rows, and small counts are suppressed.",
}


@dataclass(frozen=True)
class Step:
    text: str
    link: str = ""
    url: str = ""


def _who(names: list[str], roles: list[Role]) -> str:
    kinds = " or ".join(r.label.lower() for r in roles)
    if names:
        return f"a {kinds} of your centre ({', '.join(names)})"
    return f"a {kinds} of your centre (there is none yet: ask your centre administrator)"


def steps(actor: Actor, has_patients: bool) -> list[Step]:
    """Where this actor starts, given whether its centre has any patient."""
    registrars = roles_with(Perm.WRITE_PATIENTS)
    out: list[Step] = []
    if actor.can(Perm.MANAGE_USERS):
        out.append(Step("Add the people who work with the centre's data, each in their role.",
                        "Add a user", reverse("ui:user_new")))  # fmt: skip
        if not has_patients:
            out.append(Step(
                "No patient yet. To register a referral, add a physician or a data manager: "
                "they register it under Patients → Register a referral.",
            ))  # fmt: skip
    if actor.can(Perm.WRITE_PATIENTS) and not has_patients:
        out.append(Step("No patient yet: start with the first referral.",
                        "Register a referral", reverse("ui:patient_new")))  # fmt: skip
    elif actor.can(Perm.READ_PATIENTS) and not has_patients:
        names = actor.colleagues(registrars)
        out.append(Step(
            f"No patient is registered yet. Patients are registered by {_who(names, registrars)}; "
            "they appear on your work list and under Patients as soon as they are.",
        ))  # fmt: skip
    if actor.can(Perm.CENTRE_ANALYTICS) and has_patients:
        out.append(Step("See who needs attention today.", "Work list", reverse("ui:worklist")))
    if actor.can(Perm.WRITE_ASSESSMENTS):
        out.append(Step("Temperatures, drugs and blood counts from the hospital record (a FHIR "
                        "bundle) become draft assessments for a nurse to confirm.",
                        "Import a FHIR bundle", reverse("ui:fhir_import")))  # fmt: skip
    if actor.can(Perm.REGISTRY) and has_patients:
        out.append(Step("What the CIBMTR registry still needs, per patient and form.",
                        "Registry", reverse("ui:registry")))  # fmt: skip
    if actor.role == Role.RESEARCHER and has_patients:
        out.append(Step("Outcomes of the centre.", "Dashboard", reverse("ui:dashboard")))
    if actor.can(Perm.NETWORK_AGGREGATES):
        out.append(Step("Pooled figures of every centre.", "Network", reverse("ui:network")))
    return out


def welcome(request: HttpRequest) -> HttpResponse:
    try:
        actor = resolve_actor(request.user)
    except NotAuthenticated:
        return redirect_to_login(request.get_full_path())
    has_patients = actor.can(Perm.READ_PATIENTS) and actor.patients().exists()
    perms = ROLE_PERMISSIONS[actor.role]
    return page(
        request,
        actor,
        "welcome.html",
        {
            "title": f"Welcome, {actor.username}",
            "job": ROLE_JOB[actor.role],
            "can": [PERM_WORDS[p] for p in Perm if p in perms],
            "steps": steps(actor, has_patients),
        },
    )


def home(request: HttpRequest) -> HttpResponse:
    """Where a role starts: the welcome page at the first sign-in and while the centre has
    no patient; then the work list for clinical roles, the dashboard for researchers, the
    network view for reviewers."""
    if getattr(request.user, "is_superuser", False):
        return HttpResponseRedirect(reverse("admin:index"))  # no centre: /admin/ is its place
    try:
        actor = resolve_actor(request.user)
    except NotAuthenticated:
        return HttpResponseRedirect(reverse("ui:login"))
    first = request.session.pop(FIRST_SIGN_IN, False)
    if first or (actor.can(Perm.READ_PATIENTS) and not actor.patients().exists()):
        return HttpResponseRedirect(reverse("ui:welcome"))
    if actor.can(Perm.NETWORK_AGGREGATES):
        return HttpResponseRedirect(reverse("ui:network"))
    if actor.role == Role.RESEARCHER:
        return HttpResponseRedirect(reverse("ui:dashboard"))
    return HttpResponseRedirect(reverse("ui:worklist"))
