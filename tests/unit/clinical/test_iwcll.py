"""iwCLL 2018 response (Table 4 [S41], 2008 Table 4 [S42]; cli-contract.md "assess response"):
each PD trigger just below and at its threshold, each CR criterion failing alone, CRi, PR
counting, NE on missing data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.iwcll import (
    Marrow,
    Measurements,
    Mrd,
    MrdResultKind,
    MrdSample,
    MrdStatus,
    Response,
    ResponseRequest,
    assess_response,
)

# Bulky, leukaemic, cytopenic CLL with marrow infiltration: every PR parameter abnormal.
BASELINE = Measurements(
    lymph_nodes_spd_cm2=40.0,
    largest_node_cm=4.0,
    spleen_cm=16.0,
    liver_enlarged=False,
    lymphocytes_10e9_l=60.0,
    neutrophils_10e9_l=1.2,
    platelets_10e9_l=80.0,
    hemoglobin_g_dl=9.5,
    transfused_or_epo=False,
    constitutional_symptoms=True,
    marrow=Marrow.CLL_OR_NODULES_PRESENT,
)
STABLE = replace(BASELINE, marrow=Marrow.NOT_DONE)
COMPLETE = Measurements(
    lymph_nodes_spd_cm2=2.0,
    largest_node_cm=1.2,
    spleen_cm=11.0,
    liver_enlarged=False,
    lymphocytes_10e9_l=1.1,
    neutrophils_10e9_l=2.5,
    platelets_10e9_l=160.0,
    hemoglobin_g_dl=12.8,
    transfused_or_epo=False,
    constitutional_symptoms=False,
    marrow=Marrow.NORMOCELLULAR_NO_CLL,
)


def _response(
    assessment: Measurements, baseline: Measurements = BASELINE, **kw: Measurements
) -> Response:
    return assess_response(baseline, assessment, **kw).response


def _reasons(assessment: Measurements, baseline: Measurements = BASELINE) -> str:
    return " | ".join(assess_response(baseline, assessment).reasons)


def test_unchanged_disease_is_sd() -> None:
    assert _response(STABLE) is Response.SD


# --- PD triggers: just below and at the threshold -------------------------------------------


@pytest.mark.parametrize(("spd", "expected"), [(59.6, Response.SD), (60.0, Response.PD)])
def test_node_spd_plus_49_vs_plus_50_percent_from_baseline(spd: float, expected: Response) -> None:
    assert _response(replace(STABLE, lymph_nodes_spd_cm2=spd)) is expected


@pytest.mark.parametrize(("spd", "expected"), [(14.9, Response.SD), (15.0, Response.PD)])
def test_node_spd_plus_50_percent_from_nadir(spd: float, expected: Response) -> None:
    nadir = replace(STABLE, lymph_nodes_spd_cm2=10.0)
    assert _response(replace(STABLE, lymph_nodes_spd_cm2=spd), nadir=nadir) is expected


@pytest.mark.parametrize(("spleen", "expected"), [(23.9, Response.SD), (24.0, Response.PD)])
def test_spleen_plus_50_percent_from_baseline(spleen: float, expected: Response) -> None:
    assert _response(replace(STABLE, spleen_cm=spleen)) is expected


@pytest.mark.parametrize(("spleen", "expected"), [(20.9, Response.SD), (21.0, Response.PD)])
def test_spleen_plus_50_percent_from_nadir(spleen: float, expected: Response) -> None:
    nadir = replace(STABLE, spleen_cm=14.0)
    assert _response(replace(STABLE, spleen_cm=spleen), nadir=nadir) is expected


# PD by lymphocytosis is counted in B lymphocytes (contract v2 item 4); the boundaries of the
# B count itself, its references and PR-L are in test_iwcll_b_lymphocytes.py.
@pytest.mark.parametrize(("b_lymph", "expected"), [(4.9, Response.SD), (5.0, Response.PD)])
def test_b_lymphocytes_plus_50_percent_needs_5_absolute(b_lymph: float, expected: Response) -> None:
    baseline = replace(BASELINE, b_lymphocytes_10e9_l=3.2)  # +53% / +56%
    assessment = replace(STABLE, b_lymphocytes_10e9_l=b_lymph)
    assert _response(assessment, baseline) is expected


@pytest.mark.parametrize(("b_lymph", "expected"), [(14.9, Response.SD), (15.0, Response.PD)])
def test_b_lymphocytes_plus_49_vs_plus_50_percent(b_lymph: float, expected: Response) -> None:
    baseline = replace(BASELINE, b_lymphocytes_10e9_l=10.0)
    assert _response(replace(STABLE, b_lymphocytes_10e9_l=b_lymph), baseline) is expected


def test_a_total_lymphocyte_rise_without_b_count_is_not_pd() -> None:
    baseline = replace(BASELINE, lymphocytes_10e9_l=10.0)
    assessment = replace(STABLE, lymphocytes_10e9_l=15.0)
    assert _response(assessment, baseline) is Response.SD
    assert "cannot establish PD" in _reasons(assessment, baseline)


@pytest.mark.parametrize(("plt", "expected"), [(40.1, Response.SD), (40.0, Response.PD)])
def test_platelets_minus_50_percent_due_to_cll(plt: float, expected: Response) -> None:
    assessment = replace(STABLE, platelets_10e9_l=plt, cytopenia_due_to_cll=True)
    assert _response(assessment) is expected


@pytest.mark.parametrize(("hb", "expected"), [(7.6, Response.SD), (7.5, Response.PD)])
def test_hemoglobin_minus_2_g_dl_due_to_cll(hb: float, expected: Response) -> None:
    assessment = replace(STABLE, hemoglobin_g_dl=hb, cytopenia_due_to_cll=True)
    assert _response(assessment) is expected


def test_hemoglobin_drop_of_exactly_2_survives_float_subtraction() -> None:
    baseline = replace(BASELINE, hemoglobin_g_dl=11.1)
    assessment = replace(STABLE, hemoglobin_g_dl=9.1, cytopenia_due_to_cll=True)
    assert _response(assessment, baseline) is Response.PD


def test_cytopenia_not_due_to_cll_is_not_pd_and_says_so() -> None:
    assessment = replace(STABLE, platelets_10e9_l=30.0, hemoglobin_g_dl=6.0)
    assert _response(assessment) is Response.SD
    assert "not attributed to CLL" in _reasons(assessment)


def test_new_lesion_is_pd() -> None:
    assert _response(replace(COMPLETE, new_lesion=True)) is Response.PD


def test_richter_transformation_is_pd() -> None:
    result = assess_response(BASELINE, replace(COMPLETE, richter_transformation=True))
    assert result.response is Response.PD
    assert any("Richter" in r for r in result.reasons)


def test_constitutional_symptoms_alone_are_not_pd() -> None:
    baseline = replace(BASELINE, constitutional_symptoms=False)
    assessment = replace(STABLE, constitutional_symptoms=True)
    assert _response(assessment, baseline) is Response.SD
    assert "alone they are not PD" in _reasons(assessment, baseline)


def test_pd_reason_names_parameter_values_and_percent() -> None:
    reasons = _reasons(replace(STABLE, lymph_nodes_spd_cm2=70.0))
    assert "lymph_nodes_spd_cm2 40 cm² → 70 cm² (+75%)" in reasons


def test_pd_wins_even_when_other_fields_are_missing() -> None:
    assessment = Measurements(lymph_nodes_spd_cm2=80.0)
    assert _response(assessment) is Response.PD


# --- CR and each criterion failing alone ------------------------------------------------------


def test_all_criteria_met_is_cr() -> None:
    assert _response(COMPLETE) is Response.CR


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"largest_node_cm": 1.49}, Response.CR),
        ({"largest_node_cm": 1.5}, Response.PR),
        ({"spleen_cm": 12.9}, Response.CR),
        ({"spleen_cm": 13.0}, Response.PR),
        ({"constitutional_symptoms": True}, Response.PR),
        ({"lymphocytes_10e9_l": 3.99}, Response.CR),
        ({"lymphocytes_10e9_l": 4.0}, Response.PR),
        ({"neutrophils_10e9_l": 1.5}, Response.CR),
        ({"neutrophils_10e9_l": 1.49}, Response.PR),
        ({"platelets_10e9_l": 100.0}, Response.CR),
        ({"platelets_10e9_l": 99.9}, Response.PR),
        ({"hemoglobin_g_dl": 11.0}, Response.CR),
        ({"hemoglobin_g_dl": 10.9}, Response.PR),
        ({"transfused_or_epo": True}, Response.PR),
        ({"marrow": Marrow.CLL_OR_NODULES_PRESENT}, Response.PR),
    ],
)
def test_each_cr_criterion_on_both_sides(change: dict[str, object], expected: Response) -> None:
    assert _response(replace(COMPLETE, **change)) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize("marrow", [None, Marrow.NOT_DONE])
def test_without_marrow_the_best_is_pr(marrow: Marrow | None) -> None:
    assessment = replace(COMPLETE, marrow=marrow)
    assert _response(assessment) is Response.PR
    assert "no marrow result" in _reasons(assessment)


@pytest.mark.parametrize(
    "missing",
    ["liver_enlarged", "constitutional_symptoms", "transfused_or_epo", "neutrophils_10e9_l"],
)
def test_missing_cr_field_lowers_to_pr_and_names_it(missing: str) -> None:
    assessment = replace(COMPLETE, **{missing: None})  # type: ignore[arg-type]
    assert _response(assessment) is Response.PR
    assert f"CR not assessable: {missing} not recorded" in _reasons(assessment)


# --- CRi --------------------------------------------------------------------------------------


def test_treatment_related_cytopenia_with_clear_marrow_is_cri() -> None:
    assessment = replace(COMPLETE, platelets_10e9_l=60.0, cytopenia_due_to_treatment=True)
    assert _response(assessment) is Response.CRI
    assert "due to treatment" in _reasons(assessment)


def test_same_cytopenia_not_attributed_to_treatment_is_not_cri() -> None:
    assessment = replace(COMPLETE, platelets_10e9_l=60.0)
    assert _response(assessment) is Response.PR


def test_hypocellular_marrow_without_cll_is_cri() -> None:
    assessment = replace(COMPLETE, marrow=Marrow.HYPOCELLULAR_NO_CLL)
    assert _response(assessment) is Response.CRI


def test_cri_needs_a_marrow_without_cll() -> None:
    assessment = replace(
        COMPLETE,
        neutrophils_10e9_l=0.8,
        cytopenia_due_to_treatment=True,
        marrow=Marrow.CLL_OR_NODULES_PRESENT,
    )
    assert _response(assessment) is Response.PR


def test_transfused_hemoglobin_due_to_treatment_is_cri() -> None:
    assessment = replace(COMPLETE, transfused_or_epo=True, cytopenia_due_to_treatment=True)
    assert _response(assessment) is Response.CRI


# --- PR counting ------------------------------------------------------------------------------


def test_two_group_a_and_one_group_b_is_pr() -> None:
    assessment = replace(
        STABLE, lymph_nodes_spd_cm2=20.0, lymphocytes_10e9_l=30.0, platelets_10e9_l=120.0
    )
    result = assess_response(BASELINE, assessment)
    assert result.response is Response.PR
    joined = " | ".join(result.reasons)
    assert "lymph_nodes_spd_cm2 40 cm² → 20 cm² (-50%)" in joined
    assert "group A: 2 of 3" in joined


def test_one_group_a_and_one_group_b_is_not_pr_when_three_a_were_abnormal() -> None:
    assessment = replace(STABLE, lymph_nodes_spd_cm2=20.0, platelets_10e9_l=120.0)
    assert _response(assessment) is Response.SD


def test_two_group_a_without_group_b_is_not_pr() -> None:
    assessment = replace(STABLE, lymph_nodes_spd_cm2=20.0, lymphocytes_10e9_l=30.0)
    assert _response(assessment) is Response.SD


def test_forty_nine_percent_is_not_an_improvement() -> None:
    assessment = replace(
        STABLE, lymph_nodes_spd_cm2=20.4, lymphocytes_10e9_l=30.0, platelets_10e9_l=120.0
    )
    assert _response(assessment) is Response.SD


def test_one_of_each_suffices_when_only_one_per_group_was_abnormal() -> None:
    baseline = Measurements(
        lymph_nodes_spd_cm2=0.0,
        largest_node_cm=1.0,
        spleen_cm=11.0,
        liver_enlarged=False,
        lymphocytes_10e9_l=40.0,
        platelets_10e9_l=150.0,
        hemoglobin_g_dl=6.0,
    )
    improved = replace(baseline, lymphocytes_10e9_l=20.0, hemoglobin_g_dl=9.0)
    assert _response(improved, baseline) is Response.PR
    assert _response(replace(improved, hemoglobin_g_dl=8.9), baseline) is Response.SD


def test_platelets_improve_by_50_percent_or_reaching_100() -> None:
    base = replace(BASELINE, platelets_10e9_l=40.0)
    a = replace(STABLE, lymph_nodes_spd_cm2=20.0, lymphocytes_10e9_l=30.0)
    assert _response(replace(a, platelets_10e9_l=60.0), base) is Response.PR
    assert _response(replace(a, platelets_10e9_l=59.9), base) is Response.SD


def test_transfused_hemoglobin_does_not_count_as_improvement() -> None:
    a = replace(STABLE, lymph_nodes_spd_cm2=20.0, lymphocytes_10e9_l=30.0, hemoglobin_g_dl=12.0)
    assert _response(a) is Response.PR
    assert _response(replace(a, transfused_or_epo=True)) is Response.SD


def test_constitutional_symptoms_do_not_count_towards_pr() -> None:
    # Symptoms resolve and one group-A parameter improves: still only 1 of the 2 needed.
    a = replace(
        STABLE, constitutional_symptoms=False, lymph_nodes_spd_cm2=20.0, platelets_10e9_l=120.0
    )
    assert _response(a) is Response.SD


def test_marrow_cleared_counts_as_group_b() -> None:
    a = replace(
        STABLE, lymph_nodes_spd_cm2=20.0, lymphocytes_10e9_l=30.0, marrow=Marrow.HYPOCELLULAR_NO_CLL
    )
    assert _response(a) is Response.PR


# --- NE ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "lymph_nodes_spd_cm2",
        "spleen_cm",
        "platelets_10e9_l",
        "hemoglobin_g_dl",
    ],
)
def test_paired_field_missing_at_assessment_is_ne_and_named(field: str) -> None:
    assessment = replace(COMPLETE, **{field: None})  # type: ignore[arg-type]
    result = assess_response(BASELINE, assessment)
    assert result.response is Response.NE
    assert any(field in r and "missing at assessment" in r for r in result.reasons)


def test_total_lymphocytes_missing_at_assessment_lowers_instead_of_ne() -> None:
    # Since contract v2 item 4 the total count cannot establish PD, so its absence does not
    # leave PD unexcludable: CR is not assessable and, with no B count, the lymphocytes are
    # set aside for PR.
    result = assess_response(BASELINE, replace(COMPLETE, lymphocytes_10e9_l=None))
    assert result.response is Response.PR
    assert any("CR not assessable: lymphocytes_10e9_l not recorded" in r for r in result.reasons)
    assert any(r.startswith("lymphocytes set aside (group A)") for r in result.reasons)


def test_paired_field_missing_at_baseline_is_ne() -> None:
    baseline = replace(BASELINE, spleen_cm=None)
    result = assess_response(baseline, COMPLETE)
    assert result.response is Response.NE
    assert any("spleen_cm missing at baseline" in r for r in result.reasons)


def test_nothing_abnormal_at_baseline_is_ne() -> None:
    assert _response(COMPLETE, baseline=COMPLETE) is Response.NE


def test_empty_assessment_is_ne() -> None:
    assert _response(Measurements()) is Response.NE


# --- output, MRD, validation ------------------------------------------------------------------


def test_to_dict_is_the_contract_shape() -> None:
    mrd = Mrd(MrdResultKind.UNDETECTABLE, 1e-5, MrdSample.BLOOD, "clonoSEQ")
    d = assess_response(BASELINE, replace(COMPLETE, mrd=mrd)).to_dict()
    assert d["response"] == "CR"
    assert d["standard"] == "iwCLL 2018"
    assert isinstance(d["reasons"], list)
    assert d["mrd"] == {
        "status": "uMRD5",
        "sample": "blood",
        "sensitivity": 1e-5,
        "method": "clonoSEQ",
        "level": None,
        "reasons": ["uMRD5: undetectable at sensitivity 1e-05 (≤1e-05)"],
    }


def test_mrd_not_given_is_not_assessed() -> None:
    assert assess_response(BASELINE, COMPLETE).mrd.status is MrdStatus.NOT_ASSESSED


def test_cri_string_value_is_contract_spelling() -> None:
    assert str(Response.CRI) == "CRi"


def test_response_request_assesses_the_same() -> None:
    request = ResponseRequest(BASELINE, COMPLETE)
    assert request.assess() == assess_response(BASELINE, COMPLETE)


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_negative_or_nan_measurement_is_an_error(bad: float) -> None:
    with pytest.raises(ClinicalInputError) as err:
        Measurements(spleen_cm=bad)
    assert err.value.problems[0][0] == "spleen_cm"
