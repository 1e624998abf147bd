"""iwCLL 2018 response vignettes, one per column/row of Table 4 ([S41], reproduced in
clinical-standards.md §2.1) or, where marked, of the 2008 Table 4 [S42]. Each vignette names
the row it exercises; baseline is a typical relapsed CLL before CAR-T with every parameter
abnormal."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from cartwatch.clinical.iwcll import Marrow, Measurements, Response, assess_response

BASELINE = Measurements(
    lymph_nodes_spd_cm2=30.0,
    largest_node_cm=3.5,
    spleen_cm=18.0,
    liver_enlarged=True,
    lymphocytes_10e9_l=85.0,
    neutrophils_10e9_l=1.0,
    platelets_10e9_l=60.0,
    hemoglobin_g_dl=9.0,
    transfused_or_epo=False,
    constitutional_symptoms=True,
    marrow=Marrow.CLL_OR_NODULES_PRESENT,
)
UNCHANGED = replace(BASELINE, marrow=Marrow.NOT_DONE)
REMISSION = Measurements(
    lymph_nodes_spd_cm2=1.0,
    largest_node_cm=1.0,
    spleen_cm=12.0,
    liver_enlarged=False,
    lymphocytes_10e9_l=0.8,
    neutrophils_10e9_l=1.8,
    platelets_10e9_l=140.0,
    hemoglobin_g_dl=12.1,
    transfused_or_epo=False,
    constitutional_symptoms=False,
    marrow=Marrow.NORMOCELLULAR_NO_CLL,
)


@dataclass(frozen=True)
class Vignette:
    source: str
    assessment: Measurements
    expected: Response
    nadir: Measurements | None = None


VIGNETTES = [
    Vignette("CR column, all rows met (all criteria have to be met [S42])", REMISSION, Response.CR),
    Vignette(
        'Marrow row, CR "Normocellular, no CLL cells" vs PR "or not done"',
        replace(REMISSION, marrow=Marrow.NOT_DONE),
        Response.PR,
    ),
    Vignette(
        'Marrow row, PR "CLL cells or B-lymphoid nodules present"',
        replace(REMISSION, marrow=Marrow.CLL_OR_NODULES_PRESENT),
        Response.PR,
    ),
    Vignette(
        '2008 marrow row "hypocellular marrow defines CRi" [S42]',
        replace(REMISSION, marrow=Marrow.HYPOCELLULAR_NO_CLL),
        Response.CRI,
    ),
    Vignette(
        "§2.3 CRi: CR with persistent thrombocytopenia related to drug toxicity",
        replace(REMISSION, platelets_10e9_l=70.0, cytopenia_due_to_treatment=True),
        Response.CRI,
    ),
    Vignette(
        'Haemoglobin row, CR "≥11.0 g/dL (untransfused, no erythropoietin)"',
        replace(REMISSION, transfused_or_epo=True),
        Response.PR,
    ),
    Vignette(
        'Constitutional symptoms row, CR "None"; PR column "Any"',
        replace(REMISSION, constitutional_symptoms=True),
        Response.PR,
    ),
    Vignette(
        'Lymph nodes, Liver/spleen, Lymphocytes rows, PR "Decrease ≥50%"; Platelet row PR '
        '"≥100 × 10⁹/L"',
        replace(
            UNCHANGED,
            lymph_nodes_spd_cm2=15.0,
            spleen_cm=9.0,
            liver_enlarged=False,
            lymphocytes_10e9_l=42.5,
            platelets_10e9_l=100.0,
        ),
        Response.PR,
    ),
    Vignette(
        "SD column: changes of −49% to +49% in every row",
        replace(UNCHANGED, lymph_nodes_spd_cm2=44.0, spleen_cm=10.0, lymphocytes_10e9_l=44.0),
        Response.SD,
    ),
    Vignette(
        'Lymph nodes row, PD "Increase ≥50% from baseline"',
        replace(UNCHANGED, lymph_nodes_spd_cm2=45.0),
        Response.PD,
    ),
    Vignette(
        'Lymph nodes row, PD "Increase ≥50% … from response" (nadir SPD 4 → 6)',
        replace(REMISSION, lymph_nodes_spd_cm2=6.0),
        Response.PD,
        nadir=replace(REMISSION, lymph_nodes_spd_cm2=4.0),
    ),
    Vignette(
        'Liver/spleen row, PD "Increase ≥50% from baseline" (18 → 27 cm)',
        replace(UNCHANGED, spleen_cm=27.0),
        Response.PD,
    ),
    Vignette(
        'Lymphocyte row, PD "Increase ≥50% over baseline" with ≥5 × 10⁹/L [S43]',
        replace(UNCHANGED, lymphocytes_10e9_l=127.5),
        Response.PD,
    ),
    Vignette(
        'Platelet row, PD "Decrease ≥50% from baseline secondary to CLL"',
        replace(UNCHANGED, platelets_10e9_l=30.0, cytopenia_due_to_cll=True),
        Response.PD,
    ),
    Vignette(
        'Haemoglobin row, PD "Decrease ≥2 g/dL from baseline secondary to CLL"',
        replace(UNCHANGED, hemoglobin_g_dl=7.0, cytopenia_due_to_cll=True),
        Response.PD,
    ),
    Vignette(
        "§2.4: transformation to a more aggressive histology (Richter) is PD [S48][S49]",
        replace(REMISSION, richter_transformation=True),
        Response.PD,
    ),
    Vignette(
        "§2.4: new lesions / new nodes >1.5 cm are PD [S48][S49]",
        replace(REMISSION, new_lesion=True),
        Response.PD,
    ),
    Vignette(
        "§2.2: constitutional symptoms alone do not define PD",
        UNCHANGED,
        Response.SD,
    ),
]


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v.source for v in VIGNETTES])
def test_iwcll_2018_vignette(vignette: Vignette) -> None:
    result = assess_response(BASELINE, vignette.assessment, vignette.nadir)
    assert result.response is vignette.expected, result.reasons
    assert result.standard == "iwCLL 2018"
