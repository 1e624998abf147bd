"""The files of a CIBMTR registry export: ``elements.csv``, ``completeness.csv``,
``manifest.json`` and ``README.txt``, as bytes (for a zip) or written to a folder atomically
(a temporary folder beside it, then renamed; an existing non-empty folder only with
``force``)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cartwatch import __version__
from cartwatch.interop.cibmtr import RegistryExport
from cartwatch.interop.cibmtr_forms import ELEMENTS, FORMS, unverified_count

ELEMENT_COLUMNS = (
    "patient_id", "form", "timepoint", "question", "key", "value", "status", "provenance",
    "verified", "wording", "source",
)  # fmt: skip
COMPLETENESS_COLUMNS = (
    "patient_id", "form", "timepoint", "due", "period_start", "period_end", "required",
    "present", "missing", "not_collected", "missing_keys",
)  # fmt: skip

README = """\
cartwatch CIBMTR registry export (cellular-therapy forms)

Data cut (as of): {as_of}; cartwatch {version}.

Files
  elements.csv      one row per patient, form instance and question: the value cartwatch
                    derived, its status (present / missing / not_applicable /
                    not_collected), where it came from (provenance: file and row of the
                    centre data format, and how it was derived), whether the question
                    number and wording were read in the public Forms Instruction Manual
                    (verified) and the manual page (source).
  completeness.csv  one row per patient and form instance: how many of the elements the
                    registry needs are present, which are missing (missing_keys), and how
                    many cartwatch does not collect (enter those on FormsNet directly).
  manifest.json     forms, their manual sources, counts, the number of UNVERIFIED
                    elements and the sha256 of every other file.

Important
  {unverified} of {elements} elements are UNVERIFIED: their question number (empty in
  elements.csv), wording, answer options or the form's revision could not be checked in a
  stored copy of the CIBMTR Forms Instruction Manual. Check every UNVERIFIED element against
  the current manual before submission. Question numbers change between form revisions.
  "missing" is never "No" or 0: a question cartwatch cannot answer is left for you.
  The files name patients by their cartwatch pseudonym; FormsNet needs the CRID.
"""


class ExportFolderError(ValueError):
    """The output folder cannot be used: (field path, problem)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _csv(header: tuple[str, ...], rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def element_rows(export: RegistryExport) -> list[list[object]]:
    rows: list[list[object]] = []
    for f in export.forms:
        for v in f.values:
            e = v.element
            rows.append(
                [
                    f.patient_id, f.form, f.timepoint, e.question or "", e.key, v.value,
                    v.status.value, v.provenance, "yes" if e.verified else "UNVERIFIED",
                    e.wording, e.source,
                ]
            )  # fmt: skip
    return rows


def completeness_rows(export: RegistryExport) -> list[list[object]]:
    def day(value: object) -> str:
        return value.isoformat() if hasattr(value, "isoformat") else ""

    return [
        [
            f.patient_id, f.form, f.timepoint, f.due.isoformat(), day(f.period_start),
            day(f.period_end), f.required, f.present, len(f.missing_keys), f.not_collected,
            ";".join(f.missing_keys),
        ]
        for f in export.forms
    ]  # fmt: skip


def registry_files(export: RegistryExport, centre: str) -> dict[str, bytes]:
    """The four files by name (README.txt, completeness.csv, elements.csv, manifest.json)."""
    files = {
        "elements.csv": _csv(ELEMENT_COLUMNS, element_rows(export)),
        "completeness.csv": _csv(COMPLETENESS_COLUMNS, completeness_rows(export)),
        "README.txt": README.format(
            as_of=export.as_of.isoformat(),
            version=__version__,
            unverified=unverified_count(),
            elements=len(ELEMENTS),
        ).encode("utf-8"),
    }
    manifest = {
        "registry": "CIBMTR",
        "centre": centre,
        "as_of": export.as_of.isoformat(),
        "cartwatch_version": __version__,
        "forms": [
            {
                "form": spec.form,
                "title": spec.title,
                "revision": spec.revision or "UNVERIFIED (not shown in the stored manual)",
                "source": spec.source,
                "sections": spec.sections,
                "due": spec.due,
                "elements": sum(1 for e in ELEMENTS if e.form == spec.form),
            }
            for spec in FORMS.values()
        ],
        "elements": len(ELEMENTS),
        "unverified_elements": unverified_count(),
        "counts": export.counts(),
        "files": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    return dict(sorted(files.items()))


def check_folder(out: Path, force: bool) -> None:
    """Raise ExportFolderError when *out* is unusable (not a folder, or non-empty without
    *force*)."""
    if out.exists() and not out.is_dir():
        raise ExportFolderError(str(out), "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ExportFolderError(str(out), "folder exists and is not empty (use --force)")
    if not out.parent.is_dir():
        raise ExportFolderError(str(out), f"parent folder {out.parent} does not exist")


def write_folder(files: Mapping[str, bytes], out: Path, force: bool = False) -> None:
    """Write *files* into *out*: a temporary folder beside it, then a rename, so a reader
    never sees half an export; an existing folder is replaced only with *force*."""
    check_folder(out, force)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, content in files.items():
            (tmp / name).write_bytes(content)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
