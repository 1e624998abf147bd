"""CRS and neurotoxicity observations and their treatment, built so that the ASTCT
graders reproduce the planned grades, onsets and durations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cartwatch.centre import records as r
from cartwatch.clinical.crs import OxygenDevice, Vasopressor
from cartwatch.clinical.icans import Consciousness
from cartwatch.synth import calibration as cal
from cartwatch.synth.draws import (
    _CRS,
    _CRS_LAST_DAY,
    _CRS_LAST_DAY_EARLY_EXIT,
    _CRS_TREATMENT,
    _ICANS,
    _NT_LAST_DAY,
    _NT_LAST_DAY_EARLY_EXIT,
    _NT_TREATMENT,
    _TREATMENT,
    _Draws,
)
from cartwatch.synth.plans import (
    _Plan,
    _quantile_draw,
)
from cartwatch.synth.rows import (
    _Rows,
    _Timeline,
)

# ---------------------------------------------------------------------------------------------
# CRS and neurotoxicity: daily raw observations whose ASTCT grade peaks at the planned grade


@dataclass(frozen=True)
class _Episode:
    onset: int  # day of the first observation with grade ≥1
    length: int  # days from onset to the first grade-0 observation (the resolution)
    peak: int

    @property
    def resolution(self) -> int:
        return self.onset + self.length


def _episode(
    d: _Draws,
    grade: int,
    onset_q: cal.MedianIqr,
    dur_q: cal.MedianIqr,
    last_day: int,
    planned: tuple[int, int] | None,
) -> _Episode | None:
    if grade == 0:
        return None
    if planned is not None:  # published mode: fits last_day by construction (_assign_episodes)
        onset, length = planned
    else:
        onset = min(_quantile_draw(d, onset_q), last_day - 2)
        length = min(_quantile_draw(d, dur_q), last_day - 1 - onset)
    peak = onset if grade == 1 else onset + d.integers(0, min(2, length - 1) + 1)
    return _Episode(onset, max(1, length), peak)


def _crs_treatment(plan: _Plan, d: _Draws, published_counts: dict[str, list[str]]) -> str:
    if plan.crs_grade == 0:
        return "none"
    queue = published_counts.get(f"crs{plan.crs_grade}")
    if queue:
        return queue.pop()
    return d.choice(_CRS_TREATMENT[plan.crs_grade])


def _crs_rows(
    plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, treat: str, second_doses: list[str]
) -> None:
    """Daily 08:00 observations from day 1 to ≥ day 14 (label monitoring, §3B).

    Grade 1: fever only. Peak grade 2: fever + hypotension without vasopressor, or nasal
    cannula ≤6 L/min; grade 3: fever + one vasopressor (norepinephrine), or nasal cannula
    >6 L/min / high-flow (ASTCT 2019, cli-contract.md). After the peak a grade-2 finding
    persists until resolution; tocilizumab/steroids are given after the 08:00 observation, so
    ``antipyretic_or_anticytokine_given`` is true from the next observation on.
    """
    last_day = _CRS_LAST_DAY_EARLY_EXIT if plan.early_exit else _CRS_LAST_DAY
    ep = _episode(
        d,
        plan.crs_grade,
        cal.CRS_ONSET_DAYS.value,
        cal.CRS_DURATION_DAYS.value,
        last_day,
        plan.crs_episode,
    )
    treated_at = _crs_treat(plan, d, rows, tl, treat, ep, second_doses)
    last = max(14, ep.resolution if ep else 0)
    step_down = _grade2_finding(d)
    peak_finding = _peak_finding(d, plan.crs_grade)
    pid, append, rand = plan.pid, rows.crs_observations.append, d.random
    for day in range(1, min(last, tl.end) + 1):
        at = tl.at(day, 8)
        flag = treated_at is not None and at > treated_at
        fields: dict[str, Any] = {"temperature_c": round(36.5 + 0.9 * rand(), 1)}
        if ep and ep.onset <= day < ep.resolution:
            fever = not flag or day <= ep.peak
            if fever:
                fields["temperature_c"] = round(38.2 + 1.4 * rand(), 1)
            if day == ep.peak:
                fields.update(peak_finding)
            elif day > ep.peak and plan.crs_grade >= 2:
                fields.update(step_down)
        if "vasopressors" in fields:  # a list per row: rows never share a mutable value
            fields["vasopressors"] = list(fields["vasopressors"])
        fields["antipyretic_or_anticytokine_given"] = flag
        append(_CRS(patient_id=pid, observed_at=at, **fields))


def _grade2_finding(d: _Draws) -> dict[str, Any]:
    if d.random() < 0.6:
        return {"hypotension": True}
    return {
        "oxygen_device": OxygenDevice.NASAL_CANNULA,
        "oxygen_flow_l_min": float(d.integers(1, 5)),
    }


def _peak_finding(d: _Draws, grade: int) -> dict[str, Any]:
    if grade <= 1:
        return {}
    if grade == 2:
        return _grade2_finding(d)
    if d.random() < 0.6:
        return {"hypotension": True, "vasopressors": (Vasopressor.NOREPINEPHRINE,)}
    if d.random() < 0.5:
        return {"oxygen_device": OxygenDevice.HIGH_FLOW_NASAL_CANNULA, "oxygen_flow_l_min": 40.0}
    return {"oxygen_device": OxygenDevice.NASAL_CANNULA, "oxygen_flow_l_min": 8.0}


def _crs_treat(
    plan: _Plan,
    d: _Draws,
    rows: _Rows,
    tl: _Timeline,
    treat: str,
    ep: _Episode | None,
    second_doses: list[str],
) -> dt.datetime | None:
    """CRS treatments [S14] (tocilizumab 8 mg/kg, dexamethasone 10 mg; §3B, UNVERIFIED doses).

    *second_doses*: published mode's queue ("2" = second tocilizumab dose), empty otherwise.
    """
    if ep is None or treat == "none":
        return None
    day = ep.peak if plan.crs_grade >= 2 else ep.resolution - 1
    first = tl.at(day, 10)
    tocilizumab, crs = r.TreatmentAgent.TOCILIZUMAB, r.Indication.CRS
    if treat in ("tocilizumab", "both"):
        _give(rows, plan, first, tocilizumab, crs, 8.0, r.DoseUnit.MG_PER_KG)
        second = (
            second_doses.pop() == "2"
            if second_doses
            else d.random() < cal.P_SECOND_TOCILIZUMAB.value
        )
        if second:
            _give(rows, plan, tl.at(day, 18), tocilizumab, crs, 8.0, r.DoseUnit.MG_PER_KG)
    if treat in ("steroids", "both"):
        for s in range(day, max(day + 1, ep.resolution if plan.crs_grade >= 3 else day + 1)):
            steroid = r.TreatmentAgent.DEXAMETHASONE
            _give(rows, plan, tl.at(s, 11), steroid, crs, 10.0, r.DoseUnit.MG)
    return first


def _give(
    rows: _Rows,
    plan: _Plan,
    at: dt.datetime,
    agent: r.TreatmentAgent,
    indication: r.Indication,
    dose: float,
    unit: r.DoseUnit,
) -> None:
    rows.treatments.append(
        _TREATMENT(
            patient_id=plan.pid,
            given_at=at,
            agent=agent,
            indication=indication,
            dose=dose,
            dose_unit=unit,
        )
    )


def _nt_treatment(plan: _Plan, d: _Draws, published_counts: dict[str, list[str]]) -> str:
    if plan.nt_grade == 0:
        return "none"
    queue = published_counts.get(f"nt{plan.nt_grade}")
    if queue:
        return queue.pop()
    return d.choice(_NT_TREATMENT[plan.nt_grade])


def _icans_rows(plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, age: int, treat: str) -> None:
    """Daily 09:00 neurological assessments (ICE score, consciousness), ASTCT 2019 grading:
    ICE 7–9 → 1, 3–6 → 2, 0–2 → 3, unarousable → 4 (cli-contract.md ``grade icans``)."""
    last_day = _NT_LAST_DAY_EARLY_EXIT if plan.early_exit else _NT_LAST_DAY
    ep = _episode(
        d,
        plan.nt_grade,
        cal.NT_ONSET_DAYS.value,
        cal.NT_DURATION_DAYS.value,
        last_day,
        plan.nt_episode,
    )
    last = max(14, ep.resolution if ep else 0)
    peak_ice = {1: d.integers(7, 10), 2: d.integers(3, 7), 3: d.integers(0, 3)}
    pid, append, age_years = plan.pid, rows.icans_observations.append, float(age)
    for day in range(1, min(last, tl.end) + 1):
        fields: dict[str, Any] = {"ice_score": 10}
        if ep and ep.onset <= day < ep.resolution:
            fields["ice_score"] = d.integers(7, 10)
            if day == ep.peak and plan.nt_grade == 4:
                fields = {"ice_score": None, "consciousness": Consciousness.UNAROUSABLE}
            elif day == ep.peak:
                fields["ice_score"] = peak_ice[plan.nt_grade]
        append(_ICANS(patient_id=pid, observed_at=tl.at(day, 9), age_years=age_years, **fields))
    if ep is None or treat == "none":
        return
    steroid = r.TreatmentAgent.DEXAMETHASONE
    dose, unit = 10.0, r.DoseUnit.MG
    if plan.nt_grade == 4:  # methylprednisolone 1 g/day for grade 4 (§3B, UNVERIFIED)
        steroid, dose = r.TreatmentAgent.METHYLPREDNISOLONE, 1000.0
    days = range(ep.peak, max(ep.peak + 1, ep.resolution)) if plan.nt_grade >= 3 else [ep.peak]
    for day in days:
        _give(rows, plan, tl.at(day, 12), steroid, r.Indication.ICANS, dose, unit)
    if treat == "both":
        _give(
            rows,
            plan,
            tl.at(ep.peak, 12, 30),
            r.TreatmentAgent.TOCILIZUMAB,
            r.Indication.ICANS,
            8.0,
            r.DoseUnit.MG_PER_KG,
        )
