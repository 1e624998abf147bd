"""Create, update and delete patient data: validation, grading, locking, audit.

Every write path of the web app (HTML views and API) calls these functions, so checks live
here once:

* input is validated by the centre-format row models (``centre/records.py``) and, for
  clinical content, by the CLI's schemas; grades are computed by the clinical engines and
  stored with their standard and reasons;
* an update or delete quotes the ``version`` it read; a different current version raises
  ``Conflict`` (optimistic locking: nobody silently overwrites someone else's edit);
* changing a complete or verified record needs a reason for change (a draft, status
  ``incomplete``, does not); any change makes a verified record ``complete`` again;
* the patient's other records are checked for date order (``quality.refuse_bad_dates``),
  and a save or deletion that moves a date they were checked against (the diagnosis, the
  course, a death) must not put them out of order (``quality.refuse_moved_anchors``);
* each save runs inside ``audit_context`` so the audit signal attributes it to the actor
  with the reason, and simple-history gets the same user and reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import BaseModel, ValidationError

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.errors import ROOT_PATH, join_path, key_text, problems_from
from cartwatch.schemas.text import text_problem
from cartwatch.web.access import Actor, Perm
from cartwatch.web.audit.chain import audit_context
from cartwatch.web.patients import models as m
from cartwatch.web.services import crs_course, grading, quality
from cartwatch.web.services.errors import Conflict, ReasonRequired
from cartwatch.web.services.rows import (
    ROW_MODELS,
    apply_fields,
    row_to_fields,
    stored_datetime,
    to_row,
)

Computed = dict[str, Any]


def _crs(row: BaseModel, patient: m.Patient, pk: int | None) -> Computed:
    # In the patient's course (contract v2 item 2): premedication is not CRS therapy.
    result = crs_course.grade_in_course(
        patient,
        row.model_dump(mode="json", exclude={"patient_id", "observed_at"}),
        stored_datetime(cast(Any, row).observed_at),
        pk,
    )
    return {k: result[k] for k in ("grade", "standard", "reasons")}


def _icans(row: BaseModel, patient: m.Patient, pk: int | None) -> Computed:
    clinical = row.model_dump(mode="json", exclude={"patient_id", "observed_at"})
    result = grading.grade_icans(clinical)
    return {k: result[k] for k in ("grade", "standard", "instrument", "reasons")}


def _labs(row: BaseModel, patient: m.Patient, pk: int | None) -> Computed:
    clinical = row.model_dump(
        mode="json", exclude={"patient_id", "observed_at", "lymphocytes_10e9_l"}
    )
    if all(
        clinical.get(k) is None
        for k in ("neutrophils_10e9_l", "platelets_10e9_l", "hemoglobin_g_dl")
    ):
        # Lymphocytes only: nothing CTCAE grades here.
        return {"standard": "", "reasons": []}
    result = grading.grade_cytopenia(clinical)
    grades = result["grades"]
    return {
        "grade_neutrophil_count_decreased": grades.get("neutrophil_count_decreased"),
        "grade_platelet_count_decreased": grades.get("platelet_count_decreased"),
        "grade_anemia": grades.get("anemia"),
        "standard": result["standard"],
        "reasons": result["reasons"],
    }


_NOT_MEASUREMENTS = {"patient_id", "assessed_at", "timepoint", "bcr_inhibitor_ongoing"}


def _measurements(row: BaseModel) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude=_NOT_MEASUREMENTS, exclude_none=True)


def _response(row: BaseModel, patient: m.Patient, pk: int | None) -> Computed:
    fields: Any = row  # a ResponseAssessmentRow
    if fields.timepoint == m.Timepoint.BASELINE:
        return {"response": "", "standard": "", "reasons": [], "mrd_status": ""}
    baseline = (
        m.ResponseAssessment.objects.filter(
            patient=patient,
            timepoint=m.Timepoint.BASELINE,
            assessed_at__lte=fields.assessed_at,
        )
        .order_by("-assessed_at", "-id")
        .first()
    )
    if baseline is None:
        raise ClinicalInputError.single(
            "timepoint", "no baseline assessment recorded on or before this date"
        )
    result = grading.assess_response(
        _measurements(_stored_baseline(baseline)),
        _measurements(row),
        bcr_inhibitor_ongoing=fields.bcr_inhibitor_ongoing,
    )
    return {
        "response": result["response"],
        "standard": result["standard"],
        "reasons": result["reasons"],
        "mrd_status": "",
    }


def _stored_baseline(baseline: m.ResponseAssessment) -> BaseModel:
    """The stored baseline as a row; one the rules now refuse (e.g. a B count above the
    total, stored before that rule) is named as this assessment's problem on ``timepoint``,
    not reported as a problem of the fields being entered."""
    try:
        return to_row(baseline)
    except ValidationError as exc:
        raise ClinicalInputError.single(
            "timepoint",
            f"the baseline assessment of {baseline.assessed_at.isoformat()} fails the checks "
            f"({'; '.join(problems_from(exc))}): correct it first",
        ) from exc


def _mrd(row: BaseModel, patient: m.Patient, pk: int | None) -> Computed:
    sample = row.model_dump(mode="json", exclude={"patient_id", "sampled_at"}, exclude_none=True)
    if "sensitivity" not in sample or "method" not in sample:
        return {
            "status": "",
            "standard": "iwCLL 2018",
            "reasons": ["not classified: assay sensitivity and method are needed for uMRD"],
        }
    result = grading.classify_mrd(sample)
    return {"status": result["status"], "standard": "iwCLL 2018", "reasons": result["reasons"]}


@dataclass(frozen=True)
class Kind:
    """One kind of per-patient row: its model, who may write it, what is computed on save
    (from the validated row, its patient and the primary key of the row it replaces)."""

    name: str
    model: type[m.PatientRecord]
    write_perm: Perm
    compute: Callable[[BaseModel, m.Patient, int | None], Computed] | None = None

    @property
    def row_model(self) -> type[BaseModel]:
        return ROW_MODELS[self.model][1]

    @property
    def is_assessment(self) -> bool:
        return issubclass(self.model, m.AssessmentRecord)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("prior-lines", m.PriorLine, Perm.WRITE_PATIENTS),
        Kind("cell-therapy", m.CellTherapy, Perm.WRITE_PATIENTS),
        Kind("crs", m.CrsAssessment, Perm.WRITE_ASSESSMENTS, _crs),
        Kind("icans", m.IcansAssessment, Perm.WRITE_ASSESSMENTS, _icans),
        Kind("treatments", m.Treatment, Perm.WRITE_ASSESSMENTS),
        Kind("labs", m.Lab, Perm.WRITE_ASSESSMENTS, _labs),
        Kind("responses", m.ResponseAssessment, Perm.WRITE_PATIENTS, _response),
        Kind("mrd", m.MrdResult, Perm.WRITE_PATIENTS, _mrd),
        Kind("followup", m.FollowUp, Perm.WRITE_PATIENTS),
    )
}


NUL_PROBLEM = "contains a NUL character (U+0000), which stored text cannot hold"
NOT_FINITE_PROBLEM = "must be a finite number"
#: A reason for change is a few sentences (it stays on the audit trail for good).
MAX_REASON_LENGTH = 2000


def _unstorable(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(path, problem) of every value no column can hold: a NUL or a lone surrogate in text
    (PostgreSQL refuses NUL; no encoding holds a surrogate), an infinite or NaN number (a
    form's ``1e309``; JSON cannot carry it onto the audit trail)."""
    if isinstance(value, str):
        if "\x00" in value:
            return [(path or ROOT_PATH, NUL_PROBLEM)]
        problem = text_problem(value, multiline=True)
        if problem is not None and "surrogate" in problem:
            return [(path or ROOT_PATH, problem)]
        return []
    if isinstance(value, float) and not math.isfinite(value):
        return [(path or ROOT_PATH, NOT_FINITE_PROBLEM)]
    if isinstance(value, dict):
        return [
            p
            for key, item in value.items()
            for p in _unstorable(key, path) + _unstorable(item, join_path(path, key_text(key)))
        ]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _unstorable(item, f"{path}[{i}]")]
    return []


