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
import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cartwatch.clinical.episodes import EpisodeSummary, Timestamp, episode_peak
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
    effective = carry_therapy_forward(observations)
    graded = tuple(grade_crs(o) for o in effective)
    summary, peak = episode_peak([g.grade for g in graded], [o.observed_at for o in effective])
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
    """Per-row grades (int8) and reasons, dictionary-encoded: ``reason_texts`` holds each
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


# --- lookup tables of the column grader -------------------------------------------------------
# Every table below is built once, at import, from the per-record rules and text helpers
# above (never re-typed), so the two paths cannot drift apart. The column grader only
# indexes these tables with small integer codes: one numpy gather per row and table instead
# of one Python call per row.

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
    return _hypotension_grade(frozenset(_drugs_from_mask((code - 1) >> 1)))


def _hypotension_code_part(code: int) -> str:
    if code == 0:
        return ""
    drugs = frozenset(_drugs_from_mask((code - 1) >> 1))
    return "; " + _hypotension_text(drugs, bool((code - 1) & 1))


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
    return 0 if attributable else _hypoxia_grade(device, flow)


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

# Row states of the reason key: which kind of reason list the row gets.
_DEATH, _NOT_GRADED, _FEVER_GATE, _THERAPY_GATE = 0, 1, 2, 3
_N_STATES: Final = 4
_STATE_PART: Final = np.array(["", "; " + NOT_GRADED_TEXT, "", "; " + THERAPY_TEXT], dtype=object)
# Conclusion per fever * 25 + hypotension grade * 5 + hypoxia grade; the extra last entry is
# the empty conclusion of rows that have none (death, not graded).
_GRADE_SLOTS: Final = 5
_CONCLUSION_PART: Final = np.array(
    [
        "" if (text := _conclusion_text(bool(f), h, x)) is None else "; " + text
        for f in (0, 1)
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
    suspicious = np.flatnonzero(~consistent | bad_device | np.isinf(cols.temperature_c))
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
    """Grade every row; ``reasons[i] == "; ".join(grade_crs(cols.row(i)).reasons)``.

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
    if n == 0:
        no_rows = np.empty(0, dtype=np.int64)
        return CrsColumnGrades(grades, reason_codes=no_rows, reason_texts=np.empty(0, dtype=object))

    # --- the reason key: ((state * H + hypotension) * X + hypoxia) * 2 + fever, then with
    # the printed temperature -----------------------------------------------------------------
    state = gate.view(np.uint8) + therapy.view(np.uint8)
    state += 1
    state *= ~death  # _DEATH 0, _NOT_GRADED 1, _FEVER_GATE 2, _THERAPY_GATE 3
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
    conclusion[key_state < _FEVER_GATE] = len(_CONCLUSION_PART) - 1
    suffixes = (
        _STATE_PART[key_state]
        + _HYPOTENSION_PART[hypotension_code]
        + hypoxia_part[hypoxia_index]
        + _CONCLUSION_PART[conclusion]
    )
    rest_index, head_code = np.divmod(keys, n_head)
    head_index, heads_used = _dense(head_code, n_head)
    head_texts = [_fever_text(temperature.value(c >> 1), bool(c & 1)) for c in heads_used.tolist()]
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
    grade = 0 if attributable else _hypoxia_grade(device, value)
    return "; " + _hypoxia_text(device, value, attributable), grade
