"""Export of the centre's data (centre data format, ADaM, or the outcomes report as HTML),
role-checked and audited.

Researchers (no 'identifiable' permission) get the pseudonymised form: the web-only hospital
number is never exported, and free-text fields are blanked for them.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from cartwatch.centre.loader import FILE_SPECS, CentreData, write_centre_dir
from cartwatch.web.access import Actor, Perm
from cartwatch.web.audit.chain import record_event
from cartwatch.web.audit.models import Action
from cartwatch.web.patients import models as m
from cartwatch.web.services.errors import NothingToReport, Unavailable
from cartwatch.web.services.rows import ROW_MODELS, to_row

FORMATS = ("centre-csv", "adam-csv", "adam-xpt")
#: The audit log's name for the report download (object_id and after.format of the event).
REPORT_FORMAT = "report-html"


def centre_data(actor: Actor) -> CentreData:
    """The actor's centre as validated centre-format rows (pseudonymised if required)."""
    return rows_of(actor.patients(), identifiable=actor.identifiable)


def rows_of(patients: QuerySet[m.Patient], *, identifiable: bool) -> CentreData:
    """These patients' rows in the centre format; free text blanked unless *identifiable*.

    Callers scope *patients* (``Actor.patients()``, or one centre for the network's counts,
    which never leave the server as rows)."""
    by_stem: dict[str, list[Any]] = {spec.stem: [] for spec in FILE_SPECS}
    for model, (stem, _) in ROW_MODELS.items():
        queryset = (
            patients if model is m.Patient else model._default_manager.filter(patient__in=patients)
        )
        for instance in queryset.order_by("pk"):
            row = to_row(instance)
            if not identifiable and "detail" in type(row).model_fields:
                row = row.model_copy(update={"detail": None})
            by_stem[stem].append(row)
    return CentreData(**{stem: tuple(rows) for stem, rows in by_stem.items()})


def _adam_files(data: CentreData, folder: Path, fmt: str) -> None:
    """ADSL/ADRS/ADTTE/ADAE by ``cartwatch.adam`` (the same derivation and writer as
    ``adam derive``)."""
    try:
        from cartwatch.adam.derive import derive_adam
    except ImportError as exc:  # a build without the ADaM package
        raise Unavailable("ADaM derivation is not available in this build") from exc
    derive_adam(data).write(folder, csv=fmt == "adam-csv", xpt=fmt == "adam-xpt")


def _record_export(actor: Actor, fmt: str, files: list[str], patients: int, **extra: Any) -> None:
    assert actor.centre is not None
    record_event(
        Action.EXPORT,
        actor=actor.username,
        model="export",
        object_id=fmt,
        centre=actor.centre.code,
        after={
            "format": fmt,
            "files": files,
            "patients": patients,
            "pseudonymised": not actor.identifiable,
            "role": str(actor.role),
            **extra,
        },
        reason="",
    )


def export_centre(actor: Actor, fmt: str) -> tuple[str, bytes]:
    """A zip of the export and its file name; records an ``export`` audit event."""
    actor.require(Perm.EXPORT)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    data = centre_data(actor)
    assert actor.centre is not None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if fmt == "centre-csv":
            write_centre_dir(data, folder)
        else:
            _adam_files(data, folder, fmt)
        buffer = io.BytesIO()
        names = sorted(p.name for p in folder.iterdir())
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                archive.write(folder / name, arcname=name)
    _record_export(actor, fmt, names, len(data.patients))
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
        from cartwatch.outcomes.report import ReportInputError, build_report, render_html
        from cartwatch.outcomes.tables import AdamData
    except ImportError as exc:  # a build without the ADaM/report packages
        raise Unavailable("the outcomes report is not available in this build") from exc
    data = centre_data(actor)
    if not data.patients:
        raise NothingToReport("no patients are recorded at this centre yet")
    adam = derive_adam(data)
    source = f"centre {actor.centre.code}: {len(data.patients)} patients recorded in cartwatch"
    try:
        report = build_report(
            AdamData(adsl=adam.adsl, adrs=adam.adrs, adtte=adam.adtte, adae=adam.adae),
            source_label=source,
        )
    except ReportInputError as exc:
        raise NothingToReport(f"the centre's data cannot make a report yet: {exc}") from exc
    content = render_html(report).encode("utf-8")
    filename = f"cartwatch-{actor.centre.code}-report.html"
    _record_export(
        actor,
        REPORT_FORMAT,
        [filename],
        len(data.patients),
        data_cutoff=adam.data_cutoff.isoformat(),
    )
    return filename, content
