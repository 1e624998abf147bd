"""Input model for ``cartwatch eligibility`` (cli-contract.md, section ``cartwatch eligibility``).

Validation only: the label rules live in ``cartwatch.clinical.eligibility`` and
``cartwatch.clinical.labels`` (US Breyanzi PI versions, clinical-standards.md §3B).
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StringConstraints,
    Tag,
    field_validator,
)

from cartwatch.clinical.drug_classes import DrugClass
from cartwatch.clinical.eligibility import DeclaredAgent, EligibilityRequest, PriorAgent
from cartwatch.clinical.labels import PRODUCT_NAMES, Diagnosis, normalise_product
from cartwatch.schemas.dates import PlannedDateCheck, RecordDateCheck
from cartwatch.schemas.text import single_line

__all__ = [
    "DeclaredAgentIn",
    "EligibilityIn",
    "IsoDate",
    "PlannedDate",
    "PriorLineIn",
    "ProductName",
    "parse_iso_date",
]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_iso_date(value: object) -> object:
    """Accept ``YYYY-MM-DD`` strings and plain dates only.

    Pydantic's lax date parsing would also take Unix timestamps and midnight date-times;
    a label decision on a misread date is worse than an error.
    """
    if isinstance(value, datetime.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date-time")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not a valid date: {value!r}") from exc
    raise ValueError(f"must be a date as YYYY-MM-DD, got {value!r}")


#: A record date as ``YYYY-MM-DD``: plausible (years 1900–2100, not in the future; contract
#: v2 item 7, :func:`cartwatch.schemas.dates.check_plausible_date`).
IsoDate = Annotated[datetime.date, BeforeValidator(parse_iso_date), RecordDateCheck]
#: A date as ``YYYY-MM-DD`` that may lie ahead (a planned infusion, a decision date): years
#: 1900–2100 only.
PlannedDate = Annotated[datetime.date, BeforeValidator(parse_iso_date), PlannedDateCheck]


def _product(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError(f"must be a product name, got {value!r}")
    canonical = normalise_product(value)
    if canonical is None:
        known = ", ".join(PRODUCT_NAMES)
        raise ValueError(f"unknown product {value!r}; known (case-insensitive): {known}")
    return canonical


#: A known product alias, normalised to its canonical code (``liso-cel``).
ProductName = Annotated[str, BeforeValidator(_product)]

#: An agent name is a drug name: 100 characters hold any generic or brand name.
AgentName = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(single_line),
]
#: Limits from clinical sense: a line combines a few agents; nobody has 50 prior lines.
MAX_AGENTS_PER_LINE = 10
MAX_PRIOR_LINES = 50


class DeclaredAgentIn(BaseModel):
    """``{"name": "...", "class": "BTK inhibitor"|"BCL-2 inhibitor"|"other"}`` (contract v2
    item 5): an agent with its class, used as declared when the agent table lacks the name."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    name: AgentName
    drug_class: DrugClass = Field(alias="class")

    def to_domain(self) -> DeclaredAgent:
        return DeclaredAgent(self.name, self.drug_class)


def _agent_form(value: Any) -> str:
    # Tags are capitalised so the error paths leave them out (schemas/errors.py): a bad
    # declared class reads ``prior_lines[0].agents[0].class``, with no second error about
    # the agent not being a string.
    return "Declared" if isinstance(value, dict | DeclaredAgentIn) else "Name"


#: An agent of a prior line: its name, or the name with a declared class.
PriorAgentIn = Annotated[
    Annotated[AgentName, Tag("Name")] | Annotated[DeclaredAgentIn, Tag("Declared")],
    Discriminator(_agent_form),
]


class PriorLineIn(BaseModel):
    """One prior line of therapy: the agents given together (a combination is one line)."""

    model_config = ConfigDict(extra="forbid")

    agents: list[PriorAgentIn] = Field(min_length=1, max_length=MAX_AGENTS_PER_LINE)

    def to_domain(self) -> tuple[PriorAgent, ...]:
        return tuple(a if isinstance(a, str) else a.to_domain() for a in self.agents)


class EligibilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: ProductName
    diagnosis: Diagnosis
    age_years: Annotated[float, Field(ge=0, le=120, strict=True, allow_inf_nan=False)]
    relapsed_or_refractory: StrictBool
    prior_lines: list[PriorLineIn] = Field(max_length=MAX_PRIOR_LINES)
    # The decision date picks the label version in force; asking about a coming date is fine.
    as_of: PlannedDate = Field(default_factory=datetime.date.today)

    @field_validator("diagnosis", mode="before")
    @classmethod
    def _diagnosis_case_insensitive(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    def to_domain(self) -> EligibilityRequest:
        return EligibilityRequest(
            product=self.product,
            diagnosis=self.diagnosis,
            age_years=self.age_years,
            relapsed_or_refractory=self.relapsed_or_refractory,
            prior_lines=tuple(line.to_domain() for line in self.prior_lines),
            as_of=self.as_of,
        )
