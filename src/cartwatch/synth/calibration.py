"""Calibration of the synthetic cohort: published TRANSCEND CLL 004 marginals as cited data.

Every number is a :class:`Cited` value with its source ``[S#]`` from
``shared/reference/clinical-standards.md`` (§3 TRANSCEND CLL 004, §3B US label, §4 patient
characteristics, §6.1 high-risk features) and a ``verified`` flag:

* ``verified=True``: the figure was read in a stored source (clinical-standards.md VERIFIED).
* ``verified=False``: either UNVERIFIED recollection in clinical-standards.md (PFS/OS by
  response, §3.4) or a **modelling assumption** of this project (distribution shapes,
  allocation of treatments across grades, MRD rates by response group). The ``note`` says
  which. Nothing here is a trial result unless ``verified`` is True.

Reproducing the *published counts exactly* is the job of ``cohort.synthesize(published=True)``;
the random mode draws from these marginals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Cited(Generic[T]):
    """A calibration value with its source and whether that source was read."""

    value: T
    source: str
    verified: bool
    note: str = ""


@dataclass(frozen=True)
class MedianIqr:
    """A median with interquartile range, in days (or months, as named)."""

    median: float
    q1: float
    q3: float


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


# --- disposition and dose (§3.1) -------------------------------------------------------------

#: Leukapheresed 137, infused (safety set) 117 at the primary analysis [S17][S18b][S58].
ENROLLED_PUBLISHED = Cited(137, "[S17][S18b][S58]", True, "leukapheresed, primary analysis")
SAFETY_SET_PUBLISHED = Cited(117, "[S14][S17][S58]", True, "infused = safety set")
#: Probability that a leukapheresed patient is infused (117/137).
P_INFUSED = Cited(117 / 137, "[S14][S17]", True, "117 of 137 leukapheresed were infused")
#: Dose levels in 10^6 CAR+ T cells: DL1 = 50, DL2 = 100 (recommended) [S16][S57].
DOSE_LEVEL_1 = Cited(50.0, "[S16][S57]", True)
DOSE_LEVEL_2 = Cited(100.0, "[S16][S57]", True)
#: Label dose window 90–110 × 10^6 CAR+ viable T cells [S21][S26].
LABEL_DOSE_RANGE = Cited((90.0, 110.0), "[S21][S26]", True)
#: Share of infused patients treated at DL1: 9 of 97 efficacy-evaluable in the update [S16].
P_DOSE_LEVEL_1 = Cited(9 / 97, "[S16]", True, "DL1 9 of 97 efficacy-evaluable (update)")
#: Lymphodepletion to infusion 2–7 days [S26]; regimen flu/cy ×3 days UNVERIFIED (§3.1).
LD_TO_INFUSION_DAYS = Cited((2, 7), "[S26]", True)
LD_REGIMEN = Cited(
    "fludarabine 30 mg/m2/day + cyclophosphamide 300 mg/m2/day x3",
    "§3.1",
    False,
    "UNVERIFIED recollection in clinical-standards.md",
)

# --- efficacy (§3.3) -------------------------------------------------------------------------

#: Best overall response, all DL2 efficacy-evaluable (n = 87) [S18]. CR includes CRi and PR
#: includes nPR in the source; the generator produces CR and PR.
BEST_RESPONSE_DL2 = Cited(
    _frozen({"CR": 0.18, "PR": 0.29, "SD": 0.39, "PD": 0.07, "NE": 0.07}),
    "[S18]",
    True,
    "n=87 DL2 efficacy-evaluable; CR/CRi 18%, PR/nPR 29%, SD 39%, PD 7%, NE 7%",
)
#: US label efficacy population: 65 evaluable, 13 CR (20%), ORR 45% → 29 responders, 16 PR
#: [S19][S26]. The PR count is inferred (29 − 13); [S26] gives PR 25% ≈ 16/65.
LABEL_POPULATION = Cited(
    MappingProxyType({"n": 65, "CR": 13, "PR": 16}),
    "[S19][S26]",
    True,
    "n=65 from [S26]; CR 13 [S26]; ORR 45% [S19] → 29 responders; PR 25% [S26]",
)
#: uMRD (10^-4, NGS [S16]) among MRD-evaluable DL2 patients: blood 64%, marrow 59% [S18].
UMRD_BLOOD = Cited(0.64, "[S18]", True, "DL2 efficacy-evaluable, 10^-4 NGS")
UMRD_MARROW = Cited(0.59, "[S18]", True, "DL2 efficacy-evaluable, 10^-4 NGS")
#: uMRD in CR patients (label): blood 100%, marrow 92.3% (12/13) [S20][S23].
UMRD_IN_CR_BLOOD = Cited(1.0, "[S20][S23]", True)
UMRD_IN_CR_MARROW = Cited(12 / 13, "[S20][S23]", True, "92.3% = 12/13")
#: uMRD probability by best response, chosen so that the mixture over BEST_RESPONSE_DL2
#: reproduces 64% (blood) / 59% (marrow) with CR at 100%/92.3% and none in PD/NE.
#: Modelling assumption: 0.18·1 + 0.29·0.90 + 0.39·0.51 ≈ 0.64;
#: 0.18·0.923 + 0.29·0.85 + 0.39·0.455 ≈ 0.59.
UMRD_BY_RESPONSE_BLOOD = Cited(
    _frozen({"CR": 1.0, "PR": 0.90, "SD": 0.51, "PD": 0.0, "NE": 0.0}),
    "[S18][S20]",
    False,
    "modelling assumption: split of the published overall rate across response groups",
)
UMRD_BY_RESPONSE_MARROW = Cited(
    _frozen({"CR": 12 / 13, "PR": 0.85, "SD": 0.455, "PD": 0.0, "NE": 0.0}),
    "[S18][S20]",
    False,
    "modelling assumption: split of the published overall rate across response groups",
)
#: MRD assay: undetectable at 10^-4 by next-generation sequencing [S16].
MRD_SENSITIVITY = Cited(1e-4, "[S16]", True)
MRD_METHOD = Cited("NGS", "[S16]", True)
#: Time to first response median 1.1 months; time to CR median 3.0 months (label) [S19].
TIME_TO_RESPONSE_MONTHS = Cited(1.1, "[S19]", True)
TIME_TO_CR_MONTHS = Cited(3.0, "[S19]", True)

# --- PFS / OS (§3.4: mostly UNVERIFIED) ------------------------------------------------------

#: Median PFS (months) by best response. CR "not reached" and PR ≈26 months are UNVERIFIED
#: recollections (§3.4); SD/PD/NE medians and the exponential shape are modelling
#: assumptions chosen so that the overall median lands near the recalled ≈11.9 months.
PFS_MEDIAN_MONTHS_BY_RESPONSE = Cited(
    _frozen({"CR": 60.0, "PR": 26.0, "SD": 8.0, "PD": 1.0, "NE": 3.0}),
    "§3.4 (no source)",
    False,
    "UNVERIFIED recollection (CR NR, PR ~26 mo) + modelling assumption; exponential",
)
#: Median survival after progression (months) and the non-relapse death rate: modelling
#: assumptions giving an overall median OS near the recalled ≈30 months (§3.4, UNVERIFIED).
OS_AFTER_PROGRESSION_MEDIAN_MONTHS = Cited(
    14.0, "§3.4 (no source)", False, "modelling assumption; exponential"
)
NON_RELAPSE_DEATH_PER_YEAR = Cited(
    0.05, "§3.5 (no source)", False, "modelling assumption (infections, SPM)"
)
#: Median follow-up 21.0 months at the primary analysis [S18]; used for the accrual window.
MEDIAN_FOLLOWUP_MONTHS = Cited(21.0, "[S18]", True)

# --- safety (§3.5, Lancet Table 4, safety set n = 117) [S14] -----------------------------------

CRS_GRADE_COUNTS = Cited(
    MappingProxyType({0: 18, 1: 43, 2: 46, 3: 10, 4: 0, 5: 0}),
    "[S14]",
    True,
    "any grade 99/117 (85%); grade 0 = 117 - 99",
)
CRS_ONSET_DAYS = Cited(MedianIqr(4, 1, 7), "[S14]", True, "median (IQR) days from infusion")
CRS_DURATION_DAYS = Cited(MedianIqr(6, 4, 11), "[S14]", True, "median (IQR) days to resolution")
NT_GRADE_COUNTS = Cited(
    MappingProxyType({0: 64, 1: 13, 2: 18, 3: 21, 4: 1, 5: 0}),
    "[S14]",
    True,
    "investigator-identified neurological events (not ASTCT ICANS in the trial, §0.3); "
    "the synthetic cohort records ICE/consciousness/seizure so the ASTCT grader reproduces "
    "the published grade counts",
)
NT_ONSET_DAYS = Cited(MedianIqr(7, 4, 11), "[S14]", True)
NT_DURATION_DAYS = Cited(MedianIqr(7, 4, 16), "[S14]", True)
#: Shape outside the published quartiles: linear from 1 day to Q1 and from Q3 to 3 × Q3.
#: [S14] gives only median (IQR), so the tails are a modelling assumption.
EPISODE_MIN_DAYS = Cited(1, "-", False, "modelling assumption: first observation is day 1")
EPISODE_TAIL_FACTOR = Cited(3.0, "-", False, "modelling assumption: longest value = 3 × Q3")
#: CRS management among the 117: tocilizumab only 41, steroids only 2, both 35 [S14].
CRS_TREATMENT_COUNTS = Cited(
    MappingProxyType({"tocilizumab": 41, "steroids": 2, "both": 35}), "[S14]", True
)
#: Allocation of those counts across CRS grades (modelling assumption consistent with the
#: totals): neither 21 and steroids-only 2 at grade 1; grade 1 toci-only 20; grade 2 toci-only
#: 21 and both 25; grade 3 both 10. Probabilities per grade for the random mode.
CRS_TREATMENT_BY_GRADE = Cited(
    MappingProxyType(
        {
            1: _frozen({"none": 21 / 43, "steroids": 2 / 43, "tocilizumab": 20 / 43, "both": 0}),
            2: _frozen({"none": 0, "steroids": 0, "tocilizumab": 21 / 46, "both": 25 / 46}),
            3: _frozen({"none": 0, "steroids": 0, "tocilizumab": 0, "both": 1.0}),
        }
    ),
    "[S14]",
    False,
    "modelling assumption: allocation of the published totals across grades",
)
#: Tocilizumab doses per treated CRS patient median 1 (IQR 1–2) [S14] → P(second dose).
#: In published mode round(0.35 × 76) = 27 of the 76 treated get a second dose: with R
#: type-7 quartiles any 20–37 of 76 gives exactly median 1 (IQR 1–2).
P_SECOND_TOCILIZUMAB = Cited(0.35, "[S14]", False, "modelling assumption matching IQR 1–2")
TOCILIZUMAB_DOSES_PER_CRS_PATIENT = Cited(
    MedianIqr(1, 1, 2), "[S14]", True, "n = 76 CRS patients treated with tocilizumab"
)
#: NT management: steroids only 31, tocilizumab + steroids 8, tocilizumab only 0 [S14].
NT_TREATMENT_COUNTS = Cited(
    MappingProxyType({"tocilizumab": 0, "steroids": 31, "both": 8}), "[S14]", True
)
NT_TREATMENT_BY_GRADE = Cited(
    MappingProxyType(
        {
            1: _frozen({"none": 1.0, "steroids": 0, "both": 0}),
            2: _frozen({"none": 1 / 18, "steroids": 17 / 18, "both": 0}),
            3: _frozen({"none": 0, "steroids": 14 / 22, "both": 8 / 22}),
            4: _frozen({"none": 0, "steroids": 14 / 22, "both": 8 / 22}),
        }
    ),
    "[S14]",
    False,
    "modelling assumption: allocation of the published totals across grades",
)
#: Prolonged cytopenia 63/117 (54%) [S14]; definition (grade ≥3 at day 29) UNVERIFIED.
PROLONGED_CYTOPENIA = Cited(63 / 117, "[S14]", True, "definition UNVERIFIED: grade ≥3 at ~day 29")
PROLONGED_CYTOPENIA_COUNT = Cited(63, "[S14]", True, "of the safety set n = 117")

# --- patient characteristics (§4, §6.1) --------------------------------------------------------

MEDIAN_AGE_YEARS = Cited(65.0, "[S18b][S17]", True)
AGE_SD_YEARS = Cited(8.0, "-", False, "modelling assumption (normal, clipped 35–85)")
P_BULKY = Cited(0.44, "[S18b][S17]", True, "bulky nodes (≥5 cm)")
P_HIGH_RISK = Cited(
    0.83, "[S17][S18b]", True, "≥1 of del(17p), TP53 mutation, complex karyotype, unmutated IGHV"
)
#: Marker prevalences among high-risk patients: modelling assumption (the breakdown is not in
#: the stored sources, §6.1). Each high-risk patient has ≥1 marker by construction.
HIGH_RISK_MARKER_SHARES = Cited(
    _frozen({"del17p": 0.35, "tp53_mutated": 0.40, "complex_karyotype": 0.45, "ighv": 0.75}),
    "-",
    False,
    "modelling assumption",
)
PRIOR_LINES = Cited(
    MappingProxyType({"median": 5, "min": 2, "max": 12}), "[S18b][S17]", True, "median (range)"
)
P_PRIOR_BTKI = Cited(1.0, "[S18b][S17]", True, "all had a prior BTKi")
P_BTKI_REFRACTORY = Cited(0.88, "[S18b]", True)
#: Prior venetoclax: "76% refractory to venetoclax" [S18b] is a lower bound for exposure;
#: phase 1 had 65% exposed [S57]. Exposure 80% is a modelling assumption.
P_PRIOR_VENETOCLAX = Cited(0.80, "[S18b][S57]", False, "modelling assumption (≥76% refractory)")
P_MALE = Cited(0.65, "-", False, "modelling assumption (sex split not in stored sources)")
P_SLL = Cited(0.10, "-", False, "modelling assumption")
#: Days from the diagnosis to the start of the first prior line ("watch and wait" before the
#: first treatment), uniform on [low, high): median 4.5 years. The stored sources give no
#: time from diagnosis; the range keeps the median lead of the earlier generator (which drew
#: the diagnosis 6–15 years before the data cut and so sometimes after the first line).
DIAGNOSIS_TO_FIRST_LINE_DAYS = Cited(
    (0, 9 * 365), "-", False, "modelling assumption: every prior line starts on or after it"
)
