"""Export of the centre's data (centre data format or ADaM), role-checked and audited.

Researchers (no 'identifiable' permission) get the pseudonymised form: the web-only hospital
number is never exported, and free-text fields are blanked for them.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from cartwatch.centre.loader import FILE_SPECS, CentreData, write_centre_dir
from cartwatch.web.access import Actor, Perm
from cartwatch.web.audit.chain import record_event
from cartwatch.web.audit.models import Action
from cartwatch.web.patients import models as m
from cartwatch.web.services.errors import Unavailable
from cartwatch.web.services.rows import ROW_MODELS, to_row

FORMATS = ("centre-csv", "adam-csv", "adam-xpt")


def centre_data(actor: Actor) -> CentreData:
    """The actor's centre as validated centre-format rows (pseudonymised if required)."""
    patients = actor.patients()
    by_stem: dict[str, list[Any]] = {spec.stem: [] for spec in FILE_SPECS}
    for model, (stem, _) in ROW_MODELS.items():
        queryset = patients if model is m.Patient else model.objects.filter(patient__in=patients)
        for instance in queryset.order_by("pk"):
            row = to_row(instance)
            if not actor.identifiable and "detail" in type(row).model_fields:
                row = row.model_copy(update={"detail": None})
            by_stem[stem].append(row)
    return CentreData(**{stem: tuple(rows) for stem, rows in by_stem.items()})


def _adam_files(data: CentreData, folder: Path, fmt: str) -> None:
    """ADSL/ADRS/ADTTE/ADAE by ``cartwatch.adam`` (the same derivation as ``adam derive``)."""
    try:
        from cartwatch.adam.derive import derive_adam
        from cartwatch.adam.xpt import write_adam_csv, write_xpt
    except ImportError as exc:  # a build without the ADaM package
        raise Unavailable("ADaM derivation is not available in this build") from exc
    datasets = derive_adam(data)
    for spec, frame in datasets.items():
        stem = spec.name.lower()
        if fmt == "adam-xpt":
            lengths = {v.name: v.length for v in spec.variables if v.type == "Char"}
            write_xpt(
                frame,
                folder / f"{stem}.xpt",
                spec.name,
                spec.labels(),
                dataset_label=spec.label,
                lengths=lengths,
            )
        else:
            write_adam_csv(frame, folder / f"{stem}.csv", spec)


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
    record_event(
        Action.EXPORT,
        actor=actor.username,
        model="export",
        object_id=fmt,
        centre=actor.centre.code,
        after={
            "format": fmt,
            "files": names,
            "patients": len(data.patients),
            "pseudonymised": not actor.identifiable,
            "role": str(actor.role),
        },
        reason="",
    )
    return f"cartwatch-{actor.centre.code}-{fmt}.zip", buffer.getvalue()