def refuse_unstorable(document: Any) -> None:
    """Refuse what no column can store up front, as the field's problem (not a database
    error, i.e. a 500)."""
    problems = list(dict.fromkeys(_unstorable(document)))
    if problems:
        raise ClinicalInputError(problems)


def _validate(row_model: type[BaseModel], payload: dict[str, Any], **injected: str) -> BaseModel:
    refuse_unstorable(payload)
    for key in injected:
        if key in payload:
            raise ClinicalInputError.single(
                key, "is given by the URL and your centre; leave it out"
            )
    return row_model.model_validate({**payload, **injected})


def _values(
    kind: Kind, patient: m.Patient, payload: dict[str, Any], pk: int | None = None
) -> dict[str, Any]:
    row = _validate(kind.row_model, payload, patient_id=patient.patient_id)
    values = row_to_fields(row)
    quality.refuse_bad_dates(patient, kind.model, values, pk)
    quality.refuse_moved_anchors(patient, kind.model, values, pk)
    if kind.compute is not None:
        values.update(kind.compute(row, patient, pk))
    return values


def _check_reason(reason: str) -> None:
    if "\x00" in reason:
        raise ReasonRequired(f"the reason {NUL_PROBLEM}")
    if len(reason) > MAX_REASON_LENGTH:
        raise ReasonRequired(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    problem = text_problem(reason, multiline=True)
    if problem is not None:
        raise ReasonRequired(f"the reason {problem}")


def _save(actor: Actor, instance: m.AuditedModel, reason: str = "") -> None:
    _check_reason(reason)
    instance.updated_by = actor.user
    instance._history_user = actor.user  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    with audit_context(actor.username, reason):
        instance.save()


def _locked(instance: m.AuditedModel, version: int | None) -> m.AuditedModel:
    current: m.AuditedModel = type(instance).objects.select_for_update().get(pk=instance.pk)
    if version is None or current.version != version:
        raise Conflict(current.version, version)
    return current


def _needs_reason(instance: m.AuditedModel, reason: str) -> None:
    if instance.completed and not reason.strip():
        raise ReasonRequired("a reason for change is required to change a completed record")


#: The statuses a writer may set; ``verified`` only through :func:`verify_record`.
WRITABLE_STATUS = (m.FormStatus.INCOMPLETE, m.FormStatus.COMPLETE)


def _set_status(instance: m.AuditedModel, status: str | None) -> None:
    """A change un-verifies (the new values were not checked); *status* if given."""
    if status is not None and status not in WRITABLE_STATUS:
        raise ClinicalInputError.single("form_status", "must be incomplete or complete")
    if instance.form_status == m.FormStatus.VERIFIED:
        instance.form_status = m.FormStatus.COMPLETE
    if status is not None:
        instance.form_status = status
    if instance.form_status != m.FormStatus.VERIFIED:
        instance.verified_by = None
        instance.verified_at = None


# --- per-patient rows --------------------------------------------------------------------


def new_record(
    actor: Actor, kind: Kind, patient: m.Patient, payload: dict[str, Any], *, completed: bool = True
) -> m.PatientRecord:
    """*payload* validated and graded into an unsaved row: no write, so no lock is held
    while the engines run. Store it with :func:`save_new`."""
    actor.require(kind.write_perm)
    values = _values(kind, patient, payload)
    instance = kind.model(patient=patient, created_by=actor.user)
    apply_fields(instance, values)
    instance.completed = completed
    assert isinstance(instance, m.PatientRecord)
    return instance


#: Why a second CAR-T course is refused (issue 12 finding 3), and what to do instead.
#: Re-infusion is not modelled: the liso-cel label is for one infusion, and everything the
#: app derives is anchored on it — the ASTCT toxicity and daily-assessment windows, the
#: label obligations, the ADaM treatment start (TRTSDT) and the TRANSCEND CLL 004 endpoints,
#: where a further anticancer therapy ends the follow-up for response and PFS. A centre
#: therefore keeps the first course (corrected in place if it was never infused) and records
#: a re-infusion as a follow-up "new_therapy" event. The centre data format has the same
#: rule (one course per patient, docs/centre-data-format.md).
ONE_COURSE_PROBLEM = (
    "one CAR-T course per patient: correct the recorded course, or record a re-infusion as "
    "a follow-up event 'new_therapy' (it ends the follow-up of the first course for "
    "response and progression)"
)

#: Uniqueness a user can run into: model → (fields typed by the user, problem). The other
#: fields of the database constraint (patient, centre) come from the URL or the actor.
UNIQUE: dict[type[m.AuditedModel], tuple[tuple[str, ...], str]] = {
    m.Patient: (("patient_id",), "already registered at this centre"),
    m.PriorLine: (("line_number",), "this line is already recorded for the patient"),
    m.CellTherapy: ((), ONE_COURSE_PROBLEM),  # no field: one per patient, whatever its dates
}


def _unique_problem(instance: m.AuditedModel) -> ClinicalInputError | None:
    """The constraint *instance* would break, as an input error on the field (on the whole
    record for a rule without fields), or None."""
    rule = UNIQUE.get(type(instance))
    if rule is None:
        return None
    fields, problem = rule
    if isinstance(instance, m.Patient):
        scope: dict[str, Any] = {"centre": instance.centre}
    else:
        patient = instance.patient  # type: ignore[attr-defined]
        scope = {"patient": patient}
        if not fields:
            # No database constraint holds "one per patient": the patient's row is locked
            # for the rest of the write transaction so two saves cannot both pass (PostgreSQL;
            # SQLite serialises writes already).
            list(m.Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))
    same = type(instance).objects.filter(**scope, **{f: getattr(instance, f) for f in fields})
    if same.exclude(pk=instance.pk).exists():
        return ClinicalInputError.single(fields[-1] if fields else ROOT_PATH, problem)
    return None


