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
* Every date is plausible (contract v2 item 7, ``schemas/dates.py``, checked by the row
  models): years 1900–2100 and not more than 24 h after now; a future date is a typing
  error, not a plan. With ``today`` (a data cut) nothing may lie after that day either.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gc
import operator
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from enum import Enum
from itertools import compress, repeat
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from cartwatch.centre import records as r
from cartwatch.centre.columns import (
    Column,
    Kind,
    format_cell,
    get_path,
    model_columns,
    parse_cell,
)
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
#
# Performance notes (benchmarks/synth_load.py): a 1,000-patient folder has ~70,000 rows, so
# anything done per cell or per row in Python dominates. The file is read once with the C
# ``csv`` reader; cells are converted column by column with a per-column memo (most cells
# repeat: ``false``, ``none``, reference limits, dates of one patient); every row is still
# validated by its model's compiled pydantic validator and checked by the clinical engine,
# and every problem is still reported with file, row, line and field. What is no longer done
# per row is work that depends only on the schema (column tables, which fields are dates,
# whether the model has a domain check) — that is computed once per model below.

#: Marks an empty cell: the key is left out of the row dict, so the model's default applies.
_MISSING: Any = object()
_DATE_KINDS = ("date", "datetime", "timestamp")


@dataclass
class _Parsed:
    """Validated rows of one file with their 1-based row and physical line numbers."""

    spec: FileSpec
    rows: list[tuple[int, int, BaseModel]] = field(default_factory=list)
    # patient_id cells of every row, valid or not: an invalid patients.csv row is reported
    # once, not again as "unknown patient_id" in every other file.
    raw_ids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _ModelTable:
    """What the loader needs to know about a row model, computed once per model."""

    columns: dict[str, Column]
    date_fields: tuple[str, ...]  # top-level date/date-time fields, in model field order
    domain_check: Any  # unbound check_domain / to_domain, or None


