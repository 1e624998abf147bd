"""Liso-cel (Breyanzi) US label vignettes, driven through the input schemas.

Chapter: US label (clinical-standards.md §3B; cli-contract.md `cartwatch eligibility` and
`cartwatch schedule`). Each case names the row of §3B (or the contract paragraph) it checks.
Input is the JSON document a centre would send; expected is the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cartwatch.clinical.eligibility import check_eligibility
from cartwatch.clinical.schedule import schedule_for
from cartwatch.schemas.eligibility import EligibilityIn
from cartwatch.schemas.schedule import ScheduleIn

REMS = "US PI 2024-03 (CLL/SLL approval, REMS)"
POST_REMS = "US PI 2025-06 (REMS removed)"


@dataclass(frozen=True)
class Vignette:
    source: str
    patient: dict[str, Any]
    eligible: bool
    label_version: str
    prior_lines: int
    prior_btki: bool
    prior_bcl2i: bool
    reason_contains: str = ""


def patient(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "product": "liso-cel",
        "diagnosis": "CLL",
        "age_years": 64,
        "relapsed_or_refractory": True,
        "prior_lines": [
            {"agents": ["ibrutinib"]},
            {"agents": ["venetoclax", "obinutuzumab"]},
        ],
        "as_of": "2024-06-01",
    }
    base.update(overrides)
    return base


ELIGIBILITY = [
    Vignette(
        "§3B approval row [S20]-[S25]: day before the 2024-03-14 approval",
        patient(as_of="2024-03-13"),
        False,
        "none: cartwatch's label data start at 2024-03-14",
        2,
        True,
        True,
        "not approved for CLL/SLL before 2024-03-14",
    ),
    Vignette(
        "§3B approval row [S20]-[S25]: approval day 2024-03-14",
        patient(as_of="2024-03-14"),
        True,
        REMS,
        2,
        True,
        True,
    ),
    Vignette(
        "§3B indication row [S21]: adults — age 17",
        patient(age_years=17),
        False,
        REMS,
        2,
        True,
        True,
        "age 17 years < 18",
    ),
    Vignette(
        "§3B indication row [S21]: adults — age 18",
        patient(age_years=18),
        True,
        REMS,
        2,
        True,
        True,
        "age 18 years ≥ 18",
    ),
    Vignette(
        "§3B indication row [S21]: ≥2 prior lines — BTKi+venetoclax in one combination is 1 line",
        patient(prior_lines=[{"agents": ["ibrutinib", "venetoclax"]}]),
        False,
        REMS,
        1,
        True,
        True,
        "1 prior line < 2 required",
    ),
    Vignette(
        "§3B indication row [S21]: BTKi+venetoclax combination line plus another line",
        patient(
            prior_lines=[
                {"agents": ["ibrutinib", "venetoclax"]},
                {"agents": ["bendamustine", "rituximab"]},
            ]
        ),
        True,
        REMS,
        2,
        True,
        True,
        "2 prior lines ≥ 2 required",
    ),
    Vignette(
        "cli-contract `cartwatch eligibility`: brand names Brukinsa and Venclexta, any case",
        patient(prior_lines=[{"agents": ["BRUKINSA"]}, {"agents": ["venclexta"]}]),
        True,
        REMS,
        2,
        True,
        True,
    ),
    Vignette(
        "cli-contract `cartwatch eligibility`: brand name Jaypirca without a BCL-2 inhibitor",
        patient(prior_lines=[{"agents": ["Jaypirca"]}, {"agents": ["Calquence"]}]),
        False,
        REMS,
        2,
        True,
        False,
        "no prior BCL-2 inhibitor",
    ),
    Vignette(
        "cli-contract `cartwatch eligibility`: unknown agent names are allowed and reported",
        patient(
            prior_lines=[
                {"agents": ["Imbruvica"]},
                {"agents": ["venetoclax", "lisaftoclax"]},
            ]
        ),
        True,
        REMS,
        2,
        True,
        True,
        "lisaftoclax",
    ),
    Vignette(
        "§3B indication row [S21]: relapsed or refractory required",
        patient(relapsed_or_refractory=False),
        False,
        REMS,
        2,
        True,
        True,
        "relapsed_or_refractory is false",
    ),
    Vignette(
        "§3B indication row [S21]: SLL shares the CLL indication; after REMS removal",
        patient(diagnosis="SLL", as_of="2025-06-26", product="Breyanzi"),
        True,
        POST_REMS,
        2,
        True,
        True,
    ),
    Vignette(
        "§3B later changes row [S29]: MZL indication added 12/2025, rules not in the reference",
        patient(diagnosis="MZL", as_of="2026-01-15"),
        False,
        "US PI 2025-12 (MZL added)",
        2,
        True,
        True,
        "rules for MZL are not verified",
    ),
    Vignette(
        "§3B: LBCL is not in the reference — never guessed",
        patient(diagnosis="LBCL"),
        False,
        REMS,
        2,
        True,
        True,
        "rules for LBCL are not verified",
    ),
]


@pytest.mark.parametrize("v", ELIGIBILITY, ids=[v.source for v in ELIGIBILITY])
def test_eligibility_vignette(v: Vignette) -> None:
    out = check_eligibility(EligibilityIn.model_validate(v.patient).to_domain()).to_dict()
    assert out["eligible"] is v.eligible
    assert out["label_version"] == v.label_version == out["standard"]
    assert (out["prior_lines"], out["prior_btki"], out["prior_bcl2i"]) == (
        v.prior_lines,
        v.prior_btki,
        v.prior_bcl2i,
    )
    reasons = out["reasons"]
    assert isinstance(reasons, list) and reasons
    if v.reason_contains:
        assert any(v.reason_contains in r for r in reasons), reasons


SCHEDULE = [
    # (source row, infusion_date, label_version, stay_near_until, no_driving_until)
    (
        "§3B proximity/driving pre-June-2025 [S28][S31][S34]",
        "2025-06-25",
        REMS,
        "2025-07-23",
        "2025-08-20",
    ),
    (
        "§3B proximity/driving post-June-2025 [S33]; §0 item 4",
        "2025-06-26",
        POST_REMS,
        "2025-07-10",
        "2025-07-10",
    ),
    (
        "§3B approval row: first day of the REMS-era label",
        "2024-03-14",
        REMS,
        "2024-04-11",
        "2024-05-09",
    ),
]


@pytest.mark.parametrize(("source", "infusion", "version", "near", "drive"), SCHEDULE)
def test_schedule_vignette(source: str, infusion: str, version: str, near: str, drive: str) -> None:
    model = ScheduleIn.model_validate({"product": "liso-cel", "infusion_date": infusion})
    out = schedule_for(model.to_domain()).to_dict()
    assert (out["label_version"], out["stay_near_centre_until"], out["no_driving_until"]) == (
        version,
        near,
        drive,
    ), source
    events = out["events"]
    assert isinstance(events, list)
    assert events[0]["date"] == infusion
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
