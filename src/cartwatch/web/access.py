"""Centre scoping and role permissions: the one place that decides who sees what.

Every HTML view (``@scoped(Perm.X)``) and every API endpoint (``scope(request, Perm.X)``)
goes through :func:`resolve_actor`. It returns an :class:`Actor` whose ``patients()`` is the
only queryset of patients a view may start from, and whose ``patient()`` / ``record()``
lookups raise ``Http404`` for anything outside the actor's centre, so a foreign-centre
patient looks exactly like a patient that does not exist.

Order of checks: authenticated (else 401/redirect) → has a membership (else 403) → role has
the permission (else 403, which says nothing about any patient) → object in the centre
(else 404).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from cartwatch.web.centres.models import ApiToken, Centre, Membership, Role
from cartwatch.web.patients.models import Patient, PatientRecord


class Perm(StrEnum):
    READ_PATIENTS = "read_patients"  # patient rows of the own centre
    IDENTIFIABLE = "identifiable"  # hospital number and free text; else pseudonymised
    WRITE_PATIENTS = (
        "write_patients"  # registration, prior lines, CAR-T course, response, MRD, follow-up
    )
    WRITE_ASSESSMENTS = "write_assessments"  # daily CRS/ICANS, labs, treatments
    EDIT_ELIGIBILITY = "edit_eligibility"  # a label eligibility decision is a physician's
    DELETE_RECORDS = "delete_records"  # correcting data-entry mistakes
    VERIFY_RECORDS = "verify_records"  # mark a form verified against the source
    CENTRE_ANALYTICS = "centre_analytics"  # dashboard, alerts work list of the own centre
    EXPORT = "export"  # ADaM / centre-format export (audited)
    REGISTRY = "registry"  # identifiable CIBMTR registry report and its export (audited)
    VIEW_AUDIT = "view_audit"  # the centre's audit events
    MANAGE_USERS = "manage_users"  # memberships of the own centre
    NETWORK_AGGREGATES = "network_aggregates"  # pooled counts and rates, no rows


P = Perm
#: Role → permissions. Data, so the access-matrix test and the docs read the same table.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Perm]] = {
    Role.CENTRE_ADMIN: frozenset(
        {P.READ_PATIENTS, P.IDENTIFIABLE, P.CENTRE_ANALYTICS, P.EXPORT, P.REGISTRY,
         P.VIEW_AUDIT, P.MANAGE_USERS}
    ),
    Role.PHYSICIAN: frozenset(
        {P.READ_PATIENTS, P.IDENTIFIABLE, P.WRITE_PATIENTS, P.WRITE_ASSESSMENTS,
         P.EDIT_ELIGIBILITY, P.VERIFY_RECORDS, P.CENTRE_ANALYTICS}
    ),
    Role.NURSE: frozenset(
        {P.READ_PATIENTS, P.IDENTIFIABLE, P.WRITE_ASSESSMENTS, P.CENTRE_ANALYTICS}
    ),
    Role.DATA_MANAGER: frozenset(
        {P.READ_PATIENTS, P.IDENTIFIABLE, P.WRITE_PATIENTS, P.WRITE_ASSESSMENTS,
         P.DELETE_RECORDS, P.VERIFY_RECORDS, P.CENTRE_ANALYTICS, P.EXPORT, P.REGISTRY,
         P.VIEW_AUDIT}
    ),
    Role.RESEARCHER: frozenset({P.READ_PATIENTS, P.CENTRE_ANALYTICS, P.EXPORT}),
    Role.NETWORK_REVIEWER: frozenset({P.NETWORK_AGGREGATES}),
}  # fmt: skip


#: What each permission lets a person do, in words (the 403 page says what was refused).
PERM_WORDS: Mapping[Perm, str] = {
    P.READ_PATIENTS: "see the patients of the centre",
    P.IDENTIFIABLE: "see identifying data such as the hospital number",
    P.WRITE_PATIENTS: "register patients and record courses, responses, MRD and follow-up",
    P.WRITE_ASSESSMENTS: "record daily assessments, blood counts and doses",
    P.EDIT_ELIGIBILITY: "decide label eligibility",
    P.DELETE_RECORDS: "delete records",
    P.VERIFY_RECORDS: "verify forms against the source",
    P.CENTRE_ANALYTICS: "see the work list and the centre dashboard",
    P.EXPORT: "export the centre's data",
    P.REGISTRY: "prepare the identifiable CIBMTR registry report",
    P.VIEW_AUDIT: "read the audit log",
    P.MANAGE_USERS: "manage the centre's users",
    P.NETWORK_AGGREGATES: "see the network's pooled figures",
}


def roles_with(perm: Perm) -> list[Role]:
    return [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]


class NotPermitted(PermissionDenied):
    """The actor's role lacks *perm*: a 403 that can say, in words, what and why."""

    def __init__(self, role: Role, perm: Perm) -> None:
        self.role = role
        self.perm = perm
        who = ", ".join(r.label.lower() for r in roles_with(perm)) or "no role"
        super().__init__(
            f"Your role ({role.label.lower()}) may not {PERM_WORDS[perm]}. This is for: {who}."
        )


