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
