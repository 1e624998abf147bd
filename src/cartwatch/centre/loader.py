"""Read, validate and write a centre data folder (DEVELOPERS.md "centre data format").

``load_centre_dir(path)`` reads every CSV, validates every row against its model in
``centre/records.py``, checks the files against each other and returns :class:`CentreData`
only when there is no problem at all. Otherwise it raises :class:`CentreDataError` carrying
*every* problem found, each with file, data row (1-based; 0 = the header / the file itself),
the physical line, the field (dotted column) and the message. Nothing is partially derived:
an analysis either sees the whole, valid folder or nothing.

Cross-file rules (documented in docs/centre-data-format.md):

* ``patients.csv`` and ``cell_therapy.csv`` are required; the other files may be absent or
  header-only. A ``.csv`` file with any other name is an error (a misspelt file name would
  otherwise silently drop its data). Other files (README, …) are ignored.
* Unknown columns and missing required columns are errors; optional columns may be absent.
* ``patient_id`` is unique in ``patients.csv``; every other file's ``patient_id`` must exist
  there. Patients of several centres may be mixed in one folder.
* At most one CAR-T course per patient; lymphodepletion not before apheresis; infusion not
  before apheresis or lymphodepletion start.
* ``line_number`` is unique per patient in ``prior_lines.csv``.
* CRS and neurotoxicity observations need an infusion and may not be dated before the
  infusion day (they grade toxicity *of the infusion*); treatments with indication crs/icans
  likewise. Labs, MRD and other treatments may precede infusion (baseline values).
* Response assessments: at most one ``baseline`` per patient, on or before the infusion
  day; ``post`` assessments need an infusion and must be after the infusion day.
* At most one death per patient; nothing may be dated after the death.
* No date may lie in the future (after ``today``, default: the system date): a future date
  is a typing error, not a plan.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from cartwatch.centre import records as r
from cartwatch.centre.columns import Column, format_cell, get_path, model_columns, nest, parse_cell
from cartwatch.clinical.errors import ClinicalInputError


@dataclass(frozen=True)
class FileSpec:
    """A file of the format: its stem, row model, timestamp field and whether it is required."""

    stem: str
    model: type[BaseModel]
    time_field: str | None
    required: bool = False

    @property
    def filename(self) -> str:
        return f"{self.stem}.csv"

    @property
    def columns(self) -> tuple[Column, ...]:
        return file_columns(self)


FILE_SPECS: tuple[FileSpec, ...] = (
    FileSpec("patients", r.PatientRow, None, required=True),
    FileSpec("prior_lines", r.PriorLineRow, None),
    FileSpec("cell_therapy", r.CellTherapyRow, None, required=True),
    FileSpec("crs_observations", r.CrsObservationRow, "observed_at"),
    FileSpec("icans_observations", r.IcansObservationRow, "observed_at"),
    FileSpec("treatments", r.TreatmentRow, "given_at"),
    FileSpec("labs", r.LabRow, "observed_at"),
    FileSpec("response_assessments", r.ResponseAssessmentRow, "assessed_at"),
    FileSpec("mrd", r.MrdRow, "sampled_at"),
    FileSpec("followup", r.FollowupRow, "event_date"),
)
SPECS_BY_STEM: dict[str, FileSpec] = {spec.stem: spec for spec in FILE_SPECS}


@functools.cache
def file_columns(spec: FileSpec) -> tuple[Column, ...]:
    """Columns of a file in CSV order: patient_id, the timestamp, then the model's fields."""
    cols = model_columns(spec.model)
    first = ("patient_id", spec.time_field, "timepoint")
    rank = {name: i for i, name in enumerate(first)}
    return tuple(sorted(cols, key=lambda c: rank.get(c.name, len(first))))


# ---------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    """One problem: file name, 1-based data row (0 = header/file), field (dotted column)."""

    file: str
    row: int
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.message}"


