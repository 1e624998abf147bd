"""ADaM derived from the published-mode synthetic cohort reproduces TRANSCEND CLL 004 counts.

Sources (clinical-standards.md): safety set n = 117 (§3.1 [S14][S17][S58]); label efficacy
population n = 65 with 13 CR and about 29 responders (§3.3 [S19][S26]: CR 20%, ORR 45%);
Lancet Table 4 (§3.5 [S14]): CRS max grade 1/2/3 = 43/46/10, neurological events
grade 1/2/3/4 = 13/18/21/1. Tolerance: exact counts. The synthetic cohort is built so that
the clinical engines reproduce them (``synth.cohort`` docstring); this test checks that the
ADaM layer (analysis sets, BOR, episode maxima) does not lose or add anything on the way.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cartwatch.adam.derive import AdamDatasets, derive_adam
from cartwatch.synth.cohort import label_population_reasons, synthesize


@pytest.fixture(scope="module")
def published() -> tuple[object, AdamDatasets]:
    data = synthesize(0, 0, published=True)
    return data, derive_adam(data)


def _max_grade_counts(adae: pd.DataFrame, category: str) -> dict[str, int]:
    worst = adae[(adae["AECAT"] == category) & (adae["AOCCPIFL"] == "Y")]
    assert worst["USUBJID"].is_unique
    return {k: int(v) for k, v in worst["AETOXGR"].value_counts().sort_index().items()}


def test_analysis_sets(published: tuple[object, AdamDatasets]) -> None:
    _, adam = published
    adsl = adam.adsl
    assert (adsl["ENRLFL"] == "Y").sum() == 137
    assert (adsl["SAFFL"] == "Y").sum() == 117
    assert (adsl["LABELFL"] == "Y").sum() == 65


def test_label_population_matches_the_cohort_definition(
    published: tuple[object, AdamDatasets],
) -> None:
    data, adam = published
    reasons = label_population_reasons(data)  # type: ignore[arg-type]
    expected = {pid for pid, why in reasons.items() if why is None}
    assert set(adam.adsl.loc[adam.adsl["LABELFL"] == "Y", "SUBJID"]) == expected


def test_best_overall_response_in_label_population(
    published: tuple[object, AdamDatasets],
) -> None:
    _, adam = published
    bor = adam.adrs[(adam.adrs["PARAMCD"] == "BOR") & (adam.adrs["LABELFL"] == "Y")]
    counts = bor["AVALC"].value_counts().to_dict()
    assert counts.get("CR", 0) + counts.get("CRi", 0) == 13
    assert counts.get("PR", 0) == 16
    assert len(bor) == 65


def test_crs_and_neurotoxicity_max_grade(published: tuple[object, AdamDatasets]) -> None:
    _, adam = published
    assert _max_grade_counts(adam.adae, "CRS") == {"1": 43, "2": 46, "3": 10}
    assert _max_grade_counts(adam.adae, "NEUROTOXICITY") == {"1": 13, "2": 18, "3": 21, "4": 1}
    assert set(adam.adae.loc[adam.adae["AECAT"] == "CRS", "TOXGRSTD"]) == {"ASTCT 2019"}


def test_time_to_event_records_per_infused_patient(
    published: tuple[object, AdamDatasets],
) -> None:
    _, adam = published
    per_param = adam.adtte.groupby("PARAMCD")["USUBJID"].nunique().to_dict()
    assert per_param["PFS"] == per_param["OS"] == per_param["TTCRS"] == 117
    # 99 patients with CRS have a CRS onset event; 53 with neurotoxicity.
    events = adam.adtte[adam.adtte["CNSR"] == 0.0].groupby("PARAMCD").size().to_dict()
    assert events["TTCRS"] == 99
    assert events["TTNT"] == 53
