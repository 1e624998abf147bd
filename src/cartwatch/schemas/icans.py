"""Input models for ``cartwatch grade icans`` (cli-contract.md, section ``grade icans``).

Validation only; the ASTCT 2019 rules (Lee DW et al., BBMT 2019;25:625–638, [S11][S13][S15])
live in ``cartwatch.clinical.icans``. Numbers are JSON numbers (strings and booleans refused;
scores must be integers), booleans are strict, enum values are the contract's exact
spellings, and contradictions between fields (ICE and CAPD mixed, both ``ice_score`` and
``ice_items``, no score for an awake patient…) are raised by ``to_domain()`` as
ClinicalInputError.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from cartwatch.clinical.icans import (
    CAPD_MAX,
    ICE_MAX,
    CerebralEdema,
    Consciousness,
    IcansDomain,
    IcansObservation,
    IceItems,
    MotorWeakness,
    Seizure,
)
from cartwatch.schemas.cytopenia import ObservedAt

__all__ = ["IcansObservationIn", "IceItemsIn"]


def _score(high: int) -> object:
    return Field(ge=0, le=high, strict=True)


# cli-contract.md `grade icans`: item ranges ([S12] Table 2) and score ranges.
Orientation = Annotated[int, _score(4)]
Naming = Annotated[int, _score(3)]
OnePoint = Annotated[int, _score(1)]
IceScore = Annotated[int, _score(ICE_MAX)]
CapdScore = Annotated[int, _score(CAPD_MAX)]
Age = Annotated[float, Field(ge=0, le=120, strict=True, allow_inf_nan=False)]


class IceItemsIn(BaseModel):
    """The five ICE tasks; all required."""

    model_config = ConfigDict(extra="forbid")

    orientation: Orientation
    naming: Naming
    commands: OnePoint
    writing: OnePoint
    attention: OnePoint

    def to_domain(self) -> IceItems:
        return IceItems(
            orientation=self.orientation,
            naming=self.naming,
            commands=self.commands,
            writing=self.writing,
            attention=self.attention,
        )


class IcansObservationIn(BaseModel):
    """One neurotoxicity observation; ``age_years`` is required."""

    model_config = ConfigDict(extra="forbid")

    age_years: Age
    developmental_delay: StrictBool = False
    ice_score: IceScore | None = None
    ice_items: IceItemsIn | None = None
    capd_score: CapdScore | None = None
    capd_unable: StrictBool = False
    consciousness: Consciousness = Consciousness.ALERT
    seizure: Seizure = Seizure.NONE
    motor_weakness: MotorWeakness = MotorWeakness.NONE
    cerebral_edema: CerebralEdema = CerebralEdema.NONE
    raised_icp_signs: StrictBool = False
    attributable_to_other_cause: list[IcansDomain] = Field(default_factory=list)
    tremor: StrictBool = False
    myoclonus: StrictBool = False
    headache: StrictBool = False
    intracranial_hemorrhage: StrictBool = False
    death_due_to_icans: StrictBool = False
    observed_at: ObservedAt = None

    def to_domain(self) -> IcansObservation:
        """The clinical record; raises ClinicalInputError for contradictory fields."""
        return IcansObservation(
            age_years=self.age_years,
            developmental_delay=self.developmental_delay,
            ice_score=self.ice_score,
            ice_items=None if self.ice_items is None else self.ice_items.to_domain(),
            capd_score=self.capd_score,
            capd_unable=self.capd_unable,
            consciousness=self.consciousness,
            seizure=self.seizure,
            motor_weakness=self.motor_weakness,
            cerebral_edema=self.cerebral_edema,
            raised_icp_signs=self.raised_icp_signs,
            attributable_to_other_cause=tuple(self.attributable_to_other_cause),
            tremor=self.tremor,
            myoclonus=self.myoclonus,
            headache=self.headache,
            intracranial_hemorrhage=self.intracranial_hemorrhage,
            death_due_to_icans=self.death_due_to_icans,
            observed_at=self.observed_at,
        )
