"""The iwCLL 2018 measurement set and the thresholds of its response table.

Hallek M et al., Blood 2018;131(25):2745 [S40], Table 4 "Response definition after treatment
of CLL patients" [S41] (clinical-standards.md §2.1); where the 2018 text could not be read the
iwCLL 2008 Table 4 [S42] is used and the value is marked UNVERIFIED for 2018. The rules that
use these live in :mod:`cartwatch.clinical.iwcll`; this module holds what they share (the
evaluation record, the thresholds as data and the arithmetic of "≥50%"), so the rules can be
split by idea without import cycles. Every public name is re-exported by ``iwcll``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.mrd import Mrd

STANDARD = "iwCLL 2018"


class Marrow(StrEnum):
    NOT_DONE = "not_done"
    NORMOCELLULAR_NO_CLL = "normocellular_no_cll"
    HYPOCELLULAR_NO_CLL = "hypocellular_no_cll"
    CLL_OR_NODULES_PRESENT = "cll_or_nodules_present"


# --- thresholds (iwCLL 2018 Table 4 [S41] unless noted) -------------------------------------

# PD: "Increase ≥50% from baseline or from response" for nodes and liver/spleen, "≥50% over
# baseline" for lymphocytes [S41].
PD_INCREASE_FRACTION = 0.50
# PD by lymphocytosis also needs an absolute count ≥5 × 10⁹/L: the trial operationalisation
# [S43]; the iwCLL text counts it in B lymphocytes ("at least 5,000 B lymphocytes/µL", 2018
# wording UNVERIFIED, clinical-standards.md §2.1), which contract v2 item 4 makes binding.
PD_LYMPHOCYTES_MIN_10E9_L = 5.0
# PD by platelets: "Decrease ≥50% from baseline secondary to CLL" [S41].
PD_PLATELET_DECREASE_FRACTION = 0.50
# PD by haemoglobin: "Decrease ≥2 g/dL from baseline secondary to CLL" [S41].
PD_HEMOGLOBIN_DECREASE_G_DL = 2.0
# PR: "Decrease ≥50%" (group A) and "increase ≥50% over baseline" (group B) [S41].
PR_IMPROVEMENT_FRACTION = 0.50

# CR: lymph nodes "None ≥1.5 cm" [S41].
NODE_NORMAL_BELOW_CM = 1.5
# CR: "Spleen <13 cm" [S41]; footnote †: spleen normal if <13 cm (so ≥13 cm is splenomegaly).
SPLEEN_NORMAL_BELOW_CM = 13.0
# CR: circulating lymphocytes "Normal" [S41]; <4000/µL in the 2008 text table [S42].
LYMPHOCYTES_NORMAL_BELOW_10E9_L = 4.0
# CR: neutrophils >1500/µL in 2008 [S42]; 2018 text requirement UNVERIFIED (no 2018 row [S41]).
NEUTROPHILS_CR_MIN_10E9_L = 1.5
# PD, new splenomegaly: a spleen normal at baseline must also grow ≥2 cm. iwCLL calls "de novo
# splenomegaly" PD [S48] without a measure the sources show; Lugano 2014 requires "an increase
# of ≥2 cm" when there was no prior splenomegaly [S54][S55][S56] (clinical-standards.md §2.6),
# which keeps a 12.3 → 13.3 cm measurement wobble from being PD (applied to iwCLL: UNVERIFIED).
NEW_SPLENOMEGALY_MIN_INCREASE_CM = 2.0
# CR and PR: platelets ≥100 × 10⁹/L [S41].
PLATELETS_CR_MIN_10E9_L = 100.0
# CR and PR: haemoglobin ≥11.0 g/dL (CR: untransfused, without erythropoietin) [S41].
HEMOGLOBIN_CR_MIN_G_DL = 11.0

# Floating-point slack for "≥50%" and "≥2 g/dL" on derived differences (10 → 15 must be +50%).
REL_TOL = 1e-9


# --- the evaluation record -------------------------------------------------------------------


@dataclass(frozen=True)
class Measurements:
    """One iwCLL evaluation (baseline, nadir or assessment); None = not recorded.

    ``new_lesion``, ``cytopenia_due_to_cll``, ``cytopenia_due_to_treatment`` and
    ``richter_transformation`` are events, recorded when present (default False).
    ``liver_enlarged``, ``constitutional_symptoms`` and ``transfused_or_epo`` are findings a
    CR must positively confirm, so None (not recorded) rules out CR.
    ``b_lymphocytes_10e9_l`` is the CLL/B-lymphocyte count by flow cytometry (contract v2
    item 4): PD by lymphocytosis is counted in it, because after CAR-T the expanding CAR T
    cells raise the total lymphocyte count.
    """

    lymph_nodes_spd_cm2: float | None = None
    largest_node_cm: float | None = None
    new_lesion: bool = False
    spleen_cm: float | None = None
    liver_enlarged: bool | None = None
    lymphocytes_10e9_l: float | None = None
    b_lymphocytes_10e9_l: float | None = None
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
        if not problems:
            problem = b_count_problem(self.lymphocytes_10e9_l, self.b_lymphocytes_10e9_l)
            if problem is not None:
                problems.append(("b_lymphocytes_10e9_l", problem))
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
    "b_lymphocytes_10e9_l",
    "neutrophils_10e9_l",
    "platelets_10e9_l",
    "hemoglobin_g_dl",
)

_UNITS: dict[str, str] = {
    "lymph_nodes_spd_cm2": "cm²",
    "largest_node_cm": "cm",
    "spleen_cm": "cm",
    "lymphocytes_10e9_l": "×10⁹/L",
    "b_lymphocytes_10e9_l": "×10⁹/L",
    "neutrophils_10e9_l": "×10⁹/L",
    "platelets_10e9_l": "×10⁹/L",
    "hemoglobin_g_dl": "g/dL",
}


def b_count_problem(total: float | None, b_count: float | None) -> str | None:
    """What is wrong with a B-lymphocyte count above the total lymphocyte count of the same
    evaluation (None when both are not recorded or B ≤ total).

    The B lymphocytes (the CLL cells among them) are counted within the lymphocytes, so B >
    total is impossible: a transcription slip (a swapped pair, a count in /µL, a percentage)
    that, taken as read, could decide PD by lymphocytosis (contract v2 item 4). Equal counts
    are possible (a lymphocytosis made of CLL cells, rounded) and accepted. The schemas
    (CLI, API, web forms, centre loader, stored rows) and :class:`Measurements` share this
    one rule.
    """
    if total is None or b_count is None or b_count <= total:
        return None
    return (
        f"B lymphocytes ({fmt('b_lymphocytes_10e9_l', b_count)}) cannot exceed total "
        f"lymphocytes ({fmt('lymphocytes_10e9_l', total)})"
    )


# --- the arithmetic of the table -------------------------------------------------------------


def at_least(value: float, limit: float) -> bool:
    return value >= limit or math.isclose(value, limit, rel_tol=REL_TOL)


def fmt(name: str, value: float) -> str:
    """``value`` with the unit of field ``name`` ("18 cm")."""
    return f"{value:g} {_UNITS.get(name, '')}".rstrip()


def change(name: str, before: float, after: float, after_name: str | None = None) -> str:
    """Text of a change, "name 10 ×10⁹/L → 15 ×10⁹/L (+50%)"; ``after_name`` if it differs."""
    if after_name is None or after_name == name:
        text = f"{name} {fmt(name, before)} → {fmt(name, after)}"
    else:
        text = f"{name} {fmt(name, before)} → {after_name} {fmt(after_name, after)}"
    if before > 0:
        text += f" ({(after - before) / before * 100:+.0f}%)"
    return text


def increased_by(before: float, after: float, fraction: float) -> bool:
    return before > 0 and at_least(after, before * (1 + fraction))


def decreased_by(before: float, after: float, fraction: float) -> bool:
    return before > 0 and after <= before * (1 - fraction) * (1 + REL_TOL)
