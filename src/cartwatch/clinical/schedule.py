"""Post-infusion obligations for liso-cel (Breyanzi) from the US label version in force.

Label data and sources: ``cartwatch.clinical.labels`` (clinical-standards.md §0 item 4, §3B).
REMS era (US PI 2024-03, CLL/SLL approval): stay near the centre ≥4 weeks [S28][S31], no
driving for 8 weeks [S31][S34]. From 2025-06-26 (REMS removed [S29][S30][S32]): 2 weeks and
2 weeks [S33]. The label in force on the *infusion date* decides (cli-contract.md,
``cartwatch schedule``), so a patient infused on 2025-06-25 keeps the REMS-era obligations.

Date arithmetic: an obligation of N weeks ends on ``infusion_date + N weeks`` and that end
date is *inclusive* — the restriction applies through it and the first free day is the day
after. Counting the infusion as day 0, this covers one day more than 7×N days; the extra day
errs on the side of the patient's safety, and "+N weeks" is what a clinic calendar shows.
The daily-monitoring end date uses the same rule.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cartwatch.clinical.labels import LABEL_VERSIONS, LabelVersion, label_in_force


@dataclass(frozen=True)
class ScheduleRequest:
    product: str
    infusion_date: datetime.date


@dataclass(frozen=True)
class ScheduleEvent:
    date: datetime.date
    what: str
    verified: bool = True

    def to_dict(self) -> dict[str, object]:
        return {"date": self.date.isoformat(), "what": self.what, "verified": self.verified}


@dataclass(frozen=True)
class ScheduleResult:
    label_version: str
    infusion_date: datetime.date
    stay_near_centre_until: datetime.date
    no_driving_until: datetime.date
    events: tuple[ScheduleEvent, ...]
    reasons: tuple[str, ...]
    rems: bool
    standard: str

    def to_dict(self) -> dict[str, object]:
        return {
            "label_version": self.label_version,
            "stay_near_centre_until": self.stay_near_centre_until.isoformat(),
            "no_driving_until": self.no_driving_until.isoformat(),
            "events": [e.to_dict() for e in self.events],
            "reasons": list(self.reasons),
            "rems": self.rems,
            "standard": self.standard,
        }


def _until(infusion_date: datetime.date, weeks: int) -> datetime.date:
    # Inclusive end date: see the module docstring.
    return infusion_date + datetime.timedelta(weeks=weeks)


def _monitoring(
    version: LabelVersion, infusion_date: datetime.date
) -> tuple[ScheduleEvent | None, str]:
    days = version.obligations.daily_monitoring_days
    text = version.obligations.monitoring_text
    label = "monitoring" if text.verified else "monitoring (UNVERIFIED for Breyanzi)"
    note = f" ({text.note})" if text.note else ""
    if days.value is None:
        return None, (
            f"{label}: {text.value} {text.cite()}{note}; no end date for daily monitoring is given"
        )
    end = infusion_date + datetime.timedelta(days=days.value)
    event = ScheduleEvent(
        end,
        f"end of daily monitoring at the treating facility (day {days.value})"
        + ("" if days.verified else " — UNVERIFIED"),
        verified=days.verified,
    )
    return event, f"{label}: {text.value} {text.cite()}{note}"


#: The longest post-infusion obligation of any label version held: no driving for 8 weeks
#: in the REMS era ([S31][S34], clinical-standards.md §3B), read from the label data.
LONGEST_OBLIGATION_WEEKS = max(
    max(v.obligations.stay_near_centre_weeks.value, v.obligations.no_driving_weeks.value)
    for v in LABEL_VERSIONS
)


def latest_possible_obligation_end(infusion_date: datetime.date) -> datetime.date:
    """The last day any post-infusion obligation could run, whichever label version held
    applies: after it, none is in force (the work list stops looking then)."""
    return _until(infusion_date, LONGEST_OBLIGATION_WEEKS)


def post_infusion_schedule(product: str, infusion_date: datetime.date) -> ScheduleResult:
    """Obligations after a liso-cel infusion on ``infusion_date``, per the label then in force.

    Raises ClinicalInputError for an unknown product (path ``product``) or an infusion date
    before 2024-03-14, where cartwatch holds no label version (path ``infusion_date``).
    """
    version = label_in_force(product, infusion_date, date_field="infusion_date")
    ob = version.obligations
    near_weeks = ob.stay_near_centre_weeks
    drive_weeks = ob.no_driving_weeks
    stay_until = _until(infusion_date, near_weeks.value)
    drive_until = _until(infusion_date, drive_weeks.value)

    monitoring_event, monitoring_reason = _monitoring(version, infusion_date)
    events = [ScheduleEvent(infusion_date, "liso-cel infusion (day 0)")]
    if monitoring_event is not None:
        events.append(monitoring_event)
    events += [
        ScheduleEvent(
            stay_until,
            f"last day of staying near the treating centre ({near_weeks.value} weeks)",
            verified=near_weeks.verified,
        ),
        ScheduleEvent(
            drive_until,
            f"last day without driving or operating hazardous machinery "
            f"({drive_weeks.value} weeks)",
            verified=drive_weeks.verified,
        ),
    ]
    # Stable sort: events on the same day keep the clinical order above.
    events.sort(key=lambda e: e.date)

    rems = ob.rems
    reasons = (
        f"label in force on the infusion date {infusion_date.isoformat()}: {version.version} "
        f"(from {version.effective_from.isoformat()}) {version.effective_from_source.cite()}",
        f"stay near the treating centre for {near_weeks.value} weeks after infusion, through "
        f"{stay_until.isoformat()} {near_weeks.cite()}",
        f"do not drive or operate hazardous machinery for {drive_weeks.value} weeks, through "
        f"{drive_until.isoformat()} {drive_weeks.cite()}",
        ("REMS in force: certified centre, tocilizumab on site" if rems.value else "no REMS")
        + f" {rems.cite()}",
        monitoring_reason,
    )
    return ScheduleResult(
        label_version=version.version,
        infusion_date=infusion_date,
        stay_near_centre_until=stay_until,
        no_driving_until=drive_until,
        events=tuple(events),
        reasons=reasons,
        rems=rems.value,
        standard=version.version,
    )


def schedule_for(request: ScheduleRequest) -> ScheduleResult:
    """``post_infusion_schedule`` for a validated request (what ``ScheduleIn.to_domain`` gives)."""
    return post_infusion_schedule(request.product, request.infusion_date)


__all__ = [
    "ScheduleEvent",
    "ScheduleRequest",
    "ScheduleResult",
    "post_infusion_schedule",
    "schedule_for",
]
