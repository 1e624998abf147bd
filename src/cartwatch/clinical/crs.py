"""ASTCT 2019 cytokine release syndrome (CRS) grading: one observation, an episode, or columns.

Guideline: ASTCT 2019 consensus (Lee DW et al., BBMT 2019;25:625–638) [S1], the CRS grading
table (clinical-standards.md §1.2), as reproduced in [S3] (PMC8021214 Table 1), [S4] (ASH
Penn/Lee/ASTCT comparison), [S5] (SITC CRS table) and [S6] (PMC9327779 Table 2). Attribution
rules follow clinical-standards.md §1.6; grade 5 follows [S10].

The rules, all encoded as module data below:

* Fever is a temperature ≥38.0 °C not attributable to another cause [S3]. Without fever, and
  without antipyretic or anti-cytokine therapy, the grade is 0 whatever else is present.
* After antipyretic or anti-cytokine therapy (tocilizumab, steroids) fever is no longer
  required: hypotension and hypoxia alone set the grade, 0 when neither [S3][S5]. A fever
  still present after therapy keeps the grade at ≥1: the table's grade 1 is "fever", and the
  therapy note removes the requirement for fever, not its meaning (our reading; the
  reproductions do not address a persisting fever).
* Hypotension without a vasopressor → 2; one vasopressor with or without vasopressin → 3
  (vasopressin alone counts as one); two or more vasopressors, vasopressin not counted → 4
  [S3][S4]. Vasopressors imply hypotension (cli-contract.md). No SBP cut-off is part of ASTCT
  (clinical-standards.md §1.2 note 7).
* Hypoxia by delivery device: nasal cannula ≤6 L/min or blow-by → 2; nasal cannula
  >6 L/min, high-flow nasal cannula, face mask, non-rebreather or Venturi mask → 3; CPAP,
  BiPAP or mechanical ventilation → 4 [S3][S4][S6]. No FiO2 or SpO2 cut-off (that was Lee 2014).
* The worse of hypotension and hypoxia sets the grade [S3]. Findings attributable to another
  cause are excluded [S3][S5].
* Organ toxicity never changes the ASTCT grade [S7]; it is graded under CTCAE v5.0. There is
  deliberately no organ-toxicity field here, so it cannot leak into the grade (the Lee 2014,
  Penn and CARTOX scales used it [S8][S9]).
* Death due to CRS → grade 5 [S10].

``grade_crs`` grades one record; ``grade_crs_episode`` a time-ordered series (therapy carried
forward, maximum with ``peak_index``, timing from ``cartwatch.clinical.episodes``);
``grade_crs_columns`` grades numpy columns for large batches and must agree with
``grade_crs`` row for row, grade and reason text alike.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

from cartwatch.clinical.episodes import EpisodeSummary, Timestamp, summarise_episode
from cartwatch.clinical.errors import ClinicalInputError

STANDARD: Final = "ASTCT 2019"


class Vasopressor(StrEnum):
    """Vasopressors named by the CLI contract; the enum order is the bit order of masks."""

    NOREPINEPHRINE = "norepinephrine"
    EPINEPHRINE = "epinephrine"
    PHENYLEPHRINE = "phenylephrine"
    DOPAMINE = "dopamine"
    VASOPRESSIN = "vasopressin"
    ANGIOTENSIN_II = "angiotensin_ii"


# cli-contract.md `grade crs`: British names are aliases of the canonical (US) ones.
VASOPRESSOR_ALIASES: Final[Mapping[str, Vasopressor]] = MappingProxyType(
    {
        **{v.value: v for v in Vasopressor},
        "noradrenaline": Vasopressor.NOREPINEPHRINE,
        "adrenaline": Vasopressor.EPINEPHRINE,
    }
)

# [S3][S4] table note: "multiple vasopressors (excluding vasopressin)" — vasopressin never
# moves grade 3 to grade 4, but on its own it is "a vasopressor" (grade 3).
NOT_COUNTED_TOWARDS_MULTIPLE: Final = frozenset({Vasopressor.VASOPRESSIN})

# Bit i of a vasopressor mask is the i-th member of Vasopressor.
VASOPRESSOR_BITS: Final[Mapping[Vasopressor, int]] = MappingProxyType(
    {v: 1 << i for i, v in enumerate(Vasopressor)}
)


def parse_vasopressor(name: str) -> Vasopressor:
    """The canonical vasopressor for a contract name or alias, case-insensitively.

    Raises ValueError for any other name: an unknown drug must never be silently dropped,
    because it would lower the count of vasopressors and so the grade.
    """
    key = name.strip().lower()
    try:
        return VASOPRESSOR_ALIASES[key]
    except KeyError:
        known = ", ".join(sorted(VASOPRESSOR_ALIASES))
        raise ValueError(f"unknown vasopressor {name!r}; expected one of: {known}") from None


class OxygenDevice(StrEnum):
    """Oxygen delivery devices of the CLI contract; the enum order is the int8 column code."""

    NONE = "none"
    NASAL_CANNULA = "nasal_cannula"
    BLOW_BY = "blow_by"
    HIGH_FLOW_NASAL_CANNULA = "high_flow_nasal_cannula"
    FACE_MASK = "face_mask"
    NONREBREATHER_MASK = "nonrebreather_mask"
    VENTURI_MASK = "venturi_mask"
    CPAP = "cpap"
    BIPAP = "bipap"
    MECHANICAL_VENTILATION = "mechanical_ventilation"


# Column code of each device: its position in OxygenDevice (none=0 … mechanical_ventilation=9).
OXYGEN_DEVICE_CODES: Final[Mapping[OxygenDevice, int]] = MappingProxyType(
    {d: i for i, d in enumerate(OxygenDevice)}
)

# --- thresholds -------------------------------------------------------------------------------
# [S3] Table 1 note 1: fever is temperature ≥38 °C.
FEVER_THRESHOLD_C: Final = 38.0
# [S3][S4][S6]: low-flow nasal cannula is ≤6 L/min, high-flow >6 L/min.
LOW_FLOW_MAX_L_MIN: Final = 6.0
# [S3][S4]: "multiple vasopressors" = two or more, vasopressin excluded.
MULTIPLE_VASOPRESSORS: Final = 2

# --- grades -----------------------------------------------------------------------------------
FEVER_ONLY_GRADE: Final = 1  # [S3] Table 1 grade 1: fever, no hypotension, no hypoxia
HYPOTENSION_NO_VASOPRESSOR_GRADE: Final = 2  # [S3] grade 2: "not requiring vasopressors"
HYPOTENSION_ONE_VASOPRESSOR_GRADE: Final = 3  # [S3] grade 3: "a vasopressor ± vasopressin"
HYPOTENSION_MULTIPLE_VASOPRESSORS_GRADE: Final = 4  # [S3] grade 4: "multiple (excl. vasopressin)"
DEATH_GRADE: Final = 5  # [S10]: death due to CRS with no other principal cause


@dataclass(frozen=True)
class OxygenRule:
    """Hypoxia grade for a device; the nasal cannula is graded by flow."""

    label: str
    grade: int
    grade_above_low_flow: int | None = None  # only for devices graded by flow


# [S3] Table 1 / [S6] Table 2, hypoxia row; blow-by counts as low flow (§1.2 note 3).
OXYGEN_RULES: Final[Mapping[OxygenDevice, OxygenRule]] = MappingProxyType(
    {
        OxygenDevice.NONE: OxygenRule("no supplemental oxygen", 0),
        OxygenDevice.NASAL_CANNULA: OxygenRule("nasal cannula", 2, grade_above_low_flow=3),
        OxygenDevice.BLOW_BY: OxygenRule("blow-by", 2),
        OxygenDevice.HIGH_FLOW_NASAL_CANNULA: OxygenRule("high-flow nasal cannula", 3),
        OxygenDevice.FACE_MASK: OxygenRule("face mask", 3),
        OxygenDevice.NONREBREATHER_MASK: OxygenRule("non-rebreather mask", 3),
        OxygenDevice.VENTURI_MASK: OxygenRule("Venturi mask", 3),
        OxygenDevice.CPAP: OxygenRule("CPAP (positive pressure)", 4),
        OxygenDevice.BIPAP: OxygenRule("BiPAP (positive pressure)", 4),
        OxygenDevice.MECHANICAL_VENTILATION: OxygenRule(
            "mechanical ventilation (positive pressure)", 4
        ),
    }
)
FLOW_GRADED_DEVICES: Final = frozenset(d for d, r in OXYGEN_RULES.items() if r.grade_above_low_flow)

THERAPY_TEXT: Final = (
    "antipyretic or anti-cytokine therapy given at or before this observation: "
    "fever no longer required, hypotension and hypoxia set the grade"
)
DEATH_TEXT: Final = "death due to CRS → grade 5"
NOT_GRADED_TEXT: Final = (
    "no fever and no antipyretic or anti-cytokine therapy → grade 0 whatever the other findings"
)


# --- records ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CrsObservation:
    """One CRS observation with the fields of the `grade crs` contract.

    Validates itself: contradictory input raises ClinicalInputError with contract field paths.
    """

    temperature_c: float | None = None
    fever_attributable_to_other_cause: bool = False
    antipyretic_or_anticytokine_given: bool = False
    hypotension: bool = False
    vasopressors: tuple[Vasopressor, ...] = ()
    oxygen_device: OxygenDevice = OxygenDevice.NONE
    oxygen_flow_l_min: float | None = None
    hypotension_attributable_to_other_cause: bool = False
    hypoxia_attributable_to_other_cause: bool = False
    death_due_to_crs: bool = False
    observed_at: Timestamp | None = None

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ClinicalInputError(problems)

    def _problems(self) -> Iterator[tuple[str, str]]:
        t = self.temperature_c
        if t is not None and not math.isfinite(t):
            yield "temperature_c", f"must be a finite number or null, got {t!r}"
        yield from _flow_problems(self.oxygen_device, self.oxygen_flow_l_min)
        seen: dict[Vasopressor, int] = {}
        for i, drug in enumerate(self.vasopressors):
            if drug in seen:
                # Counting a drug twice would turn one vasopressor into "multiple" (grade 4).
                yield (
                    f"vasopressors[{i}]",
                    f"{drug.value} is already listed at vasopressors[{seen[drug]}] "
                    "(aliases name the same drug)",
                )
            seen.setdefault(drug, i)


def _flow_problems(device: OxygenDevice, flow: float | None) -> Iterator[tuple[str, str]]:
    if flow is not None and not (math.isfinite(flow) and flow >= 0):
        yield "oxygen_flow_l_min", f"must be a finite number ≥ 0, got {flow!r}"
    elif device in FLOW_GRADED_DEVICES and flow is None:
        yield (
            "oxygen_flow_l_min",
            f"required when oxygen_device is {device.value}: ≤6 L/min is grade 2, >6 is grade 3",
        )
    elif device is OxygenDevice.NONE and flow is not None:
        yield "oxygen_flow_l_min", f"{flow:g} L/min given but oxygen_device is none"


@dataclass(frozen=True)
class CrsGrade:
    """An ASTCT 2019 CRS grade with the findings that decided it."""

    grade: int
    standard: str = STANDARD
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"grade": self.grade, "standard": self.standard, "reasons": list(self.reasons)}


# --- reason text ------------------------------------------------------------------------------
# These helpers are the single source of reason text for BOTH grade_crs and grade_crs_columns;
# each depends only on its arguments so the batch path can call it once per distinct value.


def _side_safe(value: float, text: str, crosses: Callable[[float], bool]) -> str:
    """``text`` unless rounding moved the value across the cut-off; then the exact value."""
    # 37.96 °C prints as "38.0" but is not a fever: say "37.96", never "38.0 °C < 38.0 °C".
    return repr(value) if crosses(float(text)) != crosses(value) else text


def format_temperature(t: float) -> str:
    """Temperature as the reasons print it: one decimal, exact if that would cross 38.0 °C."""
    return _side_safe(t, f"{t:.1f}", lambda v: v >= FEVER_THRESHOLD_C)


def format_flow(flow: float) -> str:
    """Flow as the reasons print it: ≤1 decimal, exact if that would cross 6 L/min."""
    text = f"{flow:.1f}"
    text = text.removesuffix(".0")
    return _side_safe(flow, text, lambda v: v > LOW_FLOW_MAX_L_MIN)


def _fever_text(t: float | None, attributable: bool) -> str:
    if t is None:
        return "no fever: temperature not recorded"
    shown = format_temperature(t)
    if t < FEVER_THRESHOLD_C:
        return f"no fever: {shown} °C < {FEVER_THRESHOLD_C:.1f} °C"
    if attributable:
        return f"fever {shown} °C attributable to another cause: not counted as CRS fever"
    return f"fever: {shown} °C ≥ {FEVER_THRESHOLD_C:.1f} °C"


def _hypotension_text(drugs: frozenset[Vasopressor], attributable: bool) -> str:
    if attributable:
        listed = f" ({_drug_list(drugs)})" if drugs else ""
        return f"hypotension{listed} attributable to another cause: excluded"
    grade = _hypotension_grade(drugs)
    counted = [d for d in Vasopressor if d in drugs and d not in NOT_COUNTED_TOWARDS_MULTIPLE]
    if not drugs:
        return f"hypotension not requiring vasopressors → grade {grade}"
    if not counted:
        return (
            f"hypotension requiring 1 vasopressor (vasopressin alone counts as one) → grade {grade}"
        )
    n = len(counted)
    note = (
        "; vasopressin does not count towards multiple"
        if drugs & NOT_COUNTED_TOWARDS_MULTIPLE
        else ""
    )
    plural = "" if n == 1 else "s"
    return (
        f"hypotension requiring {n} vasopressor{plural} ({', '.join(d.value for d in counted)}"
        f"{note}) → grade {grade}"
    )


def _drug_list(drugs: frozenset[Vasopressor]) -> str:
    return ", ".join(d.value for d in Vasopressor if d in drugs)


def _hypoxia_text(device: OxygenDevice, flow: float | None, attributable: bool) -> str:
    rule = OXYGEN_RULES[device]
    finding = rule.label
    if device in FLOW_GRADED_DEVICES and flow is not None:
        cut = f"{LOW_FLOW_MAX_L_MIN:g} L/min"
        band = f"≤{cut} is low-flow" if flow <= LOW_FLOW_MAX_L_MIN else f">{cut} is high-flow"
        finding = f"{rule.label} {format_flow(flow)} L/min ({band})"
    if attributable:
        return f"hypoxia ({finding}) attributable to another cause: excluded"
    return f"hypoxia: {finding} → grade {_hypoxia_grade(device, flow)}"


def _conclusion_text(fever: bool, hypotension_grade: int, hypoxia_grade: int) -> str | None:
    if hypotension_grade and hypoxia_grade:
        return (
            f"worse of hypotension ({hypotension_grade}) and hypoxia ({hypoxia_grade}) "
            "sets the grade"
        )
    if hypotension_grade or hypoxia_grade:
        return None
    if fever:
        return f"fever without hypotension or hypoxia → grade {FEVER_ONLY_GRADE}"
    return "no hypotension or hypoxia after antipyretic or anti-cytokine therapy → grade 0"


# --- grading ----------------------------------------------------------------------------------
def _hypotension_grade(drugs: frozenset[Vasopressor]) -> int:
    """Grade of hypotension that is present (not attributable) given the vasopressors."""
    counted = len(drugs - NOT_COUNTED_TOWARDS_MULTIPLE)
    if counted >= MULTIPLE_VASOPRESSORS:
        return HYPOTENSION_MULTIPLE_VASOPRESSORS_GRADE
    if drugs:
        return HYPOTENSION_ONE_VASOPRESSOR_GRADE
    return HYPOTENSION_NO_VASOPRESSOR_GRADE


def _hypoxia_grade(device: OxygenDevice, flow: float | None) -> int:
    rule = OXYGEN_RULES[device]
    if rule.grade_above_low_flow is not None and flow is not None and flow > LOW_FLOW_MAX_L_MIN:
        return rule.grade_above_low_flow
    return rule.grade


def grade_crs(obs: CrsObservation) -> CrsGrade:
    """ASTCT 2019 CRS grade of one observation, with reasons naming criteria and values.

    grade_crs_columns mirrors this function for numpy columns; change both together.
    """
    if obs.death_due_to_crs:
        return CrsGrade(DEATH_GRADE, reasons=(DEATH_TEXT,))
    t = obs.temperature_c
    fever = t is not None and t >= FEVER_THRESHOLD_C and not obs.fever_attributable_to_other_cause
    reasons = [_fever_text(t, obs.fever_attributable_to_other_cause)]
    if obs.antipyretic_or_anticytokine_given:
        reasons.append(THERAPY_TEXT)
    elif not fever:
        reasons.append(NOT_GRADED_TEXT)
        return CrsGrade(0, reasons=tuple(reasons))

    drugs = frozenset(obs.vasopressors)
    hypotension = 0
    if obs.hypotension or drugs:
        excluded = obs.hypotension_attributable_to_other_cause
        reasons.append(_hypotension_text(drugs, excluded))
        hypotension = 0 if excluded else _hypotension_grade(drugs)
    hypoxia = 0
    if obs.oxygen_device is not OxygenDevice.NONE:
        excluded = obs.hypoxia_attributable_to_other_cause
        device, flow = obs.oxygen_device, obs.oxygen_flow_l_min
        reasons.append(_hypoxia_text(device, flow, excluded))
        hypoxia = 0 if excluded else _hypoxia_grade(device, flow)
    conclusion = _conclusion_text(fever, hypotension, hypoxia)
    if conclusion is not None:
        reasons.append(conclusion)
    grade = max(FEVER_ONLY_GRADE if fever else 0, hypotension, hypoxia)
    return CrsGrade(grade, reasons=tuple(reasons))


# --- episodes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CrsEpisode:
    """The worst grade of a time-ordered series of observations of one CRS episode."""

    grade: int
    peak_index: int
    observations: tuple[CrsGrade, ...]
    summary: EpisodeSummary
    reasons: tuple[str, ...]
    standard: str = STANDARD

    def to_dict(self) -> dict[str, object]:
        return {
            "grade": self.grade,
            "standard": self.standard,
            "reasons": list(self.reasons),
            "peak_index": self.peak_index,
            "observations": [o.to_dict() for o in self.observations],
            **self.summary.to_dict(),
        }


def carry_therapy_forward(observations: Sequence[CrsObservation]) -> list[CrsObservation]:
    """Observations with antipyretic/anti-cytokine therapy applied to every later one too.

    [S3][S5]: once therapy has been given, fever is no longer required for *subsequent*
    grading, so a later afebrile observation with hypotension is still CRS.
    """
    given = False
    out: list[CrsObservation] = []
    for obs in observations:
        given = given or obs.antipyretic_or_anticytokine_given
        if given and not obs.antipyretic_or_anticytokine_given:
            obs = dataclasses.replace(obs, antipyretic_or_anticytokine_given=True)
        out.append(obs)
    return out


def grade_crs_episode(observations: Sequence[CrsObservation]) -> CrsEpisode:
    """Grade each observation (therapy carried forward); the episode grade is the maximum.

    Raises ClinicalInputError for an empty series, or (via summarise_episode) for timed
    observations out of time order.
    """
    if not observations:
        raise ClinicalInputError.single("[]", "an episode needs at least one observation")
    effective = carry_therapy_forward(observations)
    graded = tuple(grade_crs(o) for o in effective)
    summary = summarise_episode([g.grade for g in graded], [o.observed_at for o in effective])
    peak = summary.peak_index if summary.peak_index is not None else 0
    reasons = [f"episode maximum: grade {graded[peak].grade} at observation [{peak}]"]
    first_therapy = next(
        (i for i, o in enumerate(observations) if o.antipyretic_or_anticytokine_given), None
    )
    if first_therapy is not None:
        reasons.append(
            f"antipyretic or anti-cytokine therapy first given at observation [{first_therapy}]: "
            "fever not required from then on"
        )
    reasons.extend(f"[{peak}] {r}" for r in graded[peak].reasons)
    return CrsEpisode(
        grade=graded[peak].grade,
        peak_index=peak,
        observations=graded,
        summary=summary,
        reasons=tuple(reasons),
    )


# --- columns (vectorised batch grading) -------------------------------------------------------
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
_VASOPRESSIN_BIT: Final = VASOPRESSOR_BITS[Vasopressor.VASOPRESSIN]
_DEVICES: Final = tuple(OxygenDevice)
# Number of vasopressors counted towards "multiple" for each possible mask value.
_COUNTED_PER_MASK: Final = np.array(
    [bin(m & ~_VASOPRESSIN_BIT).count("1") for m in range(256)], dtype=np.int64
)
_FLOW_GRADED_CODES: Final = tuple(OXYGEN_DEVICE_CODES[d] for d in sorted(FLOW_GRADED_DEVICES))
_BOOL_FIELDS: Final = (
    "fever_attributable_to_other_cause",
    "antipyretic_or_anticytokine_given",
    "hypotension",
    "vasopressin",
    "hypotension_attributable_to_other_cause",
    "hypoxia_attributable_to_other_cause",
    "death_due_to_crs",
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
    * the remaining contract booleans as bool arrays.

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
    )


@dataclass(frozen=True)
class CrsColumnGrades:
    """Per-row grades (int8) and reasons (object array of '; '-joined reason strings)."""

    grades: npt.NDArray[np.int8]
    reasons: npt.NDArray[np.object_]
    standard: str = field(default=STANDARD)


def _column_problems(cols: CrsColumns) -> list[tuple[str, str]]:
    """The ClinicalInputError problems grade_crs would raise, row by row, in row order."""
    t, flow, dev = cols.temperature_c, cols.oxygen_flow_l_min, cols.oxygen_device
    bad_device = (dev < 0) | (dev >= len(_DEVICES))
    bad_temp = np.isinf(t)
    bad_flow = np.isinf(flow) | (flow < 0)
    flow_graded = np.isin(dev, _FLOW_GRADED_CODES)
    no_device = dev == OXYGEN_DEVICE_CODES[OxygenDevice.NONE]
    suspicious = np.flatnonzero(
        bad_device
        | bad_temp
        | bad_flow
        | (flow_graded & np.isnan(flow))
        | (no_device & ~np.isnan(flow))
    )
    problems: list[tuple[str, str]] = []
    for i in suspicious.tolist():
        if bad_device[i]:
            problems.append((f"[{i}].oxygen_device", f"unknown device code {int(dev[i])}"))
            continue
        try:
            cols.row(i)
        except ClinicalInputError as exc:
            problems.extend((f"[{i}].{path}", message) for path, message in exc.problems)
    return problems


@dataclass(frozen=True)
class _ColumnFindings:
    """Per-row intermediate results of the vectorised rules, reused for the reason keys."""

    fever: BoolArray
    gate: BoolArray  # fever or therapy: CRS can be graded at all
    hypotension_present: BoolArray
    hypotension: IntArray
    hypoxia: IntArray
    grades: npt.NDArray[np.int8]


# Per device code: the hypoxia grade, and the grade above low flow (same unless flow-graded).
_DEVICE_GRADE: Final = np.array([OXYGEN_RULES[d].grade for d in OxygenDevice], dtype=np.int64)
_DEVICE_GRADE_ABOVE_LOW_FLOW: Final = np.array(
    [OXYGEN_RULES[d].grade_above_low_flow or OXYGEN_RULES[d].grade for d in OxygenDevice],
    dtype=np.int64,
)


def _grade_arrays(cols: CrsColumns) -> _ColumnFindings:
    """The rules of grade_crs as numpy boolean algebra over whole columns."""
    fever = (cols.temperature_c >= FEVER_THRESHOLD_C) & ~cols.fever_attributable_to_other_cause
    gate = fever | cols.antipyretic_or_anticytokine_given
    any_pressor = cols.vasopressor_mask > 0
    present = cols.hypotension | any_pressor
    by_pressors = np.select(
        [cols.vasopressor_count >= MULTIPLE_VASOPRESSORS, any_pressor],
        [HYPOTENSION_MULTIPLE_VASOPRESSORS_GRADE, HYPOTENSION_ONE_VASOPRESSOR_GRADE],
        HYPOTENSION_NO_VASOPRESSOR_GRADE,
    )
    hypotension: IntArray = np.where(
        present & ~cols.hypotension_attributable_to_other_cause, by_pressors, 0
    ).astype(np.int64)
    device = cols.oxygen_device
    by_device = np.where(
        cols.oxygen_flow_l_min > LOW_FLOW_MAX_L_MIN,
        _DEVICE_GRADE_ABOVE_LOW_FLOW[device],
        _DEVICE_GRADE[device],
    )
    hypoxia: IntArray = np.where(cols.hypoxia_attributable_to_other_cause, 0, by_device)
    worst = np.maximum(np.maximum(hypotension, hypoxia), fever * FEVER_ONLY_GRADE)
    grades = np.where(cols.death_due_to_crs, DEATH_GRADE, np.where(gate, worst, 0))
    return _ColumnFindings(fever, gate, present, hypotension, hypoxia, grades.astype(np.int8))


# Values further than this from zero are keyed exactly: their tenths would not fit the
# dense integer code range (no clinical temperature or flow comes near it).
_DENSE_LIMIT: Final = 1e6


@dataclass(frozen=True)
class _ValueCodes:
    """Dense codes for a float column: rows with equal codes print identical reason text.

    A finite value is coded by its tenths, as ``format_temperature``/``format_flow`` print it,
    except (a) values within float noise of a rounding half, where ``np.rint(v * 10)`` may
    disagree with ``format(v, ".1f")``, (b) values whose printed text would sit on the other
    side of 38.0 °C or 6 L/min (those print exactly) and (c) huge values: these are coded by
    their exact value. NaN has the last code.
    """

    codes: IntArray
    low_tenths: int
    n_tenths: int
    exact: FloatArray

    @classmethod
    def of(cls, values: FloatArray) -> _ValueCodes:
        nan = np.isnan(values)
        scaled = np.where(nan, 0.0, values) * 10.0
        tenths = np.rint(scaled)
        shown = tenths / 10.0
        crosses = ((shown >= FEVER_THRESHOLD_C) != (values >= FEVER_THRESHOLD_C)) | (
            (shown > LOW_FLOW_MAX_L_MIN) != (values > LOW_FLOW_MAX_L_MIN)
        )
        near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
        exact = ~nan & (near_half | crosses | (np.abs(values) > _DENSE_LIMIT))
        dense = ~nan & ~exact
        ints = np.where(dense, tenths, 0.0).astype(np.int64)
        low = int(ints[dense].min(initial=0))
        high = int(ints[dense].max(initial=0))
        n_tenths = high - low + 1
        exact_values, exact_codes = np.unique(values[exact], return_inverse=True)
        codes = np.full(len(values), n_tenths + len(exact_values), dtype=np.int64)
        codes[dense] = ints[dense] - low
        codes[exact] = n_tenths + exact_codes.reshape(-1)
        return cls(codes, low, n_tenths, exact_values.astype(np.float64))

    def value(self, code: int) -> float | None:
        """A value printing exactly like every row with this code (None for NaN)."""
        if code < self.n_tenths:
            return (self.low_tenths + code) / 10.0
        k = code - self.n_tenths
        return float(self.exact[k]) if k < len(self.exact) else None


# Codes up to this many table slots per row are renumbered with a lookup table (O(n));
# sparser codes fall back to a sort.
_TABLE_SLOTS_PER_ROW: Final = 8


def _renumber(codes: IntArray) -> IntArray:
    """Non-negative codes renumbered densely 0..k-1 (k = number of distinct codes)."""
    top = int(codes.max(initial=0))
    if top < _TABLE_SLOTS_PER_ROW * len(codes) + 1024:
        used = np.zeros(top + 1, dtype=bool)
        used[codes] = True
        table: IntArray = np.cumsum(used, dtype=np.int64) - 1
        return table[codes]
    perm = np.argsort(codes)
    ordered = codes[perm]
    starts = np.empty(len(codes), dtype=bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    dense = np.empty(len(codes), dtype=np.int64)
    dense[perm] = np.cumsum(starts) - 1
    return dense


def _group(*columns: IntArray) -> tuple[IntArray, IntArray]:
    """Rows grouped by equal values in every column: (group per row, one row per group)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        dense = _renumber(col)
        radix = int(dense.max(initial=0)) + 1
        if int(key.max(initial=0)) * radix + radix > 2**62:
            key = _renumber(key)  # keeps the mixed-radix key inside int64
        key = key * radix + dense
    groups = _renumber(key)
    representative = np.empty(int(groups.max(initial=-1)) + 1, dtype=np.int64)
    representative[groups] = np.arange(len(groups))  # any member will do: they print alike
    return groups, representative


