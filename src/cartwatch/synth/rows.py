"""Row builders: the rows of a cohort, each patient's timeline (day 0 = infusion), the
patient row, prior lines and the CAR-T course.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from cartwatch.centre import records as r
from cartwatch.centre.loader import CentreData
from cartwatch.synth import calibration as cal
from cartwatch.synth.draws import (
    _CELL_THERAPY,
    _DAY,
    _PATIENT,
    _PRIOR_LINE,
    BTKI_AGENTS,
    CENTRES,
    OTHER_LINES,
    _Draws,
)
from cartwatch.synth.plans import (
    _Plan,
)

# ---------------------------------------------------------------------------------------------
# Row builders


@dataclass
class _Rows:
    patients: list[r.PatientRow] = field(default_factory=list)
    prior_lines: list[r.PriorLineRow] = field(default_factory=list)
    cell_therapy: list[r.CellTherapyRow] = field(default_factory=list)
    crs_observations: list[r.CrsObservationRow] = field(default_factory=list)
    icans_observations: list[r.IcansObservationRow] = field(default_factory=list)
    treatments: list[r.TreatmentRow] = field(default_factory=list)
    labs: list[r.LabRow] = field(default_factory=list)
    response_assessments: list[r.ResponseAssessmentRow] = field(default_factory=list)
    mrd: list[r.MrdRow] = field(default_factory=list)
    followup: list[r.FollowupRow] = field(default_factory=list)

    def data(self) -> CentreData:
        return CentreData(
            patients=tuple(self.patients),
            prior_lines=tuple(self.prior_lines),
            cell_therapy=tuple(self.cell_therapy),
            crs_observations=tuple(self.crs_observations),
            icans_observations=tuple(self.icans_observations),
            treatments=tuple(self.treatments),
            labs=tuple(self.labs),
            response_assessments=tuple(self.response_assessments),
            mrd=tuple(self.mrd),
            followup=tuple(self.followup),
        )


@functools.cache
def _clock(day: int, hour: int, minute: int) -> dt.timedelta:
    """Offset from day 0 at midnight (a handful of distinct values, built once each)."""
    return dt.timedelta(days=day, hours=hour, minutes=minute)


@dataclass(frozen=True)
class _Timeline:
    """Day 0 = infusion (or apheresis when not infused); ``end`` = last day with data."""

    day0: dt.date
    end: int  # days after day0: death or data cut
    death: bool
    cut: int

    @functools.cached_property
    def _midnight(self) -> dt.datetime:
        return dt.datetime.combine(self.day0, dt.time())

    def date(self, day: int) -> dt.date:
        return self.day0 + day * _DAY

    def at(self, day: int, hour: int, minute: int = 0) -> dt.datetime:
        return self._midnight + _clock(day, hour, minute)


@dataclass(frozen=True)
class _PatientDraws:
    """A patient's own draws, taken before the course; the row waits for the first prior
    line's date, which the diagnosis precedes by ``lead_days``."""

    fields: dict[str, Any]
    lead_days: int

    @property
    def male(self) -> bool:
        return bool(self.fields["sex"] is r.Sex.M)

    def row(self, first_line: dt.date) -> r.PatientRow:
        return _PATIENT(**self.fields, diagnosis_date=first_line - self.lead_days * _DAY)


def _patient(plan: _Plan, d: _Draws) -> _PatientDraws:
    markers = _markers(d)
    # Keyword order is draw order: the random stream, hence every other value, is unchanged.
    centre_id = CENTRES[d.integers(0, len(CENTRES))]
    sex = r.Sex.M if d.random() < cal.P_MALE.value else r.Sex.F
    diagnosis = r.Diagnosis.SLL if d.random() < cal.P_SLL.value else r.Diagnosis.CLL
    lead_days = d.integers(*cal.DIAGNOSIS_TO_FIRST_LINE_DAYS.value)
    fields = {
        "patient_id": plan.pid,
        "centre_id": centre_id,
        "age_years": plan.age,
        "sex": sex,
        "diagnosis": diagnosis,
        "bulky_disease": d.random() < cal.P_BULKY.value,
        "ecog": d.integers(0, 2),
        "consent_research": True,
        **markers,
    }
    return _PatientDraws(fields, lead_days)


