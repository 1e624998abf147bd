"""Store a centre data set (the CSV folder format, e.g. a synthetic cohort) at one centre.

Through the same services the pages and the API use, row by row, so every grade is the
engines' and every row is on the audit trail. The first run's sample centre
(``web/firstrun.py``) and the web tests' synthetic centre are loaded with it.
"""

from __future__ import annotations

from typing import Any

from cartwatch.centre.loader import CentreData
from cartwatch.web.access import Actor
from cartwatch.web.services import records
from cartwatch.web.services.rows import ROW_MODELS


def load_centre_data(actor: Actor, data: CentreData) -> int:
    """Store *data* at *actor*'s centre; returns the number of rows stored."""
    stored = 0
    patients: dict[str, Any] = {}
    for row in data.patients:
        payload = row.model_dump(mode="json", exclude={"centre_id"}, exclude_none=True)
        patients[row.patient_id] = records.create_patient(actor, payload)
        stored += 1
    kinds = {kind.model: kind for kind in records.KINDS.values()}
    for model, (stem, _) in ROW_MODELS.items():
        if model not in kinds:
            continue
        rows: list[Any] = list(data.rows(stem))
        if stem == "response_assessments":
            # The iwCLL response of a post-baseline row is graded against the stored baseline.
            rows.sort(key=lambda r: (r.timepoint != "baseline", r.assessed_at))
        for record in rows:
            payload = record.model_dump(mode="json", exclude={"patient_id"}, exclude_none=True)
            records.create_record(actor, kinds[model], patients[record.patient_id], payload)
            stored += 1
    return stored