class CentreDataError(ValueError):
    """Raised by :func:`load_centre_dir` with every problem of the folder."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------------------------------------
# The validated data


@dataclass(frozen=True)
class CentreData:
    """Validated rows of every file, in file order (rows need not be sorted by time)."""

    patients: tuple[r.PatientRow, ...] = ()
    prior_lines: tuple[r.PriorLineRow, ...] = ()
    cell_therapy: tuple[r.CellTherapyRow, ...] = ()
    crs_observations: tuple[r.CrsObservationRow, ...] = ()
    icans_observations: tuple[r.IcansObservationRow, ...] = ()
    treatments: tuple[r.TreatmentRow, ...] = ()
    labs: tuple[r.LabRow, ...] = ()
    response_assessments: tuple[r.ResponseAssessmentRow, ...] = ()
    mrd: tuple[r.MrdRow, ...] = ()
    followup: tuple[r.FollowupRow, ...] = ()

    def rows(self, stem: str) -> tuple[BaseModel, ...]:
        """The rows of file *stem* (``"patients"``, ``"crs_observations"``, …)."""
        rows: tuple[BaseModel, ...] = getattr(self, stem)
        return rows

    def frames(self) -> dict[str, pd.DataFrame]:
        """One typed DataFrame per file, keyed by stem, columns as in the CSV (dotted).

        dtypes: dates and timestamps ``datetime64[ns]``; booleans ``boolean`` (nullable);
        integers ``Int64`` (nullable); other numbers ``float64`` (NaN = missing); text and
        enum values ``string``; ``;``-lists stay Python lists (``object``).
        """
        return {spec.stem: _frame(spec, self.rows(spec.stem)) for spec in FILE_SPECS}


_DTYPES = {"bool": "boolean", "int": "Int64", "float": "float64", "str": "string"}


def _frame(spec: FileSpec, rows: Sequence[BaseModel]) -> pd.DataFrame:
    data: dict[str, pd.Series[Any]] = {}
    for col in spec.columns:
        values = [_plain(get_path(row, col.path)) for row in rows]
        if col.kind in ("date", "datetime", "timestamp"):
            data[col.name] = pd.Series(pd.to_datetime(pd.Series(values, dtype=object)))
        elif col.kind == "list":
            data[col.name] = pd.Series(values, dtype=object)
        else:
            dtype: Any = _DTYPES[col.kind]
            data[col.name] = pd.Series(values, dtype=object).astype(dtype)
    return pd.DataFrame(data)


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value.value if hasattr(value, "value") and not isinstance(value, bool) else value


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class _Parsed:
    """Validated rows of one file with their 1-based row and physical line numbers."""

    spec: FileSpec
    rows: list[tuple[int, int, BaseModel]] = field(default_factory=list)
    # patient_id cells of every row, valid or not: an invalid patients.csv row is reported
    # once, not again as "unknown patient_id" in every other file.
    raw_ids: set[str] = field(default_factory=set)


def load_centre_dir(path: str | Path, today: dt.date | None = None) -> CentreData:
    """Read and validate a centre data folder; raise :class:`CentreDataError` on any problem."""
    folder = Path(path)
    problems: list[Problem] = []
    if not folder.is_dir():
        raise CentreDataError([Problem(str(folder), 0, "", "not a folder")])
    known = {spec.filename for spec in FILE_SPECS}
    for extra in sorted(p.name for p in folder.glob("*.csv") if p.name not in known):
        problems.append(Problem(extra, 0, "", f"unknown file (expected one of {sorted(known)})"))
    parsed: dict[str, _Parsed] = {}
    for spec in FILE_SPECS:
        parsed[spec.stem] = _read_file(folder / spec.filename, spec, problems)
    problems.extend(check_integrity(parsed, today or dt.date.today()))
    if problems:
        raise CentreDataError(problems)
    rows: dict[str, Any] = {stem: tuple(row for _, _, row in p.rows) for stem, p in parsed.items()}
    return CentreData(**rows)


def _read_file(path: Path, spec: FileSpec, problems: list[Problem]) -> _Parsed:
    out = _Parsed(spec)
    if not path.is_file():
        if spec.required:
            problems.append(Problem(spec.filename, 0, "", "required file is missing"))
        return out
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            problems.append(Problem(spec.filename, 0, "", "empty file: no header row", 1))
            return out
        header = [h.strip() for h in header]
        if not _header_ok(spec, header, problems):
            return out
        for index, cells in enumerate(reader, start=1):
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # a blank line (spreadsheets add them at the end)
            if len(cells) != len(header):
                problems.append(
                    Problem(
                        spec.filename,
                        index,
                        "",
                        f"{len(cells)} cells but the header has {len(header)} columns",
                        line,
                    )
                )
                continue
            cells_by_name = dict(zip(header, cells, strict=True))
            out.raw_ids.add(cells_by_name.get("patient_id", "").strip())
            row = _validate_row(spec, cells_by_name, index, line, problems)
            if row is not None:
                out.rows.append((index, line, row))
    return out


def _header_ok(spec: FileSpec, header: list[str], problems: list[Problem]) -> bool:
    columns = {c.name: c for c in spec.columns}
    before = len(problems)
    for name, count in Counter(header).items():
        if count > 1:
            problems.append(Problem(spec.filename, 0, name, "column appears more than once", 1))
    for name in header:
        if name not in columns:
            problems.append(Problem(spec.filename, 0, name, "unknown column", 1))
    for col in spec.columns:
        if col.required and col.name not in header:
            problems.append(Problem(spec.filename, 0, col.name, "required column is missing", 1))
    return len(problems) == before


def _validate_row(
    spec: FileSpec, cells: dict[str, str], index: int, line: int, problems: list[Problem]
) -> BaseModel | None:
    columns = {c.name: c for c in spec.columns}
    flat = {
        columns[name].path: parse_cell(raw.strip(), columns[name].kind, columns[name].item_kind)
        for name, raw in cells.items()
        if raw.strip()
    }
    before = len(problems)
    try:
        row = spec.model.model_validate(nest(flat))
    except ValidationError as exc:
        for err in exc.errors():
            name, message = _error_field(err, columns)
            problems.append(Problem(spec.filename, index, name, message, line))
        return None
    # Contradictions only the clinical engine sees (e.g. ice_score and ice_items together).
    check = getattr(row, "check_domain", None) or getattr(row, "to_domain", None)
    if check is not None:
        try:
            check()
        except ClinicalInputError as exc:
            for path, message in exc.problems:
                problems.append(Problem(spec.filename, index, path, message, line))
    return row if len(problems) == before else None


def _error_field(err: Any, columns: dict[str, Column]) -> tuple[str, str]:
    """Column name and message of one pydantic error (list indices dropped: one cell)."""
    loc = [str(part) for part in err["loc"] if not isinstance(part, int)]
    message = str(err["msg"]).removeprefix("Value error, ")
    name = ".".join(loc)
    if not name:
        # Model-level validators name their field as "field: problem".
        head, sep, rest = message.partition(": ")
        if sep and head in columns:
            return head, rest
    if err["type"] == "missing":
        message = "required value is missing"
    elif isinstance(err.get("input"), str) and err["type"] != "string_pattern_mismatch":
        message = f"{message} (got {err['input']!r})"
    return name, message


# ---------------------------------------------------------------------------------------------
# Cross-file integrity


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _dated_fields(row: BaseModel) -> Iterator[tuple[str, dt.date]]:
    for name in type(row).model_fields:
        value = getattr(row, name)
        if isinstance(value, dt.date):
            yield name, _as_date(value)


def check_integrity(parsed: dict[str, _Parsed], today: dt.date) -> list[Problem]:
    """Rules between rows and files (module docstring); only validated rows take part."""
    problems: list[Problem] = []
    patient_ids = _unique_patients(parsed["patients"], problems) | parsed["patients"].raw_ids
    infusion = _check_courses(parsed["cell_therapy"], problems)
    deaths = _deaths(parsed["followup"], problems)
    for stem, p in parsed.items():
        for index, line, row in p.rows:
            report = _reporter(problems, p.spec.filename, index, line)
            pid = str(getattr(row, "patient_id"))  # noqa: B009 - every row model has it
            if stem != "patients" and pid not in patient_ids:
                report("patient_id", f"unknown patient_id {pid!r} (not in patients.csv)")
            for name, day in _dated_fields(row):
                if day > today:
                    report(name, f"{day.isoformat()} is in the future")
                death = deaths.get(pid)
                if death is not None and day > death and not isinstance(row, r.PatientRow):
                    report(name, f"{day.isoformat()} is after the death on {death.isoformat()}")
    _check_prior_lines(parsed["prior_lines"], problems)
    for stem in ("crs_observations", "icans_observations"):
        _check_post_infusion(parsed[stem], "observed_at", infusion, problems)
    _check_treatments(parsed["treatments"], infusion, problems)
    _check_assessments(parsed["response_assessments"], infusion, problems)
    return problems


def _reporter(problems: list[Problem], filename: str, index: int, line: int) -> Any:
    def report(name: str, message: str) -> None:
        problems.append(Problem(filename, index, name, message, line))

    return report


def _unique_patients(p: _Parsed, problems: list[Problem]) -> set[str]:
    seen: dict[str, int] = {}
    for index, line, row in p.rows:
        pid = str(getattr(row, "patient_id"))  # noqa: B009
        if pid in seen:
            problems.append(
                Problem(
                    p.spec.filename,
                    index,
                    "patient_id",
                    f"duplicate patient_id {pid!r} (first in row {seen[pid]})",
                    line,
                )
            )
        else:
            seen[pid] = index
    return set(seen)


def _check_courses(p: _Parsed, problems: list[Problem]) -> dict[str, dt.date | None]:
    """Per patient: the infusion date (None = not infused); checks the course's date order."""
    infusion: dict[str, dt.date | None] = {}
    for index, line, row in p.rows:
        assert isinstance(row, r.CellTherapyRow)
        report = _reporter(problems, p.spec.filename, index, line)
        if row.patient_id in infusion:
            report("patient_id", "more than one CAR-T course for this patient")
            continue
        infusion[row.patient_id] = row.infusion_date
        if row.lymphodepletion_start and row.lymphodepletion_start < row.apheresis_date:
            report("lymphodepletion_start", "lymphodepletion starts before apheresis")
        if row.infusion_date is None:
            continue
        if row.infusion_date < row.apheresis_date:
            report("infusion_date", "infusion before apheresis")
        elif row.lymphodepletion_start and row.infusion_date < row.lymphodepletion_start:
            report("infusion_date", "infusion before the start of lymphodepletion")
    return infusion