class NotAuthenticated(Exception):
    """No logged-in user and no valid API token."""


M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Actor:
    """A user acting in one role at one centre (no centre for the network reviewer)."""

    user: User
    role: Role
    centre: Centre | None

    @property
    def username(self) -> str:
        return str(self.user.get_username())

    @property
    def permissions(self) -> frozenset[Perm]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, perm: Perm) -> bool:
        return perm in self.permissions

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise NotPermitted(self.role, perm)

    @property
    def identifiable(self) -> bool:
        return self.can(Perm.IDENTIFIABLE)

    def patients(self) -> QuerySet[Patient]:
        """The patients this actor may see: its own centre's, nothing else; for a role
        without the 'identifiable' permission (research), only those who consented to
        research (``research_view.py``)."""
        self.require(Perm.READ_PATIENTS)
        if self.centre is None:  # unreachable by the table; kept so a table edit cannot leak
            return Patient.objects.none()
        patients = Patient.objects.filter(centre=self.centre).select_related("centre")
        return patients if self.identifiable else patients.filter(consent_research=True)

    def patient(self, patient_id: str) -> Patient:
        """One patient of the own centre by pseudonym; Http404 otherwise (also if foreign)."""
        try:
            return self.patients().get(patient_id=patient_id)
        except Patient.DoesNotExist:
            raise Http404("no such patient") from None

    def records(self, model: type[M]) -> QuerySet[M]:
        """Rows of a patient-data model restricted to the own centre's patients."""
        if not issubclass(model, PatientRecord):
            raise TypeError(f"{model.__name__} is not a per-patient record")
        return model.objects.filter(patient__in=self.patients()).select_related("patient")

    def _in_scope(self, patient: Patient) -> None:
        """The check :meth:`patients` makes in SQL, made on a patient already in hand: the
        permission to read patients, the own centre, and consent for a role without
        identifiable access. Http404 when out of scope (a foreign patient is not told apart
        from a missing one)."""
        self.require(Perm.READ_PATIENTS)
        if self.centre is None or patient.centre_id != self.centre.pk:
            raise Http404("no such patient")
        if not self.identifiable and not patient.consent_research:
            raise Http404("no such patient")

    def patient_records(
        self, model: type[M], patient: Patient, order_by: Sequence[str] | None = None
    ) -> list[M]:
        """The rows of *model* of *patient* (from :meth:`patient`), in *order_by* order (default:
        the model's ordering within one patient, then id).

        The scope of ``records(model).filter(patient=patient)``, checked once on the patient
        in hand instead of by a sub-query in every table's SQL (the patient page reads ten
        tables per view); each row gets *patient* as its cached ``.patient``, so presenting
        the rows costs no query per row.
        """
        if not issubclass(model, PatientRecord):
            raise TypeError(f"{model.__name__} is not a per-patient record")
        self._in_scope(patient)
        if order_by is None:
            # Meta.ordering starts with "patient", which would join (and order by) the patient
            # and centre tables for a list that has one patient anyway.
            meta_ordering = model._meta.ordering or ()
            order_by = [*(str(f) for f in meta_ordering if f != "patient"), "pk"]
        rows = list(model.objects.filter(patient_id=patient.pk).order_by(*order_by))
        for row in rows:
            row.patient = patient
        return rows

    def record(self, model: type[M], pk: int, patient_id: str | None = None) -> M:
        """One row by id, of the own centre (and of *patient_id* if given); Http404 otherwise."""
        queryset = self.records(model)
        if patient_id is not None:
            queryset = queryset.filter(patient__patient_id=patient_id)
        try:
            return queryset.get(pk=pk)
        except ObjectDoesNotExist:  # model.DoesNotExist
            raise Http404("no such record") from None

    def record_history(self, model: type[M], pk: int, patient: Patient) -> list[Any]:
        """Every stored version (django-simple-history) of one row of *patient*, oldest
        first, including the deletion: a deleted record's history stays readable. *patient*
        comes from :meth:`patient`; the filter on it keeps another patient's rows out."""
        if not issubclass(model, PatientRecord):
            raise TypeError(f"{model.__name__} is not a per-patient record")
        self._in_scope(patient)
        history = model.history.filter(id=pk, patient_id=patient.pk)
        rows = list(history.select_related("history_user").order_by("history_date", "history_id"))
        if not rows:
            raise Http404("no such record")
        return rows

    def patient_history(self, patient: Patient) -> list[Any]:
        """The stored versions of the patient row itself (from :meth:`patient`)."""
        self._in_scope(patient)
        history = Patient.history.filter(id=patient.pk)
        return list(history.select_related("history_user").order_by("history_date", "history_id"))

    def members(self) -> QuerySet[Membership]:
        """The memberships of the own centre (user management): nothing else."""
        self.require(Perm.MANAGE_USERS)
        if self.centre is None:  # unreachable by the table; kept so a table edit cannot leak
            return Membership.objects.none()
        return Membership.objects.filter(centre=self.centre).select_related("user", "centre")

    def member(self, user_id: int) -> Membership:
        """One membership of the own centre by user id; Http404 otherwise (also if foreign)."""
        try:
            return self.members().get(user_id=user_id)
        except Membership.DoesNotExist:
            raise Http404("no such user") from None

    def colleagues(self, roles: Sequence[Role]) -> list[str]:
        """Usernames of the own centre's active users in *roles*: who to ask (the welcome
        page tells a nurse who registers patients). Names only, for any member."""
        if self.centre is None:
            return []
        return list(
            Membership.objects.filter(centre=self.centre, role__in=roles, user__is_active=True)
            .order_by("user__username")
            .values_list("user__username", flat=True)
        )

    def tokens(self) -> QuerySet[ApiToken]:
        """The API tokens of the own centre's users."""
        return ApiToken.objects.filter(user__membership__in=self.members()).select_related("user")

    def token(self, token_id: int) -> ApiToken:
        """One API token of an own centre's user; Http404 otherwise (also if foreign)."""
        try:
            return self.tokens().get(pk=token_id)
        except ApiToken.DoesNotExist:
            raise Http404("no such token") from None


