"""Properties of iwCLL 2018 response assessment (Table 4 [S41]): any PD trigger gives PD, the
response is always one of the enum, best overall response is one of its inputs or NE; contract
v2 item 4: a BTK/PI3K inhibitor never creates PD, removing a B count never creates PD, and a
higher B-lymphocyte count never gives a better response."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from cartwatch.clinical.iwcll import (
    RESPONSE_ORDER,
    Marrow,
    Measurements,
    Response,
    assess_response,
    best_overall_response,
)

opt_num = st.one_of(st.none(), st.floats(min_value=0, max_value=300, allow_nan=False))
opt_bool = st.one_of(st.none(), st.booleans())

measurements = st.builds(
    Measurements,
    lymph_nodes_spd_cm2=opt_num,
    largest_node_cm=opt_num,
    new_lesion=st.booleans(),
    spleen_cm=opt_num,
    liver_enlarged=opt_bool,
    lymphocytes_10e9_l=opt_num,
    b_lymphocytes_10e9_l=opt_num,
    neutrophils_10e9_l=opt_num,
    platelets_10e9_l=opt_num,
    hemoglobin_g_dl=st.one_of(st.none(), st.floats(min_value=0, max_value=20)),
    transfused_or_epo=opt_bool,
    constitutional_symptoms=opt_bool,
    marrow=st.one_of(st.none(), st.sampled_from(Marrow)),
    cytopenia_due_to_cll=st.booleans(),
    cytopenia_due_to_treatment=st.booleans(),
    richter_transformation=st.booleans(),
)

# Each turns any assessment into PD on its own.
PD_TRIGGERS = {
    "new_lesion": lambda b, a: replace(a, new_lesion=True),
    "richter": lambda b, a: replace(a, richter_transformation=True),
    "node_spd": lambda b, a: replace(a, lymph_nodes_spd_cm2=(b.lymph_nodes_spd_cm2 or 0) * 1.5 + 1),
    "spleen": lambda b, a: replace(a, spleen_cm=(b.spleen_cm or 0) * 1.5 + 1),
    "lymphocytes": lambda b, a: replace(
        a, b_lymphocytes_10e9_l=max(5.0, (_lymphocyte_reference(b) or 0) * 1.5 + 1)
    ),
}


def _lymphocyte_reference(b: Measurements) -> float | None:
    """What an assessment B count is compared with: baseline B, else baseline total."""
    return b.b_lymphocytes_10e9_l if b.b_lymphocytes_10e9_l is not None else b.lymphocytes_10e9_l


@given(measurements, measurements, st.one_of(st.none(), measurements))
def test_response_is_always_one_of_the_enum_with_reasons(
    b: Measurements, a: Measurements, nadir: Measurements | None
) -> None:
    result = assess_response(b, a, nadir)
    assert result.response in set(Response)
    assert result.reasons
    assert result.to_dict()["response"] in {r.value for r in Response}


@given(measurements, measurements, st.sampled_from(sorted(PD_TRIGGERS)))
def test_adding_a_pd_trigger_always_gives_pd(b: Measurements, a: Measurements, name: str) -> None:
    triggered = PD_TRIGGERS[name](b, a)
    reference = {
        "node_spd": b.lymph_nodes_spd_cm2,
        "spleen": b.spleen_cm,
        "lymphocytes": _lymphocyte_reference(b),
    }
    if name in reference and reference[name] is None:
        return  # a rise needs a baseline value
    if name in ("node_spd", "spleen") and not reference[name]:
        return  # a percentage rise of a size needs a positive baseline value
    assert assess_response(b, triggered).response is Response.PD


@given(measurements, measurements)
def test_constitutional_symptoms_never_turn_a_result_into_pd(
    b: Measurements, a: Measurements
) -> None:
    without = assess_response(b, replace(a, constitutional_symptoms=False)).response
    with_symptoms = assess_response(b, replace(a, constitutional_symptoms=True)).response
    assert (with_symptoms is Response.PD) == (without is Response.PD)


@given(st.lists(st.sampled_from(Response), max_size=8))
def test_bor_is_an_input_or_ne_and_nothing_after_pd_counts(responses: list[Response]) -> None:
    bor = best_overall_response(responses)
    assert bor is Response.NE or bor in responses
    if Response.PD in responses:
        first_pd = responses.index(Response.PD)
        assert best_overall_response(responses[: first_pd + 1]) is bor


@given(measurements, measurements, st.one_of(st.none(), measurements))
def test_a_bcr_inhibitor_never_turns_a_non_pd_into_pd(
    b: Measurements, a: Measurements, nadir: Measurements | None
) -> None:
    without = assess_response(b, a, nadir).response
    with_bcri = assess_response(b, a, nadir, bcr_inhibitor_ongoing=True).response
    if without is not Response.PD:
        assert with_bcri is not Response.PD


@given(measurements, measurements, st.one_of(st.none(), measurements), st.booleans())
def test_removing_the_assessment_b_count_never_creates_pd(
    b: Measurements, a: Measurements, nadir: Measurements | None, bcri: bool
) -> None:
    with_b = assess_response(b, a, nadir, bcr_inhibitor_ongoing=bcri).response
    removed = replace(a, b_lymphocytes_10e9_l=None)
    if with_b is not Response.PD:
        again = assess_response(b, removed, nadir, bcr_inhibitor_ongoing=bcri)
        assert again.response is not Response.PD


@given(
    measurements,
    measurements,
    st.floats(min_value=0, max_value=300),
    st.floats(min_value=0, max_value=1),
    st.booleans(),
)
def test_removing_a_consistent_baseline_b_count_never_creates_pd(
    b: Measurements, a: Measurements, total: float, b_share: float, bcri: bool
) -> None:
    # The baseline total is the fallback reference; B cells are a subset of the total.
    b = replace(b, lymphocytes_10e9_l=total, b_lymphocytes_10e9_l=total * b_share)
    if assess_response(b, a, bcr_inhibitor_ongoing=bcri).response is not Response.PD:
        removed = replace(b, b_lymphocytes_10e9_l=None)
        assert assess_response(removed, a, bcr_inhibitor_ongoing=bcri).response is not (Response.PD)


@given(
    measurements,
    measurements,
    st.floats(min_value=0, max_value=300),
    st.floats(min_value=0, max_value=300),
    st.booleans(),
)
def test_a_higher_b_count_never_gives_a_better_response(
    b: Measurements, a: Measurements, low: float, high: float, bcri: bool
) -> None:
    low, high = sorted((low, high))
    lower = assess_response(b, replace(a, b_lymphocytes_10e9_l=low), bcr_inhibitor_ongoing=bcri)
    higher = assess_response(b, replace(a, b_lymphocytes_10e9_l=high), bcr_inhibitor_ongoing=bcri)
    if lower.response is Response.PD:
        assert higher.response is Response.PD
    if Response.NE not in (lower.response, higher.response):
        rank = RESPONSE_ORDER.index
        assert rank(higher.response) >= rank(lower.response), (lower.reasons, higher.reasons)
