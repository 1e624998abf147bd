"""Stored records the rules refuse: found, named, and left out of the centre's analyses.

The write path (``services/records.py``) refuses bad input, but a row the rules refuse can
still be in the database: written before a rule existed (an infusion dated 9999-12-31, a
second CAR-T course, a follow-up dated 0001-01-01 — issue 12 findings 2 and 3), restored
from an old backup, or changed by hand. One such row took down every export and the report
of its centre. Here every stored row of the centre is validated again with its row model
(the shared date rule included) and the centre format's cross-file rules (the CSV loader's
``integrity_problems``: one course per patient, nothing before the infusion that grades
it, nothing after a death…). A patient with any problem is left out of the centre data as
a whole — half of a patient's record would give wrong endpoints — and every problem is
named, so the exports (``EXCLUDED.txt``), the report and the audit event say who is missing
and why, while the rest of the centre still exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pydantic
from django.db.models import Model, QuerySet

from cartwatch.centre.loader import FILE_SPECS, CentreData, integrity_problems
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.errors import problems_from
from cartwatch.web.patients import models as m
from cartwatch.web.services.rows import ROW_MODELS, to_row

#: Shown to a role that sees no identifiable data instead of the message, which may quote
#: the stored value (free text).
HIDDEN_MESSAGE = "refused by the checks (details for the centre's clinical staff)"


@dataclass(frozen=True)
class StoredProblem:
    """One stored record the rules refuse: whose, which file of the format, which field."""

    patient_id: str
    file: str  # centre-format file stem, e.g. "cell_therapy"
    record_id: int
    field: str
    message: str

    def text(self, identifiable: bool = True) -> str:
        message = self.message if identifiable else HIDDEN_MESSAGE
        field = f" {self.field}:" if self.field else ""
        return f"{self.patient_id}: {self.file} record {self.record_id}:{field} {message}"


@dataclass(frozen=True)
class CheckedCentre:
    """The centre data without the patients that have a problem, and the problems."""

    data: CentreData
    problems: tuple[StoredProblem, ...]

    @property
    def excluded(self) -> tuple[str, ...]:
        """The patients left out, in pseudonym order."""
        return excluded_of(self.problems)

    def note(self) -> str:
        """One sentence naming the patients left out ("" when none)."""
        return excluded_note(self.problems)

    def report_text(self, identifiable: bool) -> str:
        """``EXCLUDED.txt`` of an export: the note, then one problem per line."""
        return excluded_text(self.problems, identifiable)


def excluded_of(problems: Sequence[StoredProblem]) -> tuple[str, ...]:
    """The patients *problems* leave out, in pseudonym order."""
    return tuple(sorted({p.patient_id for p in problems}))


def excluded_note(problems: Sequence[StoredProblem]) -> str:
    """One sentence naming the patients *problems* leave out ("" when none)."""
    if not problems:
        return ""
    excluded = excluded_of(problems)
    return (
        f"{len(excluded)} patient(s) left out because a stored record fails the "
        f"checks: {', '.join(excluded)}"
    )


def excluded_text(problems: Sequence[StoredProblem], identifiable: bool) -> str:
    """``EXCLUDED.txt`` of every export: the note, then one problem per line."""
    lines = [excluded_note(problems), "", *(p.text(identifiable) for p in problems)]
    return "\n".join(lines) + "\n"


def _patient_id(instance: Model) -> str:
    if isinstance(instance, m.Patient):
        return instance.patient_id
    return str(instance.patient.patient_id)  # type: ignore[attr-defined]


def _stored_rows(
    patients: QuerySet[m.Patient],
) -> tuple[dict[str, list[tuple[Model, Any]]], list[StoredProblem]]:
    """Every row of *patients* validated by its row model, by file stem, and the problems
    of the rows that fail."""
    rows: dict[str, list[tuple[Model, Any]]] = {spec.stem: [] for spec in FILE_SPECS}
    problems: list[StoredProblem] = []
    for model, (stem, _) in ROW_MODELS.items():
        queryset: QuerySet[Any]
        if model is m.Patient:
            queryset = patients
        else:
            queryset = model._default_manager.filter(patient__in=patients).select_related("patient")
        for instance in queryset.order_by("pk"):
            try:
                row = to_row(instance)
            except (pydantic.ValidationError, ClinicalInputError) as exc:
                for line in problems_from(exc):
                    field, _, message = line.partition(": ")
                    problems.append(
                        StoredProblem(_patient_id(instance), stem, instance.pk, field, message)
                    )
                continue
            rows[stem].append((instance, row))
    return rows, problems


def _without(
    rows: dict[str, list[tuple[Model, Any]]], patients: set[str]
) -> dict[str, list[tuple[Model, Any]]]:
    return {
        stem: [(i, row) for i, row in pairs if row.patient_id not in patients]
        for stem, pairs in rows.items()
    }


def _cross_file(rows: dict[str, list[tuple[Model, Any]]]) -> list[StoredProblem]:
    found = integrity_problems({stem: [row for _, row in pairs] for stem, pairs in rows.items()})
    out = []
    for problem in found:
        stem = problem.file.removesuffix(".csv")
        instance, row = rows[stem][problem.row - 1]
        out.append(StoredProblem(row.patient_id, stem, instance.pk, problem.field, problem.message))
    return out


def checked_records(
    patients: QuerySet[m.Patient],
) -> tuple[dict[str, list[tuple[Model, Any]]], tuple[StoredProblem, ...]]:
    """(stored row, validated centre-format row) pairs by file stem of *patients* (scoped
    by the caller), without the patients whose stored records fail the row models or the
    cross-file rules; these are named in the problems. The FHIR export needs the stored
    rows too (their ids, form status and grades)."""
    rows, problems = _stored_rows(patients)
    rows = _without(rows, {p.patient_id for p in problems})
    cross = _cross_file(rows)
    rows = _without(rows, {p.patient_id for p in cross})
    return rows, _in_order(problems + cross)


def checked_centre(patients: QuerySet[m.Patient]) -> CheckedCentre:
    """*patients* (scoped by the caller) as centre-format rows, without those whose stored
    records fail the row models or the cross-file rules; these are named in ``problems``."""
    rows, problems = checked_records(patients)
    data = CentreData(**{stem: tuple(row for _, row in pairs) for stem, pairs in rows.items()})
    return CheckedCentre(data, problems)


def _in_order(problems: Sequence[StoredProblem]) -> tuple[StoredProblem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.patient_id, p.file, p.record_id, p.field)))
