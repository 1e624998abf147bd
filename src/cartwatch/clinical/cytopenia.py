"""CTCAE v5.0 haematological laboratory terms: neutrophil count decreased, platelet count
decreased and anemia.

Source: NCI Common Terminology Criteria for Adverse Events v5.0 (27 Nov 2017), rows
"Neutrophil count decreased", "Platelet count decreased" (SOC Investigations) and "Anemia"
(SOC Blood and lymphatic system disorders), as encoded in the pharmaverse {admiral}
``ncictcaev5.json`` grading metadata [S36] and identical in independent repositories [S37]
(clinical-standards.md §5, table "CTCAE v5.0, haematological terms").

Rules encoded here:

* Each band is "< cut-off", so a value exactly on a cut-off belongs to the milder grade
  (CTCAE writes grade 2 neutrophils as "<1.5 – 1.0", i.e. 1.0 itself is grade 2).
* Grade 1 is "<LLN" down to the grade-2 cut-off, so it needs the laboratory's lower limit of
  normal. Without it a value at or above the grade-2 cut-off is ``None`` (0 or 1, unknown),
  as {admiral} returns NA for grade 1 when the LLN is missing [S36].
* Anemia grade 3 reads "Hgb <8.0 g/dL; transfusion indicated". In CTCAE a semicolon within a
  grade description means "or" (CTCAE v5.0 front matter; the stored copy of that sentence is
  truncated, so the convention is UNVERIFIED here). ``transfusion_indicated`` therefore sets
  anemia to at least grade 3, with or without a haemoglobin value, because it is the
  clinician's finding that satisfies grade 3 on its own. It never raises anemia above 3.
* Anemia grade 4 ("life-threatening consequences; urgent intervention indicated") and grade 5
  (death) are clinical judgements; a laboratory value never yields them (§5, implementation
  notes). Neutrophil and platelet grade 4 are pure laboratory bands.
* CTCAE v6 changed the platelet bands (grade 4 <10 × 10⁹/L, UNVERIFIED attribution); this
  module is pinned to v5.0 and says so in every result's ``standard``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from cartwatch.clinical.episodes import EpisodeSummary, Timestamp, summarise_episode
from cartwatch.clinical.errors import ClinicalInputError

STANDARD = "CTCAE v5.0"

NEUTROPHIL_TERM = "neutrophil_count_decreased"
PLATELET_TERM = "platelet_count_decreased"
ANEMIA_TERM = "anemia"

# Anemia grade 3 is also reached by "transfusion indicated" (CTCAE v5.0 Anemia row [S36]).
TRANSFUSION_ANEMIA_GRADE = 3


@dataclass(frozen=True)
class Band:
    """A value strictly below ``below`` is at least ``grade``."""

    below: float
    grade: int


@dataclass(frozen=True)
class TermRule:
    """One CTCAE term graded from one laboratory value; ``bands`` run most severe first."""

    term: str
    field: str
    unit: str
    bands: tuple[Band, ...]

    @property
    def grade_2_cutoff(self) -> float:
        """The lowest value that is no longer graded without the LLN."""
        return self.bands[-1].below


# CTCAE v5.0 [S36][S37], clinical-standards.md §5 table, row "Neutrophil count decreased":
# <0.5 → 4; <1.0–0.5 → 3; <1.5–1.0 → 2; <LLN–1.5 → 1 (×10⁹/L).
NEUTROPHIL_RULE = TermRule(
    term=NEUTROPHIL_TERM,
    field="neutrophils_10e9_l",
    unit="×10⁹/L",
    bands=(Band(0.5, 4), Band(1.0, 3), Band(1.5, 2)),
)
# CTCAE v5.0 [S36][S37], §5 table, row "Platelet count decreased" (v5, not v6):
# <25 → 4; <50–25 → 3; <75–50 → 2; <LLN–75 → 1 (×10⁹/L).
PLATELET_RULE = TermRule(
    term=PLATELET_TERM,
    field="platelets_10e9_l",
    unit="×10⁹/L",
    bands=(Band(25.0, 4), Band(50.0, 3), Band(75.0, 2)),
)
# CTCAE v5.0 [S36][S37], §5 table, row "Anemia": Hgb <8.0 → 3; <10.0–8.0 → 2;
# <LLN–10.0 → 1 (g/dL). Grades 4–5 are clinical, never laboratory bands.
ANEMIA_RULE = TermRule(
    term=ANEMIA_TERM,
    field="hemoglobin_g_dl",
    unit="g/dL",
    bands=(Band(8.0, 3), Band(10.0, 2)),
)

RULES: tuple[TermRule, ...] = (NEUTROPHIL_RULE, PLATELET_RULE, ANEMIA_RULE)

_ANEMIA_JUDGEMENT_NOTE = (
    "anemia grades 4-5 (life-threatening consequences, urgent intervention indicated; death) "
    "need clinical judgement and are never derived from a laboratory value"
)


def _negative_problems(
    values: Mapping[str, float | None], prefix: str = ""
) -> list[tuple[str, str]]:
    return [
        (f"{prefix}{name}", f"must be a finite number ≥0, got {value!r}")
        for name, value in values.items()
        if value is not None and not (math.isfinite(value) and value >= 0)
    ]


@dataclass(frozen=True)
class LowerLimits:
    """The laboratory's lower limits of normal (LLN) for the three counts."""

    neutrophils_10e9_l: float | None = None
    platelets_10e9_l: float | None = None
    hemoglobin_g_dl: float | None = None

    def __post_init__(self) -> None:
        problems = _negative_problems(self.as_mapping(), prefix="lln.")
        if problems:
            raise ClinicalInputError(problems)

    def as_mapping(self) -> dict[str, float | None]:
        return {
            "neutrophils_10e9_l": self.neutrophils_10e9_l,
            "platelets_10e9_l": self.platelets_10e9_l,
            "hemoglobin_g_dl": self.hemoglobin_g_dl,
        }


