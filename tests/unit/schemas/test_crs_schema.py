"""CrsObservationIn: cli-contract.md `grade crs` input validation (types, ranges, enums,
unknown fields) and hand-over of contradictions to the clinical record."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from cartwatch.clinical.crs import CrsObservation, OxygenDevice, Vasopressor, grade_crs
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.crs import CrsObservationIn
from cartwatch.schemas.errors import problems_from


def _parse(document: dict[str, object]) -> CrsObservationIn:
    return CrsObservationIn.model_validate_json(json.dumps(document))


def test_full_document_to_domain() -> None:
    model = _parse(
        {
            "temperature_c": 39,
            "fever_attributable_to_other_cause": False,
            "antipyretic_or_anticytokine_given": True,
            "hypotension": True,
            "vasopressors": ["Noradrenaline", "VASOPRESSIN"],
            "oxygen_device": "nasal_cannula",
            "oxygen_flow_l_min": 4,
            "hypotension_attributable_to_other_cause": False,
            "hypoxia_attributable_to_other_cause": False,
            "death_due_to_crs": False,
            "observed_at": "2024-05-02T08:30:00",
        }
    )
    assert model.to_domain() == CrsObservation(
        temperature_c=39.0,
        antipyretic_or_anticytokine_given=True,
        hypotension=True,
        vasopressors=(Vasopressor.NOREPINEPHRINE, Vasopressor.VASOPRESSIN),
        oxygen_device=OxygenDevice.NASAL_CANNULA,
        oxygen_flow_l_min=4.0,
        observed_at=dt.datetime(2024, 5, 2, 8, 30),
    )


def test_empty_document_is_all_defaults_and_not_gradable() -> None:
    # contract v2 item 1: no temperature, no therapy → null, never grade 0
    obs = _parse({}).to_domain()
    assert obs == CrsObservation()
    assert grade_crs(obs).grade is None


@pytest.mark.parametrize("value", [1, 0, "true", None, [True]])
def test_fever_before_therapy_is_a_strict_bool(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        _parse({"antipyretic_or_anticytokine_given": True, "fever_before_therapy": value})
    assert [e["loc"] for e in info.value.errors()] == [("fever_before_therapy",)]


@pytest.mark.parametrize(
    ("name", "drug"), [("adrenaline", "epinephrine"), ("Dopamine", "dopamine")]
)
def test_vasopressor_names_are_case_insensitive_with_aliases(name: str, drug: str) -> None:
    assert _parse({"vasopressors": [name]}).vasopressors == [Vasopressor(drug)]


def test_observed_at_date_stays_a_date() -> None:
    assert _parse({"observed_at": "2024-05-02"}).observed_at == dt.date(2024, 5, 2)


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        ({"temperature": 39}, ("temperature",)),
        ({"temperature_c": "39"}, ("temperature_c",)),
        ({"temperature_c": True}, ("temperature_c",)),
        ({"temperature_c": 24.9}, ("temperature_c",)),
        ({"temperature_c": 45.1}, ("temperature_c",)),
        ({"hypotension": "yes"}, ("hypotension",)),
        ({"hypotension": 1}, ("hypotension",)),
        ({"death_due_to_crs": "false"}, ("death_due_to_crs",)),
        ({"vasopressors": "norepinephrine"}, ("vasopressors",)),
        ({"vasopressors": ["norepinephrine", "milrinone"]}, ("vasopressors", 1)),
        ({"vasopressors": [7]}, ("vasopressors", 0)),
        ({"oxygen_device": "Nasal_Cannula", "oxygen_flow_l_min": 2}, ("oxygen_device",)),
        ({"oxygen_device": "hfnc"}, ("oxygen_device",)),
        ({"oxygen_device": "face_mask", "oxygen_flow_l_min": -0.5}, ("oxygen_flow_l_min",)),
        ({"oxygen_device": "face_mask", "oxygen_flow_l_min": "4"}, ("oxygen_flow_l_min",)),
        ({"observed_at": "yesterday"}, ("observed_at",)),
        ({"observed_at": 1714636800}, ("observed_at",)),
    ],
)
def test_invalid_documents(document: dict[str, object], loc: tuple[object, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        _parse(document)
    assert {tuple(e["loc"]) for e in exc.value.errors()} == {loc}


def test_unknown_vasopressor_problem_line() -> None:
    with pytest.raises(ValidationError) as exc:
        _parse({"vasopressors": ["norepinephrine", "milrinone"]})
    (line,) = problems_from(exc.value, "[2]", model=CrsObservationIn)
    assert line.startswith("[2].vasopressors[1]: unknown vasopressor 'milrinone'")


def test_temperature_problem_line_names_the_range() -> None:
    with pytest.raises(ValidationError) as exc:
        _parse({"temperature_c": 46})
    assert problems_from(exc.value, model=CrsObservationIn) == [
        "temperature_c: must be a number between 25 and 45"
    ]


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"oxygen_device": "nasal_cannula"}, "oxygen_flow_l_min"),
        ({"oxygen_flow_l_min": 3}, "oxygen_flow_l_min"),
        ({"vasopressors": ["noradrenaline", "norepinephrine"]}, "vasopressors[1]"),
    ],
)
def test_contradictions_propagate_from_to_domain(document: dict[str, object], path: str) -> None:
    model = _parse(document)
    with pytest.raises(ClinicalInputError) as exc:
        model.to_domain()
    assert [p for p, _ in exc.value.problems] == [path]
