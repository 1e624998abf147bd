"""EligibilityIn: cli-contract.md `cartwatch eligibility` input validation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from pydantic import ValidationError

from cartwatch.clinical.labels import Diagnosis
from cartwatch.schemas.eligibility import EligibilityIn, PriorLineIn


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "product": "liso-cel",
        "diagnosis": "CLL",
        "age_years": 70,
        "relapsed_or_refractory": True,
        "prior_lines": [{"agents": ["ibrutinib"]}, {"agents": ["venetoclax", "obinutuzumab"]}],
        "as_of": "2024-06-01",
    }
    base.update(overrides)
    return base


def locs(exc: ValidationError) -> set[tuple[int | str, ...]]:
    return {tuple(e["loc"]) for e in exc.errors()}


def test_valid_document_to_domain() -> None:
    req = EligibilityIn.model_validate_json(json.dumps(doc())).to_domain()
    assert req.product == "liso-cel"
    assert req.diagnosis is Diagnosis.CLL
    assert req.age_years == 70.0
    assert req.prior_lines == (("ibrutinib",), ("venetoclax", "obinutuzumab"))
    assert req.as_of == dt.date(2024, 6, 1)


@pytest.mark.parametrize("alias", ["Breyanzi", "BREYANZI", "lisocabtagene maraleucel", "Liso-Cel"])
def test_product_aliases_normalise(alias: str) -> None:
    assert EligibilityIn.model_validate(doc(product=alias)).product == "liso-cel"


@pytest.mark.parametrize("bad", ["axi-cel", "", 1])
def test_unknown_product_is_a_validation_error_on_product(bad: object) -> None:
    with pytest.raises(ValidationError) as exc:
        EligibilityIn.model_validate(doc(product=bad))
    assert locs(exc.value) == {("product",)}


@pytest.mark.parametrize("value", ["CLL", "sll", " Lbcl ", "FL", "MCL", "MZL"])
def test_diagnosis_enum_case_insensitive(value: str) -> None:
    assert (
        EligibilityIn.model_validate(doc(diagnosis=value)).diagnosis.value == value.strip().upper()
    )


@pytest.mark.parametrize("bad", ["DLBCL", "CML", "", 3])
def test_unknown_diagnosis_is_an_error(bad: object) -> None:
    with pytest.raises(ValidationError) as exc:
        EligibilityIn.model_validate(doc(diagnosis=bad))
    assert locs(exc.value) == {("diagnosis",)}


@pytest.mark.parametrize("bad", ["70", True, -0.1, 120.5, None])
def test_age_rejects_strings_bools_and_out_of_range(bad: object) -> None:
    with pytest.raises(ValidationError) as exc:
        EligibilityIn.model_validate(doc(age_years=bad))
    assert locs(exc.value) == {("age_years",)}


@pytest.mark.parametrize("ok", [0, 17.5, 120])
def test_age_range_edges(ok: float) -> None:
    assert EligibilityIn.model_validate(doc(age_years=ok)).age_years == ok


@pytest.mark.parametrize("bad", ["yes", 1, "true", None])
def test_relapsed_or_refractory_is_strict_bool(bad: object) -> None:
    with pytest.raises(ValidationError) as exc:
        EligibilityIn.model_validate(doc(relapsed_or_refractory=bad))
    assert locs(exc.value) == {("relapsed_or_refractory",)}


@pytest.mark.parametrize(
    ("lines", "loc"),
    [
        ([{"agents": []}], ("prior_lines", 0, "agents")),
        # "Name": the tag of the agent's form (a name, or a name with a declared class),
        # left out of the printed path (test_declared_agent_errors_name_the_class below).
        ([{"agents": ["ibrutinib", ""]}], ("prior_lines", 0, "agents", 1, "Name")),
        ([{"agents": ["ibrutinib", "  "]}], ("prior_lines", 0, "agents", 1, "Name")),
        ([{"agents": [5]}], ("prior_lines", 0, "agents", 0, "Name")),
        ([{"agents": ["x"], "line": 1}], ("prior_lines", 0, "line")),
        ([{}], ("prior_lines", 0, "agents")),
        ("ibrutinib", ("prior_lines",)),
    ],
)
def test_prior_lines_validation(lines: object, loc: tuple[int | str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        EligibilityIn.model_validate(doc(prior_lines=lines))
    assert loc in locs(exc.value)


def test_empty_prior_lines_list_is_valid() -> None:
    assert EligibilityIn.model_validate(doc(prior_lines=[])).to_domain().prior_lines == ()


def test_agent_names_are_stripped() -> None:
    assert PriorLineIn.model_validate({"agents": [" Imbruvica "]}).to_domain() == ("Imbruvica",)


@pytest.mark.parametrize(
    "field", ["product", "diagnosis", "age_years", "relapsed_or_refractory", "prior_lines"]
)
def test_required_fields(field: str) -> None:
    d = doc()
    del d[field]
    with pytest.raises(ValidationError) as exc:
        EligibilityIn.model_validate(d)
    assert locs(exc.value) == {(field,)}


def test_unknown_field_is_an_error() -> None:
    with pytest.raises(ValidationError) as exc:
        EligibilityIn.model_validate(doc(relapsed=True))
    assert locs(exc.value) == {("relapsed",)}


@pytest.mark.parametrize("bad", ["2024-02-30", "20240314", "2024-03-14T00:00:00", 1710374400, ""])
def test_as_of_must_be_an_iso_date(bad: object) -> None:
    with pytest.raises(ValidationError) as exc:
        EligibilityIn.model_validate(doc(as_of=bad))
    assert locs(exc.value) == {("as_of",)}


def test_as_of_rejects_python_datetime() -> None:
    with pytest.raises(ValidationError):
        EligibilityIn.model_validate(doc(as_of=dt.datetime(2024, 3, 14)))


@time_machine.travel(dt.datetime(2025, 6, 26, 12, 0), tick=False)
def test_as_of_defaults_to_today() -> None:
    d = doc()
    del d["as_of"]
    assert EligibilityIn.model_validate(d).as_of == dt.date(2025, 6, 26)
