"""The code tables of the FHIR import: every code the import maps, with its source.

Nothing outside these tables is mapped by guess: a resource whose code is not here is
reported as unmapped with the code it had. Tables are data, one entry per code.

Sources:

* LOINC — Regenstrief Institute, LOINC (loinc.org), codes as used by the FHIR R4 vital-signs
  profile (hl7.org/fhir/R4/observation-vitalsigns.html, body temperature 8310-5, blood
  pressure 85354-9/8480-6/8462-4) and the laboratory codes of a complete blood count.
* ATC — WHO Collaborating Centre for Drug Statistics Methodology, ATC/DDD Index.
* RxNorm — US National Library of Medicine, RxNorm ingredient concepts (RXCUI).
* SNOMED CT — SNOMED International, International Edition; ICD-10 — WHO, 2019 edition.

UNVERIFIED: the codes below were transcribed from those terminologies, not re-checked
against their release files in this session (no release file is available offline here);
each entry says so through ``VERIFIED = False``, as clinical-standards.md marks unchecked
sources. A wrong code can only make a resource *unmapped* (reported), never mis-mapped to a
different quantity, because each code also fixes the unit dimension accepted for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

VERIFIED: Final = False

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC: Final = "http://www.whocc.no/atc"
#: The identifier system carrying cartwatch's patient pseudonym (``patient_id``).
PATIENT_ID_SYSTEM: Final = "urn:cartwatch:patient-id"
#: The identifier system naming a cartwatch centre (Organization / managingOrganization).
CENTRE_SYSTEM: Final = "urn:cartwatch:centre"


class Target(StrEnum):
    """Where a mapped value goes."""

    TEMPERATURE_C = "temperature_c"  # CRS daily draft
    NEUTROPHILS = "neutrophils_10e9_l"  # lab record
    PLATELETS = "platelets_10e9_l"
    HEMOGLOBIN = "hemoglobin_g_dl"
    LYMPHOCYTES = "lymphocytes_10e9_l"


@dataclass(frozen=True)
class Measurement:
    code: str
    display: str
    target: Target
    unit: str  # the UCUM unit cartwatch stores (values are converted to it)


#: LOINC → the cartwatch field and its unit. Vital signs feed the daily CRS draft; counts and
#: haemoglobin become lab records (CTCAE v5.0 cytopenia grades computed on save).
MEASUREMENTS: Final[dict[str, Measurement]] = {
    m.code: m
    for m in (
        Measurement("8310-5", "Body temperature", Target.TEMPERATURE_C, "Cel"),
        Measurement("751-8", "Neutrophils [#/volume] in Blood by Automated count",
                    Target.NEUTROPHILS, "10*9/L"),
        Measurement("26499-4", "Neutrophils [#/volume] in Blood", Target.NEUTROPHILS, "10*9/L"),
        Measurement("777-3", "Platelets [#/volume] in Blood by Automated count",
                    Target.PLATELETS, "10*9/L"),
        Measurement("26515-7", "Platelets [#/volume] in Blood", Target.PLATELETS, "10*9/L"),
        Measurement("718-7", "Hemoglobin [Mass/volume] in Blood", Target.HEMOGLOBIN, "g/dL"),
        Measurement("731-0", "Lymphocytes [#/volume] in Blood by Automated count",
                    Target.LYMPHOCYTES, "10*9/L"),
        Measurement("26474-7", "Lymphocytes [#/volume] in Blood", Target.LYMPHOCYTES, "10*9/L"),
    )
}  # fmt: skip

#: Vital signs recognised but deliberately not mapped, with the reason reported.
NOT_MAPPED: Final[dict[str, str]] = {
    "85354-9": "blood pressure is not mapped: hypotension is a clinical judgement the nurse "
    "records on the draft assessment, never inferred from a blood pressure alone",
    "8480-6": "systolic blood pressure is not mapped: hypotension is a clinical judgement "
    "(never inferred from a blood pressure alone)",
    "8462-4": "diastolic blood pressure is not mapped: hypotension is a clinical judgement "
    "(never inferred from a blood pressure alone)",
    "8867-4": "heart rate is not an ASTCT CRS criterion",
    "9279-1": "respiratory rate is not an ASTCT CRS criterion",
    "59408-5": "oxygen saturation is not an ASTCT CRS criterion (the oxygen support is; the "
    "nurse records the device and flow on the draft)",
    "2708-6": "oxygen saturation is not an ASTCT CRS criterion (the oxygen support is; the "
    "nurse records the device and flow on the draft)",
}


class DrugRole(StrEnum):
    VASOPRESSOR = "vasopressor"  # → CRS draft vasopressors
    ANTIPYRETIC_OR_ANTICYTOKINE = "antipyretic_or_anticytokine"  # → CRS draft flag


@dataclass(frozen=True)
class Drug:
    name: str  # cartwatch's name (the CRS vasopressor enum value where a vasopressor)
    role: DrugRole


_V, _A = DrugRole.VASOPRESSOR, DrugRole.ANTIPYRETIC_OR_ANTICYTOKINE

#: ATC codes → drug (WHO ATC/DDD Index).
ATC_DRUGS: Final[dict[str, Drug]] = {
    "C01CA03": Drug("norepinephrine", _V),
    "C01CA24": Drug("epinephrine", _V),
    "C01CA06": Drug("phenylephrine", _V),
    "C01CA04": Drug("dopamine", _V),
    "H01BA01": Drug("vasopressin", _V),
    "C01CX09": Drug("angiotensin_ii", _V),
    "L04AC07": Drug("tocilizumab", _A),
    "L04AC11": Drug("siltuximab", _A),
    "L04AC03": Drug("anakinra", _A),
    "H02AB02": Drug("dexamethasone", _A),
    "H02AB04": Drug("methylprednisolone", _A),
    "N02BE01": Drug("paracetamol", _A),
    "M01AE01": Drug("ibuprofen", _A),
}

#: RxNorm ingredient RXCUIs → drug.
RXNORM_DRUGS: Final[dict[str, Drug]] = {
    "7512": Drug("norepinephrine", _V),
    "3992": Drug("epinephrine", _V),
    "8163": Drug("phenylephrine", _V),
    "3628": Drug("dopamine", _V),
    "11149": Drug("vasopressin", _V),
    "612865": Drug("tocilizumab", _A),
    "3264": Drug("dexamethasone", _A),
    "6902": Drug("methylprednisolone", _A),
    "161": Drug("paracetamol", _A),
    "5640": Drug("ibuprofen", _A),
}

DRUG_TABLES: Final[dict[str, dict[str, Drug]]] = {ATC: ATC_DRUGS, RXNORM: RXNORM_DRUGS}

#: Diagnosis codes → cartwatch diagnosis (checked against the registered patient's).
DIAGNOSES: Final[dict[tuple[str, str], str]] = {
    (SNOMED, "92814006"): "CLL",  # Chronic lymphocytic leukemia (disorder)
    (ICD10, "C91.1"): "CLL",  # Chronic lymphocytic leukaemia of B-cell type
    (ICD10_CM, "C91.10"): "CLL",
    (ICD10_CM, "C91.11"): "CLL",
    (ICD10_CM, "C91.12"): "CLL",
    (ICD10, "C83.0"): "SLL",  # Small cell B-cell lymphoma
}


# ---------------------------------------------------------------------------------------------
# cartwatch journey resources (``fhir export``, read back by ``fhir import``)
#
# The systems below are **local** to cartwatch (urn: namespaces, no registered terminology):
# they name cartwatch's own record kinds, centre-format fields and computed results so an
# export can be read back exactly. Standard codes are added next to them where the tables
# above have one (LOINC for temperature and the blood counts, ATC for the drugs, SNOMED CT /
# ICD-10 for CLL/SLL); no other standard code is guessed.

#: Local CodeSystem of cartwatch concepts: record kinds, procedures, events, categories.
CARTWATCH_CODE: Final = "urn:cartwatch:fhir:code"
#: Local CodeSystem of centre-format fields (code = the field path, e.g. ``lln.platelets_10e9_l``).
FIELD_SYSTEM: Final = "urn:cartwatch:fhir:field"
#: Local CodeSystem of results computed by the clinical engines (e.g. ``grade_anemia``).
RESULT_SYSTEM: Final = "urn:cartwatch:fhir:result"
#: Identifier system of one stored record: ``CENTRE/kind/record-id`` (stable per install).
RECORD_SYSTEM: Final = "urn:cartwatch:record"
#: Identifier system of one export (Bundle.identifier).
EXPORT_SYSTEM: Final = "urn:cartwatch:export"
#: meta.tag system marking a cartwatch journey resource; the tag code is its record kind.
JOURNEY_TAG: Final = "urn:cartwatch:fhir:journey"
#: meta.profile of a journey resource: this prefix + its record kind.
PROFILE_PREFIX: Final = "urn:cartwatch:fhir:StructureDefinition/"
#: Extension URL prefix of a centre-format field on a resource without components.
FIELD_EXTENSION: Final = "urn:cartwatch:fhir:field:"
FORM_STATUS_EXTENSION: Final = "urn:cartwatch:fhir:form-status"
GRADE_EXTENSION: Final = "urn:cartwatch:fhir:grade"
STANDARD_EXTENSION: Final = "urn:cartwatch:fhir:standard"
#: R5 names this AdverseEvent.supportingInfo; R4 has no such element, so an extension.
SUPPORTING_EXTENSION: Final = "urn:cartwatch:fhir:supporting-observation"
DATA_ABSENT: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
AE_SEVERITY: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
UCUM: Final = "http://unitsofmeasure.org"

#: LOINC code of a centre-format field with the same quantity (first code of MEASUREMENTS
#: per target): only these top-level fields, never an LLN of the same count.
FIELD_LOINC: Final[dict[str, str]] = {
    m.target.value: m.code for m in reversed(list(MEASUREMENTS.values()))
}

#: UCUM unit of a centre-format number field (a field not here is exported without unit).
FIELD_UNITS: Final[dict[str, str]] = {
    "temperature_c": "Cel",
    "oxygen_flow_l_min": "L/min",
    "neutrophils_10e9_l": "10*9/L",
    "platelets_10e9_l": "10*9/L",
    "lymphocytes_10e9_l": "10*9/L",
    "b_lymphocytes_10e9_l": "10*9/L",
    "hemoglobin_g_dl": "g/dL",
    "lymph_nodes_spd_cm2": "cm2",
    "largest_node_cm": "cm",
    "spleen_cm": "cm",
    "age_years": "a",
}

#: cartwatch treatment agent → ATC code (the ATC_DRUGS table read the other way).
AGENT_ATC: Final[dict[str, str]] = {drug.name: code for code, drug in ATC_DRUGS.items()}

#: Diagnosis → its codings (the DIAGNOSES table read the other way; first ICD-10 code).
DIAGNOSIS_CODINGS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "CLL": ((SNOMED, "92814006"), (ICD10, "C91.1")),
    "SLL": ((ICD10, "C83.0"),),
}


@dataclass(frozen=True)
class AdverseEventTerm:
    code: str  # local code (CARTWATCH_CODE)
    display: str  # the MedDRA preferred term (as the ADaM ADAE AEDECOD)
    standard: str


#: The adverse events of a journey. UNVERIFIED: no MedDRA or SNOMED CT code is given — none
#: is in a cited table of this project, and a code transcribed from memory could name
#: another event; the MedDRA preferred term is the display text (as in adam/adae.py).
ADVERSE_EVENTS: Final[dict[str, AdverseEventTerm]] = {
    t.code: t
    for t in (
        AdverseEventTerm("crs", "Cytokine release syndrome", "ASTCT 2019"),
        AdverseEventTerm("icans", "Immune effector cell-associated neurotoxicity syndrome",
                         "ASTCT 2019"),
        AdverseEventTerm("neutrophil_count_decreased", "Neutrophil count decreased",
                         "CTCAE v5.0"),
        AdverseEventTerm("platelet_count_decreased", "Platelet count decreased", "CTCAE v5.0"),
        AdverseEventTerm("anemia", "Anaemia", "CTCAE v5.0"),
    )
}  # fmt: skip


def ae_severity(grade: int) -> str:
    """R4 AdverseEvent.severity has three codes; the exact grade goes in GRADE_EXTENSION.
    Grade 1 → mild, 2 → moderate, 3 and above → severe (grade 0 is no adverse event)."""
    if grade < 1:
        raise ValueError(f"grade {grade} is not an adverse event")
    return "mild" if grade == 1 else "moderate" if grade == 2 else "severe"
