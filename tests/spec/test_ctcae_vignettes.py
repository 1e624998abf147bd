"""CTCAE v5.0 haematological terms, read off the table in clinical-standards.md §5
([S36] pharmaverse/admiral ncictcaev5.json; [S37]). Each vignette names the row and grade
column it exercises; values are the table's SI cut-offs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cartwatch.clinical.cytopenia import CytopeniaObservation, LowerLimits, grade_cytopenia

LLN = LowerLimits(neutrophils_10e9_l=2.0, platelets_10e9_l=150.0, hemoglobin_g_dl=12.0)


@dataclass(frozen=True)
class Vignette:
    source: str
    observation: CytopeniaObservation
    expected: dict[str, int | None]


VIGNETTES = [
    Vignette(
        'Neutrophil count decreased, grade 1 "<LLN – 1.5 × 10⁹/L"',
        CytopeniaObservation(neutrophils_10e9_l=1.7, lln=LLN),
        {"neutrophil_count_decreased": 1},
    ),
    Vignette(
        'Neutrophil count decreased, grade 2 "<1.5 – 1.0 × 10⁹/L" (1.0 itself is grade 2)',
        CytopeniaObservation(neutrophils_10e9_l=1.0, lln=LLN),
        {"neutrophil_count_decreased": 2},
    ),
    Vignette(
        'Neutrophil count decreased, grade 3 "<1.0 – 0.5 × 10⁹/L"',
        CytopeniaObservation(neutrophils_10e9_l=0.5, lln=LLN),
        {"neutrophil_count_decreased": 3},
    ),
    Vignette(
        'Neutrophil count decreased, grade 4 "<0.5 × 10⁹/L"',
        CytopeniaObservation(neutrophils_10e9_l=0.1),
        {"neutrophil_count_decreased": 4},
    ),
    Vignette(
        'Platelet count decreased, grade 1 "<LLN – 75.0 × 10⁹/L"',
        CytopeniaObservation(platelets_10e9_l=75.0, lln=LLN),
        {"platelet_count_decreased": 1},
    ),
    Vignette(
        'Platelet count decreased, grade 2 "<75.0 – 50.0 × 10⁹/L"',
        CytopeniaObservation(platelets_10e9_l=50.0),
        {"platelet_count_decreased": 2},
    ),
    Vignette(
        'Platelet count decreased, grade 3 "<50.0 – 25.0 × 10⁹/L" (v5, not v6 "<50–10")',
        CytopeniaObservation(platelets_10e9_l=25.0),
        {"platelet_count_decreased": 3},
    ),
    Vignette(
        'Platelet count decreased, grade 4 "<25.0 × 10⁹/L" (v5; v6 would say grade 3 at 15)',
        CytopeniaObservation(platelets_10e9_l=15.0),
        {"platelet_count_decreased": 4},
    ),
    Vignette(
        'Anemia, grade 1 "Hgb <LLN – 10.0 g/dL"',
        CytopeniaObservation(hemoglobin_g_dl=10.0, lln=LLN),
        {"anemia": 1},
    ),
    Vignette(
        'Anemia, grade 2 "Hgb <10.0 – 8.0 g/dL"',
        CytopeniaObservation(hemoglobin_g_dl=8.0),
        {"anemia": 2},
    ),
    Vignette(
        'Anemia, grade 3 "Hgb <8.0 g/dL"',
        CytopeniaObservation(hemoglobin_g_dl=7.9),
        {"anemia": 3},
    ),
    Vignette(
        'Anemia, grade 3 "; transfusion indicated" (Hb 8.5 alone would be grade 2)',
        CytopeniaObservation(hemoglobin_g_dl=8.5, transfusion_indicated=True),
        {"anemia": 3},
    ),
    Vignette(
        'Anemia, grade 4 "Life-threatening consequences": never from a lab value (Hb 3.0 → 3)',
        CytopeniaObservation(hemoglobin_g_dl=3.0),
        {"anemia": 3},
    ),
    Vignette(
        "§5 implementation note: grade 1 depends on LLN; {admiral} returns NA without it",
        CytopeniaObservation(neutrophils_10e9_l=1.8, platelets_10e9_l=120.0, hemoglobin_g_dl=11.0),
        {"neutrophil_count_decreased": None, "platelet_count_decreased": None, "anemia": None},
    ),
    Vignette(
        "All three rows at once, value ≥ LLN is grade 0",
        CytopeniaObservation(
            neutrophils_10e9_l=2.0, platelets_10e9_l=40.0, hemoglobin_g_dl=12.0, lln=LLN
        ),
        {"neutrophil_count_decreased": 0, "platelet_count_decreased": 3, "anemia": 0},
    ),
]


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v.source for v in VIGNETTES])
def test_ctcae_v5_vignette(vignette: Vignette) -> None:
    result = grade_cytopenia(vignette.observation)
    assert result.grades == vignette.expected
    assert result.standard == "CTCAE v5.0"
