"""CRS CSV cells → ``CrsColumns``, validated column by column (the fast batch path).

Each column is factorised (``pandas.factorize``: one code per row, one entry per distinct
cell text) and every *distinct* cell is validated once, then the result is spread back to
the rows with numpy indexing. A CRS CSV column has few distinct values (booleans, devices,
vasopressor lists, temperatures to 0.1 °C), so 1 M rows cost a few hundred validations per
column. The per-value validation is the JSON path's own: the cell is read as in the
per-row path (:func:`cartwatch.batch.csv_format.cell_value`) and validated by
``CrsObservationIn`` as a one-field document, then ``to_domain()`` (the duplicate
vasopressor check: a list cell contradicting itself). Number columns are parsed per
distinct text and range-checked with numpy against the schema's own bounds. Contradictions
*between* fields (nasal cannula without a flow, a flow without a device,
``fever_before_therapy`` without therapy) are left to ``grade_crs_columns``, which reports
them as ``ClinicalInputError`` with ``[row].field`` paths, exactly where ``grade_crs`` would.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import ValidationError

from cartwatch.batch.csv_format import Column, CsvLayout, cell_value
from cartwatch.clinical.crs import (
    NOT_COUNTED_TOWARDS_MULTIPLE,
    OXYGEN_DEVICE_CODES,
    VASOPRESSOR_BITS,
    Vasopressor,
)
from cartwatch.clinical.crs_columns import CrsColumnGrades, CrsColumns, grade_crs_columns
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.crs import CrsObservationIn
from cartwatch.schemas.errors import number_constraints, number_requirement, problem_pairs

LAYOUT = CsvLayout.of(CrsObservationIn)
Problems = list[tuple[str, str]]
_COUNTED_BITS = {
    drug: bit for drug, bit in VASOPRESSOR_BITS.items() if drug not in NOT_COUNTED_TOWARDS_MULTIPLE
}
_VASOPRESSIN_BIT = VASOPRESSOR_BITS[Vasopressor.VASOPRESSIN]


def _under(path: str, name: str) -> bool:
    return path == name or path.startswith((f"{name}[", f"{name}."))


def _validate_cell(column: Column, text: str) -> tuple[Any, Problems]:
    """One distinct non-empty cell through the JSON path: (schema value, problems)."""
    value, problem = cell_value(column, text, CrsObservationIn)
    if problem is not None:
        return None, [(column.name, problem)]
    try:
        parsed = CrsObservationIn.model_validate_json(json.dumps({column.name: value}))
    except ValidationError as exc:
        pairs = problem_pairs(exc, model=CrsObservationIn)
        return None, [p for p in pairs if _under(p[0], column.name)]
    try:
        parsed.to_domain()
    except ClinicalInputError as exc:
        # Only a cell's contradictions with itself (items of a list: a repeated vasopressor)
        # are the cell's; anything between fields (fever_before_therapy without therapy)
        # belongs to the row check, which sees the whole row.
        mine = [p for p in problem_pairs(exc) if p[0].startswith(f"{column.name}[")]
        if mine:
            return None, mine
    return getattr(parsed, column.name), []


@dataclass(frozen=True)
class Factorised:
    """A column as one code per row into its distinct cell texts (``pandas.factorize``)."""

    codes: npt.NDArray[np.intp]
    uniques: list[str]

    @classmethod
    def of(cls, texts: npt.NDArray[np.object_]) -> Factorised:
        codes, uniques = pd.factorize(texts)
        return cls(np.asarray(codes, dtype=np.intp), list(uniques.tolist()))


@dataclass(frozen=True)
class _Validated:
    codes: npt.NDArray[np.intp]  # per row: index into the distinct values
    values: list[Any]  # per distinct value: the converted value (None where invalid)
    problems: list[Problems]  # per distinct value

    def bad_rows(self) -> npt.NDArray[np.bool_]:
        return np.array([bool(p) for p in self.problems] or [False], dtype=bool)[self.codes]

    def take(self, convert: Callable[[Any], Any], dtype: Any, default: Any) -> npt.NDArray[Any]:
        table = np.array(
            [default if v is None else convert(v) for v in self.values] or [default], dtype=dtype
        )
        return table[self.codes]


def _validate(cells: Factorised, column: Column) -> _Validated:
    values: list[Any] = []
    problems: list[Problems] = []
    for raw in cells.uniques:
        text = raw.strip()
        value, found = (None, []) if text == "" else _validate_cell(column, text)
        values.append(value)
        problems.append(found)
    return _Validated(cells.codes, values, problems)


def _number_column(
    cells: Factorised, column: Column
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], str]:
    """(values with NaN = absent, bad rows, the problem text) for a number column."""
    parsed = [
        math.nan
        if not t.strip()
        else _float_or_inf(cell_value(column, t.strip(), CrsObservationIn)[0])
        for t in cells.uniques
    ]
    table = np.array(parsed or [math.nan], dtype=np.float64)
    values = table[cells.codes]
    limits = number_constraints(CrsObservationIn, [column.name])
    bad = np.isinf(values)
    present = ~np.isnan(values)
    for key, outside in (
        ("minimum", np.less),
        ("maximum", np.greater),
        ("exclusiveMinimum", np.less_equal),
        ("exclusiveMaximum", np.greater_equal),
    ):
        if key in limits:
            bad |= present & outside(values, limits[key])
    return values, bad, number_requirement(CrsObservationIn, [column.name])


def _float_or_inf(value: object) -> float:
    # cell_value returns None for a cell that is not a finite number: mark it with inf.
    return math.inf if value is None else float(value)  # type: ignore[arg-type]


def _mask(drugs: Sequence[Vasopressor]) -> int:
    return sum(VASOPRESSOR_BITS[d] for d in set(drugs))


def _counted(mask: int) -> int:
    return sum(1 for bit in _COUNTED_BITS.values() if mask & bit)


@dataclass(frozen=True)
class ParsedChunk:
    columns: CrsColumns  # the valid rows only
    rows: npt.NDArray[np.intp]  # chunk index of each valid row
    problems: list[tuple[int, str, str]]  # (chunk index, path, message)


def parse_chunk(cells: Mapping[str, npt.NDArray[np.object_]], n: int) -> ParsedChunk:
    """Validate the cell texts of each column (absent column = all empty) into columns."""
    return parse_factorised({name: Factorised.of(texts) for name, texts in cells.items()}, n)


def parse_factorised(cells: Mapping[str, Factorised], n: int) -> ParsedChunk:
    """Validate each factorised column (absent column = all empty) into columns: every
    distinct cell text is validated once and the result spread to its rows."""
    bad = np.zeros(n, dtype=bool)
    problems: list[tuple[int, str, str]] = []
    arrays: dict[str, npt.NDArray[Any]] = {
        "temperature_c": np.full(n, math.nan),
        "oxygen_flow_l_min": np.full(n, math.nan),
        "vasopressor_mask": np.zeros(n, dtype=np.uint8),
        "oxygen_device": np.zeros(n, dtype=np.int8),
    }
    for name, column_cells in cells.items():
        column = LAYOUT.columns[name]
        if column.kind == "number":
            values, wrong, message = _number_column(column_cells, column)
            problems.extend((int(i), name, message) for i in np.flatnonzero(wrong))
            arrays[name] = np.where(wrong, math.nan, values)
            bad |= wrong
            continue
        found = _validate(column_cells, column)
        wrong = found.bad_rows()
        for i in np.flatnonzero(wrong).tolist():
            problems.extend((i, path, msg) for path, msg in found.problems[found.codes[i]])
        bad |= wrong
        if name == "vasopressors":
            arrays["vasopressor_mask"] = found.take(_mask, np.uint8, 0)
        elif name == "oxygen_device":
            arrays[name] = found.take(lambda d: OXYGEN_DEVICE_CODES[d], np.int8, 0)
        elif column.kind == "boolean":
            arrays[name] = found.take(bool, np.bool_, False)
        # observed_at and the like: validated, not graded (rows are independent)
    keep = np.flatnonzero(~bad)
    mask = arrays["vasopressor_mask"][keep]
    counted_table = np.array([_counted(m) for m in range(256)], dtype=np.int64)
    columns = CrsColumns(
        temperature_c=arrays["temperature_c"][keep],
        vasopressor_count=counted_table[mask],
        vasopressin=(mask & _VASOPRESSIN_BIT) > 0,
        vasopressor_mask=mask,
        oxygen_device=arrays["oxygen_device"][keep],
        oxygen_flow_l_min=arrays["oxygen_flow_l_min"][keep],
        **{
            f: arrays.get(f, np.zeros(n, dtype=bool))[keep]
            for f in (
                "fever_attributable_to_other_cause",
                "antipyretic_or_anticytokine_given",
                "hypotension",
                "hypotension_attributable_to_other_cause",
                "hypoxia_attributable_to_other_cause",
                "death_due_to_crs",
                "fever_before_therapy",
            )
        },
    )
    return ParsedChunk(columns, keep, sorted(problems))


def _row_of(path: str) -> tuple[int, str]:
    """``[12].oxygen_flow_l_min`` → ``(12, "oxygen_flow_l_min")`` (grade_crs_columns paths)."""
    index, _, field = path.partition("].")
    return int(index.removeprefix("[")), field


def grade_chunk(
    chunk: ParsedChunk,
) -> tuple[CrsColumnGrades, npt.NDArray[np.intp], list[tuple[int, str, str]]]:
    """Grade the valid rows; rows with contradictory fields are reported and left out.

    Returns (grades of the rows graded, their chunk indices, problems as (index, ...)).
    """
    cols, rows = chunk.columns, chunk.rows
    try:
        return grade_crs_columns(cols), rows, []
    except ClinicalInputError as exc:
        contradictions = [(_row_of(path), message) for path, message in exc.problems]
    failed = np.array(sorted({i for (i, _), _ in contradictions}), dtype=np.intp)
    keep = np.setdiff1d(np.arange(len(rows)), failed)
    subset = CrsColumns(**{f: getattr(cols, f)[keep] for f in cols.__dataclass_fields__})
    problems = [(int(rows[i]), field, message) for (i, field), message in contradictions]
    return grade_crs_columns(subset), rows[keep], problems


__all__ = ["LAYOUT", "Factorised", "ParsedChunk", "grade_chunk", "parse_chunk", "parse_factorised"]
