"""Grade every row of a CSV file: ``cartwatch grade crs|icans|cytopenia --csv IN -o OUT``.

The input format is described in :mod:`cartwatch.batch.csv_format`. Each row is one
independent observation (rows are not combined into episodes). A row that fails validation
is reported (row number, field path, problem) and left out of OUT; every valid row is graded
and written. OUT has the input columns in input order, then the result columns:

* crs: ``grade``, ``reasons``
* icans: ``grade``, ``instrument``, ``reasons``
* cytopenia: ``grades.neutrophil_count_decreased``, ``grades.platelet_count_decreased``,
  ``grades.anemia`` (empty = term not measured, or no grade without an LLN), ``reasons``

``reasons`` joins the result's reasons with ``"; "``. OUT is written to a temporary file and
moved into place at the end, so a file-level error never leaves a half-written OUT.

CRS goes through the vectorised path (:mod:`cartwatch.batch.crs_columns` and
``clinical.crs_columns.grade_crs_columns``); a CRS row that is not gradable (no temperature,
no therapy) gets an empty ``grade`` cell and the reason in ``reasons``. ICANS and cytopenia
go through the pydantic models row by row.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError

from cartwatch.batch.csv_format import (
    ID_COLUMN,
    CsvFileError,
    CsvLayout,
    RowProblem,
    open_csv,
    read_header,
    record_to_json,
    records,
    width_problem,
)
from cartwatch.clinical.crs_columns import NOT_GRADABLE
from cartwatch.clinical.cytopenia import (
    ANEMIA_TERM,
    NEUTROPHIL_TERM,
    PLATELET_TERM,
    grade_cytopenia,
)
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.icans import grade_icans
from cartwatch.schemas.cytopenia import CytopeniaObservationIn
from cartwatch.schemas.errors import problem_pairs
from cartwatch.schemas.icans import IcansObservationIn

GradeKind = Literal["crs", "icans", "cytopenia"]
Advance = Callable[[int], None]
REASON_SEPARATOR = "; "
CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class BatchReport:
    rows: int  # data records read
    graded: int  # rows written to OUT
    problems: tuple[RowProblem, ...]

    @property
    def failed_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})


@dataclass(frozen=True)
class RowGrader:
    """The per-row path: record → input model → domain observation → result columns."""

    model: type[BaseModel]
    grade: Callable[[Any], Mapping[str, object]]  # domain observation → contract dict
    result_columns: tuple[str, ...]
    result_cells: Callable[[Mapping[str, object]], list[str]]


def cell(value: object) -> str:
    """A result value as a CSV cell (None → empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return REASON_SEPARATOR.join(str(v) for v in value)
    return str(value)


@contextmanager
def atomic_file(out_path: str, binary: bool = False) -> Iterator[Any]:
    """A file next to *out_path*, moved into place on success: OUT is never half-written."""
    target = Path(out_path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise CsvFileError([f"{out_path}: cannot write file: {exc.strerror or exc}"]) from None
    try:
        if binary:
            with os.fdopen(fd, "wb") as handle:
                yield handle
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                yield handle
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_csv(out_path: str) -> Iterator[Any]:
    """A csv.writer on :func:`atomic_file`."""
    with atomic_file(out_path) as handle:
        yield csv.writer(handle, lineterminator="\n")


def grade_row(
    grader: RowGrader, layout: CsvLayout, header: Sequence[str], cells: Sequence[str], row: int
) -> tuple[Mapping[str, object] | None, list[RowProblem]]:
    """Grade one record through the pydantic model; (result, []) or (None, problems)."""
    document, problems = record_to_json(layout, header, cells, row)
    bad_cells = {p.path for p in problems}
    try:
        observation = grader.model.model_validate_json(document)
        if problems:
            return None, problems
        return grader.grade(observation.to_domain()), []  # type: ignore[attr-defined]
    except (ValidationError, ClinicalInputError) as exc:
        pairs = problem_pairs(exc, model=grader.model)
        problems.extend(RowProblem(row, path, msg) for path, msg in pairs if path not in bad_cells)
        return None, problems


def grade_rows(
    grader: RowGrader, in_path: str, out_path: str, advance: Advance | None = None
) -> BatchReport:
    """The per-row path over a whole file (see the module docstring)."""
    layout = CsvLayout.of(grader.model)
    with open_csv(in_path) as handle:
        reader = csv.reader(handle)
        header = read_header(reader, in_path)
        header_problems = layout.check_header(header)
        if header_problems:
            raise CsvFileError(header_problems)
        problems: list[RowProblem] = []
        rows = graded = 0
        with atomic_csv(out_path) as writer:
            writer.writerow([*header, *grader.result_columns])
            for row, cells in records(reader, len(header), in_path):
                rows = row
                wrong_width = width_problem(row, cells, len(header))
                if wrong_width is not None:
                    problems.append(wrong_width)
                else:
                    result, row_problems = grade_row(grader, layout, header, cells, row)
                    if result is None:
                        problems.extend(row_problems)
                    else:
                        writer.writerow([*cells, *grader.result_cells(result)])
                        graded += 1
                if advance is not None:
                    advance(1)
    return BatchReport(rows, graded, tuple(problems))


# --- the graders --------------------------------------------------------------------------


def _cytopenia_cells(result: Mapping[str, object]) -> list[str]:
    grades = result["grades"]
    assert isinstance(grades, Mapping)
    return [*(cell(grades.get(term)) for term in CYTOPENIA_TERMS), cell(result["reasons"])]


ICANS = RowGrader(
    model=IcansObservationIn,
    grade=lambda obs: grade_icans(obs).to_dict(),
    result_columns=("grade", "instrument", "reasons"),
    result_cells=lambda result: [cell(result[k]) for k in ("grade", "instrument", "reasons")],
)

CYTOPENIA_TERMS = (NEUTROPHIL_TERM, PLATELET_TERM, ANEMIA_TERM)
CYTOPENIA = RowGrader(
    model=CytopeniaObservationIn,
    grade=lambda obs: grade_cytopenia(obs).to_dict(),
    result_columns=(*(f"grades.{term}" for term in CYTOPENIA_TERMS), "reasons"),
    result_cells=_cytopenia_cells,
)


def grade_csv(
    kind: GradeKind, in_path: str, out_path: str, advance: Advance | None = None
) -> BatchReport:
    """Grade every row of *in_path* into *out_path* (see the module docstring).

    Raises CsvFileError (nothing written) for a file-level problem.
    """
    if kind == "crs":
        return grade_crs_file(in_path, out_path, advance)
    graders = {"icans": ICANS, "cytopenia": CYTOPENIA}
    return grade_rows(graders[kind], in_path, out_path, advance)


def grade_crs_file(in_path: str, out_path: str, advance: Advance | None = None) -> BatchReport:
    """The vectorised CRS path: columns validated column-wise (each distinct cell once) and
    graded with ``grade_crs_columns`` (see :mod:`cartwatch.batch.crs_columns`).

    A plain file (no quotes, CR or NUL bytes, every record as wide as the header, no blank
    lines) takes the fast path: pandas' C reader factorises each column without building a
    string per cell, and each output line is the input line (which the csv writer would
    reproduce byte for byte: nothing in it needs quoting) plus the pre-serialised result
    cells of its distinct (grade, reasons). Any other file goes through the csv module in
    chunks, so its row numbers and problems are exactly those of the per-row reader.
    """
    with _gc_paused():  # millions of short-lived containers: the collector only slows us
        report = _grade_plain_crs_file(in_path, out_path, advance)
        if report is None:
            report = _grade_crs_records(in_path, out_path, advance)
    return report


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_BOM = "\ufeff".encode()
_PLAIN_WRITE_ROWS = 1 << 17  # output rows joined per write: bounded memory


def _csv_line(cells: Sequence[str]) -> str:
    """``cells`` exactly as the csv writer of :func:`atomic_csv` writes them."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _plain_body(data: bytes) -> tuple[list[str], bytes, int] | None:
    """(header, body, rows) when *data* is a plain CSV file (see grade_crs_file), else None."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if b'"' in data or b"\r" in data or b"\0" in data:
        return None
    end = data.find(b"\n")
    first, body = (data, b"") if end < 0 else (data[:end], data[end + 1 :])
    try:
        header = [cell.strip() for cell in first.decode("utf-8").split(",")]
    except UnicodeDecodeError:
        return None
    if len(header) < 2 or not any(header):  # blank first line or one column: the csv path
        return None
    rows = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
    # Exactly width - 1 commas per line on average. A short or blank line would need a long
    # one to make up the count, and pandas refuses long lines, so together: all are exact.
    if body.count(b",") != rows * (len(header) - 1):
        return None
    return header, body, rows


def _grade_plain_crs_file(
    in_path: str, out_path: str, advance: Advance | None
) -> BatchReport | None:
    """The fast path of grade_crs_file; None when the file is not plain."""
    import pandas as pd

    from cartwatch.batch import crs_columns

    try:
        data = Path(in_path).read_bytes()
    except OSError:
        return None  # the csv path reports it in its own words
    plain = _plain_body(data)
    if plain is None:
        return None
    header, body, n = plain
    header_problems = crs_columns.LAYOUT.check_header(header)
    if header_problems:
        raise CsvFileError(header_problems)
    cells: dict[str, crs_columns.Factorised] = {}
    if n:
        try:
            frame = pd.read_csv(
                io.BytesIO(body),
                header=None,  # no names: a line longer than the first is a ParserError
                dtype="category",  # factorised in C: one string per distinct cell only
                na_filter=False,
                keep_default_na=False,
                quoting=csv.QUOTE_NONE,
                skip_blank_lines=False,
                index_col=False,
                engine="c",
                encoding="utf-8",
            )
        except (UnicodeDecodeError, ValueError):  # pandas' ParserError is a ValueError
            return None
        if frame.shape != (n, len(header)):
            return None
        for j, name in enumerate(header):
            if name == ID_COLUMN:
                continue
            column = frame[j].cat
            codes = np.asarray(column.codes, dtype=np.intp)
            if len(codes) and int(codes.min()) < 0:
                return None
            cells[name] = crs_columns.Factorised(codes, [str(c) for c in column.categories])
    parsed = crs_columns.parse_factorised(cells, n)
    result, kept, contradictions = crs_columns.grade_chunk(parsed)
    found = sorted([*parsed.problems, *contradictions])
    problems = [RowProblem(i + 1, path, msg) for i, path, msg in found]
    # One serialised "grade,reasons" tail per distinct (reasons, grade); the grade is stored
    # + 1 so that not gradable (-1) is 0 and is written as an empty cell (contract v2 item 1).
    combined = result.reason_codes * 8 + (result.grades + 1)
    tail_codes, tail_keys = pd.factorize(combined)
    tails = _tails(
        [(_grade_cell(k % 8 - 1), result.reason_texts[k // 8]) for k in tail_keys.tolist()]
    )
    lines = body.split(b"\n")
    with atomic_file(out_path, binary=True) as out:
        out.write(_csv_line([*header, "grade", "reasons"]).encode())
        for start in range(0, len(kept), _PLAIN_WRITE_ROWS):
            rows = kept[start : start + _PLAIN_WRITE_ROWS]
            pieces = np.empty(2 * len(rows), dtype=object)
            pieces[0::2] = [lines[i] for i in rows.tolist()]
            pieces[1::2] = tails[tail_codes[start : start + len(rows)]]
            out.write(b"".join(pieces.tolist()))
    if advance is not None:
        advance(n)
    return BatchReport(n, len(kept), tuple(problems))


def _grade_cell(grade: int) -> str:
    """A CRS grade column value as its cell: empty for a not-gradable row."""
    return "" if grade == NOT_GRADABLE else str(grade)


def _tails(cells: list[tuple[str, str]]) -> npt.NDArray[np.object_]:
    """``",grade,reasons\n"`` as the csv writer writes them, encoded, per (grade, reasons)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(("", grade, text) for grade, text in cells)
    lines = buffer.getvalue().split("\n")[:-1]
    if len(lines) != len(cells):  # a reason with a line break: one line per call instead
        lines = [_csv_line(["", grade, text])[:-1] for grade, text in cells]
    return np.array([f"{line}\n".encode() for line in lines], dtype=object)


def _grade_crs_records(in_path: str, out_path: str, advance: Advance | None) -> BatchReport:
    """grade_crs_file through the csv module, in chunks of CHUNK_ROWS records."""
    from cartwatch.batch import crs_columns  # numpy/pandas only when a CRS batch runs

    with open_csv(in_path) as handle:
        reader = csv.reader(handle)
        header = read_header(reader, in_path)
        header_problems = crs_columns.LAYOUT.check_header(header)
        if header_problems:
            raise CsvFileError(header_problems)
        contract = [(j, name) for j, name in enumerate(header) if name != ID_COLUMN]
        problems: list[RowProblem] = []
        rows = graded = 0
        stream = records(reader, len(header), in_path)
        with atomic_csv(out_path) as writer:
            writer.writerow([*header, "grade", "reasons"])
            while chunk := list(islice(stream, CHUNK_ROWS)):
                rows = chunk[-1][0]
                good: list[tuple[int, list[str]]] = []
                for row, cells in chunk:
                    wrong_width = width_problem(row, cells, len(header))
                    if wrong_width is None:
                        good.append((row, cells))
                    else:
                        problems.append(wrong_width)
                by_column = list(zip(*(cells for _, cells in good), strict=True))
                parsed = crs_columns.parse_chunk(
                    {name: np.array(by_column[j], dtype=object) for j, name in contract}
                    if good
                    else {},
                    len(good),
                )
                result, kept, contradictions = crs_columns.grade_chunk(parsed)
                found = sorted([*parsed.problems, *contradictions])
                problems.extend(RowProblem(good[i][0], path, msg) for i, path, msg in found)
                writer.writerows(
                    [*good[i][1], grade, reasons]
                    for i, grade, reasons in zip(
                        kept.tolist(), result.grade_list(), result.reasons.tolist(), strict=True
                    )
                )
                graded += len(kept)
                if advance is not None:
                    advance(len(chunk))
    problems.sort(key=lambda p: p.row)
    return BatchReport(rows, graded, tuple(problems))
