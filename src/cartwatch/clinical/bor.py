"""iwCLL response categories, their order, and the best overall response over assessments.

The categories are the iwCLL 2018 Table 4 columns [S41] (CR, PR, SD, PD), CRi (clinical-
standards.md §2.3), PR-L (partial response with lymphocytosis, contract v2 item 4; the
category is coded in a national FHIR value set [S47], iwCLL 2018 wording UNVERIFIED) and NE.
The per-assessment rules are :mod:`cartwatch.clinical.iwcll`; this module is the ordering and
the across-assessments convention (an ADaM ADRS "BOR" parameter), a different idea. The names
are re-exported by ``iwcll``.

Where PR-L ranks: below PR and above SD. PR-L meets the PR criteria except the lymphocyte
count (a lymphocytosis during BTK/PI3K inhibitor therapy), so it meets a subset of what PR
meets; it is a response (iwCLL 2018 does not count BCR-inhibitor lymphocytosis as failure to
respond, §2.3; contract v2: "counts as a response in ORR"), so it ranks above SD. A patient
with PR-L then PR has a best overall response of PR.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

__all__ = ["RESPONDERS", "RESPONSE_ORDER", "Response", "best_overall_response"]


class Response(StrEnum):
    CR = "CR"
    CRI = "CRi"
    PR = "PR"
    PR_L = "PR-L"
    SD = "SD"
    PD = "PD"
    NE = "NE"


# Best first; NE is below PD because a non-evaluable visit says nothing about the disease.
RESPONSE_ORDER: tuple[Response, ...] = (
    Response.CR,
    Response.CRI,
    Response.PR,
    Response.PR_L,
    Response.SD,
    Response.PD,
    Response.NE,
)

# What the overall response rate counts: CR + CRi + PR [S41] and PR-L (contract v2 item 4).
RESPONDERS: frozenset[Response] = frozenset({Response.CR, Response.CRI, Response.PR, Response.PR_L})


def best_overall_response(responses: Sequence[Response]) -> Response:
    """Best response recorded before the first PD, in time order.

    iwCLL 2018 defines the response at one assessment, not a best overall response; this is
    the usual ADaM/CDISC oncology convention (an ADRS "BOR" parameter): ordering
    ``RESPONSE_ORDER`` (CR > CRi > PR > PR-L > SD > PD > NE), only assessments before the
    first PD count, PD when the first evaluable (non-NE) assessment is PD, NE when no
    assessment is evaluable. No confirmation or minimum SD duration is applied; a protocol
    that needs them must apply them first.
    """
    before_pd: list[Response] = []
    for response in responses:
        if response is Response.PD:
            if not any(r is not Response.NE for r in before_pd):
                return Response.PD
            break
        before_pd.append(response)
    return min(before_pd, key=RESPONSE_ORDER.index, default=Response.NE)
