"""iwCLL 2018 response of one assessment after treatment of CLL.

Guideline: Hallek M et al., "iwCLL guidelines for diagnosis, indications for treatment,
response assessment, and supportive management of CLL", Blood 2018;131(25):2745 [S40],
Table 4 "Response definition after treatment of CLL patients" [S41]; where the 2018 text could
not be read, the iwCLL 2008 Table 4 (Hallek, Blood 2008;111:5446) [S42] or a summary derived
from it [S48][S49] is used and the rule is marked UNVERIFIED for 2018 (clinical-standards.md
§2), in ``PD_SOURCES``/``CR_CRITERIA`` and in the reasons. The rules follow the CLI contract's
"Rules in brief" for ``cartwatch assess response`` with contract v2 item 4 (B lymphocytes,
``bcr_inhibitor_ongoing``, PR-L). Shared record and thresholds:
:mod:`cartwatch.clinical.iwcll_measurements`; categories and best overall response:
:mod:`cartwatch.clinical.bor`; MRD: :mod:`cartwatch.clinical.mrd` (all re-exported here).

Order of evaluation (the first that applies decides):

1. **PD** on any trigger present at the assessment (``PD_SOURCES``): node SPD +≥50% from
   baseline or nadir; a new lesion (``new_lesion``: a new node >1.5 cm or other organ
   infiltrate); new hepatomegaly (liver not enlarged at baseline, enlarged now) and new
   splenomegaly [S48] (spleen <13 cm at baseline, ≥13 cm now and +≥2 cm: the Lugano measure
   [S54], as the iwCLL one could not be read, UNVERIFIED); spleen length +≥50% from
   baseline or nadir [S41]; lymphocytosis counted in B lymphocytes: ``b_lymphocytes_10e9_l``
   +≥50% over the baseline (or nadir) B count — the baseline total lymphocyte count when the
   baseline B count is absent — and ≥5 × 10⁹/L [S41][S43]; platelets −≥50% or haemoglobin
   −≥2 g/dL from baseline when due to CLL [S41]; biopsy-proven Richter transformation
   [S48][S49][S50]. Without ``b_lymphocytes_10e9_l`` at the assessment a rise of the total
   lymphocyte count cannot establish PD (after CAR-T the expanding CAR T cells raise it): the
   response is judged on the other criteria (6) and a reason says so. Constitutional symptoms
   alone are never PD ([S42]; 2018 wording UNVERIFIED). A PD trigger decides even when other
   fields are missing.
   Marrow PD ("increase of CLL cells ≥50% on successive biopsies" [S41]) needs the infiltrate
   as a percentage, which the contract's ``marrow`` category does not carry: it is not
   assessed and the reasons say so when both marrows show CLL. Liver PD by +≥50% likewise
   needs a liver size; only new hepatomegaly is assessed.
2. **Isolated lymphocytosis during BTK/PI3K inhibitor therapy** (``bcr_inhibitor_ongoing``,
   lymphocytosis the only PD trigger) is not PD: NE as in 3 when PD cannot otherwise be
   excluded, else **PR-L** when the PR criteria other than lymphocytes are met, else SD.
   Without a B count a total rise +≥50% over baseline to ≥5 × 10⁹/L is taken as such a
   lymphocytosis (most plausibly CLL during that therapy; a B count showing it gives PR-L,
   so less information must not give PR), and so is a total not recorded at the assessment
   against a recorded baseline (a lymphocytosis not excluded is no better than a rise).
3. **NE** when PD cannot be excluded or there is nothing to compare: a paired quantity
   (node SPD, spleen, platelets, haemoglobin) recorded at only one of baseline and
   assessment, or no parameter abnormal at baseline (the lymphocytes set aside as in 6 not
   counting). The total lymphocyte count is not paired: since contract v2 it cannot
   establish PD, so its absence blocks CR and sets it aside for PR (6) instead.
4. **CR**: every criterion in ``CR_CRITERIA`` met and marrow normocellular without CLL.
   Neutrophils ≥1.5 × 10⁹/L are in the 2008 table [S42] (">1500/µL") and, from recollection,
   in the 2018 text (UNVERIFIED); this module follows the contract and requires them.
   A missing CR field lowers the result (never NE) and is named in the reasons.
5. **CRi**: the non-haematological CR criteria met, marrow without CLL (normo- or
   hypocellular), and every failing blood-count criterion attributed to treatment
   (``cytopenia_due_to_treatment``). A hypocellular marrow with normal counts is also CRi, as
   "hypocellular marrow defines CRi" in 2008 [S42] (2018 wording UNVERIFIED).
   Without a marrow result (``None`` or ``not_done``) the best response is PR.
6. **PR**: ≥50% improvement (or normalisation) in at least two group-A parameters and one
   group-B parameter among those abnormal at baseline; when only one parameter of a group was
   abnormal, one of that group suffices (``min(2, abnormal A)`` and ``min(1, abnormal B)``).
   The 2018 footnote wording is UNVERIFIED: the 2008 footnote says "≥1 of group A and ≥1 of
   group B" [S42] while a secondary 2008 summary says "two of group A plus one of group B"
   [S44]; the contract's rule is implemented. Group A: nodes, liver/spleen, lymphocytes.
   Constitutional symptoms are group A in the table but their PR column is "Any" [S41], so
   they neither count towards nor block PR (they only block CR). Lymphocytes without
   ``b_lymphocytes_10e9_l`` at the assessment (contract v2 item 4, "judged on the other
   criteria"): improved when the total fell ≥50% or is normal, otherwise **set aside**
   (left out of the group-A counts; not during BTK/PI3K inhibitor therapy, see 7), so a
   higher total never gives a better response (the order argument is beside
   ``total_set_aside`` in :mod:`cartwatch.clinical.iwcll_improvement`). With the B count at
   both evaluations a B count fallen ≥50% is an improvement too. When the lymphocytes are
   left out (set aside here, or for PR-L in 2 and 7) and were the only group-A parameter
   abnormal at baseline, group A is not met: nothing shows the tumour load fell, and "0 of
   0 needed" would call a response on no evidence (``NO_EVIDENCE_LEFT`` in
   :mod:`cartwatch.clinical.iwcll_improvement`; conservative reading, UNVERIFIED, said in
   the reasons). Group B: platelets,
   haemoglobin, marrow; neutrophils were group B in 2008 [S42] but are not in the 2018 table
   [S41], so they do not count towards PR.
7. **PR-L** during BTK/PI3K inhibitor therapy when PR fails only because the lymphocyte
   count, abnormal at baseline, did not improve ≥50% (a persistent lymphocytosis below the
   PD level): the PR criteria other than lymphocytes are met. This is the same category as in
   2 for a smaller lymphocytosis, so a lower lymphocyte count never gives a worse response
   than a higher one (§2.3; PR-L wording UNVERIFIED, coded value [S47]). Without a B count
   the total is not set aside here: it stands in for the B count, as in 2. PR-L (here and in
   2) needs another group-A parameter abnormal at baseline and improved (see 6): a
   lymphocytosis that was the only abnormal baseline finding gives SD, not PR-L.
8. **SD** otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cartwatch.clinical.bor import RESPONDERS, RESPONSE_ORDER, Response, best_overall_response
from cartwatch.clinical.iwcll_improvement import (
    CR_CRITERIA,
    PR_PARAMETERS,
    PR_REQUIRED,
    CrCriterion,
    complete_response,
    partial_response,
    set_aside_reason,
    total_set_aside,
)
from cartwatch.clinical.iwcll_measurements import (
    HEMOGLOBIN_CR_MIN_G_DL,
    LYMPHOCYTES_NORMAL_BELOW_10E9_L,
    NEUTROPHILS_CR_MIN_10E9_L,
    NEW_SPLENOMEGALY_MIN_INCREASE_CM,
    NODE_NORMAL_BELOW_CM,
    NUMERIC_FIELDS,
    PD_HEMOGLOBIN_DECREASE_G_DL,
    PD_INCREASE_FRACTION,
    PD_LYMPHOCYTES_MIN_10E9_L,
    PD_PLATELET_DECREASE_FRACTION,
    PLATELETS_CR_MIN_10E9_L,
    PR_IMPROVEMENT_FRACTION,
    SPLEEN_NORMAL_BELOW_CM,
    STANDARD,
    Marrow,
    Measurements,
    at_least,
    b_count_problem,
    change,
    decreased_by,
    fmt,
    increased_by,
)
from cartwatch.clinical.mrd import (
    TYPICAL_ASSAY_SENSITIVITY,
    UMRD_CATEGORIES,
    Mrd,
    MrdResult,
    MrdResultKind,
    MrdSample,
    MrdStatus,
    classify_mrd,
)

# Public names, including those re-exported from the modules this one was split into
# (DEVELOPERS.md lists them under clinical/iwcll.py).
__all__ = [
    "CR_CRITERIA",
    "HEMOGLOBIN_CR_MIN_G_DL",
    "LYMPHOCYTES_NORMAL_BELOW_10E9_L",
    "NEUTROPHILS_CR_MIN_10E9_L",
    "NEW_SPLENOMEGALY_MIN_INCREASE_CM",
    "NODE_NORMAL_BELOW_CM",
    "NUMERIC_FIELDS",
    "PAIRED_FIELDS",
    "PD_HEMOGLOBIN_DECREASE_G_DL",
    "PD_INCREASE_FRACTION",
    "PD_LYMPHOCYTES_MIN_10E9_L",
    "PD_PLATELET_DECREASE_FRACTION",
    "PD_SOURCES",
    "PLATELETS_CR_MIN_10E9_L",
    "PR_IMPROVEMENT_FRACTION",
    "PR_L_SOURCE",
    "PR_PARAMETERS",
    "PR_REQUIRED",
    "RESPONDERS",
    "RESPONSE_ORDER",
    "SPLEEN_NORMAL_BELOW_CM",
    "STANDARD",
    "TYPICAL_ASSAY_SENSITIVITY",
    "UMRD_CATEGORIES",
    "CrCriterion",
    "Marrow",
    "Measurements",
    "Mrd",
    "MrdResult",
    "MrdResultKind",
    "MrdSample",
    "MrdStatus",
    "Response",
    "ResponseAssessment",
    "ResponseRequest",
    "assess_response",
    "b_count_problem",
    "best_overall_response",
    "classify_mrd",
]

# Where each PD trigger comes from; appended to its reason so a reader sees what is verified.
PD_SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "nodes": "[S41]",
        "new_lesion": "[S48][S49]; 2018 wording UNVERIFIED",
        "new_hepatomegaly": "[S48]; 2018 wording UNVERIFIED",
        "spleen": "[S41]; measured as spleen length, the 2018 text on the measure UNVERIFIED",
        "new_splenomegaly": (
            "[S48], splenomegaly ≥13 cm [S41], +≥2 cm as Lugano [S54]; 2018 wording UNVERIFIED"
        ),
        "lymphocytosis": (
            "[S41][S43], counted in B lymphocytes (contract v2 item 4); 2018 wording UNVERIFIED"
        ),
        "cytopenia": "[S41]",
        "richter": "[S48][S49][S50]; 2018 wording UNVERIFIED",
        "marrow": "[S41]",
    }
)
# PR-L: a coded category [S47], clinical-standards.md §2.3; iwCLL 2018 wording UNVERIFIED.
PR_L_SOURCE = "contract v2 item 4; §2.3 [S47], 2018 wording UNVERIFIED"

# Quantities compared between baseline and assessment; one recorded without the other leaves
# PD unexcludable, so the result is NE (contract: a missing field makes the result NE). The
# total lymphocyte count is not here: it cannot establish PD since contract v2 item 4.
PAIRED_FIELDS: tuple[str, ...] = (
    "lymph_nodes_spd_cm2",
    "spleen_cm",
    "platelets_10e9_l",
    "hemoglobin_g_dl",
)


# --- output ----------------------------------------------------------------------------------


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
    """One ``assess response`` call (built by the input schema)."""

    baseline: Measurements
    assessment: Measurements
    nadir: Measurements | None = None
    bcr_inhibitor_ongoing: bool = False

    def assess(self) -> ResponseAssessment:
        return assess_response(
            self.baseline,
            self.assessment,
            self.nadir,
            bcr_inhibitor_ongoing=self.bcr_inhibitor_ongoing,
        )


# --- PD --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trigger:
    rule: str  # a PD_SOURCES key
    text: str


def _trigger(rule: str, text: str) -> _Trigger:
    return _Trigger(rule, f"PD: {text} {PD_SOURCES[rule]}")


def _pd_increase(
    name: str,
    rule: str,
    baseline: Measurements,
    assessment: Measurements,
    nadir: Measurements | None,
) -> list[_Trigger]:
    """+≥50% from baseline or from the nadir (best state on study) [S41]."""
    now = assessment.number(name)
    if now is None:
        return []
    refs = [("baseline", baseline)] + ([("nadir", nadir)] if nadir is not None else [])
    found = []
    for ref_name, ref in refs:
        before = ref.number(name)
        if before is not None and increased_by(before, now, PD_INCREASE_FRACTION):
            label = "node SPD" if rule == "nodes" else rule
            found.append(
                _trigger(rule, f"{label} +≥50% from {ref_name}: {change(name, before, now)}")
            )
    return found


def _new_organomegaly(baseline: Measurements, assessment: Measurements) -> list[_Trigger]:
    """New hepatomegaly or splenomegaly: absent at baseline, present now [S48]."""
    found = []
    if baseline.liver_enlarged is False and assessment.liver_enlarged is True:
        found.append(_trigger("new_hepatomegaly", "new hepatomegaly (liver_enlarged false → true)"))
    b, a = baseline.spleen_cm, assessment.spleen_cm
    if (
        b is not None
        and a is not None
        and b < SPLEEN_NORMAL_BELOW_CM <= a
        and at_least(a - b, NEW_SPLENOMEGALY_MIN_INCREASE_CM)
    ):
        found.append(
            _trigger(
                "new_splenomegaly",
                f"new splenomegaly: {change('spleen_cm', b, a)}, normal "
                f"<{SPLEEN_NORMAL_BELOW_CM:g} cm at baseline and "
                f"+≥{NEW_SPLENOMEGALY_MIN_INCREASE_CM:g} cm",
            )
        )
    return found


_B = "b_lymphocytes_10e9_l"
_TOTAL = "lymphocytes_10e9_l"


def _lymphocyte_references(
    baseline: Measurements, nadir: Measurements | None
) -> list[tuple[str, str, float]]:
    """(label, field, value) a B-lymphocyte count is compared with (contract v2 item 4)."""
    refs: list[tuple[str, str, float]] = []
    if baseline.b_lymphocytes_10e9_l is not None:
        refs.append(("baseline B lymphocytes", _B, baseline.b_lymphocytes_10e9_l))
    elif baseline.lymphocytes_10e9_l is not None:
        refs.append(("baseline total lymphocytes (no baseline B count)", _TOTAL,
                     baseline.lymphocytes_10e9_l))  # fmt: skip
    if nadir is not None and nadir.b_lymphocytes_10e9_l is not None:
        refs.append(("nadir B lymphocytes", _B, nadir.b_lymphocytes_10e9_l))
    return refs


def _lymphocytosis(
    baseline: Measurements, assessment: Measurements, nadir: Measurements | None
) -> tuple[list[_Trigger], list[str]]:
    """PD by lymphocytosis, counted in B lymphocytes; (triggers, notes)."""
    now = assessment.b_lymphocytes_10e9_l
    if now is None:
        return [], []  # a total-lymphocyte rise: ``_total_rise``, judged in ``assess_response``
    refs = _lymphocyte_references(baseline, nadir)
    if not refs:
        return [], [
            f"lymphocytosis not assessable: {_B} {fmt(_B, now)} at assessment, no baseline B "
            "or total lymphocyte count to compare"
        ]
    rises = [
        (label, change(field, before, now, _B))
        for label, field, before in refs
        if _rose(before, now)
    ]
    if rises and now < PD_LYMPHOCYTES_MIN_10E9_L:
        return [], [
            f"not PD: B lymphocytes +≥50% over {label} but <{PD_LYMPHOCYTES_MIN_10E9_L:g} "
            f"×10⁹/L: {text}"
            for label, text in rises
        ]
    triggers = [
        _trigger(
            "lymphocytosis",
            f"lymphocytosis, B lymphocytes +≥50% over {label} and "
            f"≥{PD_LYMPHOCYTES_MIN_10E9_L:g} ×10⁹/L: {text}",
        )
        for label, text in rises
    ]
    return triggers, []


def _rose(before: float, now: float) -> bool:
    """+≥50% over ``before``. A reference of 0 (no B cells, e.g. B-cell aplasia at the nadir
    after CAR-T) makes any count a rise of more than 50%; ``increased_by`` needs a positive
    reference for a ratio."""
    return increased_by(before, now, PD_INCREASE_FRACTION) or (before == 0 < now)


def _total_rise(baseline: Measurements, assessment: Measurements) -> str | None:
    """The change of a total lymphocyte count that rose +≥50% over baseline to ≥5 × 10⁹/L
    with no ``b_lymphocytes_10e9_l`` at the assessment (what v1 called PD), else None."""
    before, now = baseline.lymphocytes_10e9_l, assessment.lymphocytes_10e9_l
    if assessment.b_lymphocytes_10e9_l is not None or before is None or now is None:
        return None
    if now < PD_LYMPHOCYTES_MIN_10E9_L or not _rose(before, now):
        return None
    return f"total {change(_TOTAL, before, now)} with no {_B} at assessment"


def _pd_cytopenia(
    baseline: Measurements, assessment: Measurements
) -> tuple[list[_Trigger], list[str]]:
    """PD by a CLL-related fall in platelets or haemoglobin; a fall not due to CLL is noted."""
    falls: list[str] = []
    p0, p1 = baseline.platelets_10e9_l, assessment.platelets_10e9_l
    if p0 is not None and p1 is not None and decreased_by(p0, p1, PD_PLATELET_DECREASE_FRACTION):
        falls.append(f"platelets −≥50% from baseline: {change('platelets_10e9_l', p0, p1)}")
    h0, h1 = baseline.hemoglobin_g_dl, assessment.hemoglobin_g_dl
    if h0 is not None and h1 is not None and at_least(h0 - h1, PD_HEMOGLOBIN_DECREASE_G_DL):
        falls.append(f"haemoglobin −≥2 g/dL from baseline: {change('hemoglobin_g_dl', h0, h1)}")
    if assessment.cytopenia_due_to_cll:
        return [_trigger("cytopenia", f"{fall}, due to CLL") for fall in falls], []
    return [], [
        f"not PD: {fall}, not attributed to CLL (cytopenia_due_to_cll false)" for fall in falls
    ]


def _marrow_note(baseline: Measurements, assessment: Measurements) -> list[str]:
    cll = Marrow.CLL_OR_NODULES_PRESENT
    if baseline.marrow is not cll or assessment.marrow is not cll:
        return []
    return [
        "marrow PD (CLL cells +≥50% on successive biopsies "
        f"{PD_SOURCES['marrow']}) not assessed: the marrow is recorded as a category, "
        "without the CLL-cell percentage"
    ]


def _progression(
    baseline: Measurements, assessment: Measurements, nadir: Measurements | None
) -> tuple[list[_Trigger], list[str]]:
    """(PD triggers found, notes about findings that are not PD)."""
    triggers = _pd_increase("lymph_nodes_spd_cm2", "nodes", baseline, assessment, nadir)
    if assessment.new_lesion:
        triggers.append(_trigger("new_lesion", "new lesion (new_lesion true)"))
    triggers += _new_organomegaly(baseline, assessment)
    triggers += _pd_increase("spleen_cm", "spleen", baseline, assessment, nadir)
    lymph_triggers, notes = _lymphocytosis(baseline, assessment, nadir)
    triggers += lymph_triggers
    cyto_triggers, cyto_notes = _pd_cytopenia(baseline, assessment)
    triggers += cyto_triggers
    if assessment.richter_transformation:
        triggers.append(_trigger("richter", "Richter transformation (biopsy-proven)"))
    return triggers, notes + cyto_notes + _marrow_note(baseline, assessment)


# --- NE --------------------------------------------------------------------------------------


def _missing_pairs(baseline: Measurements, assessment: Measurements) -> list[str]:
    reasons = []
    for name in PAIRED_FIELDS:
        before, now = baseline.number(name), assessment.number(name)
        if before is not None and now is None:
            reasons.append(f"NE: {name} missing at assessment (baseline {fmt(name, before)})")
        elif before is None and now is not None:
            reasons.append(f"NE: {name} missing at baseline (assessment {fmt(name, now)})")
    return reasons


# --- response --------------------------------------------------------------------------------

_BCR = "bcr_inhibitor_ongoing"
_BCRI_THERAPY = f"during BTK/PI3K inhibitor therapy ({_BCR} true; {PR_L_SOURCE})"


def _below_pd(
    b: Measurements,
    a: Measurements,
    notes: list[str],
    bcr_inhibitor_ongoing: bool = False,
    lymphocytosis: tuple[str, ...] = (),
) -> tuple[Response, list[str]]:
    """NE, PR-L (isolated lymphocytosis on a BCR inhibitor), CR, CRi, PR, PR-L or SD.

    ``lymphocytosis`` holds the reasons of an isolated lymphocytosis set aside because a BTK
    or PI3K inhibitor is ongoing; the other PD triggers were absent.
    """
    missing = _missing_pairs(b, a)
    if missing:
        return Response.NE, [*missing, *lymphocytosis, *notes]
    # Each parameter's ``abnormal`` depends on the baseline only, so the parameters evaluated
    # against the assessment also say whether anything was abnormal at baseline.
    params = [f(b, a) for f in PR_PARAMETERS]
    lymph = next(p for p in params if p.name == "lymphocytes")
    aside = total_set_aside(lymph, a, bcr_inhibitor_ongoing)
    judged = [p for p in params if p.abnormal and not (aside and p is lymph)]
    if not judged:
        if aside:
            return Response.NE, [
                "NE: the total lymphocyte count, the only parameter abnormal at baseline, is "
                "set aside without a B count: nothing else to assess",
                set_aside_reason(lymph),
                *notes,
            ]
        return Response.NE, ["NE: no parameter abnormal at baseline, nothing to assess", *notes]
    if lymphocytosis:
        met, other = partial_response(params, without="lymphocytes")
        if met:
            return Response.PR_L, [_pr_l_reason(), *lymphocytosis, *other, *notes]
        why = "SD: PR criteria other than lymphocytes not met"
        return Response.SD, [why, *lymphocytosis, *other, *notes]
    complete, cr_reasons = complete_response(a)
    if complete is not None:
        return complete, [*cr_reasons, *notes]
    aside_reasons = [set_aside_reason(lymph)] if aside else []
    pr_met, pr_reasons = partial_response(params, without="lymphocytes" if aside else None)
    if pr_met:
        met_reason = "PR: ≥50% improvement criteria met"
        return Response.PR, [met_reason, *aside_reasons, *cr_reasons, *pr_reasons, *notes]
    not_pr_l: list[str] = []
    if bcr_inhibitor_ongoing and lymph.abnormal and not lymph.improved:
        met, other = partial_response(params, without="lymphocytes")
        if met:
            persistent = [f"persistent lymphocytosis (not improved ≥50%): {lymph.detail}"]
            if a.b_lymphocytes_10e9_l is None:
                persistent.append(
                    f"no {_B} at assessment: {_BCRI_THERAPY} a lymphocytosis is most plausibly "
                    "CLL, so the total is not set aside (PR-L, as a B count showing it gives)"
                )
            return Response.PR_L, [_pr_l_reason(), *persistent, *other, *cr_reasons, *notes]
        not_pr_l = [
            "not PR-L: PR criteria other than lymphocytes not met",
            *(r for r in other if r not in pr_reasons),
        ]
    sd = "SD: neither CR/CRi, PR nor PD"
    return Response.SD, [sd, *aside_reasons, *pr_reasons, *not_pr_l, *cr_reasons, *notes]


def _pr_l_reason() -> str:
    return (
        f"PR-L: PR criteria other than lymphocytes met, with lymphocytosis {_BCRI_THERAPY}; "
        "counts as a response"
    )


def _total_rise_reason(total_rise: str, bcr_inhibitor_ongoing: bool) -> str:
    """Why a total-lymphocyte rise (``_total_rise``) is not PD, and what it is instead."""
    if bcr_inhibitor_ongoing:
        return (
            f"not PD: {total_rise}, +≥50% and ≥{PD_LYMPHOCYTES_MIN_10E9_L:g} ×10⁹/L "
            f"{_BCRI_THERAPY}: most plausibly CLL lymphocytosis, so it is taken as an isolated "
            "lymphocytosis (PR-L, not PR, as a B count showing it gives)"
        )
    return (
        f"not PD: {total_rise}; a total-lymphocyte rise cannot establish PD (after CAR-T, "
        "expanding CAR T cells raise the total; contract v2 item 4), so the response is judged "
        "on the other criteria"
    )


def _bcri_lymphocytosis_without_b(baseline: Measurements, assessment: Measurements) -> list[str]:
    """During BTK/PI3K inhibitor therapy, with no B count: a total rise to the PD level, or an
    unrecorded total against a recorded baseline (a lymphocytosis not excluded, so no better
    than a recorded rise), is taken as an isolated lymphocytosis: PR-L at best."""
    if assessment.b_lymphocytes_10e9_l is not None:
        return []
    total_rise = _total_rise(baseline, assessment)
    if total_rise:
        return [_total_rise_reason(total_rise, bcr_inhibitor_ongoing=True)]
    before = baseline.lymphocytes_10e9_l
    if assessment.lymphocytes_10e9_l is None and before is not None:
        return [
            f"{_TOTAL} not recorded at assessment (baseline {fmt(_TOTAL, before)}) and no {_B}: "
            f"{_BCRI_THERAPY} a lymphocytosis cannot be excluded, so it is taken as an isolated "
            "lymphocytosis (PR-L at best)"
        ]
    return []


def assess_response(
    baseline: Measurements,
    assessment: Measurements,
    nadir: Measurements | None = None,
    *,
    bcr_inhibitor_ongoing: bool = False,
) -> ResponseAssessment:
    """iwCLL 2018 response of ``assessment`` against ``baseline`` (and ``nadir`` for PD).

    ``bcr_inhibitor_ongoing``: a BTK or PI3K inhibitor is being given (contract v2 item 4).
    See the module docstring for the order of the rules and the UNVERIFIED points. The MRD
    category comes from ``assessment.mrd``.
    """
    mrd = classify_mrd(assessment.mrd)
    triggers, notes = _progression(baseline, assessment, nadir)
    total_rise = _total_rise(baseline, assessment)
    isolated = bool(triggers) and all(t.rule == "lymphocytosis" for t in triggers)
    if triggers and not (isolated and bcr_inhibitor_ongoing):
        texts = [t.text for t in triggers]
        if total_rise:
            texts.append(_total_rise_reason(total_rise, bcr_inhibitor_ongoing=False))
        return ResponseAssessment(Response.PD, STANDARD, tuple(texts + notes), mrd)
    if assessment.constitutional_symptoms:
        notes.append("constitutional symptoms present: alone they are not PD")
    lymphocytosis = [
        f"not PD: isolated lymphocytosis {_BCRI_THERAPY}: {t.text.removeprefix('PD: ')}"
        for t in triggers
    ]
    if bcr_inhibitor_ongoing:
        lymphocytosis += _bcri_lymphocytosis_without_b(baseline, assessment)
    elif total_rise:
        notes.append(_total_rise_reason(total_rise, bcr_inhibitor_ongoing=False))
    response, reasons = _below_pd(
        baseline, assessment, notes, bcr_inhibitor_ongoing, tuple(lymphocytosis)
    )
    return ResponseAssessment(response, STANDARD, tuple(reasons), mrd)