@functools.cache
def _model_table(spec: FileSpec) -> _ModelTable:
    model = spec.model
    # Looked up on the class, once: ``getattr(row, "check_domain", None)`` on an instance of
    # a model without it goes through pydantic's __getattr__ and builds an AttributeError,
    # which cost more than validating the row.
    check = getattr(model, "check_domain", None) or getattr(model, "to_domain", None)
    dated = tuple(
        c.name for c in model_columns(model) if c.kind in _DATE_KINDS and len(c.path) == 1
    )
    # The reader nests dotted columns one level deep (ice_items.*, lln.*), as the models do.
    if any(len(c.path) > 2 for c in spec.columns):
        raise NotImplementedError(f"{spec.filename}: columns nested more than one level")
    return _ModelTable({c.name: c for c in spec.columns}, dated, check)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a folder's rows are built.

    Loading allocates ~10 container objects per row and frees almost none of them, which
    makes CPython run repeated generation-2 collections that scan every row built so far
    (about a third of the load time for 1,000 patients). Nothing built here forms a
    reference cycle that needs the collector; reference counting frees garbage as before.
    The previous state is restored, so a caller that disabled the collector keeps it so.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_centre_dir(path: str | Path, today: dt.date | None = None) -> CentreData:
    """Read and validate a centre data folder; raise :class:`CentreDataError` on any problem.

    *today*: a data cut no date may pass (default: none beyond the plausibility rule).
    """
    folder = Path(path)
    problems: list[Problem] = []
    if not folder.is_dir():
        raise CentreDataError([Problem(str(folder), 0, "", "not a folder")])
    known = {spec.filename for spec in FILE_SPECS}
    for extra in sorted(p.name for p in folder.glob("*.csv") if p.name not in known):
        problems.append(Problem(extra, 0, "", f"unknown file (expected one of {sorted(known)})"))
    parsed: dict[str, _Parsed] = {}
    with gc_paused():
        for spec in FILE_SPECS:
            parsed[spec.stem] = _read_file(folder / spec.filename, spec, problems)
        # Cross-file checks need the patients: when patients.csv itself could not be read,
        # every row elsewhere would be reported as an unknown patient, burying the cause.
        if not any(p.file == "patients.csv" and p.row == 0 for p in problems):
            problems.extend(check_integrity(parsed, today))
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
    # (row index, physical line, cells) in file order, so that problems come out in row
    # order; rows with a wrong cell count are reported when their turn comes.
    entries: list[tuple[int, int, list[str]]] = []
    good: list[list[str]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                problems.append(Problem(spec.filename, 0, "", "empty file: no header row", 1))
                return out
            header = [h.strip() for h in header]
            if not _header_ok(spec, header, problems):
                return out
            width = len(header)
            pid_at = header.index("patient_id")  # a required column: _header_ok checked it
            for index, cells in enumerate(reader, start=1):
                # A filled patient_id settles it without looking at every cell.
                filled = len(cells) > pid_at and cells[pid_at].strip()
                if not filled and not any(c.strip() for c in cells):
                    continue  # a blank line (spreadsheets add them at the end)
                entries.append((index, reader.line_num, cells))
                if len(cells) == width:
                    good.append(cells)
    except UnicodeDecodeError:
        line, byte = _first_undecodable(path)
        problems.append(
            Problem(spec.filename, 0, "", f"not UTF-8 text: byte 0x{byte:02x} on line {line}", line)
        )
        return out
    except csv.Error as exc:
        problems.append(Problem(spec.filename, 0, "", f"not readable as CSV: {exc}"))
        return out
    dicts = _row_dicts(spec, header, good)
    _validate_rows(spec, header, entries, dicts, out, problems)
    return out


def _first_undecodable(path: Path) -> tuple[int, int]:
    """(1-based physical line, byte value) of the first byte that is not UTF-8. Only run
    after decoding failed: the reader's own error gives a position inside its buffer."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1, data[exc.start]
    return 0, 0  # pragma: no cover - called only after a decode error


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


def _row_dicts(spec: FileSpec, header: list[str], rows: list[list[str]]) -> list[dict[str, Any]]:
    """The model input of every row: converted cells, empty cells left out, dotted columns
    nested (an object whose cells are all empty is left out too).

    Built column by column: ``map(setitem, ...)`` fills one key of every row dict in C, so
    Python code runs per column, not per cell.
    """
    if not rows:
        return []
    table = _model_table(spec)
    n = len(rows)
    dicts: list[dict[str, Any]] = [{} for _ in range(n)]
    groups: dict[str, list[dict[str, Any]]] = {}
    for name, raw in zip(header, zip(*rows, strict=True), strict=True):
        col = table.columns[name]
        if len(col.path) == 1:
            _set_column(dicts, col.path[0], _convert_column(raw, col))
        else:  # nested contract object (one level: ice_items.*, lln.*), see _model_table
            if col.path[0] not in groups:
                groups[col.path[0]] = [{} for _ in range(n)]
            _set_column(groups[col.path[0]], col.path[1], _convert_column(raw, col))
    for key, subs in groups.items():
        _set_column(dicts, key, [sub or _MISSING for sub in subs])
    return dicts


def _set_column(dicts: list[dict[str, Any]], key: str, values: list[Any]) -> None:
    """``dicts[i][key] = values[i]`` for every row whose value is not missing."""
    missing = values.count(_MISSING)
    if missing == len(values):
        return
    if missing == 0:
        deque(map(operator.setitem, dicts, repeat(key), values), maxlen=0)
        return
    keep = [v is not _MISSING for v in values]
    deque(
        map(operator.setitem, compress(dicts, keep), repeat(key), compress(values, keep)),
        maxlen=0,
    )


def _convert_column(raw: Sequence[str], col: Column) -> list[Any]:
    """Cells of one column converted by :func:`parse_cell`, each distinct text once.

    The memo's ``__getitem__`` runs in C for every repeated cell; Python code runs only for
    a text not seen before in this column. Cached values are immutable (str, numbers, bool,
    dates), so rows may share them; lists are mutable and are converted per cell.
    """
    kind, item_kind = col.kind, col.item_kind
    if kind == "list":
        return [parse_cell(s, kind, item_kind) if (s := c.strip()) else _MISSING for c in raw]
    return list(map(_CellMemo(kind, item_kind).__getitem__, raw))


class _CellMemo(dict[str, Any]):
    """Cell text → converted value (``_MISSING`` for an empty cell), filled on first sight."""

    def __init__(self, kind: Kind, item_kind: Kind | None) -> None:
        super().__init__({"": _MISSING})
        self.kind, self.item_kind = kind, item_kind

    def __missing__(self, cell: str) -> Any:
        text = cell.strip()
        value = parse_cell(text, self.kind, self.item_kind) if text else _MISSING
        self[cell] = value
        return value


def _validate_rows(
    spec: FileSpec,
    header: list[str],
    entries: list[tuple[int, int, list[str]]],
    dicts: list[dict[str, Any]],
    out: _Parsed,
    problems: list[Problem],
) -> None:
    """Validate every row with the model's compiled validator, then the clinical engine's
    own consistency check; no exception is raised or built for a valid row."""
    table = _model_table(spec)
    validate = spec.model.__pydantic_validator__.validate_python
    check = table.domain_check
    pid_at = header.index("patient_id")
    filename = spec.filename
    width = len(header)
    row_dicts = iter(dicts)
    # The engine's per-record check is a pure function of the clinical cells: it never reads
    # patient_id or the row's timestamp (time order is the episode graders' business). Rows
    # with the same clinical cells therefore get the same verdict, computed once: normal
    # observations repeat a lot (a 1,000-patient CRS file has ~190 distinct ones in 15,000).
    clinical = [i for i, name in enumerate(header) if name not in ("patient_id", spec.time_field)]
    key_of: Any = operator.itemgetter(*clinical) if clinical else (lambda cells: ())
    verdicts: dict[Any, tuple[tuple[str, str], ...]] = {}
    for index, line, cells in entries:
        if len(cells) != width:
            message = f"{len(cells)} cells but the header has {width} columns"
            problems.append(Problem(filename, index, "", message, line))
            continue
        out.raw_ids.add(cells[pid_at].strip())
        data = next(row_dicts)
        try:
            row = validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                name, message = _error_field(err, table.columns)
                problems.append(Problem(filename, index, name, message, line))
            continue
        if check is not None:
            # Contradictions only the clinical engine sees (e.g. ice_score and ice_items).
            key = key_of(cells)
            verdict = verdicts.get(key)
            if verdict is None:
                try:
                    check(row)
                    verdict = ()
                except ClinicalInputError as exc:
                    verdict = tuple(exc.problems)
                verdicts[key] = verdict
            if verdict:  # reported for every row that has it, not only the first
                for path, message in verdict:
                    problems.append(Problem(filename, index, path, message, line))
                continue
        out.rows.append((index, line, row))


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


def check_integrity(parsed: dict[str, _Parsed], today: dt.date | None = None) -> list[Problem]:
    """Rules between rows and files (module docstring); only validated rows take part.

    The row models already refused implausible dates (years, more than 24 h ahead of the
    clock); *today*, when given, is a data cut that no date may pass.
    """
    problems: list[Problem] = []
    patient_ids = _unique_patients(parsed["patients"], problems) | parsed["patients"].raw_ids
    infusion = _check_courses(parsed["cell_therapy"], problems)
    deaths = _deaths(parsed["followup"], problems)
    for stem, p in parsed.items():
        filename = p.spec.filename
        # The date fields of the model, looked up once per file, not per row.
        dated = _model_table(p.spec).date_fields
        check_death = stem != "patients"  # patients.csv rows are exempt from the death rule
        for index, line, row in p.rows:
            values = row.__dict__
            pid = str(values["patient_id"])
            if stem != "patients" and pid not in patient_ids:
                message = f"unknown patient_id {pid!r} (not in patients.csv)"
                problems.append(Problem(filename, index, "patient_id", message, line))
            death = deaths.get(pid) if check_death else None
            for name in dated:
                value = values[name]
                if value is None:
                    continue
                day = value.date() if isinstance(value, dt.datetime) else value
                if today is not None and day > today:
                    message = f"{day.isoformat()} is in the future (after {today.isoformat()})"
                    problems.append(Problem(filename, index, name, message, line))
                if death is not None and day > death:
                    message = f"{day.isoformat()} is after the death on {death.isoformat()}"
                    problems.append(Problem(filename, index, name, message, line))
    _check_prior_lines(parsed["prior_lines"], problems)
    for stem in ("crs_observations", "icans_observations"):
        _check_post_infusion(parsed[stem], "observed_at", infusion, problems)
    _check_treatments(parsed["treatments"], infusion, problems)
    _check_assessments(parsed["response_assessments"], infusion, problems)
    return problems


def integrity_problems(rows: Mapping[str, Sequence[BaseModel]]) -> list[Problem]:
    """:func:`check_integrity` for rows validated elsewhere (e.g. stored by the web app),
    keyed by file stem; a problem's ``row`` is the 1-based position in its sequence."""
    parsed: dict[str, _Parsed] = {}
    for spec in FILE_SPECS:
        found = _Parsed(spec)
        found.rows = [(i, i, row) for i, row in enumerate(rows.get(spec.stem, ()), start=1)]
        parsed[spec.stem] = found
    return check_integrity(parsed)


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
    with gc_paused():  # ~1.5 M cell strings for 1,000 patients, no cycles
        for spec in FILE_SPECS:
            _write_file(data, spec, folder)


def _write_file(data: CentreData, spec: FileSpec, folder: Path) -> None:
    cols = spec.columns
    rows = data.rows(spec.stem)
    # Column by column: one C-level pass per column for the values and, when the column
    # holds one type (plus None), for the text; csv.writer then joins the columns.
    fields_of = [row.__dict__ for row in rows]
    texts = [_column_texts(_column_values(rows, fields_of, c.path)) for c in cols]
    with (folder / spec.filename).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c.name for c in cols])
        writer.writerows(zip(*texts, strict=True))


