"""ASTCT 2019 immune effector cell-associated neurotoxicity syndrome (ICANS) grading.

Guideline: ASTCT 2019 consensus (Lee DW et al., BBMT 2019;25:625–638) [S1]: the ICE score
(clinical-standards.md §1.3, [S11][S12]), the ICANS grading table for adults and children
>12 years (§1.4, [S11] PMC8403007 Table 4, [S13] PMC7990806 Table 2), the CAPD-based table
for children ≤12 years or with developmental delay (§1.5, [S15][S12b][S12c]) and the
attribution rules (§1.6).

The rules, all encoded as module data below:

* Instrument: ICE for patients over 12 without developmental delay; CAPD for age ≤12 years
  or developmental delay [S15][S12b] (cli-contract.md: "≤12 years").
* ICE 10 → 0, 7–9 → 1, 3–6 → 2, 0–2 → 3; unarousable and unable to perform ICE → 4, so an
  ICE of 0 means grade 3 in an awake patient (e.g. global aphasia) and 4 only when
  unarousable [S11][S13].
* CAPD 0 → 0, 1–8 → 1, ≥9 → 3, unable to perform → 4 [S15][S12c]. UNVERIFIED: the "1–8"
  lower bound (clinical-standards.md §1.5 and §8 item 1); S15 only says "lower than 9".
  CAPD 1–8 is listed under both grades 1 and 2 in the table, so it alone gives grade 1;
  grade 2 comes from the level of consciousness.
* Depressed consciousness: awakens spontaneously 1, to voice 2, only to touch 3,
  unarousable 4. Seizure: rapidly resolving 3, prolonged or repetitive 4. Deep focal motor
  weakness 4. Focal/local oedema 3; diffuse oedema or raised-ICP signs (posturing, CN VI
  palsy, papilloedema, Cushing's triad) 4 [S11][S13].
* The worst domain not attributable to another cause sets the grade [S11]; each excluded
  domain is named in the reasons.
* Tremor, myoclonus, headache and intracranial haemorrhage are recorded but never change the
  grade; they are graded under CTCAE v5.0 [S11][S13] (headache wording UNVERIFIED, §1.4).
* Death due to ICANS → grade 5 [S15].

Decisions where the sources are silent (documented here and in the reasons):

* An unarousable patient cannot perform ICE: ``ice_score`` may then be omitted or 0; any
  other value is contradictory and rejected. Unarousable with no ICE/CAPD value grades the
  instrument domain 4 ("unable to perform", derived from the stupor), which is excluded
  together with consciousness when consciousness is attributed to another cause (the same
  stupor explains both).
* Contract v2 item 3 (cli-contract.md): a recorded instrument result is its own finding and
  is excluded only by its own domain. Explicit ``capd_unable: true`` is a CAPD-domain
  grade-4 finding, excluded only when ``capd`` is in ``attributable_to_other_cause``; an
  awake child unable to do CAPD whose (lesser) drowsiness is attributed to another cause is
  grade 4, never 0 (v1 excluded it with consciousness: a worse finding lowered the grade).
  Likewise an ICE of 0 *recorded* for an unarousable patient counts unless ``ice`` is
  attributed too: the reasons say how to exclude it. Never under-grade.
* A CAPD score may accompany an unarousable child (CAPD is observational); the
  consciousness domain sets grade 4 anyway.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from cartwatch.clinical.episodes import EpisodeSummary, Timestamp, episode_peak
from cartwatch.clinical.errors import ClinicalInputError

STANDARD: Final = "ASTCT 2019"


class Instrument(StrEnum):
    ICE = "ICE"
    CAPD = "CAPD"


class Consciousness(StrEnum):
    ALERT = "alert"
    AWAKENS_SPONTANEOUSLY = "awakens_spontaneously"
    AWAKENS_TO_VOICE = "awakens_to_voice"
    AWAKENS_TO_TOUCH = "awakens_to_touch"
    UNAROUSABLE = "unarousable"


class Seizure(StrEnum):
    NONE = "none"
    RAPIDLY_RESOLVING = "rapidly_resolving"
    PROLONGED_OR_REPETITIVE = "prolonged_or_repetitive"


class MotorWeakness(StrEnum):
    NONE = "none"
    DEEP_FOCAL = "deep_focal"


class CerebralEdema(StrEnum):
    NONE = "none"
    FOCAL = "focal"
    DIFFUSE = "diffuse"


class IcansDomain(StrEnum):
    """Domains that ``attributable_to_other_cause`` can exclude (cli-contract.md)."""

    ICE = "ice"
    CAPD = "capd"
    CONSCIOUSNESS = "consciousness"
    SEIZURE = "seizure"
    MOTOR_WEAKNESS = "motor_weakness"
    CEREBRAL_EDEMA = "cerebral_edema"
    RAISED_ICP_SIGNS = "raised_icp_signs"


# --- thresholds -------------------------------------------------------------------------------
# [S15][S12b]: ICE is for adults and children over 12; CAPD for 12 and under.
CAPD_MAX_AGE_YEARS: Final = 12
ICE_MAX: Final = 10  # [S11][S12] ICE is scored out of 10
CAPD_MAX: Final = 32  # [S12c] 8 items scored 0–4

# ICE item maxima, [S12] Table 2: orientation 4, naming 3, commands, writing, attention 1.
ICE_ITEM_MAX: Final[Mapping[str, int]] = MappingProxyType(
    {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}
)


@dataclass(frozen=True)
class ScoreBand:
    """Scores ``low``..``high`` inclusive give ``grade``."""

    low: int
    high: int
    grade: int

    def label(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


# [S11][S13] ICE row: 10 → 0, 7–9 → 1, 3–6 → 2, 0–2 → 3 (grade 4 = unarousable, below).
ICE_BANDS: Final = (
    ScoreBand(10, 10, 0),
    ScoreBand(7, 9, 1),
    ScoreBand(3, 6, 2),
    ScoreBand(0, 2, 3),
)
# [S15][S12c] CAPD row: 0 → 0; 1–8 → 1 (lower bound UNVERIFIED, §1.5); ≥9 → 3.
CAPD_BANDS: Final = (
    ScoreBand(0, 0, 0),
    ScoreBand(1, 8, 1),
    ScoreBand(9, CAPD_MAX, 3),
)
UNABLE_TO_PERFORM_GRADE: Final = 4  # [S11][S13] ICE 0 unarousable; [S15] unable to do CAPD

# [S11][S13] depressed level of consciousness row.
CONSCIOUSNESS_GRADES: Final[Mapping[Consciousness, int]] = MappingProxyType(
    {
        Consciousness.ALERT: 0,
        Consciousness.AWAKENS_SPONTANEOUSLY: 1,
        Consciousness.AWAKENS_TO_VOICE: 2,
        Consciousness.AWAKENS_TO_TOUCH: 3,
        Consciousness.UNAROUSABLE: 4,
    }
)
# [S11][S13] seizure row: rapidly resolving (incl. non-convulsive on EEG resolving with
# intervention) 3; life-threatening prolonged (>5 min) or repetitive without return to
# baseline 4.
SEIZURE_GRADES: Final[Mapping[Seizure, int]] = MappingProxyType(
    {Seizure.NONE: 0, Seizure.RAPIDLY_RESOLVING: 3, Seizure.PROLONGED_OR_REPETITIVE: 4}
)
# [S11][S13] motor findings row: deep focal weakness (hemiparesis, paraparesis) 4.
MOTOR_GRADES: Final[Mapping[MotorWeakness, int]] = MappingProxyType(
    {MotorWeakness.NONE: 0, MotorWeakness.DEEP_FOCAL: 4}
)
# [S11][S13] raised ICP / cerebral oedema row: focal 3; diffuse 4.
EDEMA_GRADES: Final[Mapping[CerebralEdema, int]] = MappingProxyType(
    {CerebralEdema.NONE: 0, CerebralEdema.FOCAL: 3, CerebralEdema.DIFFUSE: 4}
)
RAISED_ICP_GRADE: Final = 4  # [S11][S13] posturing, CN VI palsy, papilloedema, Cushing's triad
DEATH_GRADE: Final = 5  # [S15] death due to ICANS with no other principal factor

# [S11][S13] footnotes: recorded, graded under CTCAE v5.0, never part of the ICANS grade.
RECORDED_ONLY: Final[Mapping[str, str]] = MappingProxyType(
    {
        "tremor": "tremor recorded: graded under CTCAE v5.0, not ICANS",
        "myoclonus": "myoclonus recorded: graded under CTCAE v5.0, not ICANS",
        "headache": "headache recorded: non-specific, graded under CTCAE v5.0, not ICANS",
        "intracranial_hemorrhage": (
            "intracranial haemorrhage recorded: not a feature of ICANS, graded under CTCAE v5.0"
        ),
    }
)

_DOMAIN_LABELS: Final[Mapping[IcansDomain, str]] = MappingProxyType(
    {
        IcansDomain.ICE: "ICE",
        IcansDomain.CAPD: "CAPD",
        IcansDomain.CONSCIOUSNESS: "depressed consciousness",
        IcansDomain.SEIZURE: "seizure",
        IcansDomain.MOTOR_WEAKNESS: "motor weakness",
        IcansDomain.CEREBRAL_EDEMA: "cerebral oedema",
        IcansDomain.RAISED_ICP_SIGNS: "raised intracranial pressure signs",
    }
)


# --- records ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class IceItems:
    """The five ICE tasks [S12] Table 2; ``total`` is the ICE score (0–10)."""

    orientation: int
    naming: int
    commands: int
    writing: int
    attention: int

    def __post_init__(self) -> None:
        problems = [
            (f"ice_items.{name}", f"must be an integer 0–{high}, got {getattr(self, name)!r}")
            for name, high in ICE_ITEM_MAX.items()
            if not _is_int_in(getattr(self, name), 0, high)
        ]
        if problems:
            raise ClinicalInputError(problems)

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in ICE_ITEM_MAX)

    def describe(self) -> str:
        return ", ".join(f"{n} {getattr(self, n)}/{high}" for n, high in ICE_ITEM_MAX.items())


def at_time(obs: IcansObservation, observed_at: Timestamp | None) -> IcansObservation:
    """*obs* observed at another time, without validating it again.

    No check of ``__post_init__`` reads ``observed_at``, so the copy of a valid observation
    is valid: the ADaM derivation builds one observation per distinct finding (a cohort has
    a few hundred among ~16k rows) and re-times it per row.
    """
    copy = object.__new__(IcansObservation)
    copy.__dict__.update(obs.__dict__)
    copy.__dict__["observed_at"] = observed_at
    return copy


def _is_int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


@dataclass(frozen=True)
class IcansObservation:
    """One neurotoxicity observation with the fields of the `grade icans` contract.

    Validates itself: contradictory input raises ClinicalInputError with contract field paths.
    """

    age_years: float
    developmental_delay: bool = False
    ice_score: int | None = None
    ice_items: IceItems | None = None
    capd_score: int | None = None
    capd_unable: bool = False
    consciousness: Consciousness = Consciousness.ALERT
    seizure: Seizure = Seizure.NONE
    motor_weakness: MotorWeakness = MotorWeakness.NONE
    cerebral_edema: CerebralEdema = CerebralEdema.NONE
    raised_icp_signs: bool = False
    attributable_to_other_cause: tuple[IcansDomain, ...] = ()
    tremor: bool = False
    myoclonus: bool = False
    headache: bool = False
    intracranial_hemorrhage: bool = False
    death_due_to_icans: bool = False
    observed_at: Timestamp | None = None

    def __post_init__(self) -> None:
        problems = list(_value_problems(self))
        if not problems:
            checks = _capd_problems if self.instrument is Instrument.CAPD else _ice_problems
            problems = list(checks(self))
        if problems:
            raise ClinicalInputError(problems)

    @property
    def instrument(self) -> Instrument:
        """CAPD for age ≤12 years or developmental delay [S15][S12b], else ICE."""
        if self.developmental_delay or self.age_years <= CAPD_MAX_AGE_YEARS:
            return Instrument.CAPD
        return Instrument.ICE

    @property
    def ice(self) -> int | None:
        """The ICE score, from ``ice_score`` or the items."""
        return self.ice_items.total if self.ice_items is not None else self.ice_score

    @property
    def excluded(self) -> frozenset[IcansDomain]:
        return frozenset(self.attributable_to_other_cause)


def _value_problems(obs: IcansObservation) -> Iterator[tuple[str, str]]:
    age = obs.age_years
    if isinstance(age, bool) or not isinstance(age, int | float) or not 0 <= age <= 120:
        yield "age_years", f"must be a number 0–120, got {age!r}"
    if obs.ice_score is not None and not _is_int_in(obs.ice_score, 0, ICE_MAX):
        yield "ice_score", f"must be an integer 0–{ICE_MAX}, got {obs.ice_score!r}"
    if obs.capd_score is not None and not _is_int_in(obs.capd_score, 0, CAPD_MAX):
        yield "capd_score", f"must be an integer 0–{CAPD_MAX}, got {obs.capd_score!r}"
    if obs.ice_score is not None and obs.ice_items is not None:
        yield "ice_items", "give the ICE score or the ICE items, not both"


def _patient(obs: IcansObservation) -> str:
    if obs.developmental_delay:
        return "a patient with developmental delay"
    return f"a patient aged {obs.age_years:g} years"


def _ice_problems(obs: IcansObservation) -> Iterator[tuple[str, str]]:
    capd_only = f"CAPD is only for age ≤{CAPD_MAX_AGE_YEARS} years or developmental delay"
    if obs.capd_score is not None:
        yield "capd_score", f"{capd_only}; {_patient(obs)} is assessed with ICE"
    if obs.capd_unable:
        yield "capd_unable", f"{capd_only}; {_patient(obs)} is assessed with ICE"
    for i, domain in enumerate(obs.attributable_to_other_cause):
        if domain is IcansDomain.CAPD:
            yield f"attributable_to_other_cause[{i}]", "capd does not apply: ICE is used"
    unarousable = obs.consciousness is Consciousness.UNAROUSABLE
    ice, path = obs.ice, "ice_items" if obs.ice_items is not None else "ice_score"
    if ice is None and not unarousable:
        yield "ice_score", "required (or the ICE items) unless the patient is unarousable"
    elif ice is not None and unarousable and ice != 0:
        # An unarousable patient cannot perform ICE (ASTCT grade 4 row): a score above 0
        # means one of the two findings is wrong, and we refuse to guess which.
        yield path, f"ICE {ice} contradicts consciousness unarousable (give 0 or omit ICE)"


def _capd_problems(obs: IcansObservation) -> Iterator[tuple[str, str]]:
    reason = (
        "developmental delay"
        if obs.developmental_delay
        else f"age {obs.age_years:g} years ≤ {CAPD_MAX_AGE_YEARS}"
    )
    for path, given in (("ice_score", obs.ice_score), ("ice_items", obs.ice_items)):
        if given is not None:
            yield path, f"ICE is not used with {reason}: give capd_score (CAPD) instead"
    for i, domain in enumerate(obs.attributable_to_other_cause):
        if domain is IcansDomain.ICE:
            yield f"attributable_to_other_cause[{i}]", "ice does not apply: CAPD is used"
    if obs.capd_unable and obs.capd_score is not None:
        yield "capd_score", "given although capd_unable is true"
    unarousable = obs.consciousness is Consciousness.UNAROUSABLE
    if obs.capd_score is None and not obs.capd_unable and not unarousable:
        yield "capd_score", "required unless capd_unable is true or the patient is unarousable"


@dataclass(frozen=True)
class IcansGrade:
    """An ASTCT 2019 ICANS grade, the instrument used and the findings that decided it."""

    grade: int
    standard: str = STANDARD
    instrument: Instrument = field(kw_only=True)
    reasons: tuple[str, ...] = field(kw_only=True)

    def to_dict(self) -> dict[str, object]:
        return {
            "grade": self.grade,
            "standard": self.standard,
            "instrument": self.instrument.value,
            "reasons": list(self.reasons),
        }


# --- domains ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _DomainFinding:
    domain: IcansDomain
    grade: int
    text: str  # the finding and its value, e.g. "ICE 5/10 (3–6)"
    #: An instrument "unable to perform" derived from unarousability alone (no ICE/CAPD
    #: value recorded): the stupor's cause explains it too (module docstring, decisions).
    from_stupor: bool = False


def _band(bands: tuple[ScoreBand, ...], score: int) -> ScoreBand:
    return next(b for b in bands if b.low <= score <= b.high)


def _ice_finding(obs: IcansObservation) -> _DomainFinding | None:
    ice = obs.ice
    unarousable = obs.consciousness is Consciousness.UNAROUSABLE
    if unarousable:
        shown = "ICE not performed" if ice is None else f"ICE {ice}/{ICE_MAX} recorded"
        text = f"{shown}: unarousable, unable to perform ICE"
        return _DomainFinding(IcansDomain.ICE, UNABLE_TO_PERFORM_GRADE, text, ice is None)
    if ice is None:
        return None
    band = _band(ICE_BANDS, ice)
    items = f" from items ({obs.ice_items.describe()})" if obs.ice_items is not None else ""
    awake = "; awake, e.g. global aphasia, not unarousable" if ice == 0 else ""
    text = f"ICE {ice}/{ICE_MAX}{items} ({band.label()}{awake})"
    return _DomainFinding(IcansDomain.ICE, band.grade, text)


def _capd_finding(obs: IcansObservation) -> _DomainFinding | None:
    if obs.capd_unable:
        return _DomainFinding(IcansDomain.CAPD, UNABLE_TO_PERFORM_GRADE, "CAPD unable to perform")
    if obs.capd_score is None:
        # Only reachable when unarousable (validated): the child cannot be assessed.
        text = "CAPD not performed: unarousable, unable to perform CAPD"
        return _DomainFinding(IcansDomain.CAPD, UNABLE_TO_PERFORM_GRADE, text, from_stupor=True)
    band = _band(CAPD_BANDS, obs.capd_score)
    text = f"CAPD {obs.capd_score} ({band.label()})"
    return _DomainFinding(IcansDomain.CAPD, band.grade, text)


def _other_findings(obs: IcansObservation) -> Iterator[_DomainFinding]:
    if obs.consciousness is not Consciousness.ALERT:
        text = f"depressed consciousness: {obs.consciousness.value.replace('_', ' ')}"
        yield _DomainFinding(
            IcansDomain.CONSCIOUSNESS, CONSCIOUSNESS_GRADES[obs.consciousness], text
        )
    if obs.seizure is not Seizure.NONE:
        text = f"seizure: {obs.seizure.value.replace('_', ' ')}"
        yield _DomainFinding(IcansDomain.SEIZURE, SEIZURE_GRADES[obs.seizure], text)
    if obs.motor_weakness is not MotorWeakness.NONE:
        grade = MOTOR_GRADES[obs.motor_weakness]
        yield _DomainFinding(IcansDomain.MOTOR_WEAKNESS, grade, "deep focal motor weakness")
    if obs.cerebral_edema is not CerebralEdema.NONE:
        text = f"cerebral oedema on neuroimaging: {obs.cerebral_edema.value}"
        yield _DomainFinding(IcansDomain.CEREBRAL_EDEMA, EDEMA_GRADES[obs.cerebral_edema], text)
    if obs.raised_icp_signs:
        text = (
            "raised intracranial pressure signs "
            "(posturing, CN VI palsy, papilloedema or Cushing's triad)"
        )
        yield _DomainFinding(IcansDomain.RAISED_ICP_SIGNS, RAISED_ICP_GRADE, text)


def _findings(obs: IcansObservation) -> list[_DomainFinding]:
    instrument = _ice_finding(obs) if obs.instrument is Instrument.ICE else _capd_finding(obs)
    return [f for f in (instrument, *_other_findings(obs)) if f is not None]


def _is_excluded(finding: _DomainFinding, excluded: frozenset[IcansDomain]) -> bool:
    """Whether *finding* is attributed to another cause (contract v2 item 3).

    A domain listed in ``attributable_to_other_cause`` is excluded. Besides, an instrument
    "unable to perform" that only stands for an unarousable patient with no ICE/CAPD value
    has the stupor's cause, so it goes with ``consciousness``; a recorded result (explicit
    ``capd_unable``, a CAPD or ICE score) goes only with its own domain.
    """
    if finding.domain in excluded:
        return True
    return finding.from_stupor and IcansDomain.CONSCIOUSNESS in excluded


_INSTRUMENTS: Final = frozenset({IcansDomain.ICE, IcansDomain.CAPD})


def _counted_text(finding: _DomainFinding, excluded: frozenset[IcansDomain]) -> str:
    """The reason for a counted finding; an instrument grade 4 counted although the stupor
    is attributed says why, and how to attribute the result itself."""
    text = f"{finding.text} → grade {finding.grade}"
    if (
        finding.domain in _INSTRUMENTS
        and finding.grade == UNABLE_TO_PERFORM_GRADE
        and IcansDomain.CONSCIOUSNESS in excluded
    ):
        text += (
            f" (a recorded {finding.domain.value.upper()} result is its own finding: only "
            f"'{finding.domain.value}' in attributable_to_other_cause excludes it)"
        )
    return text


def _instrument_text(obs: IcansObservation) -> str:
    if obs.instrument is Instrument.ICE:
        age = f"age {obs.age_years:g} years > {CAPD_MAX_AGE_YEARS}"
        return f"instrument: ICE ({age}, no developmental delay)"
    why = (
        "developmental delay"
        if obs.developmental_delay
        else f"age {obs.age_years:g} years ≤ {CAPD_MAX_AGE_YEARS}"
    )
    return f"instrument: CAPD ({why})"


def grade_icans(obs: IcansObservation) -> IcansGrade:
    """ASTCT 2019 ICANS grade: the worst domain not attributable to another cause."""
    reasons = [_instrument_text(obs)]
    if obs.death_due_to_icans:
        reasons.append(f"death due to ICANS → grade {DEATH_GRADE}")
        return IcansGrade(DEATH_GRADE, instrument=obs.instrument, reasons=tuple(reasons))

    counted: list[_DomainFinding] = []
    for finding in _findings(obs):
        if finding.domain in obs.excluded:
            reasons.append(f"{finding.text}: attributable to another cause, excluded")
        elif _is_excluded(finding, obs.excluded):
            reasons.append(
                f"{finding.text}: no {finding.domain.value.upper()} result recorded; the "
                "stupor is attributable to another cause, excluded with it"
            )
        else:
            reasons.append(_counted_text(finding, obs.excluded))
            counted.append(finding)
    reasons.extend(text for name, text in RECORDED_ONLY.items() if getattr(obs, name))

    grade = max((f.grade for f in counted), default=0)
    if grade == 0:
        reasons.append("no ICANS finding not attributable to another cause → grade 0")
    else:
        worst = ", ".join(_DOMAIN_LABELS[f.domain] for f in counted if f.grade == grade)
        reasons.append(f"worst domain not attributable to another cause: {worst} → grade {grade}")
    return IcansGrade(grade, instrument=obs.instrument, reasons=tuple(reasons))


# --- episodes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class IcansEpisode:
    """The worst grade of a time-ordered series of observations of one ICANS episode."""

    grade: int
    instrument: Instrument  # of the peak observation
    peak_index: int
    observations: tuple[IcansGrade, ...]
    summary: EpisodeSummary
    reasons: tuple[str, ...]
    standard: str = STANDARD

    def to_dict(self) -> dict[str, object]:
        return {
            "grade": self.grade,
            "standard": self.standard,
            "instrument": self.instrument.value,
            "reasons": list(self.reasons),
            "peak_index": self.peak_index,
            "observations": [o.to_dict() for o in self.observations],
            **self.summary.to_dict(),
        }


#: Every field grade_icans reads: all but ``observed_at``, which never changes a grade or a
#: reason. One C-level call builds the memo key.
_GRADED_FIELDS: Final = operator.attrgetter(
    "developmental_delay",
    "ice_score",
    "ice_items",
    "capd_score",
    "capd_unable",
    "consciousness",
    "seizure",
    "motor_weakness",
    "cerebral_edema",
    "raised_icp_signs",
    "attributable_to_other_cause",
    "tremor",
    "myoclonus",
    "headache",
    "intracranial_hemorrhage",
    "death_due_to_icans",
)
#: Bound on the memo (cleared when full) so a long-running process cannot grow it forever.
_MEMO_MAX: Final = 65536
_memo: dict[tuple[object, ...], IcansGrade] = {}


def _grade_memo(obs: IcansObservation) -> IcansGrade:
    """``grade_icans(obs)``, memoised on the fields it reads.

    A patient's series repeats the same findings many times (16k observations of a
    1,000-patient cohort have ~350 distinct ones), and episodes split from a series are
    graded again. IcansGrade is frozen, so sharing one result is safe. ``age_years`` is keyed
    with its repr as well: 0.0 and -0.0 (or 70 and 70.0) compare equal, but the reason text
    prints the value itself.
    """
    key = (obs.age_years, repr(obs.age_years), *_GRADED_FIELDS(obs))
    graded = _memo.get(key)
    if graded is None:
        graded = grade_icans(obs)
        if len(_memo) >= _MEMO_MAX:
            _memo.clear()
        _memo[key] = graded
    return graded


def grade_icans_episode(observations: Sequence[IcansObservation]) -> IcansEpisode:
    """Grade each observation; the episode grade is the maximum, first peak wins.

    Raises ClinicalInputError for an empty series, or (via summarise_episode) for timed
    observations out of time order.
    """
    graded = tuple(_grade_memo(o) for o in observations)
    summary, peak = episode_peak([g.grade for g in graded], [o.observed_at for o in observations])
    top = graded[peak]
    reasons = (
        f"episode maximum: grade {top.grade} at observation [{peak}]",
        *(f"[{peak}] {r}" for r in top.reasons),
        *summary.resolution_reasons(),
    )
    return IcansEpisode(
        grade=top.grade,
        instrument=top.instrument,
        peak_index=peak,
        observations=graded,
        summary=summary,
        reasons=reasons,
    )
