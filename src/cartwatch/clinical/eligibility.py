"""On-label eligibility for liso-cel (Breyanzi) against the US label version in force.

Label data and their sources live in ``cartwatch.clinical.labels`` (clinical-standards.md §3B,
[S20][S21] for the CLL/SLL indication, [S29] for later revisions). The output follows
cli-contract.md, section ``cartwatch eligibility``.

CLL/SLL (approved 2024-03-14 [S20][S21]): adult, relapsed or refractory, at least 2 prior
lines, among them at least one BTK inhibitor and at least one BCL-2 inhibitor, in the same
line or in different lines; a combination counts as one line. Any other agent is allowed and
is named in the reasons. For an indication whose rules the reference does not verify, the
answer is "not eligible: rules not verified", never a guess.

This checks the label only. It does not replace the treating team's assessment (organ
function, performance status, active CNS disease etc. are not label criteria here).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.labels import (
    ADULT_AGE_YEARS,
    AGENTS,
    LABEL_VERSIONS,
    Diagnosis,
    DrugClass,
    Indication,
    IndicationRules,
    LabelVersion,
    classify_agent,
    first_label_date,
    label_in_force,
    normalise_product,
)


@dataclass(frozen=True)
class DeclaredAgent:
    """An agent given with its class (contract v2 item 5): the class is used as declared
    (and the reasons say so) when the agent table does not know the name."""

    name: str
    drug_class: DrugClass


#: One agent of a prior line: a name looked up in the agent table, or a declared class.
PriorAgent = str | DeclaredAgent


@dataclass(frozen=True)
class EligibilityRequest:
    """One patient's label-relevant facts on ``as_of``.

    ``prior_lines`` has one tuple per line of therapy, each the agents given together in it
    (a combination is one line).
    """

    product: str
    diagnosis: Diagnosis
    age_years: float
    relapsed_or_refractory: bool
    prior_lines: tuple[tuple[PriorAgent, ...], ...]
    as_of: datetime.date


@dataclass(frozen=True)
class EligibilityResult:
    eligible: bool
    label_version: str
    indication: str
    indication_code: str | None
    reasons: tuple[str, ...]
    prior_lines: int
    prior_btki: bool
    prior_bcl2i: bool
    unknown_agents: tuple[str, ...]
    standard: str
    #: Per prior line, the classes it counted (sorted): contract v2 item 5.
    classes: tuple[tuple[str, ...], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "eligible": self.eligible,
            "label_version": self.label_version,
            "indication": self.indication,
            "indication_code": self.indication_code,
            "reasons": list(self.reasons),
            "prior_lines": self.prior_lines,
            "prior_btki": self.prior_btki,
            "prior_bcl2i": self.prior_bcl2i,
            "unknown_agents": list(self.unknown_agents),
            "standard": self.standard,
            "classes": [list(line) for line in self.classes],
        }


@dataclass(frozen=True)
class _PriorTherapy:
    lines: int
    classes: frozenset[DrugClass]
    unknown_agents: tuple[str, ...]
    per_line: tuple[tuple[str, ...], ...] = ()
    declared: tuple[str, ...] = ()  # one reason per agent whose class was declared


def _class_label(drug_class: DrugClass) -> str:
    """``BTK inhibitor (ibrutinib, acalabrutinib, …)`` from the agent table
    (clinical/drug_classes.py)."""
    names = ", ".join(a.generic for a in AGENTS if a.drug_class is drug_class)
    return f"{drug_class.value} ({names})"


def _validate(req: EligibilityRequest) -> None:
    problems: list[tuple[str, str]] = []
    if normalise_product(req.product) is None:
        problems.append(("product", f"unknown product {req.product!r}"))
    if not math.isfinite(req.age_years) or req.age_years < 0:
        problems.append(("age_years", f"must be a non-negative number, got {req.age_years!r}"))
    for i, line in enumerate(req.prior_lines):
        if not line:
            problems.append((f"prior_lines[{i}].agents", "a line of therapy needs an agent"))
        for j, entry in enumerate(line):
            path = f"prior_lines[{i}].agents[{j}]"
            name = _name(entry)
            if not name.strip():
                problems.append((path if isinstance(entry, str) else f"{path}.name",
                                 "agent name is empty"))  # fmt: skip
                continue
            known = classify_agent(name)
            if isinstance(entry, DeclaredAgent) and known and known.drug_class != entry.drug_class:
                # A contradiction is refused, not resolved by guessing which side is wrong.
                problems.append(
                    (f"{path}.class", f"{known.generic} is a {known.drug_class.value} "
                     f"({known.source}), not {entry.drug_class.value!r}")
                )  # fmt: skip
    if problems:
        raise ClinicalInputError(problems)


def _name(entry: PriorAgent) -> str:
    return entry if isinstance(entry, str) else entry.name


def _agent_class(entry: PriorAgent) -> tuple[DrugClass | None, bool]:
    """The agent's class and whether it was declared (None: unknown, not counted)."""
    known = classify_agent(_name(entry))
    if known is not None:
        return known.drug_class, False
    if isinstance(entry, DeclaredAgent):
        return entry.drug_class, True
    return None, False


def _summarise_prior(lines: Sequence[Sequence[PriorAgent]]) -> _PriorTherapy:
    classes: set[DrugClass] = set()
    unknown: list[str] = []
    per_line: list[tuple[str, ...]] = []
    declared: list[str] = []
    for i, line in enumerate(lines):
        in_line: set[DrugClass] = set()
        for entry in line:
            name = _name(entry).strip()
            drug_class, was_declared = _agent_class(entry)
            if drug_class is None:
                if name not in unknown:
                    unknown.append(name)
                continue
            in_line.add(drug_class)
            if was_declared:
                declared.append(
                    f"prior line {i + 1}: {name} counted as {drug_class.value}, as declared in "
                    "the input (not in cartwatch's agent table)"
                )
        classes |= in_line
        per_line.append(tuple(sorted(c.value for c in in_line)))
    return _PriorTherapy(
        len(lines), frozenset(classes), tuple(unknown), tuple(per_line), tuple(declared)
    )


