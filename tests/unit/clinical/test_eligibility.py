"""Label eligibility (cli-contract.md `cartwatch eligibility`; clinical-standards.md §3B)."""

from __future__ import annotations

import datetime as dt

import pytest

from cartwatch.clinical.eligibility import EligibilityRequest, check_eligibility
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.labels import Diagnosis

D = dt.date
ELIGIBLE_LINES = (("ibrutinib",), ("venetoclax",))
AS_OF = D(2024, 6, 1)


def req(
    *,
    product: str = "liso-cel",
    diagnosis: Diagnosis = Diagnosis.CLL,
    age: float = 65,
    rr: bool = True,
    lines: tuple[tuple[str, ...], ...] = ELIGIBLE_LINES,
    as_of: dt.date = AS_OF,
) -> EligibilityRequest:
    return EligibilityRequest(product, diagnosis, age, rr, lines, as_of)


def test_to_dict_has_the_contract_keys() -> None:
    out = check_eligibility(req()).to_dict()
    for key in (
        "eligible",
        "label_version",
        "indication",
        "reasons",
        "prior_lines",
        "prior_btki",
        "prior_bcl2i",
        "standard",
    ):
        assert key in out
    assert out["eligible"] is True
    assert out["standard"] == out["label_version"] == "US PI 2024-03 (CLL/SLL approval, REMS)"
    assert out["prior_lines"] == 2
    assert out["prior_btki"] is True and out["prior_bcl2i"] is True
    assert isinstance(out["reasons"], list)


def test_passing_decision_lists_every_criterion_met() -> None:
    reasons = check_eligibility(req()).reasons
    joined = " | ".join(reasons)
    for fragment in ("age 65", "relapsed or refractory", "2 prior lines", "BTK", "BCL-2"):
        assert fragment in joined


@pytest.mark.parametrize(("age", "eligible"), [(17, False), (17.99, False), (18, True)])
def test_adult_cut_off(age: float, eligible: bool) -> None:
    result = check_eligibility(req(age=age))
    assert result.eligible is eligible
    if not eligible:
        assert result.reasons == (f"age {age:g} years < 18: label is for adults [S20][S21]",)


def test_not_relapsed_or_refractory() -> None:
    result = check_eligibility(req(rr=False))
    assert result.eligible is False
    assert len(result.reasons) == 1 and "relapsed or refractory" in result.reasons[0]


@pytest.mark.parametrize(
    ("lines", "eligible", "n"),
    [
        ((("ibrutinib", "venetoclax"),), False, 1),  # a combination is one line
        ((("ibrutinib", "venetoclax"), ("bendamustine", "rituximab")), True, 2),
        ((("ibrutinib",), ("venetoclax",)), True, 2),
        ((), False, 0),
    ],
)
def test_prior_line_count_cut_off(
    lines: tuple[tuple[str, ...], ...], eligible: bool, n: int
) -> None:
    result = check_eligibility(req(lines=lines))
    assert (result.eligible, result.prior_lines) == (eligible, n)


def test_missing_btki_and_bcl2i_each_get_a_reason() -> None:
    result = check_eligibility(req(lines=(("FCR",), ("bendamustine",))))
    assert result.eligible is False
    assert (result.prior_btki, result.prior_bcl2i) == (False, False)
    failed = [r for r in result.reasons if r.startswith("no prior")]
    assert len(failed) == 2


def test_every_failing_criterion_gets_its_own_reason() -> None:
    result = check_eligibility(req(age=16, rr=False, lines=(("chlorambucil",),)))
    failing = [r for r in result.reasons if not r.startswith("agents not in cartwatch's")]
    assert len(failing) == 5  # age, R/R, lines, BTKi, BCL-2i


def test_missing_bcl2i_only() -> None:
    result = check_eligibility(req(lines=(("ibrutinib",), ("acalabrutinib",))))
    assert result.eligible is False
    assert result.reasons == (
        "no prior BCL-2 inhibitor (venetoclax, sonrotoclax, lisaftoclax) [S20][S21]",
    )


def test_unknown_agents_are_allowed_and_named_once() -> None:
    result = check_eligibility(req(lines=(("ibrutinib", "Foo-mab"), ("venetoclax", "foo-mab x"))))
    assert result.eligible is True
    assert result.unknown_agents == ("Foo-mab", "foo-mab x")
    assert result.reasons[-1].endswith(": Foo-mab, foo-mab x")


def test_duplicate_unknown_agent_is_named_once() -> None:
    result = check_eligibility(req(lines=(("ibrutinib", "R"), ("venetoclax", "R"))))
    assert result.unknown_agents == ("R",)


@pytest.mark.parametrize(("as_of", "eligible"), [(D(2024, 3, 13), False), (D(2024, 3, 14), True)])
def test_approval_date_cut_off(as_of: dt.date, eligible: bool) -> None:
    result = check_eligibility(req(as_of=as_of))
    assert result.eligible is eligible
    if not eligible:
        assert "not approved for CLL/SLL before 2024-03-14" in result.reasons[0]
        assert result.label_version.startswith("none")


def test_sll_uses_the_cll_sll_indication() -> None:
    result = check_eligibility(req(diagnosis=Diagnosis.SLL))
    assert result.eligible is True
    assert result.indication_code == "CLL/SLL"


@pytest.mark.parametrize("diagnosis", [Diagnosis.LBCL, Diagnosis.FL, Diagnosis.MCL])
def test_unverified_indications_are_never_guessed(diagnosis: Diagnosis) -> None:
    result = check_eligibility(req(diagnosis=diagnosis))
    assert result.eligible is False
    assert result.reasons[0].startswith(
        f"rules for {diagnosis.value} are not verified in cartwatch's label data"
    )


@pytest.mark.parametrize(
    ("as_of", "reason_start"),
    [
        (D(2025, 11, 30), "no MZL indication in US PI 2025-06 (REMS removed)"),
        (D(2025, 12, 1), "rules for MZL are not verified in cartwatch's label data"),
    ],
)
def test_mzl_before_and_after_its_addition(as_of: dt.date, reason_start: str) -> None:
    result = check_eligibility(req(diagnosis=Diagnosis.MZL, as_of=as_of))
    assert result.eligible is False
    assert result.reasons[0].startswith(reason_start)


def test_label_version_follows_as_of() -> None:
    assert check_eligibility(req(as_of=D(2026, 3, 1))).label_version == (
        "US PI 2026-02 (AA statement removed, 1.3)"
    )


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"product": "tisa-cel"}, "product"),
        ({"age": -1}, "age_years"),
        ({"age": float("nan")}, "age_years"),
        ({"lines": (("ibrutinib",), ())}, "prior_lines[1].agents"),
        ({"lines": (("ibrutinib", " "),)}, "prior_lines[0].agents[1]"),
    ],
)
def test_contradictory_input_raises(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(ClinicalInputError) as exc:
        check_eligibility(req(**kwargs))  # type: ignore[arg-type]
    assert exc.value.problems[0][0] == path