def _texts(codes: IntArray, text: Callable[[int], str | None], prefix: str) -> ObjectArray:
    """``prefix + text(code)`` per item ("" when text is None), formatting each code once."""
    distinct, inverse = np.unique(codes, return_inverse=True)
    table = np.empty(len(distinct), dtype=object)
    table[:] = [("" if (t := text(c)) is None else prefix + t) for c in distinct.tolist()]
    strings: ObjectArray = table[inverse.reshape(-1)]
    return strings


def _hypotension_code_text(code: int) -> str | None:
    if code == 0:
        return None
    mask, attributable = (code - 1) >> 1, bool((code - 1) & 1)
    return _hypotension_text(frozenset(_drugs_from_mask(mask)), attributable)


def _conclusion_code(
    death: BoolArray, gate: BoolArray, fever: BoolArray, hypotension: IntArray, hypoxia: IntArray
) -> IntArray:
    # 0: death (no conclusion), 1: not graded (no fever, no therapy), 2+: _conclusion_text args
    graded = 2 + fever.astype(np.int64) * 25 + hypotension * 5 + hypoxia
    code: IntArray = np.where(death, 0, np.where(gate, graded, 1)).astype(np.int64)
    return code


def _conclusion_code_text(code: int) -> str | None:
    if code <= 1:
        return None if code == 0 else NOT_GRADED_TEXT
    fever, rest = divmod(code - 2, 25)
    return _conclusion_text(bool(fever), *divmod(rest, 5))