def _rule_reasons(
    rules: IndicationRules, req: EligibilityRequest, prior: _PriorTherapy, cite: str
) -> tuple[list[str], list[str]]:
    """(criteria met, criteria failed), one reason each, naming the observed value."""
    met: list[str] = []
    failed: list[str] = []
    if rules.adults_only:
        ok = req.age_years >= ADULT_AGE_YEARS
        (met if ok else failed).append(
            f"age {req.age_years:g} years {'≥' if ok else '<'} {ADULT_AGE_YEARS}: label is "
            f"for adults {cite}"
        )
    if rules.requires_relapsed_or_refractory:
        if req.relapsed_or_refractory:
            met.append(f"relapsed or refractory disease {cite}")
        else:
            failed.append(
                f"relapsed_or_refractory is false: label requires relapsed or refractory "
                f"disease {cite}"
            )
    ok = prior.lines >= rules.min_prior_lines
    (met if ok else failed).append(
        f"{prior.lines} prior line{'s' if prior.lines != 1 else ''} "
        f"{'≥' if ok else '<'} {rules.min_prior_lines} required {cite}"
    )
    for drug_class in rules.required_classes:
        ok = drug_class in prior.classes
        (met if ok else failed).append(
            f"{'prior' if ok else 'no prior'} {_class_label(drug_class)} {cite}"
        )
    return met, failed


def _not_eligible(
    reasons: Sequence[str],
    version: str,
    indication: str,
    prior: _PriorTherapy,
    indication_code: str | None = None,
) -> EligibilityResult:
    return _result(False, list(reasons), version, indication, prior, indication_code)


def _result(
    eligible: bool,
    reasons: list[str],
    version: str,
    indication: str,
    prior: _PriorTherapy,
    indication_code: str | None,
) -> EligibilityResult:
    reasons.extend(prior.declared)
    if prior.unknown_agents:
        reasons.append(
            "agents not in cartwatch's agent table and given without a class, so not counted "
            "as BTK or BCL-2 inhibitors (their lines still count; declare a class to count "
            "them): " + ", ".join(prior.unknown_agents)
        )
    return EligibilityResult(
        eligible=eligible,
        label_version=version,
        indication=indication,
        indication_code=indication_code,
        reasons=tuple(reasons),
        prior_lines=prior.lines,
        prior_btki=DrugClass.BTK_INHIBITOR in prior.classes,
        prior_bcl2i=DrugClass.BCL2_INHIBITOR in prior.classes,
        unknown_agents=prior.unknown_agents,
        standard=version,
        classes=prior.per_line,
    )


def _check_indication(
    version: LabelVersion, indication: Indication, req: EligibilityRequest, prior: _PriorTherapy
) -> EligibilityResult:
    cite = "".join(indication.sources)
    if indication.rules is None or not indication.verified:
        return _not_eligible(
            [
                f"rules for {indication.code} are not verified in cartwatch's label data "
                f"({indication.note})"
            ],
            version.version,
            indication.label_text,
            prior,
            indication.code,
        )
    met, failed = _rule_reasons(indication.rules, req, prior, cite)
    since = indication.effective_from.isoformat() if indication.effective_from else "?"
    header = f"{indication.code} indication of {version.version}, on label since {since} {cite}"
    if failed:
        return _not_eligible(failed, version.version, indication.label_text, prior, indication.code)
    return _result(
        True, [header, *met], version.version, indication.label_text, prior, indication.code
    )


def _no_indication_reason(version: LabelVersion, req: EligibilityRequest) -> str:
    reason = (
        f"no {req.diagnosis.value} indication in {version.version}, the label in force on "
        f"{req.as_of.isoformat()}"
    )
    later = next(
        (
            v
            for v in LABEL_VERSIONS
            if v.effective_from > req.as_of and v.indication_for(req.diagnosis) is not None
        ),
        None,
    )
    if later is not None:
        reason += (
            f"; first listed in {later.version} from {later.effective_from.isoformat()} "
            f"{later.effective_from_source.cite()}"
        )
    return reason


def check_eligibility(req: EligibilityRequest) -> EligibilityResult:
    """Decide on-label eligibility against the label version in force on ``req.as_of``.

    Raises ClinicalInputError for an unknown product, a negative age or an empty line/agent.
    A diagnosis without an indication, a date before approval or an unverified indication
    give ``eligible=False`` with the reason, not an error.
    """
    _validate(req)
    prior = _summarise_prior(req.prior_lines)
    first = first_label_date(req.product)
    if req.as_of < first:
        # [S20][S21]: liso-cel was approved for CLL/SLL on 2024-03-14; cartwatch holds no
        # label version before that date, so nothing can be on-label then.
        return _not_eligible(
            [
                f"as_of {req.as_of.isoformat()} is before {first.isoformat()}: liso-cel was "
                f"not approved for CLL/SLL before {first.isoformat()} [S20][S21]; earlier "
                "label versions are not held by cartwatch"
            ],
            f"none: cartwatch's label data start at {first.isoformat()}",
            f"none on {req.as_of.isoformat()}",
            prior,
        )
    version = label_in_force(req.product, req.as_of, date_field="as_of")
    indication = version.indication_for(req.diagnosis)
    if indication is None:
        return _not_eligible(
            [_no_indication_reason(version, req)],
            version.version,
            f"none for {req.diagnosis.value}",
            prior,
        )
    return _check_indication(version, indication, req, prior)
