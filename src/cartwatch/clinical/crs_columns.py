"""ASTCT 2019 CRS grading of numpy columns: the vectorised batch path of ``grade crs``.

The rules are those of :mod:`cartwatch.clinical.crs` (Lee DW et al., BBMT 2019;25:625–638
[S1], clinical-standards.md §1.2, [S3] Table 1): every lookup table here is built at import
from that module's own rule and reason-text functions, never re-typed, and
``grade_crs_columns`` must agree with ``crs.grade_crs`` row for row, grade and reason text
alike (tests/property/test_crs_properties.py). Rows are independent observations, so
``antipyretic_or_anticytokine_given`` has its one-observation meaning (therapy for CRS).

A row without a recorded temperature and without therapy is not gradable (contract v2 item
1): its grade is ``NOT_GRADABLE`` (-1) in the int8 grade column, written as an empty cell,
and its reasons end with ``crs.not_gradable_text`` (the grade with a fever).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cartwatch.clinical.crs import (
    DEATH_GRADE,
    DEATH_TEXT,
    FEVER_ONLY_GRADE,
    FEVER_THRESHOLD_C,
    FLOW_GRADED_DEVICES,
    LOW_FLOW_MAX_L_MIN,
    NOT_COUNTED_TOWARDS_MULTIPLE,
    NOT_GRADED_TEXT,
    OXYGEN_DEVICE_CODES,
    STANDARD,
    THERAPY_TEXT,
    VASOPRESSOR_BITS,
    CrsObservation,
    OxygenDevice,
    Vasopressor,
    conclusion_text,
    fever_text,
    hypotension_grade,
    hypotension_text,
    hypoxia_grade,
    hypoxia_text,
    not_gradable_text,
)
from cartwatch.clinical.errors import ClinicalInputError

#: The grade column's value for a not-gradable row (None on the per-record path).
NOT_GRADABLE: Final = -1

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
U8Array = npt.NDArray[np.uint8]
ArrayAny = npt.NDArray[Any]
_VASOPRESSIN_BIT: Final = VASOPRESSOR_BITS[Vasopressor.VASOPRESSIN]
_DEVICES: Final = tuple(OxygenDevice)
# Number of vasopressors counted towards "multiple" for each possible mask value.
_COUNTED_PER_MASK: Final = np.array(
    [bin(m & ~_VASOPRESSIN_BIT).count("1") for m in range(256)], dtype=np.int64
)
_BOOL_FIELDS: Final = (
    "fever_attributable_to_other_cause",
    "antipyretic_or_anticytokine_given",
    "hypotension",
    "vasopressin",
    "hypotension_attributable_to_other_cause",
    "hypoxia_attributable_to_other_cause",
    "death_due_to_crs",
    "fever_before_therapy",
)


@dataclass(frozen=True)
class CrsColumns:
    """CRS observations as equal-length 1-D numpy arrays, one row per observation.

    * ``temperature_c``: float64, NaN = not recorded.
    * ``vasopressor_count``: int64, number of vasopressors *other than vasopressin* (the count
      that decides "multiple", [S3][S4]); ``vasopressin``: bool, vasopressin given.
    * ``vasopressor_mask``: uint8, bit ``i`` set when the i-th ``Vasopressor`` member
      (norepinephrine=1, epinephrine=2, phenylephrine=4, dopamine=8, vasopressin=16,
      angiotensin_ii=32) is given. It carries the drug names for the reason text and must
      agree with the two columns above (checked on construction).
    * ``oxygen_device``: int8 code = position in ``OxygenDevice``: 0 none, 1 nasal_cannula,
      2 blow_by, 3 high_flow_nasal_cannula, 4 face_mask, 5 nonrebreather_mask,
      6 venturi_mask, 7 cpap, 8 bipap, 9 mechanical_ventilation.
    * ``oxygen_flow_l_min``: float64, NaN = not given.
    * the remaining contract booleans as bool arrays (``fever_before_therapy`` only matters
      for episodes; here it is checked for consistency with the therapy flag, as in a record).

    Shape/dtype/consistency errors raise ValueError (a programming error); contradictory
    clinical values raise ClinicalInputError from ``grade_crs_columns``, as ``grade_crs`` would.
    """

    temperature_c: FloatArray
    fever_attributable_to_other_cause: BoolArray
    antipyretic_or_anticytokine_given: BoolArray
    hypotension: BoolArray
    vasopressor_count: IntArray
    vasopressin: BoolArray
    vasopressor_mask: npt.NDArray[np.uint8]
    oxygen_device: npt.NDArray[np.int8]
    oxygen_flow_l_min: FloatArray
    hypotension_attributable_to_other_cause: BoolArray
    hypoxia_attributable_to_other_cause: BoolArray
    death_due_to_crs: BoolArray
    fever_before_therapy: BoolArray

    def __post_init__(self) -> None:
        expected = {
            "temperature_c": np.float64,
            "vasopressor_count": np.int64,
            "vasopressor_mask": np.uint8,
            "oxygen_device": np.int8,
            "oxygen_flow_l_min": np.float64,
            **{name: np.bool_ for name in _BOOL_FIELDS},
        }
        n = len(self.temperature_c)
        for f in dataclasses.fields(self):
            arr = getattr(self, f.name)
            if not isinstance(arr, np.ndarray) or arr.ndim != 1 or len(arr) != n:
                raise ValueError(f"{f.name}: expected a 1-D numpy array of length {n}")
            if arr.dtype != expected[f.name]:
                raise ValueError(f"{f.name}: expected dtype {np.dtype(expected[f.name])}")
        if n and int(self.vasopressor_mask.max()) >> len(Vasopressor):
            # Bits 6 and 7 name no drug (and the grader packs two flags into them).
            raise ValueError("vasopressor_mask: bits above angiotensin_ii (32) name no drug")
        counted = _COUNTED_PER_MASK[self.vasopressor_mask]
        if not np.array_equal(counted, self.vasopressor_count):
            raise ValueError("vasopressor_count disagrees with vasopressor_mask")
        if not np.array_equal((self.vasopressor_mask & _VASOPRESSIN_BIT) > 0, self.vasopressin):
            raise ValueError("vasopressin disagrees with vasopressor_mask")

    def __len__(self) -> int:
        return len(self.temperature_c)

    def row(self, i: int) -> CrsObservation:
        """Row ``i`` as a CrsObservation (validated like any other record)."""
        t = float(self.temperature_c[i])
        flow = float(self.oxygen_flow_l_min[i])
        return CrsObservation(
            temperature_c=None if math.isnan(t) else t,
            fever_attributable_to_other_cause=bool(self.fever_attributable_to_other_cause[i]),
            antipyretic_or_anticytokine_given=bool(self.antipyretic_or_anticytokine_given[i]),
            hypotension=bool(self.hypotension[i]),
            vasopressors=_drugs_from_mask(int(self.vasopressor_mask[i])),
            oxygen_device=_DEVICES[int(self.oxygen_device[i])],
            oxygen_flow_l_min=None if math.isnan(flow) else flow,
            hypotension_attributable_to_other_cause=bool(
                self.hypotension_attributable_to_other_cause[i]
            ),
            hypoxia_attributable_to_other_cause=bool(self.hypoxia_attributable_to_other_cause[i]),
            death_due_to_crs=bool(self.death_due_to_crs[i]),
            fever_before_therapy=bool(self.fever_before_therapy[i]),
        )


def _drugs_from_mask(mask: int) -> tuple[Vasopressor, ...]:
    return tuple(v for v, bit in VASOPRESSOR_BITS.items() if mask & bit)


def crs_columns_from_observations(observations: Sequence[CrsObservation]) -> CrsColumns:
    """Columns holding the given records (observed_at is not part of batch grading)."""

    def flags(name: str) -> BoolArray:
        return np.fromiter((getattr(o, name) for o in observations), bool, len(observations))

    masks = [sum(VASOPRESSOR_BITS[v] for v in set(o.vasopressors)) for o in observations]
    return CrsColumns(
        temperature_c=np.array(
            [math.nan if o.temperature_c is None else o.temperature_c for o in observations],
            dtype=np.float64,
        ),
        fever_attributable_to_other_cause=flags("fever_attributable_to_other_cause"),
        antipyretic_or_anticytokine_given=flags("antipyretic_or_anticytokine_given"),
        hypotension=flags("hypotension"),
        vasopressor_count=np.array(
            [len(set(o.vasopressors) - NOT_COUNTED_TOWARDS_MULTIPLE) for o in observations],
            dtype=np.int64,
        ),
        vasopressin=np.array([bool(m & _VASOPRESSIN_BIT) for m in masks], dtype=bool),
        vasopressor_mask=np.array(masks, dtype=np.uint8),
        oxygen_device=np.array(
            [OXYGEN_DEVICE_CODES[o.oxygen_device] for o in observations], dtype=np.int8
        ),
        oxygen_flow_l_min=np.array(
            [
                math.nan if o.oxygen_flow_l_min is None else o.oxygen_flow_l_min
                for o in observations
            ],
            dtype=np.float64,
        ),
        hypotension_attributable_to_other_cause=flags("hypotension_attributable_to_other_cause"),
        hypoxia_attributable_to_other_cause=flags("hypoxia_attributable_to_other_cause"),
        death_due_to_crs=flags("death_due_to_crs"),
        fever_before_therapy=flags("fever_before_therapy"),
    )


@dataclass(frozen=True)
class CrsColumnGrades:
    """Per-row grades (int8, NOT_GRADABLE = -1 for a not-gradable row) and reasons,
    dictionary-encoded: ``reason_texts`` holds each
    distinct '; '-joined reason string once and ``reason_codes`` indexes it per row, so a
    writer serialises each distinct text once. ``reasons`` (one string per row) is built on
    first access: a million-row object array costs more than the grading itself.
    """

    grades: npt.NDArray[np.int8]
    reason_codes: IntArray
    reason_texts: ObjectArray
    standard: str = field(default=STANDARD)

    @functools.cached_property
    def reasons(self) -> npt.NDArray[np.object_]:
        """``reason_texts[reason_codes]``: the reasons of each row."""
        out: npt.NDArray[np.object_] = self.reason_texts[self.reason_codes]
        return out

    def grade_list(self) -> list[int | None]:
        """The grades as the per-record path gives them (None where not gradable)."""
        return [None if g == NOT_GRADABLE else g for g in self.grades.tolist()]


# --- lookup tables of the column grader -------------------------------------------------------
# Every table below is built once, at import, from the per-record rules and text helpers of
# cartwatch.clinical.crs (never re-typed), so the two paths cannot drift apart. The column
# grader only indexes these tables with small integer codes: one numpy gather per row and
# table instead of one Python call per row.

_N_DEVICES: Final = len(_DEVICES)
# Flow-graded devices in code order; a flow-graded hypoxia code stores the device's rank here.
_FLOW_GRADED: Final = tuple(d for d in _DEVICES if d in FLOW_GRADED_DEVICES)
_MASK_BITS: Final = len(Vasopressor)  # masks use bits 0..5; the index packs flags in 6 and 7

# Per device byte (the int8 code viewed as uint8, so negative codes land on 128..255 and one
# 256-entry table covers every possible value): validity and what it says about the flow.
_DEVICE_VALID_BIT, _FLOW_REQUIRED_BIT, _FLOW_ALLOWED_BIT = 1, 2, 4
_DEVICE_FLAGS: Final = np.zeros(256, dtype=np.uint8)
for _code, _device in enumerate(_DEVICES):
    _DEVICE_FLAGS[_code] = (
        _DEVICE_VALID_BIT
        | (_FLOW_REQUIRED_BIT if _device in FLOW_GRADED_DEVICES else 0)
        | (_FLOW_ALLOWED_BIT if _device is not OxygenDevice.NONE else 0)
    )
_FLOW_RANK: Final = np.zeros(256, dtype=np.int64)
for _rank, _device in enumerate(_FLOW_GRADED):
    _FLOW_RANK[OXYGEN_DEVICE_CODES[_device]] = _rank

# Hypotension, indexed per row by mask | hypotension << 6 | attributable << 7.
# Text code 0 = no hypotension finding (no reason line); else 1 + (mask << 1 | attributable).
_N_HYPOTENSION_CODES: Final = 1 + (2 << _MASK_BITS)


def _hypotension_code(index: int) -> int:
    mask, flagged, attributable = index & ((1 << _MASK_BITS) - 1), index >> 6 & 1, index >> 7
    return 1 + (mask << 1 | attributable) if flagged or mask else 0


def _hypotension_code_grade(code: int) -> int:
    if code == 0 or (code - 1) & 1:  # no finding, or attributable to another cause
        return 0
    return hypotension_grade(frozenset(_drugs_from_mask((code - 1) >> 1)))


def _hypotension_code_part(code: int) -> str:
    if code == 0:
        return ""
    drugs = frozenset(_drugs_from_mask((code - 1) >> 1))
    return "; " + hypotension_text(drugs, bool((code - 1) & 1))


_HYPOTENSION_CODE: Final = np.array([_hypotension_code(i) for i in range(256)], dtype=np.int64)
_HYPOTENSION_CODE_GRADE: Final = np.array(
    [_hypotension_code_grade(c) for c in range(_N_HYPOTENSION_CODES)], dtype=np.int64
)
_HYPOTENSION_GRADE: Final = _HYPOTENSION_CODE_GRADE[_HYPOTENSION_CODE].astype(np.uint8)
_HYPOTENSION_PART: Final = np.array(
    [_hypotension_code_part(c) for c in range(_N_HYPOTENSION_CODES)], dtype=object
)

# Hypoxia, indexed per row by device << 2 | (flow > 6 L/min) << 1 | attributable (valid
# devices only). Text code 0 = no device; 1 + (device << 1 | attributable) for a device not
# graded by flow (its text ignores any flow given); from _N_STATIC_HYPOXIA_CODES on,
# (flow code * k + rank) << 1 | attributable for the k flow-graded devices (text prints flow).
_N_STATIC_HYPOXIA_CODES: Final = 1 + 2 * _N_DEVICES


def _hypoxia_index_grade(index: int) -> int:
    device, above, attributable = _DEVICES[index >> 2], index >> 1 & 1, index & 1
    flow = LOW_FLOW_MAX_L_MIN + 1 if above else LOW_FLOW_MAX_L_MIN
    return 0 if attributable else hypoxia_grade(device, flow)


def _hypoxia_index_code(index: int) -> int:
    device = _DEVICES[index >> 2]
    if device is OxygenDevice.NONE or device in FLOW_GRADED_DEVICES:
        return 0  # flow-graded rows get their code from the flow column
    return 1 + ((index >> 2) << 1 | index & 1)


_HYPOXIA_GRADE: Final = np.array(
    [_hypoxia_index_grade(i) for i in range(4 * _N_DEVICES)], dtype=np.uint8
)
_HYPOXIA_STATIC_CODE: Final = np.array(
    [_hypoxia_index_code(i) for i in range(4 * _N_DEVICES)], dtype=np.int64
)

# Row states of the reason key: which kind of reason list the row gets. Not gradable rows
# (no temperature, no therapy) list their findings like the gated ones, then the
# not-gradable text instead of a conclusion.
_DEATH, _NOT_GRADED, _FEVER_GATE, _THERAPY_GATE, _NOT_GRADABLE = 0, 1, 2, 3, 4
_N_STATES: Final = 5
_STATE_PART: Final = np.array(
    ["", "; " + NOT_GRADED_TEXT, "", "; " + THERAPY_TEXT, ""], dtype=object
)
# Conclusion per block * 25 + hypotension grade * 5 + hypoxia grade, where block 0/1 is a
# gated row without/with fever and block 2 a not-gradable row; the extra last entry is the
# empty conclusion of rows that have none (death, not graded).
_GRADE_SLOTS: Final = 5
_NOT_GRADABLE_BLOCK: Final = 2
_CONCLUSION_PART: Final = np.array(
    [
        "" if (text := conclusion_text(bool(f), h, x)) is None else "; " + text
        for f in (0, 1)
        for h in range(_GRADE_SLOTS)
        for x in range(_GRADE_SLOTS)
    ]
    + [
        "; " + not_gradable_text(max(FEVER_ONLY_GRADE, h, x))
        for h in range(_GRADE_SLOTS)
        for x in range(_GRADE_SLOTS)
    ]
    + [""],
    dtype=object,
)


def _column_problems(cols: CrsColumns) -> tuple[list[tuple[str, str]], U8Array]:
    """The ClinicalInputError problems grade_crs would raise, row by row, in row order.

    Also returns each row's device flags (``_DEVICE_FLAGS``), reused by the grader.
    """
    flags = _DEVICE_FLAGS[cols.oxygen_device.view(np.uint8)]
    flow = cols.oxygen_flow_l_min
    no_flow = np.isnan(flow)
    flow_ok = (flow >= 0) & (flow < math.inf)  # False for NaN
    # The flow is consistent with the device when there is none and the device does not
    # require one, or it is a finite non-negative number and the device allows one.
    required = (flags & _FLOW_REQUIRED_BIT).view(np.bool_)
    allowed = (flags & _FLOW_ALLOWED_BIT).view(np.bool_)
    consistent = (no_flow & ~required) | (flow_ok & allowed)
    bad_device = (flags & _DEVICE_VALID_BIT) == 0
    undated_fever = cols.fever_before_therapy & ~cols.antipyretic_or_anticytokine_given
    suspicious = np.flatnonzero(
        ~consistent | bad_device | np.isinf(cols.temperature_c) | undated_fever
    )
    problems: list[tuple[str, str]] = []
    for i in suspicious.tolist():
        if bad_device[i]:
            code = int(cols.oxygen_device[i])
            problems.append((f"[{i}].oxygen_device", f"unknown device code {code}"))
            continue
        try:
            cols.row(i)  # the record's own validation words the problem
        except ClinicalInputError as exc:
            problems.extend((f"[{i}].{path}", message) for path, message in exc.problems)
    return problems, flags


# Values further than this from zero are keyed exactly: their tenths would not fit a dense
# integer code range (no clinical temperature or flow comes near it).
_DENSE_LIMIT: Final = 1e6
# A code range up to this many slots per row (+ a constant) is numbered with a lookup table
# (O(n)); a sparser range falls back to sorting, so huge ranges never allocate huge tables.
_TABLE_SLOTS_PER_ROW: Final = 4
_TABLE_SLOTS_MIN: Final = 1 << 16


def _table_fits(span: int, rows: int) -> bool:
    return span <= _TABLE_SLOTS_PER_ROW * rows + _TABLE_SLOTS_MIN


@dataclass(frozen=True)
class _ValueCodes:
    """Dense codes for a float column: rows with equal codes print identical reason text.

    A finite value is coded by its tenths, as ``format_temperature``/``format_flow`` print
    it, except (a) values within float noise of a rounding half, where ``np.rint(v * 10)``
    may disagree with ``format(v, ".1f")``, (b) values whose printed text sits on the other
    side of the cut-off (``_side_safe`` prints those exactly), (c) huge values and (d)
    values printing as "-0.0": these are coded by their exact value. NaN has the last code.
    """

    codes: IntArray
    tenths: IntArray  # per tenths code (the first codes): the value in tenths
    exact: FloatArray  # per exact code (after the tenths codes): the value
    size: int  # number of codes, NaN's included

    @classmethod
    def of(cls, values: FloatArray, crosses: Callable[[FloatArray], BoolArray]) -> _ValueCodes:
        # Huge values overflow to inf when scaled; they are coded exactly, so that is harmless.
        with np.errstate(over="ignore", invalid="ignore"):
            return cls._of(values, crosses)

    @classmethod
    def _of(cls, values: FloatArray, crosses: Callable[[FloatArray], BoolArray]) -> _ValueCodes:
        scaled = values * 10.0
        tenths = np.rint(scaled)
        # Charted values (38.4, 5.5) are the doubles nearest to their tenths: they print as
        # their tenths and cannot cross a cut-off. Only the others (NaN, arbitrary floats)
        # need the careful checks, on a compressed subset; so do zeros, as -0.0 == 0.0.
        odd = tenths / 10.0 != values
        # NaN-ignoring extremes; kept as the code range even if exact rows leave it wider.
        low = float(np.fmin.reduce(tenths)) if len(tenths) else math.nan
        high = float(np.fmax.reduce(tenths)) if len(tenths) else math.nan
        if not low > 0:
            odd |= values == 0  # -0.0 == 0.0 but prints "-0.0"
        if not (abs(low) <= 10 * _DENSE_LIMIT and abs(high) <= 10 * _DENSE_LIMIT):
            odd |= np.abs(values) > _DENSE_LIMIT  # huge values print as tenths but are exact
        irregular = np.flatnonzero(odd)
        v, s, r = values[irregular], scaled[irregular], tenths[irregular]
        nan = np.isnan(v)
        exact = ~nan & (
            (np.abs(s - r) > 0.5 - 1e-6)  # a rounding half, give or take float noise
            | (crosses(r / 10.0) != crosses(v))
            | (np.abs(v) > _DENSE_LIMIT)
            | ((r == 0) & np.signbit(v))
        )
        exact_rows, nan_rows = irregular[exact], irregular[nan]
        exact_values, exact_codes = np.unique(v[exact], return_inverse=True)
        tenths[exact_rows] = math.nan  # NaN rows already are
        if len(nan_rows) + len(exact_rows) == len(values):  # no row is coded by its tenths
            table: IntArray = np.empty(0, dtype=np.int64)
            codes = np.zeros(len(values), dtype=np.int64)
        elif abs(high - low) < 2**62 and _table_fits(int(high - low) + 1, len(values)):
            table = np.arange(int(low), int(high) + 1, dtype=np.int64)
            tenths[exact_rows] = low
            tenths[nan_rows] = low
            tenths -= low
            codes = tenths.astype(np.int64)
        else:
            used, inverse = np.unique(tenths, return_inverse=True)  # NaN sorts (once) last
            table = used[~np.isnan(used)].astype(np.int64)
            codes = inverse.reshape(-1).astype(np.int64)
        codes[exact_rows] = len(table) + exact_codes.reshape(-1)
        codes[nan_rows] = len(table) + len(exact_values)
        return cls(codes, table, exact_values, len(table) + len(exact_values) + 1)

    def value(self, code: int) -> float | None:
        """A value printing exactly like every row with this code (None for NaN)."""
        if code < len(self.tenths):
            return int(self.tenths[code]) / 10.0
        k = code - len(self.tenths)
        return float(self.exact[k]) if k < len(self.exact) else None


def _is_fever(values: FloatArray) -> BoolArray:
    return values >= FEVER_THRESHOLD_C


def _is_high_flow(values: FloatArray) -> BoolArray:
    return values > LOW_FLOW_MAX_L_MIN


def _dense(key: IntArray, span: int) -> tuple[IntArray, IntArray]:
    """(dense code per row, distinct keys ascending) for non-negative keys below ``span``."""
    if _table_fits(span, len(key)):
        # Bounded range: mark the keys present in a table, number them, look them up. O(n).
        used = np.zeros(span, dtype=np.bool_)
        used[key] = True
        distinct = np.flatnonzero(used)
        # int32 halves the memory the random lookups touch (span < 2**31 on this path).
        table = np.empty(span, dtype=np.int32)
        table[distinct] = np.arange(len(distinct), dtype=np.int32)
        return table[key].astype(np.int64), distinct.astype(np.int64)
    distinct, inverse = np.unique(key, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), distinct.astype(np.int64)


def grade_crs_columns(cols: CrsColumns) -> CrsColumnGrades:
    """Grade every row; ``reasons[i] == "; ".join(grade_crs(cols.row(i)).reasons)`` and
    ``grades[i]`` is ``grade_crs(cols.row(i)).grade``, with NOT_GRADABLE for None.

    THE TWO PATHS MUST AGREE. Grades come from lookup tables built from grade_crs's own
    rule functions, indexed by per-row codes. Reason text is keyed per row by one integer
    combining the row state (death / not graded / fever / therapy), the hypotension code
    (mask, attribution), the hypoxia code (device, printed flow, attribution), fever and the
    printed temperature; the conclusion is a function of these. The text is assembled from
    grade_crs's own helpers once per distinct key and spread to the rows with one gather.
    tests/property/test_crs_properties.py checks both with hypothesis; change them together.

    Raises ClinicalInputError, with ``[row].field`` paths, where grade_crs would raise.
    """
    problems, device_flags = _column_problems(cols)
    if problems:
        raise ClinicalInputError(problems)
    n = len(cols)
    t = cols.temperature_c
    death = cols.death_due_to_crs
    therapy = cols.antipyretic_or_anticytokine_given
    hot = _is_fever(t)
    fever_attributed = hot & cols.fever_attributable_to_other_cause
    fever = hot ^ fever_attributed
    gate = fever | therapy
    # Not gradable: no temperature, so fever can be neither shown nor excluded, and no
    # therapy lifting the requirement (contract v2 item 1).
    missing = np.isnan(t) & ~therapy & ~death

    # One byte per row indexes the hypotension tables, one the hypoxia tables.
    h_byte = cols.hypotension.view(np.uint8) << 6
    h_byte |= cols.hypotension_attributable_to_other_cause.view(np.uint8) << 7
    h_byte |= cols.vasopressor_mask
    h_index = h_byte.astype(np.intp)
    x_byte = cols.oxygen_device.view(np.uint8) << 2
    x_byte |= _is_high_flow(cols.oxygen_flow_l_min).view(np.uint8) << 1
    x_byte |= cols.hypoxia_attributable_to_other_cause.view(np.uint8)
    x_index = x_byte.astype(np.intp)
    worst = np.maximum(_HYPOTENSION_GRADE[h_index], _HYPOXIA_GRADE[x_index])
    np.maximum(worst, fever.view(np.uint8), out=worst)  # FEVER_ONLY_GRADE == 1
    worst *= gate
    worst[death] = DEATH_GRADE
    grades = worst.view(np.int8)
    grades -= missing.view(np.int8)  # 0 → NOT_GRADABLE (-1): ungated rows are 0 here
    if n == 0:
        no_rows = np.empty(0, dtype=np.int64)
        return CrsColumnGrades(grades, reason_codes=no_rows, reason_texts=np.empty(0, dtype=object))

    # --- the reason key: ((state * H + hypotension) * X + hypoxia) * 2 + fever, then with
    # the printed temperature -----------------------------------------------------------------
    state = gate.view(np.uint8) + therapy.view(np.uint8)
    state += 1
    state *= ~death  # _DEATH 0, _NOT_GRADED 1, _FEVER_GATE 2, _THERAPY_GATE 3
    state += missing.view(np.uint8) * np.uint8(_NOT_GRADABLE - _NOT_GRADED)  # those were 1
    live = state >= _FEVER_GATE  # only these rows list hypotension, hypoxia and a conclusion
    flow_rows = np.flatnonzero(live & (device_flags & _FLOW_REQUIRED_BIT).view(np.bool_))
    flow = _ValueCodes.of(cols.oxygen_flow_l_min[flow_rows], _is_high_flow)
    n_ranks = len(_FLOW_GRADED)
    n_hypoxia = _N_STATIC_HYPOXIA_CODES + 2 * n_ranks * flow.size

    hypoxia = _HYPOXIA_STATIC_CODE[x_index]
    hypoxia[flow_rows] = _N_STATIC_HYPOXIA_CODES + (
        (flow.codes * n_ranks + _FLOW_RANK[x_byte[flow_rows] >> 2]) << 1
        | cols.hypoxia_attributable_to_other_cause[flow_rows]
    )
    rest = np.multiply(state, _N_HYPOTENSION_CODES, dtype=np.int64)
    rest += _HYPOTENSION_CODE[h_index] * live
    rest *= n_hypoxia
    hypoxia *= live
    rest += hypoxia
    rest <<= 1
    rest |= fever & live  # the conclusion needs it (with therapy, fever is optional)
    rest_codes, rest_keys = _dense(rest, _N_STATES * _N_HYPOTENSION_CODES * n_hypoxia * 2)

    temperature = _ValueCodes.of(t, _is_fever)
    head = temperature.codes << 1
    head |= fever_attributed  # fever text: the temperature, and whether it is attributed
    head *= ~death  # death prints no temperature
    n_head = 2 * temperature.size
    key = rest_codes * n_head
    key += head
    key_codes, keys = _dense(key, len(rest_keys) * n_head)

    # --- text: once per distinct component, joined once per distinct key ------------------
    with_fever, rest_rest = rest_keys & 1, rest_keys >> 1
    rest_rest, hypoxia_code = np.divmod(rest_rest, n_hypoxia)
    key_state, hypotension_code = np.divmod(rest_rest, _N_HYPOTENSION_CODES)
    hypoxia_index, hypoxia_used = _dense(hypoxia_code, n_hypoxia)
    hypoxia_texts = [_hypoxia_part(c, flow, n_ranks) for c in hypoxia_used.tolist()]
    hypoxia_part = np.array([text for text, _ in hypoxia_texts], dtype=object)
    hypoxia_grade = np.array([g for _, g in hypoxia_texts], dtype=np.int64)[hypoxia_index]
    conclusion = (with_fever * _GRADE_SLOTS + _HYPOTENSION_CODE_GRADE[hypotension_code]) * (
        _GRADE_SLOTS
    ) + hypoxia_grade
    conclusion[key_state == _NOT_GRADABLE] += _NOT_GRADABLE_BLOCK * _GRADE_SLOTS * _GRADE_SLOTS
    conclusion[key_state < _FEVER_GATE] = len(_CONCLUSION_PART) - 1
    suffixes = (
        _STATE_PART[key_state]
        + _HYPOTENSION_PART[hypotension_code]
        + hypoxia_part[hypoxia_index]
        + _CONCLUSION_PART[conclusion]
    )
    rest_index, head_code = np.divmod(keys, n_head)
    head_index, heads_used = _dense(head_code, n_head)
    head_texts = [fever_text(temperature.value(c >> 1), bool(c & 1)) for c in heads_used.tolist()]
    head_index = head_index.reshape(-1)
    head_index[key_state[rest_index] == _DEATH] = len(head_texts)  # death: its text alone
    heads = np.array([*head_texts, DEATH_TEXT], dtype=object)
    texts: ObjectArray = heads[head_index] + suffixes[rest_index]
    return CrsColumnGrades(grades=grades, reason_codes=key_codes, reason_texts=texts)


def _hypoxia_part(code: int, flow: _ValueCodes, n_ranks: int) -> tuple[str, int]:
    """("; " + reason text, grade) of a hypoxia code ("" and 0 for no device)."""
    if code == 0:
        return "", 0
    if code < _N_STATIC_HYPOXIA_CODES:
        device, attributable = _DEVICES[(code - 1) >> 1], bool((code - 1) & 1)
        value = None  # the text and grade of a device not graded by flow ignore the flow
    else:
        flow_code, rank = divmod((code - _N_STATIC_HYPOXIA_CODES) >> 1, n_ranks)
        attributable = bool((code - _N_STATIC_HYPOXIA_CODES) & 1)
        device, value = _FLOW_GRADED[rank], flow.value(flow_code)
    grade = 0 if attributable else hypoxia_grade(device, value)
    return "; " + hypoxia_text(device, value, attributable), grade