def _deaths(p: _Parsed, problems: list[Problem]) -> dict[str, dt.date]:
    deaths: dict[str, dt.date] = {}
    for index, line, row in p.rows:
        assert isinstance(row, r.FollowupRow)
        if row.event is not r.FollowupEvent.DEATH:
            continue
        if row.patient_id in deaths:
            problems.append(
                Problem(p.spec.filename, index, "event", "more than one death recorded", line)
            )
        else:
            deaths[row.patient_id] = row.event_date
    return deaths


def _check_prior_lines(p: _Parsed, problems: list[Problem]) -> None:
    seen: set[tuple[str, int]] = set()
    for index, line, row in p.rows:
        assert isinstance(row, r.PriorLineRow)
        key = (row.patient_id, row.line_number)
        if key in seen:
            problems.append(
                Problem(
                    p.spec.filename,
                    index,
                    "line_number",
                    f"line_number {row.line_number} appears twice for this patient",
                    line,
                )
            )
        seen.add(key)


def _check_post_infusion(
    p: _Parsed, time_field: str, infusion: dict[str, dt.date | None], problems: list[Problem]
) -> None:
    for index, line, row in p.rows:
        pid = str(getattr(row, "patient_id"))  # noqa: B009
        when = _as_date(getattr(row, time_field))
        message = _post_infusion_problem(pid, when, infusion, inclusive=True)
        if message:
            problems.append(Problem(p.spec.filename, index, time_field, message, line))