@dataclass(frozen=True)
class CytopeniaObservation:
    """One blood count. At least one of the three values is required."""

    neutrophils_10e9_l: float | None = None
    platelets_10e9_l: float | None = None
    hemoglobin_g_dl: float | None = None
    lln: LowerLimits | None = None
    transfusion_indicated: bool = False
    observed_at: Timestamp | None = None

    def __post_init__(self) -> None:
        values = self.values()
        problems = _negative_problems(values)
        if all(v is None for v in values.values()):
            problems.append(
                (
                    "neutrophils_10e9_l",
                    "no measurement: at least one of neutrophils_10e9_l, platelets_10e9_l, "
                    "hemoglobin_g_dl is required",
                )
            )
        if problems:
            raise ClinicalInputError(problems)

    def values(self) -> dict[str, float | None]:
        return {
            "neutrophils_10e9_l": self.neutrophils_10e9_l,
            "platelets_10e9_l": self.platelets_10e9_l,
            "hemoglobin_g_dl": self.hemoglobin_g_dl,
        }


@dataclass(frozen=True)
class CytopeniaGrades:
    """Grade per measured term (None = grade 0 or 1, undecidable without the LLN)."""

    grades: dict[str, int | None]
    standard: str = STANDARD
    reasons: tuple[str, ...] = ()
    observed_at: Timestamp | None = None

    def worst_grade(self) -> int | None:
        """The worst grade over the terms, None when it could be 0 or 1."""
        return _worst(self.grades.values())

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "grades": dict(self.grades),
            "standard": self.standard,
            "reasons": list(self.reasons),
        }
        if self.observed_at is not None:
            out["observed_at"] = self.observed_at.isoformat()
        return out


def _worst(grades: Iterable[int | None]) -> int | None:
    """Worst grade; an ungraded (None = 0 or 1) item only matters when nothing reached 1."""
    values = list(grades)
    known = [g for g in values if g is not None]
    top = max(known, default=None)
    if top is not None and top >= 1:
        return top
    if any(g is None for g in values):
        return None
    return top


def _grade_value(rule: TermRule, value: float, lln: float | None) -> tuple[int | None, str]:
    """Grade one value against one rule, with the reason naming the band."""
    shown = f"{rule.field} {value:g} {rule.unit}"
    for band in rule.bands:
        if value < band.below:
            return band.grade, f"{rule.term} grade {band.grade}: {shown} <{band.below:g}"
    if lln is None:
        return None, (
            f"{rule.term} not graded: {shown} is ≥{rule.grade_2_cutoff:g} and no lower limit "
            f"of normal was given (grade 1 needs lln.{rule.field})"
        )
    if value < lln:
        return 1, f"{rule.term} grade 1: {shown} <LLN {lln:g} and ≥{rule.grade_2_cutoff:g}"
    return 0, f"{rule.term} grade 0: {shown} ≥LLN {lln:g}"


def _anemia_with_transfusion(grade: int | None, measured: bool) -> tuple[int, str]:
    if measured and grade is not None and grade >= TRANSFUSION_ANEMIA_GRADE:
        return grade, "transfusion indicated: consistent with anemia grade 3"
    return TRANSFUSION_ANEMIA_GRADE, (
        "anemia grade 3: transfusion indicated (CTCAE v5.0 Anemia grade 3 "
        '"Hgb <8.0 g/dL; transfusion indicated")'
    )


def grade_cytopenia(obs: CytopeniaObservation) -> CytopeniaGrades:
    """Grade every measured term of one observation (CTCAE v5.0 [S36][S37])."""
    return grade_counts(
        obs.neutrophils_10e9_l,
        obs.platelets_10e9_l,
        obs.hemoglobin_g_dl,
        obs.lln,
        obs.transfusion_indicated,
        obs.observed_at,
    )


_VALUE_MEMO: dict[tuple[str, float, float | None], tuple[int | None, str]] = {}
_VALUE_MEMO_MAX = 65536


