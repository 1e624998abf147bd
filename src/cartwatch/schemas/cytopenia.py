"""Input model for ``cartwatch grade cytopenia`` (cli-contract.md, section
``cartwatch grade cytopenia``; grading rules: CTCAE v5.0 [S36][S37], clinical-standards.md §5).

Validation only: the bands live in ``cartwatch.clinical.cytopenia``. Counts are JSON numbers
≥0 (strings and booleans rejected), ``transfusion_indicated`` a strict boolean and
``observed_at`` an ISO 8601 date or date-time string.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from cartwatch.clinical.cytopenia import CytopeniaObservation, LowerLimits
from cartwatch.schemas.dates import RecordDateCheck

__all__ = ["CytopeniaObservationIn", "LowerLimitsIn", "NonNegativeNumber", "ObservedAt"]

#: A JSON number ≥0: no strings, no booleans, no NaN/infinity.
NonNegativeNumber = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _observed_at(value: object) -> object:
    """A plain date for ``YYYY-MM-DD``, a datetime for a date-time; nothing else.

    Pydantic's lax parsing would read ``"2024-01-01"`` as midnight (a datetime) and accept
    Unix timestamps; the contract says "ISO 8601 date or date-time", so both are refused.
    """
    if value is None or isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 date or date-time string, got {value!r}")
    try:
        if _ISO_DATE.match(value):
            return datetime.date.fromisoformat(value)
        return datetime.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date or date-time: {value!r}") from exc


#: ``observed_at``: ISO date or date-time, plausible (contract v2 item 7, schemas/dates.py).
ObservedAt = Annotated[
    datetime.date | datetime.datetime | None, BeforeValidator(_observed_at), RecordDateCheck
]


class LowerLimitsIn(BaseModel):
    """The laboratory's lower limits of normal; each optional."""

    model_config = ConfigDict(extra="forbid")

    neutrophils_10e9_l: NonNegativeNumber | None = None
    platelets_10e9_l: NonNegativeNumber | None = None
    hemoglobin_g_dl: NonNegativeNumber | None = None

    def to_domain(self) -> LowerLimits:
        return LowerLimits(
            neutrophils_10e9_l=self.neutrophils_10e9_l,
            platelets_10e9_l=self.platelets_10e9_l,
            hemoglobin_g_dl=self.hemoglobin_g_dl,
        )


class CytopeniaObservationIn(BaseModel):
    """One blood count; at least one of the three values (checked by the domain class,
    which raises ``ClinicalInputError`` naming ``neutrophils_10e9_l``)."""

    model_config = ConfigDict(extra="forbid")

    neutrophils_10e9_l: NonNegativeNumber | None = None
    platelets_10e9_l: NonNegativeNumber | None = None
    hemoglobin_g_dl: NonNegativeNumber | None = None
    lln: LowerLimitsIn | None = None
    transfusion_indicated: StrictBool = False
    observed_at: ObservedAt = None

    def to_domain(self) -> CytopeniaObservation:
        return CytopeniaObservation(
            neutrophils_10e9_l=self.neutrophils_10e9_l,
            platelets_10e9_l=self.platelets_10e9_l,
            hemoglobin_g_dl=self.hemoglobin_g_dl,
            lln=None if self.lln is None else self.lln.to_domain(),
            transfusion_indicated=self.transfusion_indicated,
            observed_at=self.observed_at,
        )
