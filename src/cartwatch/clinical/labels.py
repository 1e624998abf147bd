"""Liso-cel (lisocabtagene maraleucel, Breyanzi) US label versions as data.

Source: clinical-standards.md §0 item 4 and §3B ("US label (Breyanzi PI), CLL/SLL section"),
with the sources it cites: CLL/SLL approval 14 March 2024 [S20][S21][S22][S23][S24][S25];
REMS at approval [S20]; REMS removed June 2025 [S29][S30][S31][S32]; proximity 4 → 2 weeks
and driving 8 → 2 weeks [S28][S31][S33][S34]; MZL added 12/2025 and "AA Statement Removed
(1.3) 2/2026" [S29]. The binding contract is cli-contract.md, sections ``cartwatch
eligibility`` and ``cartwatch schedule``.

Each version is a span of dates ``[effective_from, effective_to]`` (both inclusive) over which
one set of indications and obligations was in force. A new PI revision is a new
``LabelVersion`` appended to ``LABEL_VERSIONS``; old ones stay so past decisions can be
reproduced. Every item carries ``verified``: True only when clinical-standards.md marks it
VERIFIED; anything else is kept (so the gap is visible) but never used to call a patient
eligible.

cartwatch's label data start at the CLL/SLL approval: the earlier (LBCL-only) PI revisions
are not in the reference, so dates before 2024-03-14 have no version here.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

from cartwatch.clinical.drug_classes import (  # re-exported: the label's rules name classes
    AGENT_ALIASES as AGENT_ALIASES,
)
from cartwatch.clinical.drug_classes import AGENTS as AGENTS
from cartwatch.clinical.drug_classes import Agent as Agent
from cartwatch.clinical.drug_classes import DrugClass as DrugClass
from cartwatch.clinical.drug_classes import classify_agent as classify_agent
from cartwatch.clinical.errors import ClinicalInputError

T = TypeVar("T")

PRODUCT = "liso-cel"
PRODUCT_DISPLAY = "lisocabtagene maraleucel (liso-cel, Breyanzi)"

# cli-contract.md `cartwatch eligibility`: "product": "liso-cel" (aliases
# `lisocabtagene maraleucel`, `Breyanzi`), matched case-insensitively.
PRODUCT_NAMES: tuple[str, ...] = ("liso-cel", "lisocabtagene maraleucel", "Breyanzi")
PRODUCT_ALIASES: Mapping[str, str] = MappingProxyType(
    {name.casefold(): PRODUCT for name in PRODUCT_NAMES}
)


def normalise_product(name: str) -> str | None:
    """The canonical product code for an alias (case and surrounding spaces ignored)."""
    return PRODUCT_ALIASES.get(name.strip().casefold())


@dataclass(frozen=True)
class Cited(Generic[T]):
    """One label fact with its sources and whether the reference verified it."""

    value: T
    sources: tuple[str, ...]
    verified: bool
    note: str = ""

    def cite(self) -> str:
        """``[S1][S2]`` plus ``UNVERIFIED`` when the reference could not confirm the item."""
        refs = "".join(self.sources)
        return refs if self.verified else f"{refs} UNVERIFIED".strip()


class Diagnosis(StrEnum):
    """Diagnosis codes the eligibility contract accepts."""

    CLL = "CLL"
    SLL = "SLL"
    LBCL = "LBCL"
    FL = "FL"
    MCL = "MCL"
    MZL = "MZL"


@dataclass(frozen=True)
class IndicationRules:
    """Machine-checkable criteria of one indication."""

    min_prior_lines: int
    required_classes: tuple[DrugClass, ...]
    adults_only: bool
    requires_relapsed_or_refractory: bool


# "Adults" in a US label: 18 years or older (US age of majority; the PI's pediatric-use
# section is what defines the cut-off — UNVERIFIED wording, the value is the US convention).
ADULT_AGE_YEARS = 18


@dataclass(frozen=True)
class Indication:
    """One indication as printed in a label version.

    ``rules`` is None when cartwatch has no verified criteria for it: eligibility for such an
    indication is never decided, only reported as unverified.
    """

    code: str
    diagnoses: frozenset[Diagnosis]
    label_text: str
    effective_from: datetime.date | None
    rules: IndicationRules | None
    sources: tuple[str, ...]
    verified: bool
    note: str = ""


@dataclass(frozen=True)
class Obligations:
    """Post-infusion obligations printed in the label (Patient Counseling / Dosage)."""

    stay_near_centre_weeks: Cited[int]
    no_driving_weeks: Cited[int]
    rems: Cited[bool]
    # Days of at least daily monitoring at the treating facility; None when the version's
    # wording is not known to cartwatch.
    daily_monitoring_days: Cited[int | None]
    monitoring_text: Cited[str]


@dataclass(frozen=True)
class LabelVersion:
    """One US PI revision of the product, in force from ``effective_from`` to ``effective_to``."""

    product: str
    version: str
    effective_from: datetime.date
    effective_to: datetime.date | None
    effective_from_source: Cited[str]
    indications: tuple[Indication, ...]
    obligations: Obligations
    changes: tuple[Cited[str], ...]
    sources: tuple[str, ...] = field(default=())

    @property
    def verified(self) -> bool:
        """True only when every encoded item of this version is verified."""
        items: list[bool] = [
            self.effective_from_source.verified,
            self.obligations.stay_near_centre_weeks.verified,
            self.obligations.no_driving_weeks.verified,
            self.obligations.rems.verified,
            self.obligations.daily_monitoring_days.verified,
            self.obligations.monitoring_text.verified,
        ]
        items += [i.verified for i in self.indications]
        items += [c.verified for c in self.changes]
        return all(items)

    def indication_for(self, diagnosis: Diagnosis) -> Indication | None:
        return next((i for i in self.indications if diagnosis in i.diagnoses), None)

    def in_force_on(self, on: datetime.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


# --- Indications -------------------------------------------------------------------------

CLL_SLL_APPROVAL = datetime.date(2024, 3, 14)  # [S20][S21][S22][S23][S24]; PDUFA date [S25]

CLL_SLL = Indication(
    code="CLL/SLL",
    diagnoses=frozenset({Diagnosis.CLL, Diagnosis.SLL}),
    label_text=(
        "adults with relapsed or refractory chronic lymphocytic leukemia (CLL) or small "
        "lymphocytic lymphoma (SLL) who have received at least 2 prior lines of therapy, "
        "including a Bruton tyrosine kinase (BTK) inhibitor and a B-cell lymphoma 2 (BCL-2) "
        "inhibitor"
    ),
    effective_from=CLL_SLL_APPROVAL,
    # clinical-standards.md §3B "Indication" row, VERIFIED [S21][S20].
    rules=IndicationRules(
        min_prior_lines=2,
        required_classes=(DrugClass.BTK_INHIBITOR, DrugClass.BCL2_INHIBITOR),
        adults_only=True,
        requires_relapsed_or_refractory=True,
    ),
    sources=("[S20]", "[S21]"),
    verified=True,
    note="accelerated approval on response rate and duration of response [S21]",
)

_NOT_IN_REFERENCE = (
    "not in clinical-standards.md: indication wording, approval date and line-of-therapy "
    "rules are not verified, so cartwatch never decides eligibility for it"
)

# LBCL was the product's first US indication, but neither its date nor its rules are in the
# reference; FL and MCL likewise. They are listed so that a request names them as unverified
# rather than as "no indication".
LBCL = Indication(
    code="LBCL",
    diagnoses=frozenset({Diagnosis.LBCL}),
    label_text="large B-cell lymphoma (wording not verified)",
    effective_from=None,
    rules=None,
    sources=(),
    verified=False,
    note=_NOT_IN_REFERENCE,
)
FL = Indication(
    code="FL",
    diagnoses=frozenset({Diagnosis.FL}),
    label_text="follicular lymphoma (wording not verified)",
    effective_from=None,
    rules=None,
    sources=(),
    verified=False,
    note=_NOT_IN_REFERENCE + "; whether FL was already on the label on 2024-03-14 is unknown",
)
MCL = Indication(
    code="MCL",
    diagnoses=frozenset({Diagnosis.MCL}),
    label_text="mantle cell lymphoma (wording not verified)",
    effective_from=None,
    rules=None,
    sources=(),
    verified=False,
    note=_NOT_IN_REFERENCE + "; whether MCL was already on the label on 2024-03-14 is unknown",
)

# openFDA recent_major_changes: "MZL indication added (1.5) 12/2025" [S29]. The month is
# verified, the day is not: the version starts on the first of the month (see below).
MZL_ADDED = datetime.date(2025, 12, 1)
MZL = Indication(
    code="MZL",
    diagnoses=frozenset({Diagnosis.MZL}),
    label_text="marginal zone lymphoma, section 1.5 (wording not verified)",
    effective_from=MZL_ADDED,
    rules=None,
    sources=("[S29]",),
    verified=False,
    note=(
        "addition in 12/2025 VERIFIED [S29]; exact day, wording and rules not in "
        "clinical-standards.md"
    ),
)

_BASE_INDICATIONS = (LBCL, CLL_SLL, FL, MCL)

# --- Obligations -------------------------------------------------------------------------

_MONITORING_REMS_TEXT = (
    "monitor at least daily for 7 days at the certified healthcare facility, then for signs "
    "and symptoms of CRS and neurologic toxicities for 4 weeks"
)

REMS_ERA_OBLIGATIONS = Obligations(
    # §3B "Proximity (pre-June-2025)": 4 weeks VERIFIED [S28][S31]; "≈2 hours" UNVERIFIED,
    # so no distance is encoded.
    stay_near_centre_weeks=Cited(4, ("[S28]", "[S31]"), verified=True),
    # §3B "Driving (pre-June-2025)": 8 weeks VERIFIED [S31][S34].
    no_driving_weeks=Cited(8, ("[S31]", "[S34]"), verified=True),
    # §3B "REMS at CLL approval": VERIFIED [S20]; what it required [S30].
    rems=Cited(True, ("[S20]", "[S30]"), verified=True),
    # §3B "Monitoring (pre-June-2025 label)": UNVERIFIED for Breyanzi; the "daily for 7 days"
    # wording is the Yescarta label's [S61].
    daily_monitoring_days=Cited[int | None](
        7, ("[S61]",), verified=False, note="Yescarta wording; not read in the Breyanzi PI"
    ),
    monitoring_text=Cited(
        _MONITORING_REMS_TEXT,
        ("[S61]",),
        verified=False,
        note="Yescarta wording; not read in the Breyanzi PI",
    ),
)

POST_REMS_OBLIGATIONS = Obligations(
    # §3B "Proximity (post-June-2025)" and "Driving (post-June-2025)": 2 and 2 weeks,
    # VERIFIED [S33] (and [S31] for the class-wide change).
    stay_near_centre_weeks=Cited(2, ("[S33]",), verified=True),
    no_driving_weeks=Cited(2, ("[S33]",), verified=True),
    # "Warnings and Precautions, REMS Removed (5.3) 6/2025" [S29][S30][S31][S32].
    rems=Cited(False, ("[S29]", "[S30]", "[S31]", "[S32]"), verified=True),
    # §8 item 4: the post-June-2025 monitoring wording could not be read. No number is
    # carried over from the REMS era because the revision changed section 2.2/2.3 [S29].
    daily_monitoring_days=Cited[int | None](
        None,
        ("[S29]",),
        verified=False,
        note="post-June-2025 monitoring wording not read (clinical-standards.md §8 item 4)",
    ),
    monitoring_text=Cited(
        "post-June-2025 monitoring wording not verified (Dosage and Administration 2.2, 2.3 "
        "revised 6/2025)",
        ("[S29]",),
        verified=False,
    ),
)

# --- Versions ----------------------------------------------------------------------------

# Why 2025-06-26 for the REMS removal: the FDA announced the elimination of REMS for the
# autologous CD19/BCMA CAR-Ts on 26 June 2025 [S32] ([S31] reports the announcement as
# 27 June); openFDA gives only the month, "REMS Removed (5.3) 6/2025" [S29]. The CLI
# contract fixes "from 2025-06-26 on", and taking the earlier of the two reported days means
# the REMS-era obligations are never applied after FDA said they were gone. The day the
# revised PI text itself took effect was not read.
REMS_REMOVED = datetime.date(2025, 6, 26)

# "AA Statement Removed (1.3) 2/2026" [S29]: month verified, day not; which indication
# section 1.3 is (CLL? FL?) could not be read (clinical-standards.md §3B, §8 item 4).
AA_STATEMENT_REMOVED = datetime.date(2026, 2, 1)

_DAY = datetime.timedelta(days=1)

LABEL_VERSIONS: tuple[LabelVersion, ...] = (
    LabelVersion(
        product=PRODUCT,
        version="US PI 2024-03 (CLL/SLL approval, REMS)",
        effective_from=CLL_SLL_APPROVAL,
        effective_to=REMS_REMOVED - _DAY,
        effective_from_source=Cited(
            "FDA approval for CLL/SLL on 14 March 2024",
            ("[S20]", "[S21]", "[S22]", "[S23]", "[S24]", "[S25]"),
            verified=True,
        ),
        indications=_BASE_INDICATIONS,
        obligations=REMS_ERA_OBLIGATIONS,
        changes=(
            Cited(
                "CLL/SLL indication added (accelerated approval); REMS in force",
                ("[S20]", "[S21]"),
                verified=True,
            ),
        ),
        sources=("[S20]", "[S21]", "[S28]", "[S31]", "[S34]"),
    ),
    LabelVersion(
        product=PRODUCT,
        version="US PI 2025-06 (REMS removed)",
        effective_from=REMS_REMOVED,
        effective_to=MZL_ADDED - _DAY,
        effective_from_source=Cited(
            "FDA announced the elimination of CAR-T REMS on 26 June 2025",
            ("[S29]", "[S32]"),
            verified=True,
            note="[S31] gives 27 June; openFDA gives 6/2025; the contract fixes 2025-06-26",
        ),
        indications=_BASE_INDICATIONS,
        obligations=POST_REMS_OBLIGATIONS,
        changes=(
            Cited("Warnings and Precautions: REMS Removed (5.3) 6/2025", ("[S29]",), True),
            Cited("Dosage and Administration (2.2, 2.3) 6/2025", ("[S29]",), True),
            Cited(
                "stay near the centre 4 → 2 weeks; no driving 8 → 2 weeks",
                ("[S31]", "[S33]"),
                verified=True,
            ),
        ),
        sources=("[S29]", "[S30]", "[S31]", "[S32]", "[S33]"),
    ),
    LabelVersion(
        product=PRODUCT,
        version="US PI 2025-12 (MZL added)",
        effective_from=MZL_ADDED,
        effective_to=AA_STATEMENT_REMOVED - _DAY,
        effective_from_source=Cited(
            "openFDA: MZL indication added (1.5) 12/2025",
            ("[S29]",),
            verified=False,
            note="month verified; the first of the month stands in for the unknown day",
        ),
        indications=(*_BASE_INDICATIONS, MZL),
        obligations=POST_REMS_OBLIGATIONS,
        changes=(Cited("MZL indication added (1.5) 12/2025", ("[S29]",), True),),
        sources=("[S29]",),
    ),
    LabelVersion(
        product=PRODUCT,
        version="US PI 2026-02 (AA statement removed, 1.3)",
        effective_from=AA_STATEMENT_REMOVED,
        effective_to=None,
        effective_from_source=Cited(
            "openFDA: AA Statement Removed (1.3) 2/2026",
            ("[S29]",),
            verified=False,
            note="month verified; the first of the month stands in for the unknown day",
        ),
        indications=(*_BASE_INDICATIONS, MZL),
        obligations=POST_REMS_OBLIGATIONS,
        changes=(
            Cited(
                "accelerated-approval statement removed from section 1.3",
                ("[S29]",),
                verified=True,
            ),
            # Kept separate so the unverified part cannot be mistaken for the verified one.
            Cited(
                "which indication section 1.3 is (CLL/SLL? FL?) and whether it converted to "
                "full approval",
                ("[S29]",),
                verified=False,
                note="clinical-standards.md §3B and §8 item 4",
            ),
        ),
        sources=("[S29]",),
    ),
)


def first_label_date(product: str) -> datetime.date:
    """The first date covered by cartwatch's label data for ``product``."""
    canonical = _canonical_or_raise(product)
    return min(v.effective_from for v in LABEL_VERSIONS if v.product == canonical)


def _canonical_or_raise(product: str) -> str:
    canonical = normalise_product(product)
    if canonical is None:
        known = ", ".join(PRODUCT_NAMES)
        raise ClinicalInputError.single(
            "product", f"unknown product {product!r}; known (case-insensitive): {known}"
        )
    return canonical


def label_in_force(product: str, on: datetime.date, *, date_field: str = "on") -> LabelVersion:
    """The label version of ``product`` in force on ``on``.

    Raises ClinicalInputError (path ``product`` or ``date_field``) for an unknown product or a
    date before the first version cartwatch holds (2024-03-14, the CLL/SLL approval).
    """
    canonical = _canonical_or_raise(product)
    for version in LABEL_VERSIONS:
        if version.product == canonical and version.in_force_on(on):
            return version
    first = first_label_date(canonical)
    raise ClinicalInputError.single(
        date_field,
        f"{on.isoformat()} is before {first.isoformat()}: cartwatch's {canonical} label data "
        "start at the US CLL/SLL approval; earlier label versions are not held",
    )
