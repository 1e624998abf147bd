"""A centre with every record kind for the FHIR export tests, and a snapshot of what is
stored (fields as the centre format reads them, results, form status) to compare after a
round trip."""

from __future__ import annotations

import io
import json
from typing import Any

from tests.web.conftest import Cast, actor_of

ELIGIBILITY = {
    "product": "liso-cel",
    "diagnosis": "CLL",
    "age_years": 64,
    "relapsed_or_refractory": True,
    "prior_lines": [{"agents": ["ibrutinib"]}, {"agents": ["venetoclax"]}],
    "as_of": "2025-06-01",
}


def build_journeys(cast: Cast) -> None:
    """Hand-built patients covering what the synthetic cohort may not: a not-gradable CRS
    assessment, a draft, a nurse's hypotension/oxygen entry, a verified record, ICANS by CAPD
    in a child, a PR-L response, MRD, a death, an eligibility check, a non-consenting
    patient with a hospital number and free text."""
    from cartwatch.web.services import records

    doctor = actor_of(cast, "physician_a")
    nurse = actor_of(cast, "nurse_a")
    k = records.KINDS

    adult = records.create_patient(
        doctor,
        {
            "patient_id": "H-001",
            "age_years": 64,
            "sex": "F",
            "diagnosis": "CLL",
            "diagnosis_date": "2016-03-01",
            "del17p": True,
            "ighv_unmutated": None,
            "ecog": 1,
            "consent_research": True,
            "hospital_number": "MRN-777",
        },
    )
    records.create_record(
        doctor,
        k["prior-lines"],
        adult,
        {
            "line_number": 1,
            "agents": ["ibrutinib"],
            "start_date": "2019-01-01",
            "end_date": "2022-01-01",
            "outcome": "progression",
        },
    )
    records.create_record(
        doctor,
        k["prior-lines"],
        adult,
        {"line_number": 2, "agents": ["venetoclax", "obinutuzumab"], "outcome": "refractory"},
    )
    records.create_record(
        doctor,
        k["cell-therapy"],
        adult,
        {
            "product": "liso-cel",
            "apheresis_date": "2025-06-01",
            "lymphodepletion_start": "2025-06-26",
            "lymphodepletion_regimen": "flu/cy at Ward 7",
            "infusion_date": "2025-07-01",
            "lot": "LOT-42",
            "dose_10e6_car_t_cells": 100.5,
        },
    )
    records.create_eligibility(doctor, adult, ELIGIBILITY)
    # Not gradable: no temperature (fever still required) — never grade 0.
    records.create_record(doctor, k["crs"], adult, {"observed_at": "2025-07-02T08:00:00"})
    records.create_record(
        nurse,
        k["crs"],
        adult,
        {
            "observed_at": "2025-07-03T08:00:00",
            "temperature_c": 39.2,
            "hypotension": True,
            "vasopressors": ["norepinephrine"],
            "oxygen_device": "face_mask",
            "oxygen_flow_l_min": 6.0,
            "antipyretic_or_anticytokine_given": True,
        },
    )
    draft = records.create_record(
        nurse,
        k["crs"],
        adult,
        {"observed_at": "2025-07-04T08:00:00", "temperature_c": 38.1},
        completed=False,
    )
    assert draft.form_status == "incomplete"
    records.create_record(
        nurse,
        k["treatments"],
        adult,
        {
            "given_at": "2025-07-03T09:30:00",
            "agent": "tocilizumab",
            "indication": "crs",
            "dose": 8.0,
            "dose_unit": "mg/kg",
        },
    )
    records.create_record(
        nurse,
        k["treatments"],
        adult,
        {
            "given_at": "2025-07-03T10:00:00",
            "agent": "other",
            "agent_other": "Dr Who's mix",
            "indication": "other",
        },
    )
    records.create_record(
        nurse,
        k["icans"],
        adult,
        {
            "observed_at": "2025-07-05T09:00:00",
            "age_years": 64.0,
            "ice_items": {
                "orientation": 3,
                "naming": 2,
                "commands": 1,
                "writing": 0,
                "attention": 0,
            },
        },
    )
    lab = records.create_record(
        nurse,
        k["labs"],
        adult,
        {
            "observed_at": "2025-07-06T07:00:00",
            "neutrophils_10e9_l": 0.4,
            "platelets_10e9_l": 42.0,
            "hemoglobin_g_dl": 7.9,
            "lymphocytes_10e9_l": 0.3,
            "lln": {"neutrophils_10e9_l": 1.8, "platelets_10e9_l": 150.0, "hemoglobin_g_dl": 12.0},
            "transfusion_indicated": True,
        },
    )
    records.verify_record(doctor, lab, version=lab.version)
    records.create_record(
        doctor,
        k["responses"],
        adult,
        {
            "assessed_at": "2025-06-20",
            "timepoint": "baseline",
            "lymph_nodes_spd_cm2": 40.0,
            "lymphocytes_10e9_l": 8.0,
            "b_lymphocytes_10e9_l": 7.0,
            "platelets_10e9_l": 60.0,
        },
    )
    records.create_record(
        doctor,
        k["responses"],
        adult,
        {
            "assessed_at": "2025-09-01",
            "timepoint": "post",
            "lymph_nodes_spd_cm2": 10.0,
            "lymphocytes_10e9_l": 16.0,
            "b_lymphocytes_10e9_l": 14.0,
            "platelets_10e9_l": 120.0,
            "bcr_inhibitor_ongoing": True,
        },
    )
    records.create_record(
        doctor,
        k["mrd"],
        adult,
        {
            "sampled_at": "2025-09-01",
            "sample": "marrow",
            "result": "undetectable",
            "sensitivity": 1e-5,
            "method": "NGS (clonoSEQ)",
        },
    )
    records.create_record(
        doctor,
        k["mrd"],
        adult,
        {
            "sampled_at": "2025-09-02",
            "sample": "blood",
            "result": "detectable",
            "level": 0.002,
            "sensitivity": 1e-4,
            "method": "flow",
        },
    )
    records.create_record(
        doctor,
        k["followup"],
        adult,
        {
            "event_date": "2025-12-01",
            "event": "death",
            "death_cause": "infection",
            "detail": "sepsis at home",
        },
    )

    child = records.create_patient(
        doctor,
        {
            "patient_id": "H-002",
            "age_years": 9,
            "sex": "M",
            "diagnosis": "SLL",
            "consent_research": False,
            "hospital_number": "MRN-888",
        },
    )
    records.create_record(
        doctor,
        k["cell-therapy"],
        child,
        {"product": "liso-cel", "apheresis_date": "2025-05-01", "infusion_date": "2025-06-01"},
    )
    records.create_record(
        nurse,
        k["icans"],
        child,
        {
            "observed_at": "2025-06-03T10:00:00",
            "age_years": 9.0,
            "capd_score": 12,
            "consciousness": "awakens_to_voice",
        },
    )
    records.create_record(
        doctor,
        k["followup"],
        child,
        {"event_date": "2025-09-01", "event": "last_contact", "detail": "phoned mother"},
    )