def _post_infusion_problem(
    pid: str, when: dt.date, infusion: dict[str, dt.date | None], inclusive: bool
) -> str | None:
    if pid not in infusion:
        return "patient has no CAR-T course in cell_therapy.csv"
    day = infusion[pid]
    if day is None:
        return "patient has no infusion_date in cell_therapy.csv"
    if when < day or (not inclusive and when == day):
        word = "before" if inclusive else "on or before"
        return f"{when.isoformat()} is {word} the infusion on {day.isoformat()}"
    return None


def _check_treatments(
    p: _Parsed, infusion: dict[str, dt.date | None], problems: list[Problem]
) -> None:
    for index, line, row in p.rows:
        assert isinstance(row, r.TreatmentRow)
        if row.indication is r.Indication.OTHER:
            continue
        message = _post_infusion_problem(row.patient_id, row.given_at.date(), infusion, True)
        if message:
            problems.append(Problem(p.spec.filename, index, "given_at", message, line))


def _check_assessments(
    p: _Parsed, infusion: dict[str, dt.date | None], problems: list[Problem]
) -> None:
    baselines: set[str] = set()
    for index, line, row in p.rows:
        assert isinstance(row, r.ResponseAssessmentRow)
        report = _reporter(problems, p.spec.filename, index, line)
        pid, when = row.patient_id, row.assessed_at
        if row.timepoint is r.Timepoint.POST:
            message = _post_infusion_problem(pid, when, infusion, inclusive=False)
            if message:
                report("assessed_at", message)
            continue
        if pid in baselines:
            report("timepoint", "more than one baseline assessment for this patient")
        baselines.add(pid)
        day = infusion.get(pid)
        if day is not None and when > day:
            report("assessed_at", f"baseline {when.isoformat()} is after the infusion")


# ---------------------------------------------------------------------------------------------
# Writing


def write_centre_dir(data: CentreData, path: str | Path) -> None:
    """Write *data* as a centre data folder: every file, header included, all columns."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for spec in FILE_SPECS:
        cols = spec.columns
        with (folder / spec.filename).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([c.name for c in cols])
            for row in data.rows(spec.stem):
                writer.writerow([format_cell(get_path(row, c.path)) for c in cols])


def centre_data_fields() -> tuple[str, ...]:
    """Stems of the files, in the order of :data:`FILE_SPECS` (= CentreData's fields)."""
    return tuple(f.name for f in fields(CentreData))