def _column_values(
    rows: Sequence[BaseModel], fields_of: list[dict[str, Any]], path: tuple[str, ...]
) -> list[Any]:
    # A model keeps its field values in __dict__; reading them there is a plain dict lookup,
    # several times cheaper than attribute access through the model class's MRO.
    try:
        parents = list(map(operator.itemgetter(path[0]), fields_of))
    except KeyError:  # a row object that keeps the field elsewhere: ask it
        parents = list(map(operator.attrgetter(path[0]), rows))
    if len(path) == 1:
        return parents
    rest = path[1:]  # a nested contract object, absent (None) when all its cells are empty
    return [None if p is None else get_path(p, rest) for p in parents]


_NONE_TYPE = type(None)
_BOOL_TEXT = {True: "true", False: "false"}.__getitem__


def _column_texts(values: list[Any]) -> list[str]:
    """:func:`format_cell` of every value of one column (the definition of the cell text).

    Types with a C-level formatter that gives exactly format_cell's text are mapped in one
    pass; anything else (date-times, lists, unusual types) goes through format_cell.
    """
    kinds = set(map(type, values))
    has_none = _NONE_TYPE in kinds
    kinds.discard(_NONE_TYPE)
    if len(kinds) == 1:
        (tp,) = kinds
        fmt = _fast_formatter(tp)
        if fmt is not None:
            if not has_none:
                return list(map(fmt, values))
            return ["" if v is None else fmt(v) for v in values]
    return list(map(format_cell, values))


def _fast_formatter(tp: type) -> Callable[[Any], str] | None:
    if tp is bool:
        return _BOOL_TEXT
    if tp is float:
        return float.__repr__  # format_cell: repr(value)
    if tp is int or tp is str:
        return tp.__str__
    if tp is dt.date:
        return dt.date.isoformat
    if tp is dt.datetime:
        return _datetime_text
    if tp is list or tp is tuple:
        return _list_text
    if issubclass(tp, str) and issubclass(tp, Enum):
        # A str-valued enum member *is* its value as a string: str.__str__ gives value.
        return str.__str__
    return None


def _datetime_text(value: dt.datetime) -> str:
    # format_cell's date-time branch, without its chain of isinstance checks.
    return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")


def _list_text(value: list[Any] | tuple[Any, ...]) -> str:
    return ";".join(map(format_cell, value)) if value else ""


def centre_data_fields() -> tuple[str, ...]:
    """Stems of the files, in the order of :data:`FILE_SPECS` (= CentreData's fields)."""
    return tuple(f.name for f in fields(CentreData))
