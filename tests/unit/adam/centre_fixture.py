"""A small hand-built centre data folder covering each ADaM derivation rule.

Five patients (centre C1); every expected value in test_derive.py is worked out by hand
from the rows below (dates are in 2024, a leap year).

* P1 - infused 2024-01-10, 100 x10^6 cells, ibrutinib (progression) then venetoclax
  (refractory): label-eligible and PEAS. PR 02-09, CR 04-10, PD 07-10; last contact 09-01.
  CRS grade 1 (01-12) -> grade 2 (01-13, hypotension), resolved 01-15; tocilizumab and
  dexamethasone 01-13. ICANS ICE 8 (grade 1) 01-16, resolved 01-17. Labs: baseline 01-05,
  nadir 01-20, day-28 count 02-07, recovery 03-10. Blood MRD undetectable at 1e-4 on 04-10.
* P2 - infused 2024-02-01 at 50 x10^6 (DL1), one prior line: not label. SD 03-01, new
  therapy 04-01, progression 05-01, death 06-01. Two CRS episodes 12 days apart (grade 1,
  then grade 3 on norepinephrine); tocilizumab during the second only.
* P3 - infused 2024-03-01 at 100, label-eligible lines, but no measurable baseline
  disease (EFFFL N). CRS grade 1 restarting 4 days after resolution: one episode.
* P4 - leukapheresed 2024-03-05, never infused.
* P5 - registered only (no CAR-T course).
"""

from __future__ import annotations

import csv
from pathlib import Path

