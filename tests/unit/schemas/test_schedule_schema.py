"""ScheduleIn: cli-contract.md `cartwatch schedule` input validation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from cartwatch.clinical.schedule import ScheduleRequest
from cartwatch.schemas.schedule import ScheduleIn


def test_valid_json_to_domain() -> None:
    model = ScheduleIn.model_validate_json(
        json.dumps({"product": "Breyanzi", "infusion_date": "2025-06-26"})
    )
    assert model.to_domain() == ScheduleRequest("liso-cel", dt.date(2025, 6, 26))


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        ({"product": "kymriah", "infusion_date": "2025-06-26"}, ("product",)),
        ({"product": "liso-cel", "infusion_date": "26/06/2025"}, ("infusion_date",)),
        ({"product": "liso-cel", "infusion_date": "2025-06-31"}, ("infusion_date",)),
        ({"product": "liso-cel", "infusion_date": 20250626}, ("infusion_date",)),
        ({"product": "liso-cel"}, ("infusion_date",)),
        ({"infusion_date": "2025-06-26"}, ("product",)),
        ({"product": "liso-cel", "infusion_date": "2025-06-26", "site": "x"}, ("site",)),
    ],
)
def test_invalid_documents(document: dict[str, object], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        ScheduleIn.model_validate_json(json.dumps(document))
    assert {tuple(e["loc"]) for e in exc.value.errors()} == {loc}
