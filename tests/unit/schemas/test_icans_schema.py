"""IcansObservationIn / IceItemsIn: cli-contract.md `grade icans` input validation (types,
ranges, enums, unknown fields) and hand-over of contradictions to the clinical record."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.icans import (
    Consciousness,
    IcansDomain,
    IcansObservation,
    IceItems,
    Seizure,
    grade_icans,
)
from cartwatch.schemas.errors import problems_from
from cartwatch.schemas.icans import IcansObservationIn

ITEMS = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 0}


def _parse(document: dict[str, object]) -> IcansObservationIn:
    return IcansObservationIn.model_validate_json(json.dumps(document))


def test_full_document_to_domain() -> None:
    model = _parse(
        {
            "age_years": 64.5,
            "developmental_delay": False,
            "ice_items": ITEMS,
            "capd_unable": False,
            "consciousness": "awakens_to_voice",
            "seizure": "rapidly_resolving",
            "motor_weakness": "none",
            "cerebral_edema": "none",
            "raised_icp_signs": False,
            "attributable_to_other_cause": ["seizure"],
            "tremor": True,
            "myoclonus": False,
            "headache": True,
            "intracranial_hemorrhage": False,
            "death_due_to_icans": False,
            "observed_at": "2024-05-02",
        }
    )
    obs = model.to_domain()
    assert obs == IcansObservation(
        age_years=64.5,
        ice_items=IceItems(4, 3, 1, 1, 0),
        consciousness=Consciousness.AWAKENS_TO_VOICE,
        seizure=Seizure.RAPIDLY_RESOLVING,
        attributable_to_other_cause=(IcansDomain.SEIZURE,),
        tremor=True,
        headache=True,
        observed_at=dt.date(2024, 5, 2),
    )
    assert grade_icans(obs).grade == 2


def test_minimal_documents() -> None:
    assert grade_icans(_parse({"age_years": 40, "ice_score": 10}).to_domain()).grade == 0
    assert grade_icans(_parse({"age_years": 6, "capd_score": 9}).to_domain()).grade == 3


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        ({"ice_score": 10}, ("age_years",)),
        ({"age_years": "40", "ice_score": 10}, ("age_years",)),
        ({"age_years": True, "ice_score": 10}, ("age_years",)),
        ({"age_years": -1, "ice_score": 10}, ("age_years",)),
        ({"age_years": 121, "ice_score": 10}, ("age_years",)),
        ({"age_years": 40, "ice_score": 11}, ("ice_score",)),
        ({"age_years": 40, "ice_score": -1}, ("ice_score",)),
        ({"age_years": 40, "ice_score": 7.5}, ("ice_score",)),
        ({"age_years": 40, "ice_score": "7"}, ("ice_score",)),
        ({"age_years": 6, "capd_score": 33}, ("capd_score",)),
        ({"age_years": 6, "capd_score": True}, ("capd_score",)),
        ({"age_years": 40, "ice_items": {**ITEMS, "orientation": 5}}, ("ice_items", "orientation")),
        ({"age_years": 40, "ice_items": {**ITEMS, "naming": 4}}, ("ice_items", "naming")),
        ({"age_years": 40, "ice_items": {**ITEMS, "commands": 2}}, ("ice_items", "commands")),
        ({"age_years": 40, "ice_items": {**ITEMS, "writing": -1}}, ("ice_items", "writing")),
        ({"age_years": 40, "ice_items": {**ITEMS, "attention": "1"}}, ("ice_items", "attention")),
        (
            {"age_years": 40, "ice_items": {k: v for k, v in ITEMS.items() if k != "naming"}},
            ("ice_items", "naming"),
        ),
        ({"age_years": 40, "ice_items": {**ITEMS, "spelling": 1}}, ("ice_items", "spelling")),
        ({"age_years": 40, "ice_score": 10, "consciousness": "drowsy"}, ("consciousness",)),
        ({"age_years": 40, "ice_score": 10, "consciousness": "ALERT"}, ("consciousness",)),
        ({"age_years": 40, "ice_score": 10, "seizure": "focal"}, ("seizure",)),
        ({"age_years": 40, "ice_score": 10, "motor_weakness": "mild"}, ("motor_weakness",)),
        ({"age_years": 40, "ice_score": 10, "cerebral_edema": "global"}, ("cerebral_edema",)),
        (
            {"age_years": 40, "ice_score": 10, "attributable_to_other_cause": ["ice", "tremor"]},
            ("attributable_to_other_cause", 1),
        ),
        ({"age_years": 40, "ice_score": 10, "tremor": "no"}, ("tremor",)),
        ({"age_years": 40, "ice_score": 10, "capd_unable": 0}, ("capd_unable",)),
        ({"age_years": 40, "ice_score": 10, "ice": 10}, ("ice",)),
        ({"age_years": 40, "ice_score": 10, "observed_at": "2024-13-01"}, ("observed_at",)),
    ],
)
def test_invalid_documents(document: dict[str, object], loc: tuple[object, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        _parse(document)
    assert {tuple(e["loc"]) for e in exc.value.errors()} == {loc}


def test_item_problem_line_has_a_dotted_path_and_range() -> None:
    with pytest.raises(ValidationError) as exc:
        _parse({"age_years": 40, "ice_items": {**ITEMS, "orientation": 5}})
    assert problems_from(exc.value, model=IcansObservationIn) == [
        "ice_items.orientation: must be an integer between 0 and 4"
    ]


@pytest.mark.parametrize(
    ("document", "paths"),
    [
        ({"age_years": 40, "ice_score": 9, "ice_items": ITEMS}, ["ice_items"]),
        ({"age_years": 40}, ["ice_score"]),
        ({"age_years": 40, "ice_score": 9, "capd_score": 2}, ["capd_score"]),
        ({"age_years": 9, "capd_score": 2, "ice_score": 9}, ["ice_score"]),
        ({"age_years": 9, "capd_unable": True, "capd_score": 2}, ["capd_score"]),
        ({"age_years": 40, "ice_score": 4, "consciousness": "unarousable"}, ["ice_score"]),
    ],
)
def test_contradictions_propagate_from_to_domain(
    document: dict[str, object], paths: list[str]
) -> None:
    model = _parse(document)
    with pytest.raises(ClinicalInputError) as exc:
        model.to_domain()
    assert [p for p, _ in exc.value.problems] == paths
