"""iwCLL 2018 response after treatment of CLL, MRD categories and best overall response.

Guideline: Hallek M et al., "iwCLL guidelines for diagnosis, indications for treatment,
response assessment, and supportive management of CLL", Blood 2018;131(25):2745 [S40],
Table 4 "Response definition after treatment of CLL patients" [S41]; where the 2018 text could
not be read, the iwCLL 2008 Table 4 (Hallek, Blood 2008;111:5446) [S42] is used and the
rule is marked UNVERIFIED for 2018 (clinical-standards.md §2). MRD: [S51][S52] for the 10⁻⁴
cut-off and the Leukemia 2021 consensus Table 3 [S53] for assay sensitivities. The rules
follow the CLI contract's "Rules in brief" for ``cartwatch assess response``.

Order of evaluation (the first that applies decides):

1. **PD** on any trigger present at the assessment: node SPD +≥50% from baseline or nadir,
   a new lesion (includes a new node >1.5 cm and new hepatomegaly/splenomegaly, [S48][S49]),
   spleen +≥50% from baseline or nadir, lymphocytes +≥50% from baseline *and* ≥5 × 10⁹/L
   ([S41], absolute floor from the trial operationalisation [S43]; 2018 wording
   UNVERIFIED), platelets −≥50% or haemoglobin −≥2 g/dL from baseline when the cytopenia is
   due to CLL [S41], or biopsy-proven Richter transformation ([S48][S49][S50]; 2018 wording
   UNVERIFIED). Constitutional symptoms alone are never PD ([S42]; 2018 wording UNVERIFIED).
   A PD trigger decides even when other fields are missing.
2. **NE** when PD cannot be excluded or there is nothing to compare: a paired quantity
   (node SPD, spleen, lymphocytes, platelets, haemoglobin) recorded at only one of baseline
   and assessment, or no parameter abnormal at baseline.
3. **CR**: every criterion in ``CR_CRITERIA`` met and marrow normocellular without CLL.
   Neutrophils ≥1.5 × 10⁹/L are in the 2008 table [S42] (">1500/µL") and, from recollection,
   in the 2018 text (UNVERIFIED); this module follows the contract and requires them.
   A missing CR field lowers the result (never NE) and is named in the reasons.
4. **CRi**: the non-haematological CR criteria met, marrow without CLL (normo- or
   hypocellular), and every failing blood-count criterion attributed to treatment
   (``cytopenia_due_to_treatment``). A hypocellular marrow with normal counts is also CRi, as
   "hypocellular marrow defines CRi" in 2008 [S42] (2018 wording UNVERIFIED).
   Without a marrow result (``None`` or ``not_done``) the best response is PR.
5. **PR**: ≥50% improvement (or normalisation) in at least two group-A parameters and one
   group-B parameter among those abnormal at baseline; when only one parameter of a group was
   abnormal, one of that group suffices (``min(2, abnormal A)`` and ``min(1, abnormal B)``).
   The 2018 footnote wording is UNVERIFIED: the 2008 footnote says "≥1 of group A and ≥1 of
   group B" [S42] while a secondary 2008 summary says "two of group A plus one of group B"
   [S44]; the contract's rule is implemented. Group A: nodes, liver/spleen, lymphocytes.
   Constitutional symptoms are group A in the table but their PR column is "Any" [S41], so
   they neither count towards nor block PR (they only block CR). Group B: platelets,
   haemoglobin, marrow; neutrophils were group B in 2008 [S42] but are not in the 2018 table
   [S41], so they do not count towards PR.
6. **SD** otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from cartwatch.clinical.errors import ClinicalInputError

STANDARD = "iwCLL 2018"


class Response(StrEnum):
    CR = "CR"
    CRI = "CRi"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"


class Marrow(StrEnum):
    NOT_DONE = "not_done"
    NORMOCELLULAR_NO_CLL = "normocellular_no_cll"
    HYPOCELLULAR_NO_CLL = "hypocellular_no_cll"
    CLL_OR_NODULES_PRESENT = "cll_or_nodules_present"


class MrdResultKind(StrEnum):
    UNDETECTABLE = "undetectable"
    DETECTABLE = "detectable"


class MrdSample(StrEnum):
    BLOOD = "blood"
    MARROW = "marrow"


class MrdStatus(StrEnum):
    UMRD4 = "uMRD4"
    UMRD5 = "uMRD5"
    UMRD6 = "uMRD6"
    DETECTABLE = "detectable"
    NOT_ASSESSED = "not_assessed"


# --- thresholds (iwCLL 2018 Table 4 [S41] unless noted) -------------------------------------

# PD: "Increase ≥50% from baseline or from response" for nodes and liver/spleen, "≥50% over
# baseline" for lymphocytes [S41].
PD_INCREASE_FRACTION = 0.50
# PD by lymphocytes also needs an absolute count ≥5 × 10⁹/L (trial operationalisation [S43];
# 2018 wording "at least 5,000 B lymphocytes/µL" UNVERIFIED).
PD_LYMPHOCYTES_MIN_10E9_L = 5.0
# PD by platelets: "Decrease ≥50% from baseline secondary to CLL" [S41].
PD_PLATELET_DECREASE_FRACTION = 0.50
# PD by haemoglobin: "Decrease ≥2 g/dL from baseline secondary to CLL" [S41].
PD_HEMOGLOBIN_DECREASE_G_DL = 2.0
# PR: "Decrease ≥50%" (group A) and "increase ≥50% over baseline" (group B) [S41].
PR_IMPROVEMENT_FRACTION = 0.50

# CR: lymph nodes "None ≥1.5 cm" [S41].
NODE_NORMAL_BELOW_CM = 1.5
# CR: "Spleen <13 cm" [S41]; footnote: spleen normal if <13 cm.
SPLEEN_NORMAL_BELOW_CM = 13.0
# CR: circulating lymphocytes "Normal" [S41]; <4000/µL in the 2008 text table [S42].
LYMPHOCYTES_NORMAL_BELOW_10E9_L = 4.0
# CR: neutrophils >1500/µL in 2008 [S42]; 2018 text requirement UNVERIFIED (no 2018 row [S41]).
NEUTROPHILS_CR_MIN_10E9_L = 1.5
# CR and PR: platelets ≥100 × 10⁹/L [S41].
PLATELETS_CR_MIN_10E9_L = 100.0
# CR and PR: haemoglobin ≥11.0 g/dL (CR: untransfused, without erythropoietin) [S41].
HEMOGLOBIN_CR_MIN_G_DL = 11.0

# Floating-point slack for "≥50%" and "≥2 g/dL" on derived differences (10 → 15 must be +50%).
_REL_TOL = 1e-9

# Assay sensitivities from the Leukemia 2021 MRD consensus, Table 3 [S53]; keys are
# lower-case method names as commonly written. Used only to flag a stated sensitivity better
# than the method typically reaches, never to replace the stated one.
TYPICAL_ASSAY_SENSITIVITY: dict[str, float] = {
    "4-colour flow": 1e-4,
    "4-color flow": 1e-4,
    "eric flow": 1e-4,
    "6-colour flow": 1e-5,
    "6-color flow": 1e-5,
    "8-colour flow": 1e-6,
    "8-color flow": 1e-6,
    "10-colour flow": 1e-5,
    "10-color flow": 1e-5,
    "aso igh rq-pcr": 1e-5,
    "ddpcr": 1e-5,
    "clonoseq": 1e-6,
    "clonoseq ngs": 1e-6,
    "ngs": 1e-6,
}

# uMRD categories, best first: undetectable at a sensitivity ≤ the limit [S51][S52][S53]
# (uMRD5/uMRD6 naming from iwCLL 2018, UNVERIFIED).
UMRD_CATEGORIES: tuple[tuple[MrdStatus, float], ...] = (
    (MrdStatus.UMRD6, 1e-6),
    (MrdStatus.UMRD5, 1e-5),
    (MrdStatus.UMRD4, 1e-4),
)


# --- input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mrd:
    """One MRD result. ``level`` and ``sensitivity`` are fractions of leukocytes."""

    result: MrdResultKind
    sensitivity: float | None = None
    sample: MrdSample | None = None
    method: str | None = None
    level: float | None = None

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        if self.sensitivity is not None and not 0 < self.sensitivity < 1:
            problems.append(("sensitivity", f"must be in (0, 1), got {self.sensitivity!r}"))
        if self.level is not None and not 0 <= self.level <= 1:
            problems.append(("level", f"must be in [0, 1], got {self.level!r}"))
        if self.result is MrdResultKind.UNDETECTABLE:
            if self.sensitivity is None:
                problems.append(
                    ("sensitivity", "required when result is undetectable: uMRD needs it")
                )
            if self.level is not None and self.level > 0:
                problems.append(("level", f"{self.level:g} > 0 contradicts result undetectable"))
        if self.result is MrdResultKind.DETECTABLE and self.level == 0:
            problems.append(("level", "0 contradicts result detectable"))
        if problems:
            raise ClinicalInputError(problems)


@dataclass(frozen=True)
class Measurements:
    """One iwCLL evaluation (baseline, nadir or assessment); None = not recorded.

    ``new_lesion``, ``cytopenia_due_to_cll``, ``cytopenia_due_to_treatment`` and
    ``richter_transformation`` are events, recorded when present (default False).
    ``liver_enlarged``, ``constitutional_symptoms`` and ``transfused_or_epo`` are findings a
    CR must positively confirm, so None (not recorded) rules out CR.
    """

    lymph_nodes_spd_cm2: float | None = None
    largest_node_cm: float | None = None
    new_lesion: bool = False
    spleen_cm: float | None = None
    liver_enlarged: bool | None = None
    lymphocytes_10e9_l: float | None = None
    neutrophils_10e9_l: float | None = None
    platelets_10e9_l: float | None = None
    hemoglobin_g_dl: float | None = None
    transfused_or_epo: bool | None = None
    constitutional_symptoms: bool | None = None
    marrow: Marrow | None = None
    cytopenia_due_to_cll: bool = False
    cytopenia_due_to_treatment: bool = False
    richter_transformation: bool = False
    mrd: Mrd | None = None

    def __post_init__(self) -> None:
        problems = [
            (name, f"must be a finite number ≥0, got {value!r}")
            for name in NUMERIC_FIELDS
            if (value := getattr(self, name)) is not None
            and not (math.isfinite(value) and value >= 0)
        ]
        if problems:
            raise ClinicalInputError(problems)

    def number(self, name: str) -> float | None:
        value = getattr(self, name)
        assert value is None or isinstance(value, int | float)
        return value


NUMERIC_FIELDS: tuple[str, ...] = (
    "lymph_nodes_spd_cm2",
    "largest_node_cm",
    "spleen_cm",
    "lymphocytes_10e9_l",
    "neutrophils_10e9_l",
    "platelets_10e9_l",
    "hemoglobin_g_dl",
)

# Quantities compared between baseline and assessment; one recorded without the other leaves
# PD unexcludable, so the result is NE (contract: a missing field makes the result NE).
PAIRED_FIELDS: tuple[str, ...] = (
    "lymph_nodes_spd_cm2",
    "spleen_cm",
    "lymphocytes_10e9_l",
    "platelets_10e9_l",
    "hemoglobin_g_dl",
)

_UNITS: dict[str, str] = {
    "lymph_nodes_spd_cm2": "cm²",
    "largest_node_cm": "cm",
    "spleen_cm": "cm",
    "lymphocytes_10e9_l": "×10⁹/L",
    "neutrophils_10e9_l": "×10⁹/L",
    "platelets_10e9_l": "×10⁹/L",
    "hemoglobin_g_dl": "g/dL",
}


# --- output ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MrdResult:
    status: MrdStatus
    sample: MrdSample | None = None
    sensitivity: float | None = None
    method: str | None = None
    level: float | None = None
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "status": str(self.status),
            "sample": None if self.sample is None else str(self.sample),
            "sensitivity": self.sensitivity,
            "method": self.method,
            "level": self.level,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class ResponseAssessment:
    response: Response
    standard: str
    reasons: tuple[str, ...]
    mrd: MrdResult

    def to_dict(self) -> dict[str, object]:
        return {
            "response": str(self.response),
            "standard": self.standard,
            "reasons": list(self.reasons),
            "mrd": self.mrd.to_dict(),
        }


@dataclass(frozen=True)
class ResponseRequest:
    """The three evaluations of one ``assess response`` call (built by the input schema)."""

    baseline: Measurements
    assessment: Measurements
    nadir: Measurements | None = None

    def assess(self) -> ResponseAssessment:
        return assess_response(self.baseline, self.assessment, self.nadir)


# --- helpers ---------------------------------------------------------------------------------


def _at_least(value: float, limit: float) -> bool:
    return value >= limit or math.isclose(value, limit, rel_tol=_REL_TOL)


def _fmt(name: str, value: float) -> str:
    return f"{value:g} {_UNITS.get(name, '')}".rstrip()


def _change(name: str, before: float, after: float) -> str:
    text = f"{name} {_fmt(name, before)} → {_fmt(name, after)}"
    if before > 0:
        text += f" ({(after - before) / before * 100:+.0f}%)"
    return text


def _increased_by(before: float, after: float, fraction: float) -> bool:
    return before > 0 and _at_least(after, before * (1 + fraction))


def _decreased_by(before: float, after: float, fraction: float) -> bool:
    return before > 0 and after <= before * (1 - fraction) * (1 + _REL_TOL)


# --- PD --------------------------------------------------------------------------------------


def _pd_increase(
    name: str,
    label: str,
    baseline: Measurements,
    assessment: Measurements,
    nadir: Measurements | None,
) -> list[str]:
    """+≥50% from baseline or from the nadir (best state on study) [S41]."""
    now = assessment.number(name)
    if now is None:
        return []
    refs = [("baseline", baseline)] + ([("nadir", nadir)] if nadir is not None else [])
    found = []
    for ref_name, ref in refs:
        before = ref.number(name)
        if before is not None and _increased_by(before, now, PD_INCREASE_FRACTION):
            found.append(f"PD: {label} +≥50% from {ref_name}: {_change(name, before, now)}")
    return found


def _pd_lymphocytes(baseline: Measurements, assessment: Measurements) -> list[str]:
    name = "lymphocytes_10e9_l"
    before, now = baseline.number(name), assessment.number(name)
    if before is None or now is None or not _increased_by(before, now, PD_INCREASE_FRACTION):
        return []
    if now < PD_LYMPHOCYTES_MIN_10E9_L:
        return []
    return [f"PD: lymphocytes +≥50% and ≥5 ×10⁹/L: {_change(name, before, now)}"]


def _pd_cytopenia(baseline: Measurements, assessment: Measurements) -> tuple[list[str], list[str]]:
    """PD by a CLL-related fall in platelets or haemoglobin; a fall not due to CLL is noted."""
    falls: list[str] = []
    p0, p1 = baseline.platelets_10e9_l, assessment.platelets_10e9_l
    if p0 is not None and p1 is not None and _decreased_by(p0, p1, PD_PLATELET_DECREASE_FRACTION):
        falls.append(f"platelets −≥50% from baseline: {_change('platelets_10e9_l', p0, p1)}")
    h0, h1 = baseline.hemoglobin_g_dl, assessment.hemoglobin_g_dl
    if h0 is not None and h1 is not None and _at_least(h0 - h1, PD_HEMOGLOBIN_DECREASE_G_DL):
        falls.append(f"haemoglobin −≥2 g/dL from baseline: {_change('hemoglobin_g_dl', h0, h1)}")
    if assessment.cytopenia_due_to_cll:
        return [f"PD: {fall}, due to CLL" for fall in falls], []
    return [], [
        f"not PD: {fall}, not attributed to CLL (cytopenia_due_to_cll false)" for fall in falls
    ]


def _progression(
    baseline: Measurements, assessment: Measurements, nadir: Measurements | None
) -> tuple[list[str], list[str]]:
    """(PD triggers found, notes about findings that are not PD)."""
    triggers = _pd_increase("lymph_nodes_spd_cm2", "node SPD", baseline, assessment, nadir)
    if assessment.new_lesion:
        triggers.append("PD: new lesion (new_lesion true)")
    triggers += _pd_increase("spleen_cm", "spleen", baseline, assessment, nadir)
    triggers += _pd_lymphocytes(baseline, assessment)
    cyto_triggers, notes = _pd_cytopenia(baseline, assessment)
    triggers += cyto_triggers
    if assessment.richter_transformation:
        triggers.append("PD: Richter transformation (biopsy-proven)")
    if assessment.constitutional_symptoms and not triggers:
        notes.append("constitutional symptoms present: alone they are not PD")
    return triggers, notes


# --- NE --------------------------------------------------------------------------------------


def _missing_pairs(baseline: Measurements, assessment: Measurements) -> list[str]:
    reasons = []
    for name in PAIRED_FIELDS:
        before, now = baseline.number(name), assessment.number(name)
        if before is not None and now is None:
            reasons.append(f"NE: {name} missing at assessment (baseline {_fmt(name, before)})")
        elif before is None and now is not None:
            reasons.append(f"NE: {name} missing at baseline (assessment {_fmt(name, now)})")
    return reasons


# --- CR / CRi --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrCriterion:
    """One CR requirement on the assessment; ``blood_count`` ones may fail in CRi."""

    field: str
    test: Literal["below", "at_least", "false"]
    limit: float | None
    blood_count: bool
    source: str


CR_CRITERIA: tuple[CrCriterion, ...] = (
    CrCriterion("largest_node_cm", "below", NODE_NORMAL_BELOW_CM, False, "[S41]"),
    CrCriterion("spleen_cm", "below", SPLEEN_NORMAL_BELOW_CM, False, "[S41]"),
    CrCriterion("liver_enlarged", "false", None, False, "[S41]"),
    CrCriterion("constitutional_symptoms", "false", None, False, "[S41]"),
    CrCriterion("lymphocytes_10e9_l", "below", LYMPHOCYTES_NORMAL_BELOW_10E9_L, False, "[S42]"),
    CrCriterion(
        "neutrophils_10e9_l", "at_least", NEUTROPHILS_CR_MIN_10E9_L, True, "[S42], 2018 UNVERIFIED"
    ),
    CrCriterion("platelets_10e9_l", "at_least", PLATELETS_CR_MIN_10E9_L, True, "[S41]"),
    CrCriterion("hemoglobin_g_dl", "at_least", HEMOGLOBIN_CR_MIN_G_DL, True, "[S41]"),
    CrCriterion("transfused_or_epo", "false", None, True, "[S41] Hb untransfused, no EPO"),
)

_MARROW_WITHOUT_CLL = frozenset({Marrow.NORMOCELLULAR_NO_CLL, Marrow.HYPOCELLULAR_NO_CLL})


def _criterion_status(crit: CrCriterion, m: Measurements) -> tuple[str, str]:
    """("met" | "failed" | "missing", description)."""
    value = getattr(m, crit.field)
    if value is None:
        return "missing", f"{crit.field} not recorded"
    if crit.test == "false":
        return ("failed" if value else "met"), f"{crit.field} {str(value).lower()}"
    assert crit.limit is not None
    ok = value < crit.limit if crit.test == "below" else value >= crit.limit
    sign = "<" if crit.test == "below" else "≥"
    return ("met" if ok else "failed"), (
        f"{crit.field} {_fmt(crit.field, value)} (CR needs {sign}{crit.limit:g} {crit.source})"
    )


def _complete_response(assessment: Measurements) -> tuple[Response | None, list[str]]:
    """CR, CRi or None, with the reasons that decided it."""
    statuses = [(c, *_criterion_status(c, assessment)) for c in CR_CRITERIA]
    missing = [text for _, s, text in statuses if s == "missing"]
    failed_other = [text for c, s, text in statuses if s == "failed" and not c.blood_count]
    failed_blood = [text for c, s, text in statuses if s == "failed" and c.blood_count]
    reasons = [f"not CR: {t}" for t in failed_other]
    reasons += [f"CR not assessable: {t}" for t in missing]
    blocked = bool(missing or failed_other)
    if failed_blood and not assessment.cytopenia_due_to_treatment:
        reasons += [f"not CR/CRi: {t}, not attributed to treatment" for t in failed_blood]
        blocked = True
    marrow = assessment.marrow
    if marrow is None or marrow is Marrow.NOT_DONE:
        reasons.append("no marrow result: CR/CRi need a marrow without CLL, best response is PR")
        blocked = True
    elif marrow not in _MARROW_WITHOUT_CLL:
        reasons.append(f"not CR/CRi: marrow {marrow}")
        blocked = True
    if blocked:
        return None, reasons
    if not failed_blood and marrow is Marrow.NORMOCELLULAR_NO_CLL:
        return Response.CR, ["CR: all CR criteria met; marrow normocellular without CLL"]
    why = [f"{t} due to treatment" for t in failed_blood]
    if marrow is Marrow.HYPOCELLULAR_NO_CLL:
        why.append("marrow hypocellular without CLL")
    return Response.CRI, [f"CRi: CR criteria met except {'; '.join(why)}"]


# --- PR --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parameter:
    """Outcome of one PR parameter: abnormal at baseline and whether it improved ≥50%."""

    name: str
    group: Literal["A", "B"]
    abnormal: bool
    improved: bool
    detail: str


def _fall_or_normal(
    name: str, b: Measurements, a: Measurements, normal_below: float
) -> tuple[bool, str]:
    before, now = b.number(name), a.number(name)
    if now is None:
        return False, f"{name} not recorded at assessment"
    if before is not None and _decreased_by(before, now, PR_IMPROVEMENT_FRACTION):
        return True, _change(name, before, now)
    if now < normal_below:
        return True, f"{name} {_fmt(name, now)} normal (<{normal_below:g})"
    return False, _change(name, before, now) if before is not None else f"{name} {_fmt(name, now)}"


def _rise_or_normal(
    name: str, b: Measurements, a: Measurements, normal_min: float
) -> tuple[bool, str]:
    before, now = b.number(name), a.number(name)
    if now is None:
        return False, f"{name} not recorded at assessment"
    if now >= normal_min:
        return True, f"{name} {_fmt(name, now)} (≥{normal_min:g})"
    if before is not None and _increased_by(before, now, PR_IMPROVEMENT_FRACTION):
        return True, _change(name, before, now)
    return False, _change(name, before, now) if before is not None else f"{name} {_fmt(name, now)}"


def _nodes_abnormal(b: Measurements) -> bool:
    """Any node ≥1.5 cm at baseline [S41]; without the largest node, a positive SPD (the
    SPD sums measurable, i.e. abnormal, nodes)."""
    if b.largest_node_cm is not None:
        return b.largest_node_cm >= NODE_NORMAL_BELOW_CM
    return b.lymph_nodes_spd_cm2 is not None and b.lymph_nodes_spd_cm2 > 0


def _nodes(b: Measurements, a: Measurements) -> _Parameter:
    abnormal = _nodes_abnormal(b)
    spd0 = b.lymph_nodes_spd_cm2
    spd1 = a.lymph_nodes_spd_cm2
    if spd0 is not None and spd1 is not None and _decreased_by(spd0, spd1, PR_IMPROVEMENT_FRACTION):
        return _Parameter("nodes", "A", abnormal, True, _change("lymph_nodes_spd_cm2", spd0, spd1))
    big1 = a.largest_node_cm
    if big1 is not None and big1 < NODE_NORMAL_BELOW_CM:
        detail = f"largest_node_cm {big1:g} cm (<{NODE_NORMAL_BELOW_CM:g})"
        return _Parameter("nodes", "A", abnormal, True, detail)
    detail = (
        _change("lymph_nodes_spd_cm2", spd0, spd1)
        if spd0 is not None and spd1 is not None
        else "node SPD not comparable"
    )
    return _Parameter("nodes", "A", abnormal, False, detail)


def _liver_spleen(b: Measurements, a: Measurements) -> _Parameter:
    spleen_abnormal = b.spleen_cm is not None and b.spleen_cm >= SPLEEN_NORMAL_BELOW_CM
    liver_abnormal = b.liver_enlarged is True
    parts: list[tuple[bool, str]] = []
    if spleen_abnormal:
        parts.append(_fall_or_normal("spleen_cm", b, a, SPLEEN_NORMAL_BELOW_CM))
    if liver_abnormal:
        parts.append(
            (a.liver_enlarged is False, f"liver_enlarged true → {str(a.liver_enlarged).lower()}")
        )
    improved = bool(parts) and all(ok for ok, _ in parts)
    detail = "; ".join(text for _, text in parts) or "liver and spleen normal at baseline"
    return _Parameter("liver/spleen", "A", spleen_abnormal or liver_abnormal, improved, detail)


def _lymphocytes(b: Measurements, a: Measurements) -> _Parameter:
    name = "lymphocytes_10e9_l"
    before = b.lymphocytes_10e9_l
    abnormal = before is not None and before >= LYMPHOCYTES_NORMAL_BELOW_10E9_L
    improved, detail = _fall_or_normal(name, b, a, LYMPHOCYTES_NORMAL_BELOW_10E9_L)
    return _Parameter("lymphocytes", "A", abnormal, improved, detail)


def _platelets(b: Measurements, a: Measurements) -> _Parameter:
    name = "platelets_10e9_l"
    before = b.platelets_10e9_l
    abnormal = before is not None and before < PLATELETS_CR_MIN_10E9_L
    improved, detail = _rise_or_normal(name, b, a, PLATELETS_CR_MIN_10E9_L)
    return _Parameter("platelets", "B", abnormal, improved, detail)


def _hemoglobin(b: Measurements, a: Measurements) -> _Parameter:
    name = "hemoglobin_g_dl"
    before = b.hemoglobin_g_dl
    abnormal = before is not None and before < HEMOGLOBIN_CR_MIN_G_DL
    improved, detail = _rise_or_normal(name, b, a, HEMOGLOBIN_CR_MIN_G_DL)
    if improved and a.transfused_or_epo:
        # A transfused or EPO-supported haemoglobin is not the marrow's recovery.
        improved, detail = False, f"{detail}, but transfused_or_epo true"
    return _Parameter("haemoglobin", "B", abnormal, improved, detail)


def _marrow(b: Measurements, a: Measurements) -> _Parameter:
    abnormal = b.marrow is Marrow.CLL_OR_NODULES_PRESENT
    improved = a.marrow in _MARROW_WITHOUT_CLL
    now = "not recorded" if a.marrow is None else str(a.marrow)
    return _Parameter("marrow", "B", abnormal, improved, f"marrow {b.marrow} → {now}")


PR_PARAMETERS: tuple[Callable[[Measurements, Measurements], _Parameter], ...] = (
    _nodes,
    _liver_spleen,
    _lymphocytes,
    _platelets,
    _hemoglobin,
    _marrow,
)
# Improvements required per group: two of group A and one of group B among those abnormal at
# baseline, fewer when fewer were abnormal (contract rule; 2018 footnote UNVERIFIED [S42][S44]).
PR_REQUIRED: dict[str, int] = {"A": 2, "B": 1}


def _partial_response(b: Measurements, a: Measurements) -> tuple[bool, list[str]]:
    return _partial_response_of([f(b, a) for f in PR_PARAMETERS])


def _partial_response_of(evaluated: list[_Parameter]) -> tuple[bool, list[str]]:
    """:func:`_partial_response` on the PR parameters already evaluated (baseline, assessment)."""
    params = [p for p in evaluated if p.abnormal]
    reasons = [
        f"{'improved' if p.improved else 'not improved'} (group {p.group}, {p.name}): {p.detail}"
        for p in params
    ]
    met = True
    for group, wanted in PR_REQUIRED.items():
        in_group = [p for p in params if p.group == group]
        needed = min(wanted, len(in_group))
        got = sum(p.improved for p in in_group)
        met = met and got >= needed
        reasons.append(
            f"group {group}: {got} of {len(in_group)} abnormal at baseline improved "
            f"(PR needs {needed})"
        )
    return met, reasons


def _abnormal_at_baseline(b: Measurements) -> bool:
    return any(f(b, b).abnormal for f in PR_PARAMETERS)


# --- MRD -------------------------------------------------------------------------------------


def _method_note(mrd: Mrd) -> list[str]:
    if mrd.method is None or mrd.sensitivity is None:
        return []
    typical = TYPICAL_ASSAY_SENSITIVITY.get(mrd.method.strip().lower())
    if typical is None or mrd.sensitivity >= typical * (1 - _REL_TOL):
        return []
    return [
        f"stated sensitivity {mrd.sensitivity:g} is better than the {typical:g} typical of "
        f"{mrd.method} [S53]: check the assay report"
    ]


def _mrd_result(mrd: Mrd, status: MrdStatus, reasons: tuple[str, ...]) -> MrdResult:
    return MrdResult(status, mrd.sample, mrd.sensitivity, mrd.method, mrd.level, reasons)


def classify_mrd(mrd: Mrd | None) -> MrdResult:
    """uMRD4/5/6, detectable or not assessed [S51][S52][S53].

    Undetectable at a sensitivity ≤10⁻⁶/10⁻⁵/10⁻⁴ gives the best category that sensitivity
    supports. Undetectable with a worse sensitivity (e.g. 10⁻³) is not uMRD: it is reported
    as ``not_assessed`` (the contract enum has no "undetectable at low sensitivity"; calling
    it ``detectable`` would claim a finding the assay did not make), with a reason.
    """
    if mrd is None:
        return MrdResult(MrdStatus.NOT_ASSESSED, reasons=("no MRD result",))
    notes = _method_note(mrd)
    if mrd.result is MrdResultKind.DETECTABLE:
        level = "" if mrd.level is None else f" at level {mrd.level:g}"
        return _mrd_result(mrd, MrdStatus.DETECTABLE, (f"MRD detectable{level}", *notes))
    assert mrd.sensitivity is not None  # Mrd.__post_init__ requires it when undetectable
    for status, limit in UMRD_CATEGORIES:
        if mrd.sensitivity <= limit * (1 + _REL_TOL):
            why = f"{status}: undetectable at sensitivity {mrd.sensitivity:g} (≤{limit:g})"
            return _mrd_result(mrd, status, (why, *notes))
    why = (
        f"not uMRD: undetectable at sensitivity {mrd.sensitivity:g}, worse than the 1e-04 "
        "uMRD cut-off [S51][S52]; reported as not_assessed"
    )
    return _mrd_result(mrd, MrdStatus.NOT_ASSESSED, (why, *notes))


# --- response --------------------------------------------------------------------------------


def _below_pd(b: Measurements, a: Measurements, notes: list[str]) -> tuple[Response, list[str]]:
    missing = _missing_pairs(b, a)
    if missing:
        return Response.NE, missing + notes
    # Each parameter's ``abnormal`` depends on the baseline only, so the parameters evaluated
    # against the assessment answer _abnormal_at_baseline(b) too, and are reused for PR
    # instead of evaluating all six (with their reason texts) twice.
    params = [f(b, a) for f in PR_PARAMETERS]
    if not any(p.abnormal for p in params):
        return Response.NE, ["NE: no parameter abnormal at baseline, nothing to assess", *notes]
    complete, cr_reasons = _complete_response(a)
    if complete is not None:
        return complete, [*cr_reasons, *notes]
    pr_met, pr_reasons = _partial_response_of(params)
    if pr_met:
        return Response.PR, ["PR: ≥50% improvement criteria met", *cr_reasons, *pr_reasons, *notes]
    return Response.SD, ["SD: neither CR/CRi, PR nor PD", *pr_reasons, *cr_reasons, *notes]


def assess_response(
    baseline: Measurements,
    assessment: Measurements,
    nadir: Measurements | None = None,
) -> ResponseAssessment:
    """iwCLL 2018 response of ``assessment`` against ``baseline`` (and ``nadir`` for PD).

    See the module docstring for the order of the rules and the UNVERIFIED points. The MRD
    category comes from ``assessment.mrd``.
    """
    mrd = classify_mrd(assessment.mrd)
    triggers, notes = _progression(baseline, assessment, nadir)
    if triggers:
        return ResponseAssessment(Response.PD, STANDARD, tuple(triggers + notes), mrd)
    response, reasons = _below_pd(baseline, assessment, notes)
    return ResponseAssessment(response, STANDARD, tuple(reasons), mrd)


# --- best overall response -------------------------------------------------------------------

# Best first; NE is below PD because a non-evaluable visit says nothing about the disease.
RESPONSE_ORDER: tuple[Response, ...] = (
    Response.CR,
    Response.CRI,
    Response.PR,
    Response.SD,
    Response.PD,
    Response.NE,
)


def best_overall_response(responses: Sequence[Response]) -> Response:
    """Best response recorded before the first PD, in time order.

    iwCLL 2018 defines the response at one assessment, not a best overall response; this is
    the usual ADaM/CDISC oncology convention (an ADRS "BOR" parameter): ordering CR > CRi >
    PR > SD > PD > NE, only assessments before the first PD count, PD when the first
    evaluable (non-NE) assessment is PD, NE when no assessment is evaluable. No confirmation
    or minimum SD duration is applied; a protocol that needs them must apply them first.
    """
    before_pd: list[Response] = []
    for response in responses:
        if response is Response.PD:
            if not any(r is not Response.NE for r in before_pd):
                return Response.PD
            break
        before_pd.append(response)
    return min(before_pd, key=RESPONSE_ORDER.index, default=Response.NE)