def _save_unique(actor: Actor, instance: m.AuditedModel, reason: str = "") -> None:
    """:func:`_save` with a unique clash reported as bad input, never a database error.

    Checked inside the caller's write transaction (serialised on SQLite by BEGIN IMMEDIATE);
    on PostgreSQL a concurrent insert can still win the race, so the constraint's error is
    caught in a savepoint and explained by the same check.
    """
    problem = _unique_problem(instance)
    if problem is not None:
        raise problem
    try:
        with transaction.atomic():
            _save(actor, instance, reason)
    except IntegrityError:
        problem = _unique_problem(instance)
        if problem is None:
            raise
        raise problem from None


def save_new(actor: Actor, *instances: m.PatientRecord) -> None:
    """Store rows made by :func:`new_record`: all of them, audited, or none."""
    with transaction.atomic():
        for instance in instances:
            if isinstance(instance, m.CrsAssessment):
                # Graded again in the course as stored now: the rows saved just before in
                # this call (a FHIR bundle's earlier days) or meanwhile are part of it.
                apply_fields(instance, crs_course.regraded(instance))
            _save_unique(actor, instance)
            if isinstance(instance, m.CrsAssessment):
                _regrade_later_crs(actor, instance, _course_key(instance), "added")


def create_record(
    actor: Actor, kind: Kind, patient: m.Patient, payload: dict[str, Any], *, completed: bool = True
) -> m.PatientRecord:
    instance = new_record(actor, kind, patient, payload, completed=completed)
    save_new(actor, instance)
    return instance


