"""Best overall response: best before the first PD (ADaM BOR convention; iwCLL 2018 defines
only the response at one assessment)."""

from __future__ import annotations

import pytest

from cartwatch.clinical.iwcll import Response, best_overall_response

CR, CRI, PR, SD, PD, NE = (
    Response.CR,
    Response.CRI,
    Response.PR,
    Response.SD,
    Response.PD,
    Response.NE,
)


@pytest.mark.parametrize(
    ("responses", "expected"),
    [
        ([], NE),
        ([NE, NE], NE),
        ([SD], SD),
        ([SD, PR, SD], PR),
        ([PR, CRI], CRI),
        ([CRI, CR], CR),
        ([CR, CRI, PR], CR),
        ([SD, PR, PD, CR], PR),  # CR after PD does not count
        ([PD, CR], PD),
        ([NE, PD, CR], PD),  # first evaluable is PD
        ([NE, SD, PD], SD),
        ([PR, NE], PR),
        ([SD, NE, PD], SD),
    ],
)
def test_best_before_first_pd(responses: list[Response], expected: Response) -> None:
    assert best_overall_response(responses) is expected


def test_order_is_cr_cri_pr_sd() -> None:
    ladder = [SD, PR, CRI, CR]
    for i, better in enumerate(ladder):
        for worse in ladder[:i]:
            assert best_overall_response([worse, better]) is better
            assert best_overall_response([better, worse]) is better


def test_accepts_a_tuple() -> None:
    assert best_overall_response((SD, PR)) is PR
