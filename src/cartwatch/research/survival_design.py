"""Two-arm log-rank sample size with uniform accrual, follow-up and exponential dropout.

research-contract.md, ``cartwatch design survival``; the numbers equal rpact
``getSampleSizeSurvival`` (kMax 1) ``maxNumberOfEvents`` and ``maxNumberOfSubjects``
(goldens in tests/golden/data/research, with the R script that made them).

Events (allocation ratio a = treatment : control, z = z(1−α/sided) + z(power)):

* Schoenfeld (1981): D = z² (1 + a)² / (a · log(HR)²)
* Freedman (1982):   D = z² (1 + a·HR)² / (a · (1 − HR)²)

Subjects: N = D / P(event), where P(event) is the allocation-weighted probability that a
patient has an event before the analysis, for exponential event hazard λ (λ₂ = log 2 /
control median, λ₁ = HR·λ₂), exponential dropout hazard φ = −log(1 − dropout_rate) /
dropout_months (a competing risk, both arms), uniform entry over accrual time A and
analysis F months after the last patient:

    P_i = λ_i/(λ_i+φ) · [1 − (e^{−(λ_i+φ)F} − e^{−(λ_i+φ)(A+F)}) / ((λ_i+φ)·A)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy.stats import norm

__all__ = ["SurvivalDesign", "event_probability", "required_events", "survival_design"]

Method = Literal["schoenfeld", "freedman"]

METHOD_NAMES: dict[str, str] = {
    "schoenfeld": "Schoenfeld (1981) log-rank events; rpact getSampleSizeSurvival",
    "freedman": "Freedman (1982) log-rank events; rpact getSampleSizeSurvival",
}


@dataclass(frozen=True)
class SurvivalDesign:
    events: float
    subjects: float
    analysis_month: float
    event_probability: float
    method: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "events": self.events,
            "events_ceil": math.ceil(self.events - 1e-9),
            "subjects": self.subjects,
            "subjects_ceil": math.ceil(self.subjects - 1e-9),
            "analysis_month": self.analysis_month,
            "event_probability": self.event_probability,
            "method": self.method,
            "reasons": list(self.reasons),
        }


def required_events(
    hazard_ratio: float, alpha: float, sided: int, power: float, allocation: float, method: Method
) -> float:
    """The number of events for the log-rank test (unrounded)."""
    z = float(norm.ppf(1.0 - alpha / sided) + norm.ppf(power))
    if method == "schoenfeld":
        return z**2 * (1.0 + allocation) ** 2 / (allocation * math.log(hazard_ratio) ** 2)
    return z**2 * (1.0 + allocation * hazard_ratio) ** 2 / (allocation * (1.0 - hazard_ratio) ** 2)


def dropout_hazard(dropout_rate: float, dropout_months: float) -> float:
    """Exponential dropout hazard with P(dropout by *dropout_months*) = *dropout_rate*."""
    return -math.log1p(-dropout_rate) / dropout_months


def event_probability(hazard: float, dropout: float, accrual: float, follow_up: float) -> float:
    """P(event observed by the analysis) under uniform entry over *accrual* months."""
    total = hazard + dropout
    window = math.exp(-total * follow_up) - math.exp(-total * (accrual + follow_up))
    return hazard / total * (1.0 - window / (total * accrual))


def survival_design(
    *,
    hazard_ratio: float,
    alpha: float,
    sided: int,
    power: float,
    allocation_ratio: float,
    method: Method,
    control_median_months: float,
    accrual_months: float,
    follow_up_months: float,
    dropout_rate: float,
    dropout_months: float,
) -> SurvivalDesign:
    events = required_events(hazard_ratio, alpha, sided, power, allocation_ratio, method)
    control = math.log(2.0) / control_median_months
    treatment = hazard_ratio * control
    phi = dropout_hazard(dropout_rate, dropout_months)
    p_treatment = event_probability(treatment, phi, accrual_months, follow_up_months)
    p_control = event_probability(control, phi, accrual_months, follow_up_months)
    pooled = (allocation_ratio * p_treatment + p_control) / (1.0 + allocation_ratio)
    subjects = events / pooled
    analysis = accrual_months + follow_up_months
    side = "one-sided" if sided == 1 else "two-sided"
    reasons = (
        f"{method.capitalize()}: {events:.2f} events for HR {hazard_ratio:g} at {side} "
        f"alpha {alpha:g} and power {power:g} (allocation {allocation_ratio:g}:1)",
        f"control median {control_median_months:g} months (hazard {control:.4f}/month), "
        f"treatment hazard {treatment:.4f}/month",
        f"uniform accrual over {accrual_months:g} months, analysis {follow_up_months:g} months "
        f"after the last patient (month {analysis:g})",
        f"dropout {dropout_rate:g} by month {dropout_months:g} (hazard {phi:.4f}/month, both "
        "arms, a competing risk)",
        f"P(event by the analysis): treatment {p_treatment:.4f}, control {p_control:.4f}, "
        f"pooled {pooled:.4f} → {subjects:.2f} subjects",
    )
    return SurvivalDesign(events, subjects, analysis, pooled, METHOD_NAMES[method], reasons)
