"""ResponseAssessmentIn / MeasurementsIn / MrdIn: cli-contract.md `assess response` input."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.iwcll import (
    Marrow,
    Measurements,
    Mrd,
    MrdResultKind,
    MrdSample,
    Response,
    ResponseRequest,
)
from cartwatch.schemas.response import ResponseAssessmentIn

MRD = {"result": "undetectable", "sensitivity": 1e-4, "sample": "blood", "method": "NGS"}


def _parse(document: dict[str, object]) -> ResponseAssessmentIn:
    return ResponseAssessmentIn.model_validate_json(json.dumps(document))


def test_full_document_to_domain() -> None:
    request = _parse(
        {
            "baseline": {"lymphocytes_10e9_l": 60, "marrow": "cll_or_nodules_present"},
            "assessment": {
                "lymphocytes_10e9_l": 2.5,
                "liver_enlarged": False,
                "marrow": "normocellular_no_cll",
                "mrd": {**MRD, "level": 0},
            },
            "nadir": {"lymphocytes_10e9_l": 2.0},
        }
    ).to_domain()
    assert request == ResponseRequest(
        baseline=Measurements(lymphocytes_10e9_l=60.0, marrow=Marrow.CLL_OR_NODULES_PRESENT),
        assessment=Measurements(
            lymphocytes_10e9_l=2.5,
            liver_enlarged=False,
            marrow=Marrow.NORMOCELLULAR_NO_CLL,
            mrd=Mrd(MrdResultKind.UNDETECTABLE, 1e-4, MrdSample.BLOOD, "NGS", 0.0),
        ),
        nadir=Measurements(lymphocytes_10e9_l=2.0),
    )


def test_defaults_events_false_findings_unknown() -> None:
    m = _parse({"baseline": {}, "assessment": {}}).to_domain().assessment
    assert (m.new_lesion, m.richter_transformation, m.cytopenia_due_to_cll) == (False,) * 3
    assert (m.liver_enlarged, m.constitutional_symptoms, m.transfused_or_epo) == (None,) * 3


def test_end_to_end_assessment() -> None:
    request = _parse(
        {"baseline": {"lymph_nodes_spd_cm2": 10}, "assessment": {"lymph_nodes_spd_cm2": 15}}
    ).to_domain()
    assert request.assess().response is Response.PD


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        ({"assessment": {}}, ("baseline",)),
        ({"baseline": {}}, ("assessment",)),
        ({"baseline": {}, "assessment": {}, "extra": 1}, ("extra",)),
        ({"baseline": {"spleen": 14}, "assessment": {}}, ("baseline", "spleen")),
        ({"baseline": {"spleen_cm": "14"}, "assessment": {}}, ("baseline", "spleen_cm")),
        ({"baseline": {"spleen_cm": True}, "assessment": {}}, ("baseline", "spleen_cm")),
        ({"baseline": {"spleen_cm": -1}, "assessment": {}}, ("baseline", "spleen_cm")),
        ({"baseline": {}, "assessment": {"new_lesion": "true"}}, ("assessment", "new_lesion")),
        ({"baseline": {}, "assessment": {"liver_enlarged": 0}}, ("assessment", "liver_enlarged")),
        ({"baseline": {}, "assessment": {"marrow": "done"}}, ("assessment", "marrow")),
        ({"baseline": {}, "assessment": {}, "nadir": {"x": 1}}, ("nadir", "x")),
        (
            {"baseline": {}, "assessment": {"mrd": {**MRD, "result": "negative"}}},
            ("assessment", "mrd", "result"),
        ),
        (
            {"baseline": {}, "assessment": {"mrd": {**MRD, "sensitivity": 0}}},
            ("assessment", "mrd", "sensitivity"),
        ),
        (
            {"baseline": {}, "assessment": {"mrd": {**MRD, "sensitivity": 1}}},
            ("assessment", "mrd", "sensitivity"),
        ),
        (
            {"baseline": {}, "assessment": {"mrd": {**MRD, "level": 1.01}}},
            ("assessment", "mrd", "level"),
        ),
        (
            {"baseline": {}, "assessment": {"mrd": {**MRD, "level": -0.1}}},
            ("assessment", "mrd", "level"),
        ),
        (
            {"baseline": {}, "assessment": {"mrd": {**MRD, "sample": "csf"}}},
            ("assessment", "mrd", "sample"),
        ),
        (
            {
                "baseline": {},
                "assessment": {"mrd": {"result": "detectable", "sample": "blood", "method": "x"}},
            },
            ("assessment", "mrd", "sensitivity"),
        ),
        (
            {"baseline": {}, "assessment": {"mrd": {**MRD, "method": ""}}},
            ("assessment", "mrd", "method"),
        ),
    ],
)
def test_invalid_documents(document: dict[str, object], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        _parse(document)
    assert {tuple(e["loc"]) for e in exc.value.errors()} == {loc}


def test_contradictory_mrd_fails_in_to_domain_with_full_path() -> None:
    model = _parse({"baseline": {}, "assessment": {"mrd": {**MRD, "level": 0.01}}})
    with pytest.raises(ClinicalInputError) as exc:
        model.to_domain()
    assert exc.value.problems[0][0] == "assessment.mrd.level"


def test_detectable_at_level_1_is_accepted() -> None:
    doc = {"baseline": {}, "assessment": {"mrd": {**MRD, "result": "detectable", "level": 1}}}
    mrd = _parse(doc).to_domain().assessment.mrd
    assert mrd is not None and mrd.level == 1.0


def test_detectable_at_level_0_is_contradictory() -> None:
    doc = {"baseline": {}, "assessment": {"mrd": {**MRD, "result": "detectable", "level": 0}}}
    with pytest.raises(ClinicalInputError) as exc:
        _parse(doc).to_domain()
    assert exc.value.problems[0][0] == "assessment.mrd.level"
