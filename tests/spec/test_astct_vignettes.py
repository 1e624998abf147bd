"""ASTCT 2019 consensus (Lee DW et al., BBMT 2019;25:625–638) [S1], read off the CRS table
(clinical-standards.md §1.2: [S3] PMC8021214 Table 1, [S4], [S5], [S6] PMC9327779 Table 2)
and the ICANS tables (§1.3–1.5: [S11] PMC8403007 Table 4, [S13] PMC7990806 Table 2,
[S15], [S12c]). Each vignette names the table row or note it exercises."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cartwatch.clinical.crs import CrsObservation, OxygenDevice, Vasopressor, grade_crs
from cartwatch.clinical.icans import (
    CerebralEdema,
    Consciousness,
    IcansDomain,
    IcansObservation,
    Instrument,
    MotorWeakness,
    Seizure,
    grade_icans,
)

O2 = OxygenDevice
V = Vasopressor
C = Consciousness


@dataclass(frozen=True)
class CrsVignette:
    source: str
    observation: CrsObservation
    grade: int


CRS_VIGNETTES = [
    CrsVignette(
        "[S3] Table 1 grade 1: fever ≥38 °C, no hypotension, no hypoxia → grade 1",
        CrsObservation(temperature_c=38.4),
        1,
    ),
    CrsVignette(
        "[S3] Table 1 note: fever is ≥38 °C — 37.9 °C with nothing else → grade 0",
        CrsObservation(temperature_c=37.9),
        0,
    ),
    CrsVignette(
        "[S3] Table 1 grade 2: fever with hypotension not requiring vasopressors → grade 2",
        CrsObservation(temperature_c=39.0, hypotension=True),
        2,
    ),
    CrsVignette(
        "[S3] Table 1 grade 2: fever with low-flow nasal cannula (≤6 L/min) → grade 2",
        CrsObservation(temperature_c=38.6, oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=6.0),
        2,
    ),
    CrsVignette(
        "[S3] Table 1 grade 2 / §1.2 note 3: blow-by counts as low flow → grade 2",
        CrsObservation(temperature_c=38.6, oxygen_device=O2.BLOW_BY),
        2,
    ),
    CrsVignette(
        "[S3] Table 1 grade 3: fever with a vasopressor → grade 3",
        CrsObservation(temperature_c=39.1, hypotension=True, vasopressors=(V.NOREPINEPHRINE,)),
        3,
    ),
    CrsVignette(
        "[S3][S4] note: one vasopressor with vasopressin is still grade 3",
        CrsObservation(
            temperature_c=39.1,
            hypotension=True,
            vasopressors=(V.NOREPINEPHRINE, V.VASOPRESSIN),
        ),
        3,
    ),
    CrsVignette(
        "[S3] Table 1 grade 3: fever with high-flow nasal cannula (>6 L/min) → grade 3",
        CrsObservation(temperature_c=38.2, oxygen_device=O2.NASAL_CANNULA, oxygen_flow_l_min=8.0),
        3,
    ),
    CrsVignette(
        "[S3] Table 1 grade 3: fever with facemask / non-rebreather / Venturi → grade 3",
        CrsObservation(temperature_c=38.2, oxygen_device=O2.NONREBREATHER_MASK),
        3,
    ),
    CrsVignette(
        "[S3] Table 1 note: febrile, one vasopressor and low-flow nasal cannula → grade 3",
        CrsObservation(
            temperature_c=39.5,
            hypotension=True,
            vasopressors=(V.NOREPINEPHRINE,),
            oxygen_device=O2.NASAL_CANNULA,
            oxygen_flow_l_min=2.0,
        ),
        3,
    ),
    CrsVignette(
        "[S3] Table 1 grade 4: multiple vasopressors excluding vasopressin → grade 4",
        CrsObservation(
            temperature_c=40.0,
            hypotension=True,
            vasopressors=(V.NOREPINEPHRINE, V.EPINEPHRINE),
        ),
        4,
    ),
    CrsVignette(
        "[S3] Table 1 grade 4: positive pressure (CPAP/BiPAP/intubation) → grade 4",
        CrsObservation(temperature_c=38.9, oxygen_device=O2.BIPAP),
        4,
    ),
    CrsVignette(
        "[S3][S5] note: after tocilizumab/steroids fever is not required — afebrile on a "
        "vasopressor → grade 3",
        CrsObservation(
            temperature_c=36.9,
            antipyretic_or_anticytokine_given=True,
            vasopressors=(V.PHENYLEPHRINE,),
        ),
        3,
    ),
    CrsVignette(
        "[S3] Table 1 note: fever must not be attributable to another cause (infection) → 0",
        CrsObservation(
            temperature_c=39.4, fever_attributable_to_other_cause=True, hypotension=True
        ),
        0,
    ),
    CrsVignette(
        "§1.6 [S5]: hypoxia attributable to another cause is not graded → grade 1",
        CrsObservation(
            temperature_c=38.5,
            oxygen_device=O2.FACE_MASK,
            hypoxia_attributable_to_other_cause=True,
        ),
        1,
    ),
    CrsVignette(
        "[S10]: death due to CRS → grade 5",
        CrsObservation(temperature_c=40.2, death_due_to_crs=True),
        5,
    ),
]


@pytest.mark.parametrize("vignette", CRS_VIGNETTES, ids=lambda v: v.source)
def test_crs_vignette(vignette: CrsVignette) -> None:
    assert grade_crs(vignette.observation).grade == vignette.grade


@dataclass(frozen=True)
class IcansVignette:
    source: str
    observation: IcansObservation
    grade: int
    instrument: Instrument = Instrument.ICE


ICANS_VIGNETTES = [
    IcansVignette(
        "[S11] Table 4 ICE row: ICE 10 → no ICANS", IcansObservation(55, ice_score=10), 0
    ),
    IcansVignette("[S11] Table 4 ICE row: ICE 7–9 → grade 1", IcansObservation(55, ice_score=8), 1),
    IcansVignette("[S11] Table 4 ICE row: ICE 3–6 → grade 2", IcansObservation(55, ice_score=4), 2),
    IcansVignette("[S11] Table 4 ICE row: ICE 0–2 → grade 3", IcansObservation(55, ice_score=1), 3),
    IcansVignette(
        "[S11] Table 4 footnote: ICE 0 in an awake patient with global aphasia → grade 3",
        IcansObservation(55, ice_score=0),
        3,
    ),
    IcansVignette(
        "[S11] Table 4 footnote: ICE 0 because unarousable → grade 4",
        IcansObservation(55, ice_score=0, consciousness=C.UNAROUSABLE),
        4,
    ),
    IcansVignette(
        "[S11] ICE 3 plus generalised seizure → grade 3",
        IcansObservation(55, ice_score=3, seizure=Seizure.RAPIDLY_RESOLVING),
        3,
    ),
    IcansVignette(
        "[S11] Table 4 consciousness row: awakens spontaneously → grade 1",
        IcansObservation(55, ice_score=10, consciousness=C.AWAKENS_SPONTANEOUSLY),
        1,
    ),
    IcansVignette(
        "[S11] Table 4 consciousness row: awakens to voice → grade 2",
        IcansObservation(55, ice_score=9, consciousness=C.AWAKENS_TO_VOICE),
        2,
    ),
    IcansVignette(
        "[S11] Table 4 consciousness row: awakens only to tactile stimulus → grade 3",
        IcansObservation(55, ice_score=5, consciousness=C.AWAKENS_TO_TOUCH),
        3,
    ),
    IcansVignette(
        "[S11] Table 4 seizure row: prolonged (>5 min) or repetitive seizure → grade 4",
        IcansObservation(55, ice_score=6, seizure=Seizure.PROLONGED_OR_REPETITIVE),
        4,
    ),
    IcansVignette(
        "[S11] Table 4 motor row: deep focal weakness (hemiparesis) → grade 4",
        IcansObservation(55, ice_score=9, motor_weakness=MotorWeakness.DEEP_FOCAL),
        4,
    ),
    IcansVignette(
        "[S11] Table 4 ICP row: focal/local oedema on neuroimaging → grade 3",
        IcansObservation(55, ice_score=9, cerebral_edema=CerebralEdema.FOCAL),
        3,
    ),
    IcansVignette(
        "[S11] Table 4 ICP row: diffuse cerebral oedema → grade 4",
        IcansObservation(55, ice_score=9, cerebral_edema=CerebralEdema.DIFFUSE),
        4,
    ),
    IcansVignette(
        "[S11] Table 4 ICP row: papilloedema / CN VI palsy / posturing → grade 4",
        IcansObservation(55, ice_score=9, raised_icp_signs=True),
        4,
    ),
    IcansVignette(
        "[S11][S13] footnote: tremor and myoclonus do not influence ICANS grade",
        IcansObservation(55, ice_score=10, tremor=True, myoclonus=True),
        0,
    ),
    IcansVignette(
        "[S11][S13] footnote: intracranial haemorrhage is excluded from ICANS grading",
        IcansObservation(55, ice_score=10, intracranial_hemorrhage=True),
        0,
    ),
    IcansVignette(
        "[S11][S13] footnote: depressed consciousness from sedating medication is excluded",
        IcansObservation(
            55,
            ice_score=8,
            consciousness=C.AWAKENS_TO_TOUCH,
            attributable_to_other_cause=(IcansDomain.CONSCIOUSNESS,),
        ),
        1,
    ),
    IcansVignette(
        "[S15]: death due to ICANS → grade 5",
        IcansObservation(55, ice_score=0, death_due_to_icans=True),
        5,
    ),
    IcansVignette(
        "[S15][S12c] CAPD table: child ≤12, CAPD ≥9 → grade 3",
        IcansObservation(7, capd_score=9),
        3,
        Instrument.CAPD,
    ),
    IcansVignette(
        "[S15] CAPD table: CAPD <9 (1–8, lower bound UNVERIFIED) → grade 1",
        IcansObservation(7, capd_score=4),
        1,
        Instrument.CAPD,
    ),
    IcansVignette(
        "[S15] CAPD table: CAPD 1–8 with awakening to voice → grade 2",
        IcansObservation(7, capd_score=4, consciousness=C.AWAKENS_TO_VOICE),
        2,
        Instrument.CAPD,
    ),
    IcansVignette(
        "[S15] CAPD table: unable to perform CAPD → grade 4",
        IcansObservation(10, capd_unable=True),
        4,
        Instrument.CAPD,
    ),
    IcansVignette(
        "[S15]: ICE is not used with baseline developmental delay — CAPD at 25 years",
        IcansObservation(25, developmental_delay=True, capd_score=12),
        3,
        Instrument.CAPD,
    ),
]


@pytest.mark.parametrize("vignette", ICANS_VIGNETTES, ids=lambda v: v.source)
def test_icans_vignette(vignette: IcansVignette) -> None:
    result = grade_icans(vignette.observation)
    assert (result.grade, result.instrument) == (vignette.grade, vignette.instrument)
