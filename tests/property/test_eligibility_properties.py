"""Properties of label eligibility (cli-contract.md `cartwatch eligibility`, §3B [S21])."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cartwatch.clinical.eligibility import DeclaredAgent, EligibilityRequest, check_eligibility
from cartwatch.clinical.labels import AGENTS, Diagnosis, DrugClass

KNOWN = [name for a in AGENTS for name in a.names]
OTHER = ["rituximab", "obinutuzumab", "bendamustine", "chlorambucil", "idelalisib", "FCR"]

agent = st.sampled_from(KNOWN + OTHER)
line = st.lists(agent, min_size=1, max_size=3).map(tuple)
lines = st.lists(line, max_size=5).map(tuple)
dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31))
diagnoses = st.sampled_from(list(Diagnosis))
ages = st.floats(min_value=0, max_value=120, allow_nan=False)


def _request(
    diagnosis: Diagnosis,
    age: float,
    rr: bool,
    prior: tuple[tuple[str, ...], ...],
    as_of: dt.date,
) -> EligibilityRequest:
    return EligibilityRequest("liso-cel", diagnosis, age, rr, prior, as_of)


def _canonical(name: str) -> str:
    for a in AGENTS:
        if name in a.names:
            return a.generic
    return name


@given(diagnoses, ages, st.booleans(), lines, line, dates)
def test_adding_a_prior_line_never_makes_a_patient_ineligible(
    diagnosis: Diagnosis,
    age: float,
    rr: bool,
    prior: tuple[tuple[str, ...], ...],
    extra: tuple[str, ...],
    as_of: dt.date,
) -> None:
    before = check_eligibility(_request(diagnosis, age, rr, prior, as_of))
    after = check_eligibility(_request(diagnosis, age, rr, (*prior, extra), as_of))
    if before.eligible:
        assert after.eligible


@given(diagnoses, ages, st.booleans(), lines, dates, st.data())
def test_brand_generic_and_case_never_change_the_decision(
    diagnosis: Diagnosis,
    age: float,
    rr: bool,
    prior: tuple[tuple[str, ...], ...],
    as_of: dt.date,
    data: st.DataObject,
) -> None:
    def respell(name: str) -> str:
        generic = _canonical(name)
        spellings = [n for a in AGENTS if a.generic == generic for n in a.names] or [name]
        chosen = data.draw(st.sampled_from(spellings))
        return data.draw(st.sampled_from([chosen, chosen.upper(), chosen.lower()]))

    respelt = tuple(tuple(respell(n) for n in ln) for ln in prior)
    a = check_eligibility(_request(diagnosis, age, rr, prior, as_of))
    b = check_eligibility(_request(diagnosis, age, rr, respelt, as_of))
    assert (a.eligible, a.prior_lines, a.prior_btki, a.prior_bcl2i) == (
        b.eligible,
        b.prior_lines,
        b.prior_btki,
        b.prior_bcl2i,
    )


@given(ages, st.booleans(), lines, dates)
def test_cll_decision_matches_the_label_rule(
    age: float, rr: bool, prior: tuple[tuple[str, ...], ...], as_of: dt.date
) -> None:
    result = check_eligibility(_request(Diagnosis.CLL, age, rr, prior, as_of))
    # Contract v2 item 5: the label's classes, from the agent table (with its sources).
    names = {_canonical(n) for ln in prior for n in ln}
    btki = bool(names & {a.generic for a in AGENTS if a.drug_class is DrugClass.BTK_INHIBITOR})
    bcl2i = bool(names & {a.generic for a in AGENTS if a.drug_class is DrugClass.BCL2_INHIBITOR})
    expected = (
        as_of >= dt.date(2024, 3, 14) and age >= 18 and rr and len(prior) >= 2 and btki and bcl2i
    )
    assert result.eligible is expected
    assert (result.prior_btki, result.prior_bcl2i, result.prior_lines) == (btki, bcl2i, len(prior))


@given(diagnoses, ages, st.booleans(), lines, dates)
def test_only_cll_and_sll_can_be_eligible(
    diagnosis: Diagnosis, age: float, rr: bool, prior: tuple[tuple[str, ...], ...], as_of: dt.date
) -> None:
    result = check_eligibility(_request(diagnosis, age, rr, prior, as_of))
    if diagnosis not in (Diagnosis.CLL, Diagnosis.SLL):
        assert result.eligible is False
    assert result.reasons


def _same_class_names(drug_class: DrugClass) -> list[str]:
    return [n for a in AGENTS if a.drug_class is drug_class for n in a.names]


@given(ages, st.booleans(), lines, dates, st.data())
def test_any_agent_of_a_class_counts_as_any_other(
    age: float, rr: bool, prior: tuple[tuple[str, ...], ...], as_of: dt.date, data: st.DataObject
) -> None:
    """Contract v2 item 5: eligibility counts classes. Swapping each classed agent for another
    agent of its class (orelabrutinib for ibrutinib, lisaftoclax for venetoclax…), or for an
    unknown name with that class declared, never changes the decision or the classes."""

    def swap(name: str) -> str | DeclaredAgent:
        known = next((a for a in AGENTS if name in a.names), None)
        if known is None:
            return name
        if data.draw(st.booleans()):
            return DeclaredAgent(f"investigational-{known.generic}", known.drug_class)
        return data.draw(st.sampled_from(_same_class_names(known.drug_class)))

    swapped = tuple(tuple(swap(n) for n in ln) for ln in prior)
    a = check_eligibility(_request(Diagnosis.CLL, age, rr, prior, as_of))
    b = check_eligibility(_request(Diagnosis.CLL, age, rr, swapped, as_of))  # type: ignore[arg-type]
    assert (a.eligible, a.prior_btki, a.prior_bcl2i, a.classes) == (
        b.eligible,
        b.prior_btki,
        b.prior_bcl2i,
        b.classes,
    )