def update_record(
    actor: Actor,
    kind: Kind,
    instance: m.PatientRecord,
    payload: dict[str, Any],
    *,
    version: int | None,
    reason: str = "",
    completed: bool | None = None,
    form_status: str | None = None,
) -> m.PatientRecord:
    actor.require(kind.write_perm)
    values = _values(kind, instance.patient, payload, instance.pk)
    if completed is not None and form_status is None:
        form_status = m.FormStatus.COMPLETE if completed else m.FormStatus.INCOMPLETE
    before: list[crs_course.CourseKey] = []

    def change(row: m.AuditedModel) -> None:
        if isinstance(row, m.CrsAssessment):
            before.append(_course_key(row))  # where it stood, read under the lock
        apply_fields(row, values)

    with transaction.atomic():
        current = locked_update(actor, instance, version, reason, form_status, change)
        if isinstance(current, m.CrsAssessment):
            # Moved in time: every assessment after the earlier of its two places may change.
            _regrade_later_crs(actor, current, min(*before, _course_key(current)), "changed")
    assert isinstance(current, m.PatientRecord)
    return current


def delete_record(
    actor: Actor, instance: m.AuditedModel, *, version: int | None, reason: str
) -> None:
    actor.require(Perm.DELETE_RECORDS)
    if not reason.strip():
        raise ReasonRequired("a reason is required to delete a record")
    _check_reason(reason)
    with transaction.atomic():
        current = _locked(instance, version)
        patient = current if isinstance(current, m.Patient) else current.patient  # type: ignore[attr-defined]
        quality.refuse_moved_anchors(patient, type(current), None, current.pk)
        current._history_user = actor.user  # type: ignore[attr-defined]
        current._change_reason = reason  # type: ignore[attr-defined]
        crs = current if isinstance(current, m.CrsAssessment) else None
        key = _course_key(crs) if crs is not None else None
        with audit_context(actor.username, reason):
            current.delete()
        if crs is not None and key is not None:
            _regrade_later_crs(actor, crs, key, "deleted")


def _course_key(row: m.AuditedModel) -> crs_course.CourseKey:
    assert isinstance(row, m.CrsAssessment)
    return crs_course.course_key(row.observed_at, row.pk)


def _regrade_later_crs(
    actor: Actor, changed: m.CrsAssessment, after: crs_course.CourseKey, happened: str
) -> None:
    """Store the new grade of each later CRS assessment of the patient whose grade (or its
    reasons) the change of *changed* alters: the course grades each assessment with the
    earlier ones (contract v2 item 2). Audited like any save, with the reason; the
    version moves on (the stored row changed), the form status stays (the values the
    status is about did not change)."""
    day = timezone.localdate(after[0]).isoformat()
    reason = f"re-graded: earlier assessment of {day} {happened}"
    for row, computed in crs_course.later_regrades(changed.patient, after):
        apply_fields(row, computed)
        row.version += 1
        _save(actor, row, reason)


