"""The CIBMTR cellular-therapy form elements cartwatch exports, as data (interop contract,
"Registry export").

Each :class:`Element` is one question of a CIBMTR form, numbered as the public Forms
Instruction Manual numbers it, with the manual page it was read from. The manual pages were
read as stored copies through the project's search tool, never live; what a stored page
showed is ``verified=True``, everything else is **UNVERIFIED** (as in
``clinical-standards.md``) and must be checked against the current manual before
submission. A question number that no stored page showed is ``None``: the element is then
keyed by form and ``key`` only, never by a guessed number.

Question numbers differ between revisions of a form (the stored copies of the 4100 manual
number the CRS question 77, 80 and 89 in three revisions). The numbers below are those of
ONE stored revision per form, the one whose section list is named in ``FORMS``; which
revision number that page documents was not shown, so every form's revision is UNVERIFIED.

Forms (``FORMS``): 4000 Pre-Cellular Therapy Essential Data, 4003 Cellular Therapy Product,
4006 Cellular Therapy Infusion (the manual splits "product/infusion" into these two),
4100 Cellular Therapy Essential Data Follow-Up (100 days, 6 months, annually), and 2900
Recipient Death Data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

MANUAL = "https://www.cibmtr.org/manuals/fim/1/en/topic/"
MANULA = "https://www.manula.com/manuals/cibmtr/fim/1/en/topic/"


class ValueType(StrEnum):
    DATE = "date"
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTIPLE = "multiple_choice"  # check all that apply
    TEXT = "text"
    NUMBER = "number"


@dataclass(frozen=True)
class FormSpec:
    """One CIBMTR form: what it is, when it is due, and where that was read."""

    form: str
    title: str
    revision: str | None  # None: the stored manual page did not show it (UNVERIFIED)
    source: str
    sections: str  # the section list of the stored revision whose numbers are used here
    due: str  # when the form comes due, in words, with its verification


@dataclass(frozen=True)
class Element:
    """One data element (question) of a CIBMTR form."""

    form: str
    question: str | None  # "77", "81-82"; None: no stored page showed the number
    key: str
    wording: str
    source: str
    verified: bool  # number and wording read on ``source``; False: UNVERIFIED
    value_type: ValueType
    options: tuple[str, ...] = ()  # answer options as the form has them (see options_note)
    derives_from: str = ""  # which cartwatch data the value comes from, in words
    collected: bool = True  # False: cartwatch does not capture it (enter on FormsNet)
    note: str = ""


FORMS: Mapping[str, FormSpec] = {
    "4000": FormSpec(
        "4000",
        "Pre-Cellular Therapy Essential Data (Pre-CTED)",
        None,
        MANUAL + "4000",
        "Q1-14 Recipient Data; Q15-29 Cellular Therapy and HCT History; Q30-54 Product "
        "Identification; Q55-69 Indication; Q70-76 Infection; Q77-102 Disease Assessment at "
        "Last Evaluation Prior to Cellular Therapy; Q103-107 Systemic Therapy Prior to "
        "Cellular Therapy; Q108-110 Functional Status; Q111-120 Comorbid Conditions",
        "once per infusion; 'due within 30 days after infusion' (stored manula.com copy of "
        "the 4000 manual)",
    ),
    "4003": FormSpec(
        "4003",
        "Cellular Therapy Product",
        None,
        MANULA + "4003q19-21",
        "Q1-2 Cellular Therapy Product Identification; Q3-12 Cell Product Source; Q13-15 "
        "Collection Procedure; Q16-37 Manipulation; Q38-46 Analysis; Q47 Product Infusion "
        "(manula.com copy of " + MANULA + "4003)",
        "one per product of the course (manual); due with the infusion (UNVERIFIED timing)",
    ),
    "4006": FormSpec(
        "4006",
        "Cellular Therapy Infusion",
        None,
        MANUAL + "4006q1-45",
        "Q1-31 Product Infusion; Q32-35 Concomitant Therapy (" + MANUAL + "4006)",
        "one per infusion (manual); due with the infusion (UNVERIFIED timing)",
    ),
    "4100": FormSpec(
        "4100",
        "Cellular Therapy Essential Data Follow-Up (Post-CTED)",
        None,
        MANUAL + "4100",
        "Q1 Product; Q2-3 Survival; Q4-8 Subsequent Cellular Infusions; Q9-11 Best Response; "
        "Q12-15 Peripheral Blood Count Recovery; Q16-17 Disease Relapse or Progression; "
        "Q18-32 Current Hematologic Findings; Q33 New Malignancy; Q34-56 Persistence; Q57-76 "
        "GVHD; Q77-179 Toxicities; Q180-184 Infection",
        "'100 days, six months, and annually post-cellular therapy' (stored manual page); "
        "the reporting day of each time point (100, 180, 365, 730 … days after the infusion) "
        "is cartwatch's reading of that schedule: the manual gives approximate ranges "
        "(day 85-115, 150-210, 365-425, then ±30 days around each anniversary, "
        + MANUAL
        + "4100q7-11), not a due day (UNVERIFIED)",
    ),
    "2900": FormSpec(
        "2900",
        "Recipient Death Data",
        None,
        MANUAL + "q1-4-recipient-death-data",
        "Q1 Date of Death; Q2-3 Autopsy; Q4-5 Primary cause of death",
        "when a death is recorded (the manual page refers to the date of death reported "
        "on Form 4100); timing UNVERIFIED",
    ),
}

_Q4000 = MANUAL + "4000"
_Q4000_DISEASE = MANUAL + "4000q68-93"
_Q4100 = MANUAL + "4100"
_Q4100_CONTACT = MANUAL + "4100q7-11"
_Q4100_CRS = MANUAL + "4100q175-179"
_Q4100_RESPONSE = MANULA + "4100q12-14"
_DEATH = MANUAL + "q1-4-recipient-death-data"
_YN = ("Yes", "No")

#: Best-response answer options for malignant diseases, as the stored 4100 manual lists them.
BEST_RESPONSE_OPTIONS = (
    "Continued complete response",
    "Complete response",
    "Partial response",
    "No response",
    "Disease progression",
    "Not evaluated",
)

PRE_INFUSION: tuple[Element, ...] = (
    Element(
        "4000",
        None,
        "date_of_birth",
        "Date of birth (Recipient Data)",
        _Q4000,
        False,
        ValueType.DATE,
        collected=False,
        note="cartwatch keeps a pseudonym and the age in years, never the date of birth: "
        "enter it on FormsNet directly",
    ),
    Element(
        "4000",
        None,
        "sex",
        "Sex (Recipient Data)",
        _Q4000,
        False,
        ValueType.CHOICE,
        ("Male", "Female"),
        "patients.csv sex",
    ),
    Element(
        "4000",
        None,
        "primary_disease",
        "Primary disease for cellular therapy (Indication for Cellular Therapy)",
        _Q4000,
        False,
        ValueType.CHOICE,
        (),
        "patients.csv diagnosis (CLL or SLL)",
    ),
    Element(
        "4000",
        None,
        "date_of_diagnosis",
        "Date of diagnosis of the primary disease",
        _Q4000,
        False,
        ValueType.DATE,
        (),
        "patients.csv diagnosis_date",
    ),
    Element(
        "4000",
        None,
        "prior_systemic_therapy",
        "Systemic therapy prior to cellular therapy (lines and agents)",
        _Q4000,
        False,
        ValueType.TEXT,
        (),
        "prior_lines.csv",
    ),
    Element(
        "4000",
        "77",
        "disease_assessed_prior",
        "Was the disease assessed prior to the cellular therapy?",
        _Q4000_DISEASE,
        True,
        ValueType.CHOICE,
        ("Yes", "No", "Unknown"),
        "response_assessments.csv (timepoint baseline, on or before the infusion)",
    ),
    Element(
        "4000",
        None,
        "lymphodepleting_therapy",
        "Lymphodepleting therapy prior to cellular therapy (regimen and start date)",
        _Q4000,
        False,
        ValueType.TEXT,
        (),
        "cell_therapy.csv lymphodepletion_regimen, lymphodepletion_start",
    ),
    Element(
        "4000",
        None,
        "bridging_therapy",
        "Holding / bridging therapy prior to infusion",
        MANULA + "4000",
        False,
        ValueType.TEXT,
        collected=False,
        note="cartwatch does not record bridging therapy: enter it on FormsNet directly",
    ),
    Element(
        "4000",
        None,
        "performance_status",
        "Functional status (performance score) prior to cellular therapy",
        _Q4000,
        False,
        ValueType.NUMBER,
        (),
        "patients.csv ecog",
        note="cartwatch records ECOG; the scale the form asks for (Karnofsky/Lansky or "
        "ECOG) is UNVERIFIED",
    ),
    Element(
        "4000",
        None,
        "comorbid_conditions",
        "Comorbid conditions",
        _Q4000,
        False,
        ValueType.MULTIPLE,
        collected=False,
        note="cartwatch does not record comorbidities: enter them on FormsNet directly",
    ),
    Element(
        "4003",
        "2",
        "collection_date",
        "Date of cell product collection",
        MANULA + "4003q19-21",
        True,
        ValueType.DATE,
        (),
        "cell_therapy.csv apheresis_date",
    ),
    Element(
        "4006",
        "1",
        "product_name",
        "Name of product",
        MANUAL + "4006q1-45",
        True,
        ValueType.TEXT,
        (),
        "cell_therapy.csv product",
    ),
    Element(
        "4006",
        "2-3",
        "cell_product_id",
        "Cell product ID",
        MANUAL + "4006q1-45",
        True,
        ValueType.TEXT,
        collected=False,
        note="for Breyanzi the manual asks for the JOIN ID from the Release for Infusion "
        "certificate (" + MANULA + "4006q1-45); cartwatch does not record it",
    ),
    Element(
        "4006",
        "6-7",
        "lot_number",
        "Lot number",
        MANUAL + "4006q1-45",
        True,
        ValueType.TEXT,
        (),
        "cell_therapy.csv lot",
        note="Breyanzi: the lot numbers of the CD4+ and CD8+ components in one field, comma "
        "separated (" + MANULA + "4006q1-45)",
    ),
    Element(
        "4006",
        "8",
        "infusion_date",
        "Date of this product infusion",
        MANUAL + "4006q1-45",
        True,
        ValueType.DATE,
        (),
        "cell_therapy.csv infusion_date",
    ),
    Element(
        "4006",
        None,
        "cells_infused",
        "Total number of cells infused",
        MANUAL + "4006",
        False,
        ValueType.NUMBER,
        (),
        "cell_therapy.csv dose_10e6_car_t_cells",
        note="cartwatch records CAR-positive viable T cells; the manual asks for the total "
        "number of cells not corrected for viability (2019 manual update, UNVERIFIED for "
        "this revision)",
    ),
)

FOLLOW_UP: tuple[Element, ...] = (
    Element(
        "4100",
        "2",
        "date_of_contact",
        "Date of actual contact with the recipient to "
        "determine medical status for this follow-up report",
        _Q4100_CONTACT,
        True,
        ValueType.DATE,
        (),
        "the patient's recorded visit, assessment, lab or follow-up event "
        "nearest the time point within the manual's approximate range",
    ),
    Element(
        "4100",
        None,
        "survival_status",
        "Survival status at the date of contact (Survival, Q2-3)",
        _Q4100,
        False,
        ValueType.CHOICE,
        ("Alive", "Dead"),
        "followup.csv death events; alive when a contact is recorded and no death",
    ),
    Element(
        "4100",
        None,
        "best_response",
        "What was the best response to the cellular therapy?",
        _Q4100_RESPONSE,
        False,
        ValueType.CHOICE,
        BEST_RESPONSE_OPTIONS,
        "iwCLL 2018 responses of response_assessments.csv before new therapy and first PD",
        note="wording read on the manula.com copy (numbered Q12 and Q4 there); its number in "
        "this revision (section Q9-11) is unknown; the iwCLL→CIBMTR category mapping "
        "(CR/CRi → Complete response, PR/PR-L → Partial response, SD → No response) is "
        "cartwatch's, UNVERIFIED",
    ),
    Element(
        "4100",
        None,
        "best_response_date",
        "Date the best response was established",
        _Q4100,
        False,
        ValueType.DATE,
        (),
        "first assessment with the best response",
    ),
    Element(
        "4100",
        None,
        "relapse_or_progression",
        "Disease relapse or progression since the date of last report (Q16-17)",
        _Q4100,
        False,
        ValueType.YES_NO,
        _YN,
        "iwCLL PD at an assessment, or a progression event in followup.csv",
    ),
    Element(
        "4100",
        None,
        "subsequent_therapy",
        "New therapy for the disease since the date of last report",
        _Q4100,
        False,
        ValueType.YES_NO,
        _YN,
        "followup.csv new_therapy events (detail: the agents)",
    ),
    Element(
        "4100",
        "77",
        "crs",
        "Did the recipient develop Cytokine Release Syndrome (CRS) since the date of last report?",
        _Q4100_CRS,
        True,
        ValueType.YES_NO,
        _YN,
        "crs_observations.csv graded with ASTCT 2019 (clinical.crs)",
    ),
    Element(
        "4100",
        "78",
        "crs_date_previously_reported",
        "Was the date of diagnosis previously reported?",
        _Q4100_CRS,
        True,
        ValueType.YES_NO,
        _YN,
        "whether the period's CRS continues an episode that began in an earlier period (no "
        "grade-0 observation in between)",
    ),
    Element(
        "4100",
        "79",
        "crs_date_of_diagnosis",
        "Date of diagnosis (CRS)",
        _Q4100_CRS,
        True,
        ValueType.DATE,
        (),
        "first CRS observation of grade ≥1 in the period",
    ),
    Element(
        "4100",
        None,
        "crs_maximum_grade",
        "Maximum grade of CRS in the reporting period",
        _Q4100_CRS,
        False,
        ValueType.CHOICE,
        ("1", "2", "3", "4", "5"),
        "maximum ASTCT 2019 grade over the period's gradable CRS observations",
        note="the grading scale the form asks for is UNVERIFIED (ASTCT 2019 assumed)",
    ),
    Element(
        "4100",
        "80",
        "crs_therapy_given",
        "Was therapy given? (for CRS)",
        _Q4100_CRS,
        True,
        ValueType.YES_NO,
        _YN,
        "treatments.csv doses with indication crs",
    ),
    Element(
        "4100",
        "81-82",
        "crs_therapy",
        "Specify therapy given for CRS",
        _Q4100_CRS,
        True,
        ValueType.MULTIPLE,
        (),
        "treatments.csv agents with indication crs",
        note="the form's list of agents was not visible in the stored page: cartwatch's "
        "agent names are given (UNVERIFIED option names)",
    ),
    Element(
        "4100",
        None,
        "icans",
        "Did the recipient develop ICANS (neurotoxicity) since the date of last report?",
        _Q4100,
        False,
        ValueType.YES_NO,
        _YN,
        "icans_observations.csv graded with ASTCT 2019 (clinical.icans)",
    ),
    Element(
        "4100",
        None,
        "icans_date_of_diagnosis",
        "Date of diagnosis (ICANS)",
        _Q4100,
        False,
        ValueType.DATE,
        (),
        "first ICANS observation of grade ≥1 in the period",
    ),
    Element(
        "4100",
        None,
        "icans_maximum_grade",
        "Maximum grade of ICANS in the reporting period",
        _Q4100,
        False,
        ValueType.CHOICE,
        ("1", "2", "3", "4", "5"),
        "maximum ASTCT 2019 grade over the period's ICANS observations",
    ),
    Element(
        "4100",
        None,
        "icans_therapy_given",
        "Was therapy given? (for ICANS)",
        _Q4100,
        False,
        ValueType.YES_NO,
        _YN,
        "treatments.csv doses with indication icans",
    ),
    Element(
        "4100",
        None,
        "icans_therapy",
        "Specify therapy given for ICANS",
        _Q4100,
        False,
        ValueType.MULTIPLE,
        (),
        "treatments.csv agents with indication icans",
    ),
    Element(
        "4100",
        None,
        "prolonged_cytopenia",
        "Cytopenia persisting at day 28 (Peripheral Blood Count Recovery, Q12-15)",
        _Q4100,
        False,
        ValueType.YES_NO,
        _YN,
        "labs.csv graded with CTCAE v5.0: neutrophil or platelet count decreased grade ≥3 "
        "at the count nearest day 28 (±7 days); 100-day form only",
        note="cartwatch's definition (the ADaM PROLCYFL flag); the form's own count-"
        "recovery questions are UNVERIFIED",
    ),
    Element(
        "4100",
        None,
        "worst_cytopenia",
        "Worst neutrophil and platelet count decreased in the reporting period",
        _Q4100,
        False,
        ValueType.TEXT,
        (),
        "labs.csv graded with CTCAE v5.0",
    ),
)

DEATH: tuple[Element, ...] = (
    Element(
        "2900",
        "1",
        "date_of_death",
        "Date of Death",
        _DEATH,
        True,
        ValueType.DATE,
        (),
        "followup.csv event death",
    ),
    Element(
        "2900",
        "4-5",
        "primary_cause_of_death",
        "Primary cause of death",
        _DEATH,
        True,
        ValueType.CHOICE,
        (),
        "followup.csv death_cause",
        note="the form's cause list was not visible: cartwatch's cause is given in words "
        "(UNVERIFIED mapping)",
    ),
)

ELEMENTS: tuple[Element, ...] = PRE_INFUSION + FOLLOW_UP + DEATH

#: The 4100 follow-up time points: (label, days after the infusion). See FORMS["4100"].due.
FOLLOW_UP_POINTS: tuple[tuple[str, int], ...] = (("100d", 100), ("6m", 180), ("1y", 365))


def follow_up_points(years: int) -> tuple[tuple[str, int], ...]:
    """100 days, 6 months, 1 year, then each anniversary up to *years* years."""
    return FOLLOW_UP_POINTS + tuple((f"{n}y", 365 * n) for n in range(2, years + 1))


def unverified_count() -> int:
    return sum(1 for e in ELEMENTS if not e.verified)
