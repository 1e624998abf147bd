"""latest_date's per-file max equals the row-by-row maximum of local dates."""

from __future__ import annotations

import dataclasses
import datetime as dt

from cartwatch.adam.derive import _TIME_FIELD, _to_date, latest_date
from cartwatch.synth.cohort import synthesize


def _reference(data) -> dt.date | None:  # type: ignore[no-untyped-def]
    days = [_to_date(getattr(r, c)) for s, c in _TIME_FIELD.items() for r in getattr(data, s)]
    days += [
        d
        for c in data.cell_therapy
        for n in ("apheresis_date", "lymphodepletion_start", "infusion_date")
        if (d := getattr(c, n))
    ]
    return max(days, default=None)


def test_latest_date_equals_reference_on_cohorts() -> None:
    for data in (synthesize(50, seed=2), synthesize(0, seed=0, published=True)):
        assert latest_date(data) == _reference(data)


def test_aware_times_use_each_rows_local_date() -> None:
    data = synthesize(5, seed=2)
    late = dt.timezone(dt.timedelta(hours=14))
    rows = data.labs[:2]
    far = dt.datetime(2099, 1, 2, 1, tzinfo=late)  # 2099-01-01 11:00 UTC, local 01-02
    near = dt.datetime(2099, 1, 1, 23, tzinfo=dt.UTC)  # later instant, local 01-01
    labs = (rows[0].model_copy(update={"observed_at": far}),)
    labs += (rows[1].model_copy(update={"observed_at": near}),)
    moved = dataclasses.replace(data, labs=labs)
    assert latest_date(moved) == _reference(moved) == dt.date(2099, 1, 2)