def locked_update(
    actor: Actor,
    instance: m.AuditedModel,
    version: int | None,
    reason: str,
    form_status: str | None,
    change: Callable[[m.AuditedModel], None],
) -> m.AuditedModel:
    """The one update step every kind shares: lock the version read, require the reason,
    apply *change*, set the status, bump the version, save audited."""
    with transaction.atomic():
        current = _locked(instance, version)
        _needs_reason(current, reason)
        change(current)
        _set_status(current, form_status)
        current.version += 1
        _save_unique(actor, current, reason)
    return current


def verify_record(actor: Actor, instance: m.AuditedModel, *, version: int | None) -> None:
    """Mark a complete record verified against the source (physician or data manager)."""
    actor.require(Perm.VERIFY_RECORDS)
    with transaction.atomic():
        current = _locked(instance, version)
        if current.form_status == m.FormStatus.INCOMPLETE:
            raise ClinicalInputError.single(
                "form_status", "an incomplete form cannot be verified: complete it first"
            )
        if current.form_status == m.FormStatus.VERIFIED:
            return
        current.form_status = m.FormStatus.VERIFIED
        current.verified_by = actor.user
        current.verified_at = timezone.now()
        current.version += 1
        _save(actor, current, "verified against the source")


# --- patients ----------------------------------------------------------------------------


def _patient_values(actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
    refuse_unstorable(payload)  # hospital_number is taken out before the row model sees the rest
    payload = dict(payload)
    # The hospital number is the web app's only identifying field; it is not part of the
    # centre data format, so it is taken out before the row model sees the payload.
    hospital_number = payload.pop("hospital_number", "")
    if not isinstance(hospital_number, str) or len(hospital_number) > 64:
        raise ClinicalInputError.single("hospital_number", "must be text of at most 64 characters")
    problem = text_problem(hospital_number)  # one line: no control, bidi or invisible chars
    if problem is not None:
        raise ClinicalInputError.single("hospital_number", problem)
    assert actor.centre is not None
    row = _validate(m_row("patients"), payload, centre_id=actor.centre.code)
    values = row_to_fields(row)
    values["patient_id"] = cast(Any, row).patient_id
    values["hospital_number"] = hospital_number
    return values


def m_row(stem: str) -> type[BaseModel]:
    return next(model for s, model in ROW_MODELS.values() if s == stem)


def create_patient(actor: Actor, payload: dict[str, Any], *, completed: bool = True) -> m.Patient:
    actor.require(Perm.WRITE_PATIENTS)
    values = _patient_values(actor, payload)
    patient = m.Patient(centre=actor.centre, created_by=actor.user)
    apply_fields(patient, values)
    patient.completed = completed
    with transaction.atomic():
        _save_unique(actor, patient)
    return patient


def update_patient(
    actor: Actor,
    patient: m.Patient,
    payload: dict[str, Any],
    *,
    version: int | None,
    reason: str = "",
    form_status: str | None = None,
) -> m.Patient:
    actor.require(Perm.WRITE_PATIENTS)
    values = _patient_values(actor, payload)
    if values["patient_id"] != patient.patient_id:
        raise ClinicalInputError.single("patient_id", "cannot be changed")
    quality.refuse_moved_anchors(patient, m.Patient, values, patient.pk)
    current = locked_update(
        actor, patient, version, reason, form_status, lambda row: apply_fields(row, values)
    )
    assert isinstance(current, m.Patient)
    return current


# --- eligibility -------------------------------------------------------------------------


def create_eligibility(
    actor: Actor, patient: m.Patient, document: dict[str, Any]
) -> m.EligibilityCheck:
    """Check the label in force and store the decision with the input and the label version."""
    actor.require(Perm.EDIT_ELIGIBILITY)
    refuse_unstorable(document)
    request, result = grading.check_eligibility(document)
    check = m.EligibilityCheck(
        patient=patient,
        created_by=actor.user,
        as_of=cast(Any, request).as_of,
        input=request.model_dump(mode="json"),
        eligible=result["eligible"],
        label_version=result["label_version"],
        indication=result.get("indication") or "",
        standard=str(result.get("standard") or result["label_version"]),
        reasons=list(result["reasons"]),
        result=result,
    )
    with transaction.atomic():
        _save(actor, check)
    return check