def resolve_actor(user: AbstractBaseUser | AnonymousUser | None, perm: Perm | None = None) -> Actor:
    """THE scoping function: the user's role and centre, with *perm* checked.

    Raises NotAuthenticated (no user), PermissionDenied (no membership, inactive, superuser or
    staff, or the role lacks *perm*).
    """
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    if not user.is_active:
        raise PermissionDenied("account inactive")
    if not isinstance(user, User):  # AUTH_USER_MODEL is Django's User (settings.py)
        raise PermissionDenied("unsupported user model")
    if user.is_superuser or user.is_staff:
        # The install-wide administrator works in /admin/ only; a centre role never goes
        # with it (centres/separation.py), even if a row was written behind the app's back.
        raise PermissionDenied("an install-wide administrator account has no centre role")
    try:
        membership = Membership.objects.select_related("centre").get(user=user)
    except Membership.DoesNotExist:
        raise PermissionDenied("no centre membership") from None
    actor = Actor(user=user, role=Role(membership.role), centre=membership.centre)
    if perm is not None:
        actor.require(perm)
    return actor


def scope(request: HttpRequest, perm: Perm | None = None) -> Actor:
    """For API endpoints: the actor of a request authenticated by session or token."""
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    actor = resolve_actor(user, perm)
    request.actor = actor  # type: ignore[attr-defined]
    return actor


Params = ParamSpec("Params")
ViewFunc = Callable[Concatenate[HttpRequest, Actor, Params], HttpResponse]


def scoped(
    perm: Perm,
) -> Callable[[ViewFunc[Params]], Callable[Concatenate[HttpRequest, Params], HttpResponse]]:
    """Decorator for HTML views: ``@scoped(Perm.READ_PATIENTS) def view(request, actor, ...)``.

    Anonymous users are redirected to the login page; everything else as resolve_actor.
    """

    def decorate(
        view: ViewFunc[Params],
    ) -> Callable[Concatenate[HttpRequest, Params], HttpResponse]:
        @wraps(view)
        def wrapper(
            request: HttpRequest, *args: Params.args, **kwargs: Params.kwargs
        ) -> HttpResponse:
            try:
                actor = resolve_actor(request.user, perm)
            except NotAuthenticated:
                return redirect_to_login(request.get_full_path())
            request.actor = actor  # type: ignore[attr-defined]
            return view(request, actor, *args, **kwargs)

        return cast(Callable[Concatenate[HttpRequest, Params], HttpResponse], wrapper)

    return decorate
