"""Label eligibility decisions: "relapsed or refractory" from the record, correction, re-run.

An eligibility decision is never made by a default. "Relapsed or refractory" is either
derived from the recorded prior lines (a line that ended in progression or refractory
disease) or chosen explicitly as yes or no; an empty choice is refused. A stored decision
is corrected like any record (version, reason) or re-run on the patient's current records
after a correction (age, diagnosis, prior lines), with the label version in force on its
decision date; the history keeps the decision it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.web.access import Actor, Perm
from cartwatch.web.patients import models as m
from cartwatch.web.services import grading, records

FIELD = "relapsed_or_refractory"
DERIVE = "derive"
#: Prior-line outcomes that make the disease relapsed or refractory.
RELAPSED_OUTCOMES = frozenset({m.PriorLineOutcome.PROGRESSION, m.PriorLineOutcome.REFRACTORY})


def derived_relapsed(lines: Sequence[m.PriorLine]) -> bool | None:
    """True when a recorded line ended in progression or refractory disease; None when the
    record cannot say (no such line: a completed or intolerant line proves nothing)."""
    return True if any(line.outcome in RELAPSED_OUTCOMES for line in lines) else None


def resolve_choice(choice: Any, lines: Sequence[m.PriorLine]) -> bool:
    """The form's tri-state (derive / yes / no; no default) as the engine's boolean."""
    if choice in (True, "yes"):
        return True
    if choice in (False, "no"):
        return False
    if choice == DERIVE:
        derived = derived_relapsed(lines)
        if derived is None:
            raise ClinicalInputError.single(
                FIELD,
                "cannot be derived: no recorded prior line ended in progression or refractory "
                "disease; choose yes or no",
            )
        return derived
    raise ClinicalInputError.single(
        FIELD, "choose yes, no, or derive it from the recorded prior lines (there is no default)"
    )


def prior_lines(actor: Actor, patient: m.Patient) -> list[m.PriorLine]:
    return actor.patient_records(m.PriorLine, patient, order_by=["line_number", "pk"])


def document(actor: Actor, patient: m.Patient, payload: dict[str, Any]) -> dict[str, Any]:
    """The engine's input from a form payload: the tri-state resolved, nothing defaulted."""
    out = dict(payload)
    out[FIELD] = resolve_choice(payload.get(FIELD), prior_lines(actor, patient))
    return out


def _apply(check: m.AuditedModel, doc: dict[str, Any]) -> None:
    assert isinstance(check, m.EligibilityCheck)
    request, result = grading.check_eligibility(doc)
    check.as_of = cast(Any, request).as_of
    check.input = request.model_dump(mode="json")
    check.eligible = result["eligible"]
    check.label_version = result["label_version"]
    check.indication = result.get("indication") or ""
    check.standard = str(result.get("standard") or result["label_version"])
    check.reasons = list(result["reasons"])
    check.result = result


def update_eligibility(
    actor: Actor,
    check: m.EligibilityCheck,
    doc: dict[str, Any],
    *,
    version: int | None,
    reason: str,
    form_status: str | None = None,
) -> m.EligibilityCheck:
    """Correct a stored decision: checked again, stored with the reason (history kept)."""
    actor.require(Perm.EDIT_ELIGIBILITY)
    records.refuse_unstorable(doc)
    grading.check_eligibility(doc)  # refused input never takes a lock
    return cast(
        m.EligibilityCheck,
        records.locked_update(actor, check, version, reason, form_status, lambda c: _apply(c, doc)),
    )


def rerun_document(actor: Actor, check: m.EligibilityCheck) -> dict[str, Any]:
    """The stored input with the patient's current age, diagnosis and prior lines; the
    relapsed/refractory answer re-derived when the lines show it, else the stored one."""
    patient = check.patient
    lines = prior_lines(actor, patient)
    doc = dict(check.input)
    doc["age_years"] = patient.age_years
    doc["diagnosis"] = patient.diagnosis
    doc["prior_lines"] = [{"agents": list(line.agents)} for line in lines]
    derived = derived_relapsed(lines)
    if derived is not None:
        doc[FIELD] = derived
    return doc


def rerun_eligibility(
    actor: Actor, check: m.EligibilityCheck, *, version: int | None, reason: str
) -> m.EligibilityCheck:
    return update_eligibility(
        actor, check, rerun_document(actor, check), version=version, reason=reason
    )