def grade_counts(
    neutrophils_10e9_l: float | None,
    platelets_10e9_l: float | None,
    hemoglobin_g_dl: float | None,
    lln: LowerLimits | None,
    transfusion_indicated: bool,
    observed_at: Timestamp | None = None,
) -> CytopeniaGrades:
    """:func:`grade_cytopenia` on the fields of an observation.

    For callers whose values were already validated as a :class:`CytopeniaObservation`
    would validate them (finite, ≥0, at least one count): the ADaM derivation grades ~20k
    counts that pydantic has checked, and building the observation only to re-check them
    cost as much as the grading itself. Invalid values are not detected here.
    """
    limits = lln.as_mapping() if lln is not None else {}
    grades: dict[str, int | None] = {}
    reasons: list[str] = []
    counts = (neutrophils_10e9_l, platelets_10e9_l, hemoglobin_g_dl)
    for rule, value in zip(RULES, counts, strict=True):  # RULES: neutrophils, platelets, Hb
        if value is None:
            continue
        limit = limits.get(rule.field)
        # Counts repeat far more per term than as triples, so each term's (value, LLN) grade
        # is memoised. Zeros are not: 0.0 == -0.0 but the reason prints the sign.
        key = (rule.field, value, limit)
        cached = _VALUE_MEMO.get(key)
        if cached is None:
            cached = _grade_value(rule, value, limit)
            if value and limit != 0:
                if len(_VALUE_MEMO) >= _VALUE_MEMO_MAX:
                    _VALUE_MEMO.clear()  # bounded: a long-running process cannot grow it
                _VALUE_MEMO[key] = cached
        grade, reason = cached
        grades[rule.term] = grade
        reasons.append(reason)
    if transfusion_indicated:
        measured = ANEMIA_TERM in grades
        grades[ANEMIA_TERM], reason = _anemia_with_transfusion(grades.get(ANEMIA_TERM), measured)
        reasons.append(reason)
    if ANEMIA_TERM in grades:
        reasons.append(_ANEMIA_JUDGEMENT_NOTE)
    return CytopeniaGrades(
        grades=grades, standard=STANDARD, reasons=tuple(reasons), observed_at=observed_at
    )


@dataclass(frozen=True)
class CytopeniaSeries:
    """Per-observation grades of a time-ordered series, the worst grade per term and the
    episode timing over each observation's worst term."""

    observations: tuple[CytopeniaGrades, ...]
    worst: dict[str, int | None]
    episode: EpisodeSummary
    standard: str = STANDARD
    reasons: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "worst": dict(self.worst),
            "standard": self.standard,
            "reasons": list(self.reasons),
            "observations": [o.to_dict() for o in self.observations],
            "peak_index": self.episode.peak_index,
        }
        out.update(self.episode.to_dict())
        return out


def _prefixed(index: int, exc: ClinicalInputError) -> list[tuple[str, str]]:
    return [(f"[{index}].{path}", message) for path, message in exc.problems]


def grade_cytopenia_series(observations: Sequence[CytopeniaObservation]) -> CytopeniaSeries:
    """Grade a time-ordered series (CLI array input).

    ``worst`` has the worst grade per term over the series (a term measured only without
    an LLN above the grade-2 cut-off stays None). The episode timing (``onset``, ``peak_at``,
    ``resolved_at``, ``duration_days``) comes from ``episodes.summarise_episode`` over the
    worst graded term of each observation, and is present only when every item has
    ``observed_at``. When the series' worst is not gradable there is no peak
    (``peak_index``/``peak_at`` null), as there is no worst grade.
    """
    if not observations:
        raise ClinicalInputError.single(
            "input", "empty series: at least one observation is required"
        )
    problems: list[tuple[str, str]] = []
    graded: list[CytopeniaGrades] = []
    for i, obs in enumerate(observations):
        try:
            graded.append(grade_cytopenia(obs))
        except ClinicalInputError as exc:
            problems.extend(_prefixed(i, exc))
    if problems:
        raise ClinicalInputError(problems)

    terms = [rule.term for rule in RULES if any(rule.term in g.grades for g in graded)]
    worst = {term: _worst(g.grades[term] for g in graded if term in g.grades) for term in terms}
    per_observation = [g.worst_grade() for g in graded]
    episode = summarise_episode(per_observation, [o.observed_at for o in observations])
    if _worst(per_observation) is None:
        # The series' worst may still be grade 1 (a count above the grade-2 cut-off without
        # its LLN): no observation is its peak, least of all a grade-0 count beside it.
        episode = replace(episode, max_grade=None, peak_index=None, peak_at=None)
    reasons = (
        *(
            f"worst {term}: grade {grade}" if grade is not None else f"worst {term}: not graded"
            for term, grade in worst.items()
        ),
        *episode.resolution_reasons(),
    )
    return CytopeniaSeries(
        observations=tuple(graded), worst=worst, episode=episode, reasons=reasons
    )