def grade_crs_columns(cols: CrsColumns) -> CrsColumnGrades:
    """Grade every row; ``reasons[i] == "; ".join(grade_crs(cols.row(i)).reasons)``.

    THE TWO PATHS MUST AGREE. Grades come from numpy boolean algebra over the same rule
    constants as grade_crs (``_grade_arrays``). Reason text is assembled in grade_crs's
    order (fever, therapy, hypotension, hypoxia, conclusion) from the same text helpers,
    each called once per distinct code, and joined once per distinct combination of codes.
    tests/property/test_crs_properties.py checks both with hypothesis; change them together.

    Raises ClinicalInputError, with ``[row].field`` paths, where grade_crs would raise.
    """
    problems = _column_problems(cols)
    if problems:
        raise ClinicalInputError(problems)
    found = _grade_arrays(cols)
    if len(cols) == 0:
        return CrsColumnGrades(grades=found.grades, reasons=np.empty(0, dtype=object))
    death = cols.death_due_to_crs
    gate = found.gate
    live = gate & ~death
    temperature = _ValueCodes.of(cols.temperature_c)
    flow = _ValueCodes.of(cols.oxygen_flow_l_min)
    n_devices = len(_DEVICES)

    fever_attributable = cols.fever_attributable_to_other_cause & (
        cols.temperature_c >= FEVER_THRESHOLD_C
    )
    fever_code = np.where(death, 0, temperature.codes * 2 + fever_attributable + 1)
    therapy_code = (cols.antipyretic_or_anticytokine_given & live).astype(np.int64)
    mask = cols.vasopressor_mask.astype(np.int64)
    hypotension_code: IntArray = np.where(
        live & found.hypotension_present,
        (mask << 1 | cols.hypotension_attributable_to_other_cause) + 1,
        0,
    )
    flow_code = np.where(np.isin(cols.oxygen_device, _FLOW_GRADED_CODES), flow.codes + 1, 0)
    hypoxia_code = np.where(
        live & (cols.oxygen_device != OXYGEN_DEVICE_CODES[OxygenDevice.NONE]),
        (
            (flow_code * n_devices + cols.oxygen_device) << 1
            | cols.hypoxia_attributable_to_other_cause
        )
        + 1,
        0,
    )
    conclusion_code = _conclusion_code(death, gate, found.fever, found.hypotension, found.hypoxia)
    # The conclusion is a function of the other four codes, so it stays out of the key.
    inverse, rep = _group(fever_code, therapy_code, hypotension_code, hypoxia_code)

    def fever_text(code: int) -> str:
        if code == 0:
            return DEATH_TEXT
        temp_code, attributable = divmod(code - 1, 2)
        return _fever_text(temperature.value(temp_code), bool(attributable))

    def hypoxia_text(code: int) -> str | None:
        if code == 0:
            return None
        rest, attributable = divmod(code - 1, 2)
        flow_c, device = divmod(rest, n_devices)
        flow_value = flow.value(flow_c - 1) if flow_c else None
        return _hypoxia_text(_DEVICES[device], flow_value, bool(attributable))

    sep = "; "
    texts = (
        _texts(fever_code[rep], fever_text, "")
        + _texts(therapy_code[rep], lambda c: THERAPY_TEXT if c else None, sep)
        + _texts(hypotension_code[rep], _hypotension_code_text, sep)
        + _texts(hypoxia_code[rep], hypoxia_text, sep)
        + _texts(conclusion_code[rep], _conclusion_code_text, sep)
    )
    return CrsColumnGrades(grades=found.grades, reasons=texts[inverse])
