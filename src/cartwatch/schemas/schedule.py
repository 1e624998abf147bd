"""Input model for ``cartwatch schedule`` (cli-contract.md, section ``cartwatch schedule``).

Validation only: the obligations come from the US Breyanzi PI version in force on the infusion
date (``cartwatch.clinical.schedule``, clinical-standards.md §0 item 4 and §3B).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from cartwatch.clinical.schedule import ScheduleRequest
from cartwatch.schemas.eligibility import PlannedDate, ProductName

__all__ = ["ScheduleIn"]


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: ProductName
    # A coming infusion is what a schedule is planned for (contract v2 item 7): years only.
    infusion_date: PlannedDate

    def to_domain(self) -> ScheduleRequest:
        return ScheduleRequest(product=self.product, infusion_date=self.infusion_date)
