"""MRD categories (iwCLL 2018 uMRD4/5/6; 10⁻⁴ cut-off [S51][S52]; assay sensitivities from the
Leukemia 2021 consensus Table 3 [S53])."""

from __future__ import annotations

import pytest

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.iwcll import Mrd, MrdResultKind, MrdSample, MrdStatus, classify_mrd

U = MrdResultKind.UNDETECTABLE
D = MrdResultKind.DETECTABLE


@pytest.mark.parametrize(
    ("sensitivity", "status"),
    [
        (1e-3, MrdStatus.NOT_ASSESSED),
        (2e-4, MrdStatus.NOT_ASSESSED),
        (1e-4, MrdStatus.UMRD4),
        (5e-5, MrdStatus.UMRD4),
        (1e-5, MrdStatus.UMRD5),
        (5e-6, MrdStatus.UMRD5),
        (1e-6, MrdStatus.UMRD6),
        (1e-7, MrdStatus.UMRD6),
    ],
)
def test_undetectable_gets_the_best_category_its_sensitivity_supports(
    sensitivity: float, status: MrdStatus
) -> None:
    assert classify_mrd(Mrd(U, sensitivity, MrdSample.BLOOD, "NGS")).status is status


def test_undetectable_at_1e3_is_not_umrd_and_says_why() -> None:
    result = classify_mrd(Mrd(U, 1e-3, MrdSample.MARROW, "4-colour flow"))
    assert result.status is MrdStatus.NOT_ASSESSED
    assert any("not uMRD" in r and "0.001" in r for r in result.reasons)


def test_detectable_reports_its_level() -> None:
    result = classify_mrd(Mrd(D, 1e-4, MrdSample.BLOOD, "flow", level=3e-3))
    assert result.status is MrdStatus.DETECTABLE
    assert result.level == 3e-3
    assert "MRD detectable at level 0.003" in result.reasons


def test_detectable_whatever_the_sensitivity() -> None:
    assert classify_mrd(Mrd(D, 1e-6)).status is MrdStatus.DETECTABLE


def test_none_is_not_assessed() -> None:
    result = classify_mrd(None)
    assert result.status is MrdStatus.NOT_ASSESSED
    assert result.to_dict()["status"] == "not_assessed"


def test_result_carries_sample_method_sensitivity() -> None:
    d = classify_mrd(Mrd(U, 1e-6, MrdSample.MARROW, "clonoSEQ")).to_dict()
    assert (d["status"], d["sample"], d["method"], d["sensitivity"]) == (
        "uMRD6",
        "marrow",
        "clonoSEQ",
        1e-6,
    )


def test_sensitivity_better_than_the_method_reaches_is_flagged() -> None:
    result = classify_mrd(Mrd(U, 1e-6, MrdSample.BLOOD, "4-colour flow"))
    assert result.status is MrdStatus.UMRD6
    assert any("typical" in r and "[S53]" in r for r in result.reasons)


def test_sensitivity_matching_the_method_is_not_flagged() -> None:
    result = classify_mrd(Mrd(U, 1e-4, MrdSample.BLOOD, "4-colour flow"))
    assert not any("typical" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"result": U}, "sensitivity"),
        ({"result": U, "sensitivity": 1e-4, "level": 1e-3}, "level"),
        ({"result": D, "sensitivity": 1e-4, "level": 0.0}, "level"),
        ({"result": D, "sensitivity": 0.0}, "sensitivity"),
        ({"result": D, "sensitivity": 1.0}, "sensitivity"),
        ({"result": D, "sensitivity": 1e-4, "level": 1.5}, "level"),
    ],
)
def test_contradictory_or_out_of_range_mrd_is_an_error(
    kwargs: dict[str, object], path: str
) -> None:
    with pytest.raises(ClinicalInputError) as err:
        Mrd(**kwargs)  # type: ignore[arg-type]
    assert err.value.problems[0][0] == path


def test_undetectable_with_level_zero_is_accepted() -> None:
    assert classify_mrd(Mrd(U, 1e-5, level=0.0)).status is MrdStatus.UMRD5
