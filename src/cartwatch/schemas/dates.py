"""Plausible dates: the one rule every record date passes (contract v2 item 7).

cli-contract.md, contract v2 item 7: ``observed_at`` and every record date lie in the years
1900–2100, and an observation, lab or assessment dated more than 24 h after now is refused
with the field's path. ``schedule`` keeps accepting future infusion dates (planning).

:func:`check_plausible_date` is that rule, once. The pydantic types below wrap it, and every
surface reaches it through them: the CLI's input models (``observed_at``), the centre data
format's row models (``centre/records.py``: the CSV loader, and the web API, forms and
services, which validate with those row models), and the batch grader. Further rules that
relate one date to another (before the diagnosis, after a death…) build on this function;
they do not repeat it.

Why these bounds:

* 1900–2100: no patient treated with CAR-T was born or diagnosed before 1900, and no record
  is dated after 2100; a year outside is a typing error (``0001-01-01``, ``9999-12-31``).
  Dates that far out also break date arithmetic downstream (``9999-12-31`` + 1 day is an
  ``OverflowError``), which took down a centre's work list and exports (issue 12).
* 24 h after now: timestamps are local wall-clock time at the centre, without a UTC offset,
  and the server may run in another zone (up to 14 h apart); a day's grace also lets a
  date-only entry for "today" through anywhere on Earth. Past that, a future date is a
  typing error (2027-01-20 for 2026-12-06 replaced today's grade-3 alert on the work list).
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from pydantic import AfterValidator

__all__ = [
    "FUTURE_TOLERANCE",
    "YEAR_MAX",
    "YEAR_MIN",
    "PlannedDateCheck",
    "RecordDateCheck",
    "check_plausible_date",
    "plausible_date_problem",
]

#: Oldest and newest year of any date (contract v2 item 7).
YEAR_MIN = 1900
YEAR_MAX = 2100

#: How far after now an observation, lab or assessment may be dated (contract v2 item 7).
FUTURE_TOLERANCE = dt.timedelta(hours=24)

DateValue = TypeVar("DateValue", bound=dt.date)


def _now_like(value: dt.date) -> dt.datetime:
    """Now, comparable with *value*: aware UTC for an aware date-time, else local naive."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.now()


def plausible_date_problem(
    value: dt.date, *, allow_future: bool = False, now: dt.datetime | None = None
) -> str | None:
    """What is implausible about *value* (a date or date-time), or None when it is fine.

    A plain date counts from its start (midnight): ``2026-12-07`` is accepted at any time
    on 2026-12-06, ``2026-12-08`` is not. *now* defaults to the clock (naive local time;
    aware UTC when *value* carries an offset); pass it to judge against another moment.
    """
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        return f"year {value.year} is outside {YEAR_MIN}–{YEAR_MAX}: {value.isoformat()}"
    if allow_future:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    reference = _now_like(moment) if now is None else now
    if (moment.tzinfo is None) != (reference.tzinfo is None):
        # One side carries a UTC offset and the other not: compare wall clocks, which the
        # 24 h tolerance covers for any zone.
        moment, reference = moment.replace(tzinfo=None), reference.replace(tzinfo=None)
    if moment > reference + FUTURE_TOLERANCE:
        return (
            f"{value.isoformat()} is in the future (more than 24 h after now, "
            f"{reference.isoformat(timespec='minutes')})"
        )
    return None


def check_plausible_date(
    value: DateValue, *, allow_future: bool = False, now: dt.datetime | None = None
) -> DateValue:
    """*value* unchanged when plausible (:func:`plausible_date_problem`), else ValueError.

    The validator behind every date type of the schemas; a pydantic field using it reports
    the problem under the field's path (``observed_at: year 9999 is outside 1900–2100``).
    """
    problem = plausible_date_problem(value, allow_future=allow_future, now=now)
    if problem is not None:
        raise ValueError(problem)
    return value


def _record_date(value: object) -> object:
    return check_plausible_date(value) if isinstance(value, dt.date) else value


def _planned_date(value: object) -> object:
    return check_plausible_date(value, allow_future=True) if isinstance(value, dt.date) else value


# Each date type is built where its parsing lives (schemas/cytopenia.py, schemas/eligibility.py,
# centre/records.py) as ``Annotated[<parsed type>, ..., RecordDateCheck]``.

#: Annotation for a record date (something that happened): years 1900–2100, not in the future.
RecordDateCheck = AfterValidator(_record_date)
#: Annotation for a planned date (``schedule``'s infusion date): years 1900–2100 only.
PlannedDateCheck = AfterValidator(_planned_date)
