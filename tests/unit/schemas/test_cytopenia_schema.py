"""CytopeniaObservationIn / LowerLimitsIn: cli-contract.md `grade cytopenia` input validation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from cartwatch.clinical.cytopenia import CytopeniaObservation, LowerLimits
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.cytopenia import CytopeniaObservationIn
from cartwatch.schemas.errors import problems_from


def _parse(document: dict[str, object]) -> CytopeniaObservationIn:
    return CytopeniaObservationIn.model_validate_json(json.dumps(document))


def test_full_document_to_domain() -> None:
    model = _parse(
        {
            "neutrophils_10e9_l": 1,
            "platelets_10e9_l": 49.9,
            "hemoglobin_g_dl": 7.5,
            "lln": {"neutrophils_10e9_l": 1.8, "platelets_10e9_l": 150, "hemoglobin_g_dl": 12},
            "transfusion_indicated": True,
            "observed_at": "2024-05-02",
        }
    )
    assert model.to_domain() == CytopeniaObservation(
        neutrophils_10e9_l=1.0,
        platelets_10e9_l=49.9,
        hemoglobin_g_dl=7.5,
        lln=LowerLimits(1.8, 150.0, 12.0),
        transfusion_indicated=True,
        observed_at=dt.date(2024, 5, 2),
    )


def test_defaults() -> None:
    obs = _parse({"platelets_10e9_l": 80}).to_domain()
    assert (obs.lln, obs.transfusion_indicated, obs.observed_at) == (None, False, None)


def test_partial_lln_is_allowed() -> None:
    obs = _parse({"hemoglobin_g_dl": 11, "lln": {"hemoglobin_g_dl": 12}}).to_domain()
    assert obs.lln == LowerLimits(hemoglobin_g_dl=12.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-02", dt.date(2024, 5, 2)),
        ("2024-05-02T08:30:00", dt.datetime(2024, 5, 2, 8, 30)),
        ("2024-05-02T08:30:00+02:00", dt.datetime(2024, 5, 2, 6, 30, tzinfo=dt.UTC)),
    ],
)
def test_observed_at_keeps_date_and_datetime_apart(value: str, expected: dt.date) -> None:
    observed = _parse({"platelets_10e9_l": 80, "observed_at": value}).observed_at
    assert observed == expected
    assert type(observed) is type(expected)


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        ({"neutrophils_10e9_l": "1.2"}, ("neutrophils_10e9_l",)),
        ({"neutrophils_10e9_l": True}, ("neutrophils_10e9_l",)),
        ({"platelets_10e9_l": -1}, ("platelets_10e9_l",)),
        ({"hemoglobin_g_dl": -0.1}, ("hemoglobin_g_dl",)),
        ({"platelets_10e9_l": 80, "lln": {"platelets_10e9_l": -150}}, ("lln", "platelets_10e9_l")),
        ({"platelets_10e9_l": 80, "lln": {"platelet": 150}}, ("lln", "platelet")),
        ({"platelets_10e9_l": 80, "lln": 150}, ("lln",)),
        ({"platelets_10e9_l": 80, "transfusion_indicated": "yes"}, ("transfusion_indicated",)),
        ({"platelets_10e9_l": 80, "transfusion_indicated": 1}, ("transfusion_indicated",)),
        ({"platelets_10e9_l": 80, "observed_at": 1714636800}, ("observed_at",)),
        ({"platelets_10e9_l": 80, "observed_at": "02/05/2024"}, ("observed_at",)),
        ({"platelets_10e9_l": 80, "observed_at": "2024-02-30"}, ("observed_at",)),
        ({"platelet_10e9_l": 80}, ("platelet_10e9_l",)),
    ],
)
def test_invalid_documents(document: dict[str, object], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        _parse(document)
    assert {tuple(e["loc"]) for e in exc.value.errors()} == {loc}


def test_no_measurement_fails_in_to_domain_with_a_path() -> None:
    model = _parse({"transfusion_indicated": True})
    with pytest.raises(ClinicalInputError) as exc:
        model.to_domain()
    lines = problems_from(exc.value, "[3]")
    assert lines[0].startswith("[3].neutrophils_10e9_l: no measurement")


def test_problem_line_for_a_bad_number_names_the_range() -> None:
    with pytest.raises(ValidationError) as exc:
        _parse({"platelets_10e9_l": "80"})
    assert problems_from(exc.value, model=CytopeniaObservationIn) == [
        "platelets_10e9_l: must be a number ≥ 0"
    ]
