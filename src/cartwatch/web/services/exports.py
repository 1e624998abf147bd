"""Export of the centre's data (centre data format, ADaM, FHIR R4, or the outcomes report as
HTML), role-checked and audited.

Researchers (no 'identifiable' permission) get the research view (``web/research_view.py``):
only consenting patients (``Actor.patients``), free text blanked, agent and product names
coded. The web-only hospital number is never exported.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from cartwatch.centre.loader import FILE_SPECS, CentreData, write_centre_dir
from cartwatch.web.access import Actor, Perm
from cartwatch.web.audit.chain import record_event
from cartwatch.web.audit.models import Action
from cartwatch.web.patients import models as m
from cartwatch.web.research_view import research_view
from cartwatch.web.services.errors import NothingToReport, Unavailable
from cartwatch.web.services.rows import ROW_MODELS
from cartwatch.web.services.stored_checks import CheckedCentre, checked_centre

#: "fhir-r4": the journeys as a FHIR R4 Bundle (``services/fhir_export.py``), zipped like the rest.
FORMATS = ("centre-csv", "adam-csv", "adam-xpt", "fhir-r4")
#: In an export zip when patients were left out: who and why (services/stored_checks.py).
EXCLUDED_FILE = "EXCLUDED.txt"
#: The audit log's name for the report download (object_id and after.format of the event).
REPORT_FORMAT = "report-html"


def checked_centre_data(actor: Actor) -> CheckedCentre:
    """The actor's centre as validated centre-format rows (pseudonymised if required),
    without the patients whose stored records fail the checks (named in ``problems``:
    services/stored_checks.py), so one bad row never takes down an export."""
    return checked_rows_of(actor.patients(), identifiable=actor.identifiable)


def centre_data(actor: Actor) -> CentreData:
    """The actor's centre as validated centre-format rows (pseudonymised if required); the
    patients with a stored record that fails the checks are left out."""
    return checked_centre_data(actor).data


def checked_rows_of(patients: QuerySet[m.Patient], *, identifiable: bool) -> CheckedCentre:
    """These patients' rows in the centre format, as the research view shows them (free text
    blanked, names coded: ``web/research_view.py``) unless *identifiable*, without the
    patients whose stored records fail the checks (named in ``problems``).

    Callers scope *patients* (``Actor.patients()``, or one centre for the network's counts,
    which never leave the server as rows)."""
    checked = checked_centre(patients)
    if identifiable:
        return checked
    model_of = {stem: model for model, (stem, _) in ROW_MODELS.items()}
    blanked: dict[str, tuple[Any, ...]] = {}
    for spec in FILE_SPECS:
        blanked[spec.stem] = tuple(
            row.model_copy(update=research_view(model_of[spec.stem], dict(row))[0])
            for row in checked.data.rows(spec.stem)
        )
    return replace(checked, data=CentreData(**blanked))


def rows_of(patients: QuerySet[m.Patient], *, identifiable: bool) -> CentreData:
    """:func:`checked_rows_of` without the problems (the patients with one left out)."""
    return checked_rows_of(patients, identifiable=identifiable).data


def _adam_files(data: CentreData, folder: Path, fmt: str) -> None:
    """ADSL/ADRS/ADTTE/ADAE by ``cartwatch.adam`` (the same derivation and writer as
    ``adam derive``)."""
    try:
        from cartwatch.adam.derive import derive_adam
    except ImportError as exc:  # a build without the ADaM package
        raise Unavailable("ADaM derivation is not available in this build") from exc
    derive_adam(data).write(folder, csv=fmt == "adam-csv", xpt=fmt == "adam-xpt")


def audit_export(
    *,
    who: str,
    role: str,
    centre: str,
    fmt: str,
    files: list[str],
    patients: int,
    pseudonymised: bool,
    **extra: Any,
) -> None:
    """The audit event of every export (centre format, ADaM, report, FHIR, registry): who,
    in which role, which centre, what format and files, how many patients, pseudonymised or
    not, and what the kind of export adds (*extra*)."""
    record_event(
        Action.EXPORT,
        actor=who,
        model="export",
        object_id=fmt,
        centre=centre,
        after={
            "format": fmt,
            "files": files,
            "patients": patients,
            "pseudonymised": pseudonymised,
            "role": role,
            **extra,
        },
        reason="",
    )


def record_export(actor: Actor, fmt: str, files: list[str], patients: int, **extra: Any) -> None:
    """:func:`audit_export` for a signed-in actor (pseudonymised unless identifiable, or as
    *extra* says)."""
    assert actor.centre is not None
    fields: dict[str, Any] = {"pseudonymised": not actor.identifiable, **extra}
    audit_export(
        who=actor.username, role=str(actor.role), centre=actor.centre.code, fmt=fmt,
        files=files, patients=patients, **fields,
    )  # fmt: skip


def export_centre(actor: Actor, fmt: str) -> tuple[str, bytes]:
    """A zip of the export and its file name; records an ``export`` audit event."""
    actor.require(Perm.EXPORT)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt == "fhir-r4":
        from cartwatch.web.services.fhir_export import export_zip  # it imports this module

        return export_zip(actor)
    checked = checked_centre_data(actor)
    data = checked.data
    assert actor.centre is not None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if fmt == "centre-csv":
            write_centre_dir(data, folder)
        else:
            _adam_files(data, folder, fmt)
        if checked.problems:
            # Not a .csv: the centre-format loader ignores it when the folder is read back.
            text = checked.report_text(actor.identifiable)
            (folder / EXCLUDED_FILE).write_text(text, encoding="utf-8")
        buffer = io.BytesIO()
        names = sorted(p.name for p in folder.iterdir())
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                archive.write(folder / name, arcname=name)
    record_export(actor, fmt, names, len(data.patients), excluded=list(checked.excluded))
    return f"cartwatch-{actor.centre.code}-{fmt}.zip", buffer.getvalue()


def export_report(actor: Actor) -> tuple[str, bytes]:
    """The outcomes report of the actor's centre as one self-contained HTML file.

    The same pipeline as ``cartwatch demo``/``report``: centre rows → ``derive_adam`` →
    ``build_report`` → ``render_html``; the web layer only supplies the centre's rows. The
    report holds aggregates and pseudonyms only (no hospital number, no free text). Records an
    ``export`` audit event like the other formats.
    """
    actor.require(Perm.EXPORT)
    assert actor.centre is not None
    try:
        from cartwatch.adam.derive import derive_adam
        from cartwatch.outcomes.report import ReportInputError, build_report
        from cartwatch.outcomes.report_render import render_html
        from cartwatch.outcomes.tables import AdamData
    except ImportError as exc:  # a build without the ADaM/report packages
        raise Unavailable("the outcomes report is not available in this build") from exc
    checked = checked_centre_data(actor)
    data = checked.data
    if not data.patients:
        if checked.problems:
            raise NothingToReport(f"no patient's records pass the checks: {checked.note()}")
        raise NothingToReport("no patients are recorded at this centre yet")
    adam = derive_adam(data)
    source = f"centre {actor.centre.code}: {len(data.patients)} patients recorded in cartwatch"
    if checked.problems:
        source += f"; {checked.note()} (see the work list)"
    try:
        report = build_report(
            AdamData(adsl=adam.adsl, adrs=adam.adrs, adtte=adam.adtte, adae=adam.adae),
            source_label=source,
        )
    except ReportInputError as exc:
        raise NothingToReport(f"the centre's data cannot make a report yet: {exc}") from exc
    content = render_html(report).encode("utf-8")
    filename = f"cartwatch-{actor.centre.code}-report.html"
    record_export(
        actor,
        REPORT_FORMAT,
        [filename],
        len(data.patients),
        data_cutoff=adam.data_cutoff.isoformat(),
        excluded=list(checked.excluded),
    )
    return filename, content
