"""Input models of the research commands (research-contract.md), strict and closed.

Unknown fields are errors (``extra="forbid"``), numbers reject strings and booleans. A
relation between fields that the types cannot state (p1 > p0, power > alpha) is listed by
the model's ``relation_problems()``; :func:`parse` raises them as
:class:`~cartwatch.clinical.errors.ClinicalInputError` with each field path (pydantic would
fold an error raised inside a validator into the model's own path), so the CLI prints
``field.path: problem`` lines and exits 2.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cartwatch.clinical.errors import ClinicalInputError

__all__ = [
    "LATENCIES",
    "MAX_REPLICATES",
    "MAX_SUBJECTS",
    "AnalysisIn",
    "ArmIn",
    "ArmsIn",
    "SimulateSurvivalIn",
    "SingleArmIn",
    "SurvivalDesignIn",
    "SweepIn",
    "parse",
]

#: Upper limits that keep one run within minutes on a laptop (10⁶ replicates of 217
#: patients take ~2 min here); larger runs belong in a sweep over a cluster.
MAX_REPLICATES = 1_000_000
MAX_SUBJECTS = 20_000

#: Latency distributions of ``fit cure`` (:mod:`cartwatch.research.cure`).
LATENCIES: tuple[str, ...] = ("weibull", "exponential", "lognormal")

Probability = Annotated[float, Field(gt=0, lt=1, strict=True, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, le=1e6, strict=True, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, le=1e6, strict=True, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, lt=1, strict=True, allow_inf_nan=False)]
Sided = Literal[1, 2]


Problems = list[tuple[str, str]]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def relation_problems(self) -> Problems:
        """(field path, problem) for each relation between fields that does not hold."""
        return []


Model = TypeVar("Model", bound=_Closed)


def parse(model: type[Model], data: object) -> Model:
    """*data* validated as *model*; ValidationError or ClinicalInputError when it is not."""
    value = model.model_validate(data)
    problems = value.relation_problems()
    if problems:
        raise ClinicalInputError(problems)
    return value


def _power_above_alpha(alpha: float, power: float) -> Problems:
    if power <= alpha:
        return [("power", f"must exceed alpha ({alpha:g}), got {power:g}")]
    return []


class SingleArmIn(_Closed):
    """``cartwatch design single-arm``."""

    p0: Probability
    p1: Probability
    alpha: Probability
    power: Probability
    design: Literal["exact", "simon"]
    n_max: Annotated[int, Field(ge=2, le=1000, strict=True)] = 150

    def relation_problems(self) -> Problems:
        problems = _power_above_alpha(self.alpha, self.power)
        if self.p1 <= self.p0:
            problems.insert(0, ("p1", f"must exceed p0 ({self.p0:g}), got {self.p1:g}"))
        return problems


class SurvivalDesignIn(_Closed):
    """``cartwatch design survival`` (two arms, log-rank, exponential)."""

    hazard_ratio: Positive
    alpha: Probability
    sided: Sided = 1
    power: Probability
    allocation_ratio: Positive = 1.0
    method: Literal["schoenfeld", "freedman"] = "schoenfeld"
    control_median_months: Positive
    accrual_months: Positive
    follow_up_months: NonNegative
    dropout_rate: Fraction = 0.0
    dropout_months: Positive = 12.0

    def relation_problems(self) -> Problems:
        problems = _power_above_alpha(self.alpha / self.sided, self.power)
        if self.hazard_ratio == 1:
            problems.insert(0, ("hazard_ratio", "must differ from 1 (no effect)"))
        return problems


class ArmIn(_Closed):
    """One arm: a cure fraction that never has the event, exponential times for the rest."""

    cure_fraction: Fraction
    median_months: Positive


class ArmsIn(_Closed):
    control: ArmIn
    treatment: ArmIn


class AnalysisIn(_Closed):
    """The data cut: after ``events`` events in total, or at calendar ``month``."""

    events: Annotated[int, Field(ge=1, le=MAX_SUBJECTS, strict=True)] | None = None
    month: Positive | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AnalysisIn:
        if (self.events is None) == (self.month is None):
            raise ValueError("give exactly one of events or month")
        return self


TestName = Literal["logrank", "rmst", "milestone"]


class SimulateSurvivalIn(_Closed):
    """``cartwatch simulate survival`` (two arms, cure fraction)."""

    replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES, strict=True)]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1, strict=True)]
    subjects: Annotated[int, Field(ge=2, le=MAX_SUBJECTS, strict=True)]
    allocation_ratio: Positive = 1.0
    accrual_months: Positive
    analysis: AnalysisIn
    arms: ArmsIn
    dropout_rate: Fraction = 0.0
    dropout_months: Positive = 12.0
    alpha: Probability
    sided: Sided = 1
    tests: Annotated[list[TestName], Field(min_length=1)] = ["logrank", "rmst", "milestone"]
    tau_months: Positive | None = None
    milestone_months: Positive | None = None

    def relation_problems(self) -> Problems:
        problems: Problems = []
        if self.analysis.events is not None and self.analysis.events > self.subjects:
            problems.append(
                (
                    "analysis.events",
                    f"must not exceed subjects ({self.subjects}), got {self.analysis.events}",
                )
            )
        seen: set[str] = set()
        for i, name in enumerate(self.tests):
            if name in seen:
                problems.append((f"tests[{i}]", f"{name!r} is listed twice"))
            seen.add(name)
        if "rmst" in self.tests and self.tau_months is None:
            problems.append(("tau_months", "required for the rmst test"))
        if "milestone" in self.tests and self.milestone_months is None:
            problems.append(("milestone_months", "required for the milestone test"))
        return problems


#: A grid value keeps its JSON type (an int stays an int: ``subjects`` must be whole).
Scalar = (
    Annotated[int, Field(strict=True)] | Annotated[float, Field(strict=True, allow_inf_nan=False)]
)


class SweepIn(_Closed):
    """``cartwatch simulate sweep``: ``base`` is a simulate-survival document; each grid key
    is the dotted path of one of its numeric fields (checked when the cells are built)."""

    base: dict[str, object]
    grid: Annotated[dict[str, Annotated[list[Scalar], Field(min_length=1)]], Field(min_length=1)]
    scheduler: Annotated[str, Field(min_length=1)] | None = None
    workers: Annotated[int, Field(ge=1, le=64, strict=True)] = 2
