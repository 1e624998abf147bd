"""Contract v2 item 4 details not in the vignettes (tests/spec/test_iwcll_vignettes.py): the
reasons that say why a lymphocyte finding is not PD or is set aside, the PD sources, PR-L in
the response order and ORR, and the names kept importable from iwcll after the module
split."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cartwatch.clinical import bor, iwcll, iwcll_improvement, iwcll_measurements, mrd
from cartwatch.clinical.iwcll import (
    PD_SOURCES,
    RESPONDERS,
    Marrow,
    Measurements,
    Response,
    assess_response,
    best_overall_response,
)

BASELINE = Measurements(
    lymph_nodes_spd_cm2=40.0,
    largest_node_cm=4.0,
    spleen_cm=12.0,
    liver_enlarged=False,
    lymphocytes_10e9_l=8.0,
    b_lymphocytes_10e9_l=3.0,
    platelets_10e9_l=60.0,
    hemoglobin_g_dl=12.0,
    marrow=Marrow.CLL_OR_NODULES_PRESENT,
)
STABLE = replace(BASELINE, marrow=Marrow.NOT_DONE)


def _reasons(a: Measurements, b: Measurements = BASELINE, **kw: bool) -> list[str]:
    return list(assess_response(b, a, **kw).reasons)


def test_b_rise_of_50_percent_below_5_is_named_not_pd() -> None:
    reasons = _reasons(replace(STABLE, b_lymphocytes_10e9_l=4.5))  # 3 → 4.5, +50 %
    assert any(r.startswith("not PD: B lymphocytes +≥50%") and "<5" in r for r in reasons)


def test_b_count_without_any_reference_is_named_not_assessable() -> None:
    baseline = replace(BASELINE, lymphocytes_10e9_l=None, b_lymphocytes_10e9_l=None)
    result = assess_response(
        baseline, replace(STABLE, lymphocytes_10e9_l=None, b_lymphocytes_10e9_l=40.0)
    )
    assert result.response is not Response.PD
    assert any(r.startswith("lymphocytosis not assessable") for r in result.reasons)


# Issue 10: nodes −75 %, platelets up, total lymphocytes 8 → 14 after CAR-T, no B count.
RESPONDING = replace(
    STABLE, lymph_nodes_spd_cm2=10.0, lymphocytes_10e9_l=14.0, b_lymphocytes_10e9_l=None,
    platelets_10e9_l=120.0,
)  # fmt: skip


def test_a_set_aside_total_says_so_why_and_is_left_out_of_group_a_only() -> None:
    result = assess_response(BASELINE, RESPONDING)
    assert result.response is Response.PR
    aside = [r for r in result.reasons if r.startswith("lymphocytes set aside (group A)")]
    assert len(aside) == 1
    assert "CAR T cells" in aside[0] and "contract v2 item 4" in aside[0]
    assert "lymphocytes_10e9_l 8 ×10⁹/L → 14 ×10⁹/L (+75%)" in aside[0]
    assert any(r.startswith("not PD: total lymphocytes_10e9_l") for r in result.reasons)
    assert "group A: 1 of 1 abnormal at baseline improved (PR needs 1, lymphocytes left out)" in (
        result.reasons
    )
    assert "group B: 1 of 2 abnormal at baseline improved (PR needs 1)" in result.reasons
    assert not any("improved (group A, lymphocytes)" in r for r in result.reasons)


def test_a_total_that_fell_by_half_is_improved_without_a_b_count() -> None:
    result = assess_response(BASELINE, replace(RESPONDING, lymphocytes_10e9_l=4.0))
    assert result.response is Response.PR
    assert not any("set aside" in r for r in result.reasons)
    assert "group A: 2 of 2 abnormal at baseline improved (PR needs 2)" in result.reasons


def test_a_b_count_decides_instead_of_setting_the_total_aside() -> None:
    # B 3 → 3: the CLL count did not fall, so the lymphocytes count against PR (2 needed).
    result = assess_response(BASELINE, replace(RESPONDING, b_lymphocytes_10e9_l=3.0))
    assert result.response is Response.SD
    assert not any("set aside" in r for r in result.reasons)


def test_a_set_aside_total_that_was_the_only_abnormal_parameter_is_ne() -> None:
    baseline = Measurements(
        lymph_nodes_spd_cm2=0.0, largest_node_cm=1.0, spleen_cm=11.0, liver_enlarged=False,
        lymphocytes_10e9_l=8.0, platelets_10e9_l=150.0, hemoglobin_g_dl=13.0,
    )  # fmt: skip
    result = assess_response(baseline, replace(baseline, lymphocytes_10e9_l=14.0))
    assert result.response is Response.NE
    assert result.reasons[0].startswith("NE: the total lymphocyte count, the only parameter")
    assert any(r.startswith("lymphocytes set aside") for r in result.reasons)


def test_on_a_bcr_inhibitor_a_total_rise_without_b_count_is_pr_l_and_says_why() -> None:
    result = assess_response(BASELINE, RESPONDING, bcr_inhibitor_ongoing=True)
    assert result.response is Response.PR_L
    rise = [r for r in result.reasons if "most plausibly CLL lymphocytosis" in r]
    assert len(rise) == 1 and rise[0].startswith("not PD: total lymphocytes_10e9_l 8")
    assert "bcr_inhibitor_ongoing true" in rise[0]
    assert not any("set aside (group A)" in r for r in result.reasons)


def test_on_a_bcr_inhibitor_a_persistent_total_without_b_count_is_kept_and_says_why() -> None:
    # 8 → 9: not improved and below the PD level; a B count 3 → 3 would give PR-L as well.
    persistent = replace(RESPONDING, lymphocytes_10e9_l=9.0)
    result = assess_response(BASELINE, persistent, bcr_inhibitor_ongoing=True)
    assert result.response is Response.PR_L
    assert any("the total is not set aside" in r for r in result.reasons)
    with_b = replace(persistent, b_lymphocytes_10e9_l=3.0)
    assert assess_response(BASELINE, with_b, bcr_inhibitor_ongoing=True).response is (Response.PR_L)


def test_on_a_bcr_inhibitor_an_unrecorded_total_without_b_count_says_why() -> None:
    unrecorded = replace(RESPONDING, lymphocytes_10e9_l=None)
    result = assess_response(BASELINE, unrecorded, bcr_inhibitor_ongoing=True)
    assert result.response is Response.PR_L
    assert any("a lymphocytosis cannot be excluded" in r for r in result.reasons)


def test_every_pd_reason_cites_its_source() -> None:
    for assessment in (
        replace(STABLE, lymphocytes_10e9_l=32.0, b_lymphocytes_10e9_l=30.0),
        replace(STABLE, liver_enlarged=True),
        replace(STABLE, spleen_cm=18.0),
        replace(STABLE, lymph_nodes_spd_cm2=60.0),
    ):
        result = assess_response(BASELINE, assessment)
        assert result.response is Response.PD
        pd_reasons = [r for r in result.reasons if r.startswith("PD:")]
        assert pd_reasons and all(any(s in r for s in PD_SOURCES.values()) for r in pd_reasons)
    assert "UNVERIFIED" in PD_SOURCES["new_hepatomegaly"]
    assert "UNVERIFIED" in PD_SOURCES["spleen"]


def test_marrow_pd_is_said_to_be_not_assessed_when_both_marrows_show_cll() -> None:
    reasons = _reasons(replace(STABLE, marrow=Marrow.CLL_OR_NODULES_PRESENT))
    assert any(r.startswith("marrow PD (CLL cells +≥50% on successive biopsies") for r in reasons)
    assert not any(r.startswith("marrow PD") for r in _reasons(STABLE))


def test_liver_not_recorded_at_baseline_is_not_new_hepatomegaly() -> None:
    baseline = replace(BASELINE, liver_enlarged=None)
    assert assess_response(baseline, replace(STABLE, liver_enlarged=True)).response is not (
        Response.PD
    )


def test_a_bcr_inhibitor_does_not_set_aside_lymphocytosis_with_another_trigger() -> None:
    assessment = replace(
        STABLE, lymphocytes_10e9_l=32.0, b_lymphocytes_10e9_l=30.0, richter_transformation=True
    )
    result = assess_response(BASELINE, assessment, bcr_inhibitor_ongoing=True)
    assert result.response is Response.PD
    assert any("lymphocytosis" in r for r in result.reasons)


def test_isolated_lymphocytosis_on_a_bcr_inhibitor_with_a_missing_pair_is_ne() -> None:
    assessment = replace(
        STABLE, lymphocytes_10e9_l=32.0, b_lymphocytes_10e9_l=30.0, platelets_10e9_l=None
    )
    result = assess_response(BASELINE, assessment, bcr_inhibitor_ongoing=True)
    assert result.response is Response.NE
    assert any("platelets_10e9_l missing at assessment" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("responses", "expected"),
    [
        ([Response.PR_L, Response.PR], Response.PR),
        ([Response.SD, Response.PR_L], Response.PR_L),
        ([Response.PR_L, Response.PD, Response.CR], Response.PR_L),
        ([Response.PR_L, Response.CRI], Response.CRI),
    ],
)
def test_pr_l_ranks_below_pr_and_above_sd(responses: list[Response], expected: Response) -> None:
    assert best_overall_response(responses) is expected


def test_pr_l_is_a_responder_and_spelled_as_the_contract() -> None:
    assert Response.PR_L in RESPONDERS and Response.SD not in RESPONDERS
    assert str(Response.PR_L) == "PR-L"


def test_names_stay_importable_from_iwcll_after_the_split() -> None:
    assert iwcll.classify_mrd is mrd.classify_mrd
    assert iwcll.Mrd is mrd.Mrd and iwcll.MrdStatus is mrd.MrdStatus
    assert iwcll.best_overall_response is bor.best_overall_response
    assert iwcll.Measurements is iwcll_measurements.Measurements
    assert iwcll.CR_CRITERIA is iwcll_improvement.CR_CRITERIA
    assert set(iwcll.__all__) <= set(dir(iwcll))