def load_synth(cast: Cast, n: int = 6, seed: int = 11) -> int:
    from cartwatch.synth.cohort import synthesize
    from cartwatch.web.services.imports import load_centre_data

    return load_centre_data(actor_of(cast, "data_manager_a"), synthesize(n, seed=seed))


def snapshot(centre: Any) -> dict[str, list[Any]]:
    """Everything stored for *centre*'s patients, without ids, versions and timestamps:
    fields as the centre format reads them back, the stored results and the form status."""
    from cartwatch.web.patients import models as m
    from cartwatch.web.services.fhir_export import KIND_OF
    from cartwatch.web.services.rows import stored_row_json

    results = (
        "grade",
        "instrument",
        "grade_neutrophil_count_decreased",
        "grade_platelet_count_decreased",
        "grade_anemia",
        "response",
        "mrd_status",
        "status",
        "standard",
        "reasons",
        "eligible",
        "label_version",
        "indication",
    )
    out: dict[str, list[Any]] = {}
    for model, kind in KIND_OF.items():
        queryset = model.objects.filter(
            **({"centre": centre} if model is m.Patient else {"patient__centre": centre})
        )
        rows = []
        for row in queryset:
            item = {"fields": stored_row_json(row), "form_status": row.form_status}
            item |= {r: getattr(row, r) for r in results if hasattr(row, r)}
            rows.append(item)
        out[kind] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    checks = m.EligibilityCheck.objects.filter(patient__centre=centre)
    out["eligibility"] = sorted(
        (
            {
                "patient": c.patient.patient_id,
                "input": c.input,
                "eligible": c.eligible,
                "label_version": c.label_version,
                "standard": c.standard,
                "reasons": c.reasons,
            }
            for c in checks
        ),
        key=lambda r: json.dumps(r, sort_keys=True),
    )
    return out


def remove_patients(centre: Any) -> None:
    """Empty the centre (as a fresh installation would be) for the import side."""
    from cartwatch.web.patients import models as m

    for patient in m.Patient.objects.filter(centre=centre):
        patient.delete()


def import_json(cast: Cast, user: str, bundle: dict[str, Any]) -> dict[str, Any]:
    from cartwatch.web.services.fhir_import import import_bundle

    return import_bundle(actor_of(cast, user), io.BytesIO(json.dumps(bundle).encode()))
