"""The CIBMTR registry report of a centre (interop contract, "Registry export"): the forms due
per patient, each element's value, status and provenance, and the export files.

Reads only through ``web/access.py`` scoping (``Actor.patients()``) and the stored checks
(``services/stored_checks.py``): a patient whose stored records fail the checks is left out
and named, as in the other exports. The derivation is ``cartwatch.interop.cibmtr`` (pure);
this module adds the record ids (so the pages link each value to the record it came from)
and the audit event of a download. The report is identifiable (the data manager's and the
centre administrator's: ``Perm.REGISTRY``).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from cartwatch.centre.loader import CentreData
from cartwatch.interop.cibmtr import (
    PatientRegistry,
    RegistryExport,
    SourceRef,
    derive_registry,
)
from cartwatch.interop.cibmtr_files import registry_files, write_folder
from cartwatch.interop.cibmtr_forms import unverified_count
from cartwatch.web.access import Actor, Perm
from cartwatch.web.patients import models as m
from cartwatch.web.services.exports import audit_export
from cartwatch.web.services.stored_checks import CheckedCentre, StoredProblem, checked_records

#: The audit log's name for a registry download (object_id and after.format of the event).
REGISTRY_FORMAT = "cibmtr-registry"


@dataclass(frozen=True)
class CentreRegistry:
    """A centre's registry report and what was left out."""

    centre: str
    export: RegistryExport
    checked: CheckedCentre
    #: The stored record id of each row of ``checked.data``, by file stem, in row order (a
    #: value derived from "crs_observations row 3" links to that record's page).
    record_ids: dict[str, tuple[int, ...]]

    def record_id(self, ref: SourceRef) -> int | None:
        ids = self.record_ids.get(ref.file, ())
        return ids[ref.index] if ref.index < len(ids) else None

    @property
    def problems(self) -> tuple[StoredProblem, ...]:
        return self.checked.problems

    def summary(self) -> dict[str, Any]:
        counts = self.export.counts()
        required = counts["required"]
        return {
            "centre": self.centre,
            "as_of": self.export.as_of.isoformat(),
            **counts,
            "percent_complete": round(100 * counts["present"] / required, 1) if required else None,
            "unverified_elements": unverified_count(),
            "excluded": list(self.checked.excluded),
        }


def registry_of(patients: QuerySet[m.Patient], centre: str, as_of: dt.date) -> CentreRegistry:
    """The registry report of *patients* (scoped by the caller) on *as_of*."""
    rows, problems = checked_records(patients)
    data = CentreData(**{stem: tuple(row for _, row in pairs) for stem, pairs in rows.items()})
    ids = {stem: tuple(int(instance.pk) for instance, _ in pairs) for stem, pairs in rows.items()}
    checked = CheckedCentre(data, problems)
    return CentreRegistry(centre, derive_registry(data, as_of), checked, ids)


def centre_registry(actor: Actor, as_of: dt.date) -> CentreRegistry:
    actor.require(Perm.REGISTRY)
    assert actor.centre is not None
    return registry_of(actor.patients(), actor.centre.code, as_of)


def patient_registry(
    actor: Actor, patient_id: str, as_of: dt.date
) -> tuple[PatientRegistry | None, CentreRegistry]:
    """One patient's registry report (Http404 outside the actor's centre); None when the
    patient's stored records fail the checks (``problems`` names them)."""
    actor.require(Perm.REGISTRY)
    assert actor.centre is not None
    patient = actor.patient(patient_id)
    report = registry_of(actor.patients().filter(pk=patient.pk), actor.centre.code, as_of)
    found = [p for p in report.export.patients if p.patient_id == patient_id]
    return (found[0] if found else None), report


def _record(actor: str, role: str, report: CentreRegistry, files: list[str]) -> None:
    audit_export(
        who=actor, role=role, centre=report.centre, fmt=REGISTRY_FORMAT, files=files,
        patients=len(report.export.patients), pseudonymised=False,
        as_of=report.export.as_of.isoformat(), excluded=list(report.checked.excluded),
    )  # fmt: skip


def _files(report: CentreRegistry) -> dict[str, bytes]:
    files = registry_files(report.export, report.centre)
    if report.problems:
        files["EXCLUDED.txt"] = report.checked.report_text(True).encode("utf-8")
    return files


def registry_zip(actor: Actor, as_of: dt.date) -> tuple[str, bytes]:
    """The export files as a zip and its name; records an ``export`` audit event."""
    report = centre_registry(actor, as_of)
    files = _files(report)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    _record(actor.username, str(actor.role), report, sorted(files))
    return f"cartwatch-{report.centre}-cibmtr-{as_of.isoformat()}.zip", buffer.getvalue()


def write_registry(
    patients: QuerySet[m.Patient], centre: str, as_of: dt.date, out: Path, force: bool, who: str
) -> CentreRegistry:
    """``cartwatch registry cibmtr``: write the files to *out* (atomically) and audit it."""
    report = registry_of(patients, centre, as_of)
    files = _files(report)
    write_folder(files, out, force)
    _record(who, "command line", report, sorted(files))
    return report
