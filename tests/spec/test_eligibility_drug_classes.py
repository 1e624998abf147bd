"""Contract v2 item 5 (cli-contract.md; issue 10 item 5): eligibility counts drug classes.

The liso-cel CLL/SLL indication asks for prior "BTK inhibitor" and "BCL-2 inhibitor"
therapy [S21][S20]. The agents of each class are data with sources
(clinical/drug_classes.py); an agent may also come with a declared class, which is used and
named in the reasons; an unknown name without a class is not counted and is named; the
output lists the classes of each prior line. Each case is one line of that rule.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Any

import pytest

from cartwatch.clinical.drug_classes import AGENTS, DrugClass
from cartwatch.clinical.eligibility import (
    DeclaredAgent,
    EligibilityRequest,
    PriorAgent,
    check_eligibility,
)
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.labels import Diagnosis

AS_OF = dt.date(2025, 1, 15)


def check(*lines: tuple[PriorAgent, ...]) -> Any:
    return check_eligibility(EligibilityRequest("liso-cel", Diagnosis.CLL, 64, True, lines, AS_OF))


def test_orelabrutinib_and_venetoclax_is_eligible_like_ibrutinib_and_venetoclax() -> None:
    """The reviewer's case: 'not eligible' before v2."""
    reference = check(("ibrutinib",), ("venetoclax",))
    result = check(("orelabrutinib",), ("venetoclax",))
    assert reference.eligible and result.eligible
    assert result.classes == (("BTK inhibitor",), ("BCL-2 inhibitor",))
    assert result.unknown_agents == ()


@pytest.mark.parametrize(
    "agent",
    [a for a in AGENTS if a.drug_class is DrugClass.BTK_INHIBITOR],
    ids=lambda a: a.generic,
)
def test_every_btk_inhibitor_covalent_or_not_counts(agent: Any) -> None:
    for name in agent.names:
        assert check((name,), ("venetoclax",)).eligible, name


@pytest.mark.parametrize(
    "agent",
    [a for a in AGENTS if a.drug_class is DrugClass.BCL2_INHIBITOR],
    ids=lambda a: a.generic,
)
def test_every_bcl2_inhibitor_counts(agent: Any) -> None:
    for name in agent.names:
        assert check(("zanubrutinib",), (name,)).eligible, name


def test_brand_names_and_codes_count() -> None:
    assert check(("Hibruka",), ("Venclyxto",)).eligible
    assert check(("ARQ 531",), ("BGB-11417",)).eligible  # nemtabrutinib, sonrotoclax


def test_a_declared_class_is_used_and_the_reasons_say_it_was_declared() -> None:
    result = check((DeclaredAgent("newbrutinib", DrugClass.BTK_INHIBITOR),), ("venetoclax",))
    assert result.eligible
    assert (
        "prior line 1: newbrutinib counted as BTK inhibitor, as declared in the input "
        "(not in cartwatch's agent table)"
    ) in result.reasons
    assert result.unknown_agents == ()


def test_an_unknown_name_without_a_class_is_not_counted_and_is_named() -> None:
    result = check(("newbrutinib",), ("venetoclax",))
    assert not result.eligible
    assert result.unknown_agents == ("newbrutinib",)
    assert any("not counted" in r and r.endswith(": newbrutinib") for r in result.reasons)
    assert result.classes == ((), ("BCL-2 inhibitor",))


def test_other_is_a_class_that_counts_for_nothing_but_is_listed() -> None:
    result = check((DeclaredAgent("bendamustine", DrugClass.OTHER), "ibrutinib"), ("venetoclax",))
    assert result.eligible
    assert result.classes == (("BTK inhibitor", "other"), ("BCL-2 inhibitor",))


def test_a_combination_line_lists_both_classes_once() -> None:
    result = check(("ibrutinib", "venetoclax", "Imbruvica"), ("rituximab",))
    assert result.eligible
    assert result.classes == (("BCL-2 inhibitor", "BTK inhibitor"), ())


def test_a_declared_class_that_contradicts_the_table_is_refused() -> None:
    with pytest.raises(ClinicalInputError) as caught:
        check((DeclaredAgent("ibrutinib", DrugClass.BCL2_INHIBITOR),), ("venetoclax",))
    [(path, message)] = caught.value.problems
    assert path == "prior_lines[0].agents[0].class"
    assert message.startswith("ibrutinib is a BTK inhibitor")


def test_a_declared_class_that_agrees_with_the_table_is_not_called_declared() -> None:
    result = check((DeclaredAgent("ibrutinib", DrugClass.BTK_INHIBITOR),), ("venetoclax",))
    assert result.eligible and not any("as declared" in r for r in result.reasons)


# --- the JSON command ----------------------------------------------------------------------


def _run(doc: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", "eligibility", "-"],
        input=json.dumps(doc),
        capture_output=True,
        text=True,
        check=False,
    )


DOC = {
    "product": "liso-cel",
    "diagnosis": "CLL",
    "age_years": 64,
    "relapsed_or_refractory": True,
    "as_of": "2025-01-15",
}


def test_cli_takes_declared_agents_and_prints_classes_per_line() -> None:
    lines = [{"agents": [{"name": "newbrutinib", "class": "BTK inhibitor"}]},
             {"agents": ["venetoclax", "rituximab"]}]  # fmt: skip
    run = _run({**DOC, "prior_lines": lines})
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["eligible"] is True
    assert out["classes"] == [["BTK inhibitor"], ["BCL-2 inhibitor"]]
    assert out["unknown_agents"] == ["rituximab"]


@pytest.mark.parametrize(
    ("agent", "line"),
    [
        ({"name": "x", "class": "BTK"}, "prior_lines[0].agents[0].class: "),
        ({"name": "x"}, "prior_lines[0].agents[0].class: "),
        ({"name": "x", "class": "other", "dose": 1}, "prior_lines[0].agents[0].dose: "),
        ({"name": "ibrutinib", "class": "BCL-2 inhibitor"}, "prior_lines[0].agents[0].class: "),
    ],
    ids=["unknown-class", "no-class", "unknown-field", "contradiction"],
)
def test_cli_bad_agent_is_exit_2_with_the_path(agent: dict[str, Any], line: str) -> None:
    run = _run({**DOC, "prior_lines": [{"agents": [agent]}, {"agents": ["venetoclax"]}]})
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(line), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
