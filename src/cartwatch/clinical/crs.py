"""ASTCT 2019 cytokine release syndrome (CRS) grading: one observation, an episode, or columns.

Guideline: ASTCT 2019 consensus (Lee DW et al., BBMT 2019;25:625–638) [S1], the CRS grading
table (clinical-standards.md §1.2), as reproduced in [S3] (PMC8021214 Table 1), [S4] (ASH
Penn/Lee/ASTCT comparison), [S5] (SITC CRS table) and [S6] (PMC9327779 Table 2). Attribution
rules follow clinical-standards.md §1.6; grade 5 follows [S10].

The rules, all encoded as module data below:

* Fever is a temperature ≥38.0 °C not attributable to another cause [S3]. With a recorded
  temperature below 38.0 °C (or a fever attributable to another cause), and without
  antipyretic or anti-cytokine therapy, the grade is 0 whatever else is present.
* Missing data is never grade 0 (cli-contract.md v2 item 1): without a recorded temperature
  fever cannot be excluded, so unless therapy has lifted the fever requirement the grade is
  ``None`` (not gradable), and the reasons say what is missing and which grade the other
  findings would give with a fever.
* After antipyretic or anti-cytokine therapy (tocilizumab, steroids) fever is no longer
  required: hypotension and hypoxia alone set the grade, 0 when neither [S3][S5]. Lee 2019
  [S1] words it "in patients who have CRS then receive antipyretic or anticytokine therapy",
  so in an episode therapy counts only from the first observation recording it at or after
  the start of CRS (a fever at or before that observation, or ``fever_before_therapy``);
  therapy recorded earlier is premedication and fever is still required (v2 item 2). A fever
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

``grade_crs`` grades one record (therapy means therapy given for CRS, the contract's v1
meaning); ``grade_crs_episode`` a time-ordered series (therapy for CRS carried forward,
premedication recognised, maximum over the gradable observations with ``peak_index``,
timing from ``cartwatch.clinical.episodes``). ``cartwatch.clinical.crs_columns`` grades numpy
columns for large batches with the reason helpers below and must agree with ``grade_crs``
row for row, grade and reason text alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

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
    "no fever and no antipyretic or anti-cytokine therapy for CRS → grade 0 whatever the other "
    "findings"
)
TEMPERATURE_MISSING_TEXT: Final = "temperature not recorded"
PREMEDICATION_TEXT: Final = (
    "antipyretic or anti-cytokine therapy recorded before CRS began (no fever ≥38.0 °C at or "
    "before this observation, fever_before_therapy not set): premedication, fever still required"
)


def not_gradable_text(with_fever_grade: int) -> str:
    """The reason of a not-gradable observation: what is missing, and the grade with a fever."""
    return (
        f"not gradable: {TEMPERATURE_MISSING_TEXT}; with fever ≥{FEVER_THRESHOLD_C:.1f} °C "
        f"this is grade {with_fever_grade}"
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
    # v2 item 2: a fever documented before this therapy outside the record (e.g. at home),
    # so the therapy recorded here is treatment of CRS, not premedication.
    fever_before_therapy: bool = False

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ClinicalInputError(problems)

    def _problems(self) -> Iterator[tuple[str, str]]:
        t = self.temperature_c
        if t is not None and not math.isfinite(t):
            yield "temperature_c", f"must be a finite number or null, got {t!r}"
        yield from _flow_problems(self.oxygen_device, self.oxygen_flow_l_min)
        if self.fever_before_therapy and not self.antipyretic_or_anticytokine_given:
            # It dates a fever relative to *this* therapy; without therapy it says nothing,
            # and silently ignoring a ticked clinical box is worse than asking.
            yield (
                "fever_before_therapy",
                "true needs antipyretic_or_anticytokine_given true: it says the fever came "
                "before the therapy recorded here",
            )
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

    @property
    def crs_fever(self) -> bool:
        """A temperature ≥38.0 °C not attributable to another cause [S3]."""
        t = self.temperature_c
        return (
            t is not None and t >= FEVER_THRESHOLD_C and not self.fever_attributable_to_other_cause
        )


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
    """An ASTCT 2019 CRS grade with the findings that decided it; ``grade`` None = not
    gradable (a finding that decides the grade is missing; the reasons say which)."""

    grade: int | None
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


def fever_text(t: float | None, attributable: bool) -> str:
    if t is None:
        return TEMPERATURE_MISSING_TEXT
    shown = format_temperature(t)
    if t < FEVER_THRESHOLD_C:
        return f"no fever: {shown} °C < {FEVER_THRESHOLD_C:.1f} °C"
    if attributable:
        return f"fever {shown} °C attributable to another cause: not counted as CRS fever"
    return f"fever: {shown} °C ≥ {FEVER_THRESHOLD_C:.1f} °C"


def hypotension_text(drugs: frozenset[Vasopressor], attributable: bool) -> str:
    if attributable:
        listed = f" ({_drug_list(drugs)})" if drugs else ""
        return f"hypotension{listed} attributable to another cause: excluded"
    grade = hypotension_grade(drugs)
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


def hypoxia_text(device: OxygenDevice, flow: float | None, attributable: bool) -> str:
    rule = OXYGEN_RULES[device]
    finding = rule.label
    if device in FLOW_GRADED_DEVICES and flow is not None:
        cut = f"{LOW_FLOW_MAX_L_MIN:g} L/min"
        band = f"≤{cut} is low-flow" if flow <= LOW_FLOW_MAX_L_MIN else f">{cut} is high-flow"
        finding = f"{rule.label} {format_flow(flow)} L/min ({band})"
    if attributable:
        return f"hypoxia ({finding}) attributable to another cause: excluded"
    return f"hypoxia: {finding} → grade {hypoxia_grade(device, flow)}"


def conclusion_text(fever: bool, hypotension_grade: int, hypoxia_grade: int) -> str | None:
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
def hypotension_grade(drugs: frozenset[Vasopressor]) -> int:
    """Grade of hypotension that is present (not attributable) given the vasopressors."""
    counted = len(drugs - NOT_COUNTED_TOWARDS_MULTIPLE)
    if counted >= MULTIPLE_VASOPRESSORS:
        return HYPOTENSION_MULTIPLE_VASOPRESSORS_GRADE
    if drugs:
        return HYPOTENSION_ONE_VASOPRESSOR_GRADE
    return HYPOTENSION_NO_VASOPRESSOR_GRADE


def hypoxia_grade(device: OxygenDevice, flow: float | None) -> int:
    rule = OXYGEN_RULES[device]
    if rule.grade_above_low_flow is not None and flow is not None and flow > LOW_FLOW_MAX_L_MIN:
        return rule.grade_above_low_flow
    return rule.grade


def grade_crs(obs: CrsObservation) -> CrsGrade:
    """ASTCT 2019 CRS grade of one observation, with reasons naming criteria and values.

    ``antipyretic_or_anticytokine_given`` means therapy given for CRS (contract v1 meaning for
    one observation). ``crs_columns.grade_crs_columns`` mirrors this function for numpy
    columns; change both together.
    """
    return _grade(obs, therapy=obs.antipyretic_or_anticytokine_given, premedication=False)


def _grade(obs: CrsObservation, *, therapy: bool, premedication: bool) -> CrsGrade:
    """The grade with the fever requirement lifted when ``therapy``; ``premedication`` adds
    the reason that therapy recorded here was given before CRS began."""
    if obs.death_due_to_crs:
        return CrsGrade(DEATH_GRADE, reasons=(DEATH_TEXT,))
    t = obs.temperature_c
    fever = obs.crs_fever
    reasons = [fever_text(t, obs.fever_attributable_to_other_cause)]
    if premedication:
        reasons.append(PREMEDICATION_TEXT)
    if therapy:
        reasons.append(THERAPY_TEXT)
    elif not fever and t is not None:
        reasons.append(NOT_GRADED_TEXT)
        return CrsGrade(0, reasons=tuple(reasons))

    drugs = frozenset(obs.vasopressors)
    hypotension = 0
    if obs.hypotension or drugs:
        excluded = obs.hypotension_attributable_to_other_cause
        reasons.append(hypotension_text(drugs, excluded))
        hypotension = 0 if excluded else hypotension_grade(drugs)
    hypoxia = 0
    if obs.oxygen_device is not OxygenDevice.NONE:
        excluded = obs.hypoxia_attributable_to_other_cause
        device, flow = obs.oxygen_device, obs.oxygen_flow_l_min
        reasons.append(hypoxia_text(device, flow, excluded))
        hypoxia = 0 if excluded else hypoxia_grade(device, flow)
    if not (therapy or fever):  # no temperature: fever can be neither shown nor excluded
        reasons.append(not_gradable_text(max(FEVER_ONLY_GRADE, hypotension, hypoxia)))
        return CrsGrade(None, reasons=tuple(reasons))
    conclusion = conclusion_text(fever, hypotension, hypoxia)
    if conclusion is not None:
        reasons.append(conclusion)
    grade = max(FEVER_ONLY_GRADE if fever else 0, hypotension, hypoxia)
    return CrsGrade(grade, reasons=tuple(reasons))


# --- episodes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CrsEpisode:
    """The worst gradable grade of a time-ordered series of observations of one CRS episode.

    ``grade``/``peak_index`` are None when no observation is gradable; ``not_gradable`` lists
    the observations whose grade is None (contract v2 item 1).
    """

    grade: int | None
    peak_index: int | None
    observations: tuple[CrsGrade, ...]
    summary: EpisodeSummary
    reasons: tuple[str, ...]
    not_gradable: tuple[int, ...] = ()
    standard: str = STANDARD

    def to_dict(self) -> dict[str, object]:
        return {
            "grade": self.grade,
            "standard": self.standard,
            "reasons": list(self.reasons),
            "peak_index": self.peak_index,
            "not_gradable": list(self.not_gradable),
            "observations": [o.to_dict() for o in self.observations],
            **self.summary.to_dict(),
        }


@dataclass(frozen=True)
class TherapyTimeline:
    """When antipyretic/anti-cytokine therapy counts as CRS therapy in an episode.

    ``for_crs_from``: index of the first observation recording therapy at or after the start
    of CRS (a CRS fever at or before it, or its ``fever_before_therapy``); fever is no longer
    required from there on [S1][S3][S5]. ``premedication``: earlier observations recording
    therapy, given before CRS began; fever is still required for them and after them.
    """

    for_crs_from: int | None
    premedication: tuple[int, ...]

    @classmethod
    def of(cls, observations: Sequence[CrsObservation]) -> TherapyTimeline:
        fever_seen = False
        premedication: list[int] = []
        for i, obs in enumerate(observations):
            fever_seen = fever_seen or obs.crs_fever
            if obs.antipyretic_or_anticytokine_given:
                if fever_seen or obs.fever_before_therapy:
                    return cls(i, tuple(premedication))
                premedication.append(i)
        return cls(None, tuple(premedication))

    def lifts_fever(self, index: int) -> bool:
        return self.for_crs_from is not None and index >= self.for_crs_from


def _indices(indices: Sequence[int]) -> str:
    return ", ".join(f"[{i}]" for i in indices)


def grade_crs_episode(observations: Sequence[CrsObservation]) -> CrsEpisode:
    """Grade each observation (therapy for CRS carried forward, premedication not); the
    episode grade is the maximum over the gradable observations.

    Timing (contract "Conventions": every item timed): ``resolved_at`` is the first grade 0
    after the last grade ≥1. A not-gradable observation (no temperature, fever still
    required: v2 item 1) neither resolves nor re-opens the episode: after a grade ≥1 it
    leaves the episode unresolved (2, None → null); after the resolution it leaves the
    observed resolution standing (2, 0, None → resolved at the 0) but the result does not
    claim it beyond that observation: ``not_gradable_after_resolution`` lists those
    observations and a reason says a recurrence there cannot be excluded. Nulling the
    resolution would lose what was observed; saying nothing would read the missing
    temperature as grade 0.

    Raises ClinicalInputError for an empty series, or (via summarise_episode) for timed
    observations out of time order.
    """
    if not observations:
        raise ClinicalInputError.single("[]", "an episode needs at least one observation")
    therapy = TherapyTimeline.of(observations)
    graded = tuple(
        _grade(
            obs,
            therapy=therapy.lifts_fever(i),
            premedication=i in therapy.premedication,
        )
        for i, obs in enumerate(observations)
    )
    summary = summarise_episode([g.grade for g in graded], [o.observed_at for o in observations])
    peak = summary.peak_index
    not_gradable = tuple(i for i, g in enumerate(graded) if g.grade is None)
    reasons = (
        [f"episode maximum: grade {summary.max_grade} at observation [{peak}]"]
        if peak is not None
        else [f"not gradable: no observation is gradable ({TEMPERATURE_MISSING_TEXT})"]
    )
    if therapy.premedication:
        reasons.append(
            f"therapy recorded at observation {_indices(therapy.premedication)} before CRS "
            "began: premedication, fever still required"
        )
    if therapy.for_crs_from is not None:
        reasons.append(
            "antipyretic or anti-cytokine therapy for CRS first recorded at observation "
            f"[{therapy.for_crs_from}]: fever not required from then on"
        )
    if peak is not None:
        reasons.extend(f"[{peak}] {r}" for r in graded[peak].reasons)
    # A not-gradable observation may hide a worse grade: name what each would be with fever.
    reasons.extend(f"[{i}] {graded[i].reasons[-1]}" for i in not_gradable)
    reasons.extend(summary.resolution_reasons())
    return CrsEpisode(
        grade=summary.max_grade,
        peak_index=peak,
        observations=graded,
        summary=summary,
        reasons=tuple(reasons),
        not_gradable=not_gradable,
    )
