"""FHIR R4 bundles shaped like EHR exports (Epic/Cerner-style searchset and collection
bundles): vital-signs and laboratory categories, UCUM valueQuantity, °F temperatures,
10*3/uL counts, a norepinephrine MedicationAdministration with an infusion rate."""

from __future__ import annotations

from typing import Any

UCUM = "http://unitsofmeasure.org"
CAT = "http://terminology.hl7.org/CodeSystem/observation-category"


def patient(pid: str, centre: str | None = "A", rid: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": rid or f"pt-{pid}",
        "identifier": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14", "value": "E1234"},
            {"system": "urn:cartwatch:patient-id", "value": pid},
        ],
        "gender": "female",
    }
    if centre is not None:
        resource["managingOrganization"] = {
            "identifier": {"system": "urn:cartwatch:centre", "value": centre},
            "display": f"Centre {centre}",
        }
    return resource


def _obs(
    rid: str,
    subject: str,
    category: str,
    loinc: str,
    display: str,
    when: str,
    value: float,
    unit: str,
    code: str,
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "category": [{"coding": [{"system": CAT, "code": category}]}],
        "code": {
            "coding": [{"system": "http://loinc.org", "code": loinc, "display": display}],
            "text": display,
        },
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": code},
    }


def temperature(rid: str, subject: str, when: str, value: float, code: str = "[degF]") -> Any:
    unit = "degF" if code == "[degF]" else "C"
    return _obs(rid, subject, "vital-signs", "8310-5", "Body temperature", when, value, unit, code)


def neutrophils(rid: str, subject: str, when: str, value: float, code: str = "10*3/uL") -> Any:
    display = "Neutrophils [#/volume] in Blood by Automated count"
    return _obs(rid, subject, "laboratory", "751-8", display, when, value, "K/uL", code)


def platelets(rid: str, subject: str, when: str, value: float, code: str = "10*3/uL") -> Any:
    display = "Platelets [#/volume] in Blood by Automated count"
    return _obs(rid, subject, "laboratory", "777-3", display, when, value, "K/uL", code)


def hemoglobin(rid: str, subject: str, when: str, value: float, code: str = "g/dL") -> Any:
    return _obs(
        rid,
        subject,
        "laboratory",
        "718-7",
        "Hemoglobin [Mass/volume] in Blood",
        when,
        value,
        code,
        code,
    )


def blood_pressure(rid: str, subject: str, when: str) -> Any:
    resource = _obs(rid, subject, "vital-signs", "85354-9", "Blood pressure panel", when, 0, "", "")
    del resource["valueQuantity"]
    resource["component"] = [
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
            "valueQuantity": {"value": 82, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        },
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
            "valueQuantity": {"value": 45, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        },
    ]
    return resource


def norepinephrine(rid: str, subject: str, start: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": rid,
        "status": "in-progress",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "7512",
                    "display": "norepinephrine",
                }
            ],
            "text": "norepinephrine 4 mg in 250 mL",
        },
        "subject": {"reference": subject},
        "effectivePeriod": {"start": start},
        "dosage": {
            "route": {"text": "intravenous"},
            "rateQuantity": {
                "value": 0.05,
                "unit": "mcg/kg/min",
                "system": UCUM,
                "code": "ug/kg/min",
            },
        },
    }


def tocilizumab(rid: str, subject: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": rid,
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.whocc.no/atc", "code": "L04AC07"}]
        },
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "dosage": {"dose": {"value": 8, "unit": "mg/kg", "system": UCUM, "code": "mg/kg"}},
    }


def condition_cll(rid: str, subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "code": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "92814006",
                    "display": "Chronic lymphocytic leukemia",
                }
            ]
        },
        "subject": {"reference": subject},
    }


def bundle(*resources: dict[str, Any], kind: str = "searchset") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {
                "fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def ehr_bundle(
    pid: str = "A-001",
    centre: str | None = "A",
    days: tuple[str, str] = ("2025-07-02", "2025-07-03"),
    offset: str = "+02:00",
) -> dict[str, Any]:
    """Two days of an EHR export for one patient (the day of fever, then a calm day)."""
    s = f"Patient/pt-{pid}"
    fever_day, calm_day = days

    def fever(time: str) -> str:
        return f"{fever_day}T{time}:00{offset}"

    def calm(time: str) -> str:
        return f"{calm_day}T{time}:00{offset}"

    return bundle(
        patient(pid, centre),
        condition_cll("cond-1", s),
        temperature("t-1", s, fever("06:00"), 99.1),
        temperature("t-2", s, fever("14:00"), 101.3),  # 38.5 °C: fever
        temperature("t-3", s, fever("22:00"), 98.6),
        blood_pressure("bp-1", s, fever("14:05")),
        norepinephrine("ma-1", s, fever("15:00")),
        tocilizumab("ma-2", s, fever("16:00")),
        temperature("t-4", s, calm("08:00"), 37.1, code="Cel"),
        neutrophils("n-1", s, calm("07:00"), 0.4),  # 10*3/uL → 0.4 ×10⁹/L
        platelets("p-1", s, calm("07:00"), 42),
        hemoglobin("h-1", s, calm("07:00"), 79, code="g/L"),  # → 7.9 g/dL
        {
            "resourceType": "MedicationRequest",
            "id": "mr-1",
            "status": "active",
            "intent": "order",
            "subject": {"reference": s},
            "medicationCodeableConcept": {"text": "dexamethasone 10 mg"},
        },
    )