def _markers(d: _Draws) -> dict[str, bool | None]:
    """High-risk markers; ≥1 present in P_HIGH_RISK of patients [S17][S18b]."""
    names = ("del17p", "tp53_mutated", "complex_karyotype", "ighv_unmutated")
    if d.random() >= cal.P_HIGH_RISK.value:
        return dict.fromkeys(names, False)
    shares = cal.HIGH_RISK_MARKER_SHARES.value
    p = [shares["del17p"], shares["tp53_mutated"], shares["complex_karyotype"], shares["ighv"]]
    present = [d.random() < x for x in p]
    if not any(present):
        present[d.integers(0, 4)] = True
    return dict(zip(names, present, strict=True))


def _prior_lines(plan: _Plan, d: _Draws, rows: _Rows, apheresis: dt.date) -> dt.date:
    """Median 5 prior lines (range 2–12), all with a BTKi [S18b][S17]; venetoclax per plan.
    Returns the first line's start date."""
    n = plan.n_lines
    lines: list[tuple[tuple[str, ...], r.LineOutcome]] = []
    n_other = n - 1 - int(plan.venetoclax)
    for k in range(n_other):
        lines.append(
            (OTHER_LINES[(k + d.integers(0, 3)) % len(OTHER_LINES)], r.LineOutcome.PROGRESSION)
        )
    btki_refractory = d.random() < cal.P_BTKI_REFRACTORY.value
    btki = BTKI_AGENTS[0] if d.random() < 0.8 else BTKI_AGENTS[d.integers(1, 4)]
    outcome = r.LineOutcome.REFRACTORY if btki_refractory else r.LineOutcome.INTOLERANCE
    lines.insert(min(len(lines), 1 + d.integers(0, 2)), ((btki,), outcome))
    if plan.venetoclax:
        partner = "rituximab" if d.random() < 0.6 else "obinutuzumab"
        lines.append((("venetoclax", partner), r.LineOutcome.REFRACTORY))
    first = start = apheresis - (len(lines) * 300 + 60) * _DAY
    for number, (agents, outcome) in enumerate(lines, start=1):
        end = start + d.integers(120, 280) * _DAY
        rows.prior_lines.append(
            _PRIOR_LINE(
                patient_id=plan.pid,
                line_number=number,
                agents=list(agents),
                start_date=start,
                end_date=end,
                outcome=outcome,
            )
        )
        start = end + d.integers(10, 20) * _DAY
    return first


def _cell_therapy(plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline) -> dt.date:
    if not plan.infused:
        apheresis = tl.day0
        rows.cell_therapy.append(
            _CELL_THERAPY(patient_id=plan.pid, product="liso-cel", apheresis_date=apheresis)
        )
        return apheresis
    lo, hi = cal.LD_TO_INFUSION_DAYS.value
    ld_start = tl.date(-(d.integers(lo, hi + 1) + 2))  # 3 LD days, then 2–7 days [S26]
    apheresis = ld_start - d.integers(21, 35) * _DAY
    dose = round(plan.dose * d.uniform(0.94, 1.06), 1)
    rows.cell_therapy.append(
        _CELL_THERAPY(
            patient_id=plan.pid,
            product="liso-cel",
            apheresis_date=apheresis,
            lymphodepletion_start=ld_start,
            lymphodepletion_regimen="fludarabine/cyclophosphamide",
            infusion_date=tl.day0,
            lot=f"LOT-{d.integers(10**5, 10**6)}",
            dose_10e6_car_t_cells=dose,
        )
    )
    return apheresis