FILES: dict[str, list[dict[str, object]]] = {
    "patients": [
        {
            "patient_id": p,
            "centre_id": "C1",
            "age_years": a,
            "sex": s,
            "diagnosis": "CLL",
            "del17p": d,
            "tp53_mutated": t,
            "complex_karyotype": "",
            "ighv_unmutated": "",
            "bulky_disease": "false",
            "ecog": 1,
            "consent_research": "true",
        }
        for p, a, s, d, t in (
            ("P1", 65, "F", "true", ""),
            ("P2", 70, "M", "false", "false"),
            ("P3", 58, "M", "", ""),
            ("P4", 61, "F", "", ""),
            ("P5", 49, "U", "", ""),
        )
    ],
    "prior_lines": [
        {"patient_id": "P1", "line_number": 1, "agents": "ibrutinib", "outcome": "progression"},
        {
            "patient_id": "P1",
            "line_number": 2,
            "agents": "venetoclax;rituximab",
            "outcome": "refractory",
        },
        {"patient_id": "P2", "line_number": 1, "agents": "ibrutinib", "outcome": "progression"},
        {"patient_id": "P3", "line_number": 1, "agents": "acalabrutinib", "outcome": "progression"},
        {"patient_id": "P3", "line_number": 2, "agents": "Venclexta", "outcome": "intolerance"},
    ],
    "cell_therapy": [
        {
            "patient_id": "P1",
            "product": "liso-cel",
            "apheresis_date": "2023-12-01",
            "lymphodepletion_start": "2024-01-05",
            "infusion_date": "2024-01-10",
            "dose_10e6_car_t_cells": 100,
        },
        {
            "patient_id": "P2",
            "product": "liso-cel",
            "apheresis_date": "2024-01-02",
            "lymphodepletion_start": "2024-01-27",
            "infusion_date": "2024-02-01",
            "dose_10e6_car_t_cells": 50,
        },
        {
            "patient_id": "P3",
            "product": "Breyanzi",
            "apheresis_date": "2024-02-01",
            "lymphodepletion_start": "2024-02-25",
            "infusion_date": "2024-03-01",
            "dose_10e6_car_t_cells": 100,
        },
        {
            "patient_id": "P4",
            "product": "liso-cel",
            "apheresis_date": "2024-03-05",
            "lymphodepletion_start": "",
            "infusion_date": "",
            "dose_10e6_car_t_cells": "",
        },
    ],
    "crs_observations": [
        {"patient_id": "P1", "observed_at": "2024-01-12T08:00", "temperature_c": 38.5},
        {
            "patient_id": "P1",
            "observed_at": "2024-01-13T08:00",
            "temperature_c": 39.0,
            "hypotension": "true",
            "antipyretic_or_anticytokine_given": "true",
        },
        {"patient_id": "P1", "observed_at": "2024-01-15T08:00", "temperature_c": 37.0},
        {"patient_id": "P2", "observed_at": "2024-02-02T08:00", "temperature_c": 38.2},
        {"patient_id": "P2", "observed_at": "2024-02-03T08:00", "temperature_c": 37.0},
        {
            "patient_id": "P2",
            "observed_at": "2024-02-15T08:00",
            "temperature_c": 38.6,
            "hypotension": "true",
            "vasopressors": "norepinephrine",
        },
        {"patient_id": "P2", "observed_at": "2024-02-16T08:00", "temperature_c": 37.0},
        {"patient_id": "P3", "observed_at": "2024-03-02T08:00", "temperature_c": 38.3},
        {"patient_id": "P3", "observed_at": "2024-03-04T08:00", "temperature_c": 37.0},
        {"patient_id": "P3", "observed_at": "2024-03-08T08:00", "temperature_c": 38.1},
        {"patient_id": "P3", "observed_at": "2024-03-09T08:00", "temperature_c": 37.0},
    ],
    "icans_observations": [
        {"patient_id": "P1", "observed_at": "2024-01-16T10:00", "age_years": 65, "ice_score": 8},
        {"patient_id": "P1", "observed_at": "2024-01-17T10:00", "age_years": 65, "ice_score": 10},
    ],
    "treatments": [
        {
            "patient_id": "P1",
            "given_at": "2024-01-13T09:00",
            "agent": "tocilizumab",
            "indication": "crs",
            "dose": 8,
            "dose_unit": "mg/kg",
        },
        {
            "patient_id": "P1",
            "given_at": "2024-01-13T10:00",
            "agent": "dexamethasone",
            "indication": "crs",
            "dose": 10,
            "dose_unit": "mg",
        },
        {
            "patient_id": "P2",
            "given_at": "2024-02-15T09:00",
            "agent": "tocilizumab",
            "indication": "crs",
            "dose": 8,
            "dose_unit": "mg/kg",
        },
    ],
    "labs": [
        # P1: baseline neutrophils 1.2 (grade 2), Hb 11 < LLN 12 (grade 1)
        {
            "patient_id": "P1",
            "observed_at": "2024-01-05",
            "neutrophils_10e9_l": 1.2,
            "platelets_10e9_l": 160,
            "hemoglobin_g_dl": 11.0,
            "lln.neutrophils_10e9_l": 2.0,
            "lln.platelets_10e9_l": 150,
            "lln.hemoglobin_g_dl": 12.0,
        },
        # nadir: neutrophils 0.3 (4), platelets 40 (3), Hb 9.0 (2)
        {
            "patient_id": "P1",
            "observed_at": "2024-01-20",
            "neutrophils_10e9_l": 0.3,
            "platelets_10e9_l": 40,
            "hemoglobin_g_dl": 9.0,
            "lln.neutrophils_10e9_l": 2.0,
            "lln.platelets_10e9_l": 150,
            "lln.hemoglobin_g_dl": 12.0,
        },
        # day 28 after infusion: neutrophils 0.8 (3), platelets 60 (2), Hb 10.5 (1)
        {
            "patient_id": "P1",
            "observed_at": "2024-02-07",
            "neutrophils_10e9_l": 0.8,
            "platelets_10e9_l": 60,
            "hemoglobin_g_dl": 10.5,
            "lln.neutrophils_10e9_l": 2.0,
            "lln.platelets_10e9_l": 150,
            "lln.hemoglobin_g_dl": 12.0,
        },
        # recovery: all grade 0
        {
            "patient_id": "P1",
            "observed_at": "2024-03-10",
            "neutrophils_10e9_l": 2.5,
            "platelets_10e9_l": 160,
            "hemoglobin_g_dl": 12.5,
            "lln.neutrophils_10e9_l": 2.0,
            "lln.platelets_10e9_l": 150,
            "lln.hemoglobin_g_dl": 12.0,
        },
    ],
    "response_assessments": [
        {
            "patient_id": "P1",
            "assessed_at": "2024-01-03",
            "timepoint": "baseline",
            "lymph_nodes_spd_cm2": 20,
            "largest_node_cm": 3.0,
            "spleen_cm": 15,
            "liver_enlarged": "false",
            "lymphocytes_10e9_l": 30,
            "neutrophils_10e9_l": 1.2,
            "platelets_10e9_l": 80,
            "hemoglobin_g_dl": 10,
            "constitutional_symptoms": "false",
            "marrow": "cll_or_nodules_present",
        },
        {
            "patient_id": "P1",
            "assessed_at": "2024-02-09",
            "timepoint": "post",
            "lymph_nodes_spd_cm2": 8,
            "largest_node_cm": 2.0,
            "spleen_cm": 12,
            "liver_enlarged": "false",
            "lymphocytes_10e9_l": 3,
            "neutrophils_10e9_l": 1.6,
            "platelets_10e9_l": 120,
            "hemoglobin_g_dl": 12,
            "constitutional_symptoms": "false",
            "marrow": "not_done",
        },
        {
            "patient_id": "P1",
            "assessed_at": "2024-04-10",
            "timepoint": "post",
            "lymph_nodes_spd_cm2": 1,
            "largest_node_cm": 1.0,
            "spleen_cm": 11,
            "liver_enlarged": "false",
            "lymphocytes_10e9_l": 1.5,
            "neutrophils_10e9_l": 2.0,
            "platelets_10e9_l": 150,
            "hemoglobin_g_dl": 12.5,
            "transfused_or_epo": "false",
            "constitutional_symptoms": "false",
            "marrow": "normocellular_no_cll",
        },
        {
            "patient_id": "P1",
            "assessed_at": "2024-07-10",
            "timepoint": "post",
            "lymph_nodes_spd_cm2": 30,
            "largest_node_cm": 3.5,
            "spleen_cm": 12,
            "liver_enlarged": "false",
            "lymphocytes_10e9_l": 2,
            "neutrophils_10e9_l": 2.0,
            "platelets_10e9_l": 150,
            "hemoglobin_g_dl": 12.5,
            "new_lesion": "true",
        },
        {
            "patient_id": "P2",
            "assessed_at": "2024-01-20",
            "timepoint": "baseline",
            "lymph_nodes_spd_cm2": 10,
            "largest_node_cm": 2.0,
            "lymphocytes_10e9_l": 20,
            "platelets_10e9_l": 120,
            "hemoglobin_g_dl": 12,
        },
        {
            "patient_id": "P2",
            "assessed_at": "2024-03-01",
            "timepoint": "post",
            "lymph_nodes_spd_cm2": 9,
            "largest_node_cm": 2.0,
            "lymphocytes_10e9_l": 18,
            "platelets_10e9_l": 120,
            "hemoglobin_g_dl": 12,
        },
        {
            "patient_id": "P3",
            "assessed_at": "2024-02-20",
            "timepoint": "baseline",
            "largest_node_cm": 1.0,
            "spleen_cm": 10,
            "lymphocytes_10e9_l": 2.0,
        },
        {
            "patient_id": "P3",
            "assessed_at": "2024-04-01",
            "timepoint": "post",
            "largest_node_cm": 1.0,
            "spleen_cm": 10,
            "lymphocytes_10e9_l": 2.0,
        },
    ],
    "mrd": [
        {
            "patient_id": "P1",
            "sampled_at": "2024-04-10",
            "sample": "blood",
            "result": "undetectable",
            "sensitivity": 1e-4,
            "method": "NGS",
        },
    ],
    "followup": [
        {"patient_id": "P1", "event_date": "2024-09-01", "event": "last_contact"},
        {"patient_id": "P2", "event_date": "2024-04-01", "event": "new_therapy"},
        {"patient_id": "P2", "event_date": "2024-05-01", "event": "progression"},
        {
            "patient_id": "P2",
            "event_date": "2024-06-01",
            "event": "death",
            "death_cause": "disease_progression",
        },
    ],
}


def write_centre(folder: Path, files: dict[str, list[dict[str, object]]] | None = None) -> Path:
    """Write the cohort (or a variant of ``FILES``) as a centre data folder (only the columns
    used; the rest default)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, rows in (FILES if files is None else files).items():
        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        with (folder / f"{stem}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, columns, restval="", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return folder
