"""Contract v2 item 4 details not in the vignettes (tests/spec/test_iwcll_vignettes.py): the
reasons that say why a lymphocyte finding is not PD, the PD sources, PR-L in the response
order and ORR, and the names kept importable from iwcll after the module split."""

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


def test_every_pd_reason_cites_its_source() -> None:
    for assessment in (
        replace(STABLE, b_lymphocytes_10e9_l=30.0),
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
    assessment = replace(STABLE, b_lymphocytes_10e9_l=30.0, richter_transformation=True)
    result = assess_response(BASELINE, assessment, bcr_inhibitor_ongoing=True)
    assert result.response is Response.PD
    assert any("lymphocytosis" in r for r in result.reasons)


def test_isolated_lymphocytosis_on_a_bcr_inhibitor_with_a_missing_pair_is_ne() -> None:
    assessment = replace(STABLE, b_lymphocytes_10e9_l=30.0, platelets_10e9_l=None)
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
