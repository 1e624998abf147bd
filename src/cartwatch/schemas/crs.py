"""Input model for ``cartwatch grade crs`` (cli-contract.md, section ``grade crs``).

Validation only; the ASTCT 2019 rules (Lee DW et al., BBMT 2019;25:625–638, [S1][S3]) live in
``cartwatch.clinical.crs``. Numbers are JSON numbers (strings, booleans, NaN and infinity
refused; an integer is fine), booleans are strict, vasopressor names are case-insensitive
with the contract's aliases (noradrenaline, adrenaline), and contradictions between fields
(e.g. a nasal cannula without a flow) are raised by ``to_domain()`` as ClinicalInputError.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from cartwatch.clinical.crs import CrsObservation, OxygenDevice, Vasopressor, parse_vasopressor
from cartwatch.schemas.cytopenia import ObservedAt

__all__ = ["CrsObservationIn", "VasopressorName"]


def _vasopressor(value: object) -> object:
    if isinstance(value, Vasopressor):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be a vasopressor name (a string), got {value!r}")
    return parse_vasopressor(value)  # ValueError names the unknown drug and the known ones


#: A contract vasopressor name or alias, any case, as the canonical Vasopressor.
VasopressorName = Annotated[Vasopressor, BeforeValidator(_vasopressor)]

# cli-contract.md `grade crs`: temperature_c is a number 25–45 or null; flow a number ≥0.
Temperature = Annotated[float, Field(ge=25, le=45, strict=True, allow_inf_nan=False)]
Flow = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]


class CrsObservationIn(BaseModel):
    """One CRS observation; every field optional with the contract's default."""

    model_config = ConfigDict(extra="forbid")

    temperature_c: Temperature | None = None
    fever_attributable_to_other_cause: StrictBool = False
    antipyretic_or_anticytokine_given: StrictBool = False
    hypotension: StrictBool = False
    vasopressors: list[VasopressorName] = Field(default_factory=list)
    oxygen_device: OxygenDevice = OxygenDevice.NONE
    oxygen_flow_l_min: Flow | None = None
    hypotension_attributable_to_other_cause: StrictBool = False
    hypoxia_attributable_to_other_cause: StrictBool = False
    death_due_to_crs: StrictBool = False
    observed_at: ObservedAt = None
    # contract v2 item 2: a fever documented before this therapy outside the record.
    fever_before_therapy: StrictBool = False

    def to_domain(self) -> CrsObservation:
        """The clinical record; raises ClinicalInputError for contradictory fields."""
        return CrsObservation(
            temperature_c=self.temperature_c,
            fever_attributable_to_other_cause=self.fever_attributable_to_other_cause,
            antipyretic_or_anticytokine_given=self.antipyretic_or_anticytokine_given,
            hypotension=self.hypotension,
            vasopressors=tuple(self.vasopressors),
            oxygen_device=self.oxygen_device,
            oxygen_flow_l_min=self.oxygen_flow_l_min,
            hypotension_attributable_to_other_cause=self.hypotension_attributable_to_other_cause,
            hypoxia_attributable_to_other_cause=self.hypoxia_attributable_to_other_cause,
            death_due_to_crs=self.death_due_to_crs,
            observed_at=self.observed_at,
            fever_before_therapy=self.fever_before_therapy,
        )
