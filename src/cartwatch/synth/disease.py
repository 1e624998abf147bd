"""Response assessments, MRD and blood counts: the iwCLL measurement course of each
patient up to progression, and the cytopenias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cartwatch.centre import records as r
from cartwatch.clinical.iwcll import Marrow, MrdResultKind
from cartwatch.synth import calibration as cal
from cartwatch.synth.draws import (
    _ASSESSMENT,
    _CR_DAYS,
    _CR_DAYS_PROLONGED,
    _LAB,
    _LLN,
    _MONTH_DAYS,
    _MRD,
    _VISIT_STEP_AFTER_YEAR,
    VISIT_DAYS,
    _Draws,
)
from cartwatch.synth.plans import (
    _Plan,
)
from cartwatch.synth.rows import (
    _Rows,
    _Timeline,
)

# ---------------------------------------------------------------------------------------------
# iwCLL assessments, MRD, labs


@dataclass(frozen=True)
class _Course:
    """Planned disease course: visit days with their state, progression and death."""

    visits: tuple[tuple[int, str], ...]  # (day, state) with state in CR/PR/SD/PD/NE/PROG
    progression_day: int | None
    clinical_progression: bool  # progression without an iwCLL assessment (NE patients)
    response_day: int


def _baseline(plan: _Plan, d: _Draws, bulky: bool, sll: bool) -> dict[str, Any]:
    """Baseline iwCLL measurements: nodes, spleen, lymphocytosis, cytopenias, marrow CLL."""
    u = d.uniform
    if plan.measurable:
        largest = u(5.0, 8.0) if bulky else u(2.0, 4.9)
        spd = u(15, 80)
        lymph = u(0.8, 3.5) if sll else u(5.0, 80.0)
    else:  # marrow/blood-only disease below the measurable thresholds
        largest, spd, lymph = u(1.0, 1.4), u(1.0, 2.0), u(1.0, 3.5)
    spleen = u(13.5, 20.0) if d.random() < 0.6 else u(9.0, 12.5)
    return {
        "lymph_nodes_spd_cm2": round(spd, 1),
        "largest_node_cm": round(largest, 1),
        "new_lesion": False,
        "spleen_cm": round(spleen, 1),
        "liver_enlarged": d.random() < 0.2,
        "lymphocytes_10e9_l": round(lymph, 2),
        "neutrophils_10e9_l": round(u(1.2, 3.5), 2),
        "platelets_10e9_l": float(round(u(40, 180))),
        "hemoglobin_g_dl": round(u(8.5, 10.8), 1),
        "transfused_or_epo": False,
        "constitutional_symptoms": d.random() < 0.3,
        "marrow": Marrow.CLL_OR_NODULES_PRESENT,
    }


def _states(base: dict[str, Any], d: _Draws) -> dict[str, dict[str, Any]]:
    """Measurements for each state, drawn once per patient so series are monotone."""
    u = d.uniform
    spleen_pr = round(u(10.5, 12.5), 1) if base["spleen_cm"] >= 13 else base["spleen_cm"]
    pr = {
        **base,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * u(0.2, 0.45), 1),
        "largest_node_cm": round(max(1.6, base["largest_node_cm"] * 0.5), 1),
        "spleen_cm": spleen_pr,
        "liver_enlarged": False,
        "lymphocytes_10e9_l": round(u(0.5, 3.0), 2),
        "neutrophils_10e9_l": round(u(1.5, 3.0), 2),
        "platelets_10e9_l": float(round(u(100, 200))),
        "hemoglobin_g_dl": round(u(11.1, 13.0), 1),
        "constitutional_symptoms": False,
        "marrow": Marrow.NOT_DONE,
    }
    cr = {
        **pr,
        "lymph_nodes_spd_cm2": 0.0,
        "largest_node_cm": round(u(0.6, 1.2), 1),
        "platelets_10e9_l": float(round(u(110, 250))),
        "hemoglobin_g_dl": round(u(11.5, 14.0), 1),
        "neutrophils_10e9_l": round(u(1.6, 3.5), 2),
        "marrow": Marrow.NORMOCELLULAR_NO_CLL,
    }
    f = u(0.8, 1.0)
    sd = {
        **base,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * f, 1),
        "largest_node_cm": round(
            max(base["largest_node_cm"] * f, min(base["largest_node_cm"], 1.6)), 1
        ),
        "spleen_cm": round(base["spleen_cm"] * u(1.0, 1.08), 1),
        "lymphocytes_10e9_l": round(base["lymphocytes_10e9_l"] * u(0.9, 1.2), 2),
        "platelets_10e9_l": float(round(base["platelets_10e9_l"] * u(0.95, 1.1))),
        "hemoglobin_g_dl": round(base["hemoglobin_g_dl"] + u(-0.3, 0.3), 1),
        "marrow": Marrow.NOT_DONE,
    }
    pd_ = {
        **base,
        "new_lesion": True,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * 1.6, 1),
        "largest_node_cm": round(base["largest_node_cm"] * 1.2, 1),
        "marrow": Marrow.NOT_DONE,
    }
    ne = {**sd, "spleen_cm": None}  # spleen not measured: PD cannot be excluded → NE
    return {"CR": cr, "PR": pr, "SD": sd, "PD": pd_, "NE": ne, "PROG": pd_}


def _visit_days(end: int) -> list[int]:
    days = [d for d in VISIT_DAYS if d <= end]
    d = VISIT_DAYS[-1] + _VISIT_STEP_AFTER_YEAR
    while d <= end:
        days.append(d)
        d += _VISIT_STEP_AFTER_YEAR
    return days


def _response_day(plan: _Plan, d: _Draws) -> int:
    """Day of the best response: CR at 60/90/180 (median 3.0 months [S19]), others day 30
    (time to first response median 1.1 months [S19])."""
    if plan.best != "CR":
        return VISIT_DAYS[0]
    return d.choice(_CR_DAYS_PROLONGED if plan.prolonged_cytopenia else _CR_DAYS)


def _pfs_day(plan: _Plan, d: _Draws, response_day: int) -> int:
    """Progression day from the response-group model (UNVERIFIED, calibration.py)."""
    if plan.best == "PD":
        return VISIT_DAYS[0]
    median = cal.PFS_MEDIAN_MONTHS_BY_RESPONSE.value[plan.best] * _MONTH_DAYS
    return response_day + 1 + int(d.exponential(median / math.log(2)))


def _course(plan: _Plan, tl: _Timeline, response_day: int, pfs_day: int) -> _Course:
    visits: list[tuple[int, str]] = []
    progression: int | None = None
    clinical = plan.best == "NE"
    for day in _visit_days(tl.end):
        if day >= pfs_day:
            if not clinical:
                visits.append((day, "PROG" if plan.best != "PD" else "PD"))
                progression = day
            break
        state = plan.best
        if plan.best == "CR" and day < response_day:
            state = "PR"
        visits.append((day, state))
    if clinical and pfs_day <= tl.end:
        progression = pfs_day
    return _Course(tuple(visits), progression, clinical, response_day)


def _assessment_rows(
    plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, course: _Course, base: dict[str, Any]
) -> dict[int, dict[str, Any]]:
    """Baseline (day −12, before lymphodepletion) and post-infusion assessments."""
    states = _states(base, d)
    rows.response_assessments.append(
        _ASSESSMENT(
            patient_id=plan.pid, assessed_at=tl.date(-12), timepoint=r.Timepoint.BASELINE, **base
        )
    )
    by_day: dict[int, dict[str, Any]] = {}
    for day, state in course.visits:
        values = dict(states[state])
        if state == "PR" and plan.prolonged_cytopenia and day == VISIT_DAYS[0]:
            values["platelets_10e9_l"] = float(round(d.uniform(60, 95)))  # still recovering
        by_day[day] = values
        rows.response_assessments.append(
            _ASSESSMENT(
                patient_id=plan.pid, assessed_at=tl.date(day), timepoint=r.Timepoint.POST, **values
            )
        )
    return by_day


def _mrd_rows(plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, course: _Course) -> None:
    """Blood MRD at the response visit, marrow at the CR visit or day 90 (10^-4 NGS [S16]);
    uMRD probabilities by response group (calibration.py, modelling assumption)."""
    if plan.best not in ("CR", "PR", "SD"):
        return
    days = {day for day, s in course.visits if s != "PROG"}
    blood_day = course.response_day
    marrow_day = course.response_day if plan.best == "CR" else 90
    for sample, day, probs in (
        (r.MrdSample.BLOOD, blood_day, cal.UMRD_BY_RESPONSE_BLOOD.value),
        (r.MrdSample.MARROW, marrow_day, cal.UMRD_BY_RESPONSE_MARROW.value),
    ):
        if day not in days:
            continue
        forced = plan.extra.get(f"umrd_{sample.value}")
        undetectable = forced if forced is not None else d.random() < probs[plan.best]
        level = None if undetectable else round(10 ** d.uniform(-3.5, -1.5), 6)
        rows.mrd.append(
            _MRD(
                patient_id=plan.pid,
                sampled_at=tl.date(day),
                sample=sample,
                result=MrdResultKind.UNDETECTABLE if undetectable else MrdResultKind.DETECTABLE,
                sensitivity=cal.MRD_SENSITIVITY.value,
                method=cal.MRD_METHOD.value,
                level=level,
            )
        )


_LLN_NEUTROPHILS = 1.8  # typical laboratory reference limits (modelling assumption)
_HB_GRADE_3_BELOW = 8.0  # CTCAE v5.0 anaemia grade 3: Hb <8.0 g/dL; transfusion indicated
_LLN_PLATELETS = 150.0


def _lab_rows(
    plan: _Plan,
    d: _Draws,
    rows: _Rows,
    tl: _Timeline,
    base: dict[str, Any] | None,
    visits: dict[int, dict[str, Any]],
    male: bool,
) -> None:
    """Blood counts: day −7, daily days 0–14, days 21 and 28, then at every assessment.

    Lymphodepletion drives an early neutrophil nadir; ``prolonged_cytopenia`` patients stay
    at grade ≥3 (neutrophils <1.0 or platelets <50) at day 28 (definition UNVERIFIED [S14])."""
    lln = {
        "neutrophils_10e9_l": _LLN_NEUTROPHILS,
        "platelets_10e9_l": _LLN_PLATELETS,
        "hemoglobin_g_dl": 13.0 if male else 12.0,
    }
    b = base or {
        "neutrophils_10e9_l": 2.5,
        "platelets_10e9_l": 150.0,
        "hemoglobin_g_dl": 11.0,
        "lymphocytes_10e9_l": 10.0,
    }
    anc0, plt0, hb0 = b["neutrophils_10e9_l"], b["platelets_10e9_l"], b["hemoglobin_g_dl"]
    nadir = d.uniform(0.05, 0.4)
    days = [-7, *range(15), 21, 28] if plan.infused else [-7]
    for day in days:
        if day > tl.end:
            break
        if day < 0:
            anc, plt, hb, lym = anc0, plt0, hb0, b["lymphocytes_10e9_l"]
        else:
            anc, plt = _early_counts(day, anc0, plt0, nadir, plan.prolonged_cytopenia, d)
            # From day 21 (the day-28 ± 7 window of the prolonged-cytopenia flag) Hb of the
            # others stays ≥8.0 g/dL (CTCAE grade ≤2): a grade-3 anaemia there would make
            # them "prolonged" too (the published cohort showed 66 for [S14]'s 63).
            floor = 7.5 if plan.prolonged_cytopenia or day < 21 else _HB_GRADE_3_BELOW
            hb, lym = max(floor, hb0 - d.uniform(0, 1.0)), d.uniform(0.1, 0.8)
        _lab(rows, plan, tl, day, anc, plt, hb, lym, lln)
    for day, m in sorted(visits.items()):
        if day > tl.end:
            break
        _lab(
            rows,
            plan,
            tl,
            day,
            m["neutrophils_10e9_l"],
            m["platelets_10e9_l"],
            m["hemoglobin_g_dl"],
            m["lymphocytes_10e9_l"],
            lln,
        )


def _early_counts(
    day: int, anc0: float, plt0: float, nadir: float, prolonged: bool, d: _Draws
) -> tuple[float, float]:
    if day <= 3:
        anc = anc0 - (anc0 - nadir) * day / 4 if day else anc0 * 0.6
    elif day <= 10:
        anc = nadir
    elif not prolonged:
        anc = {11: 0.8, 12: 1.0, 13: 1.1, 14: 1.2, 21: 1.8, 28: 2.0}[day]
    else:
        anc = {11: 0.3, 12: 0.3, 13: 0.4, 14: 0.4, 21: 0.5, 28: 0.7}[day]
    if day <= 14:
        plt = plt0 * (1 - 0.5 * min(day, 7) / 7)
    elif prolonged:
        plt = d.uniform(25, 45) if day == 28 else plt0 * 0.5
    else:
        plt = max(plt0 * 0.8, 76.0)
    return anc, plt


def _lab(
    rows: _Rows,
    plan: _Plan,
    tl: _Timeline,
    day: int,
    anc: float,
    plt: float,
    hb: float,
    lym: float,
    lln: dict[str, float],
) -> None:
    hb_row = float(round(hb, 1))
    rows.labs.append(
        _LAB(
            patient_id=plan.pid,
            observed_at=tl.at(day, 7),
            neutrophils_10e9_l=float(round(anc, 2)),
            platelets_10e9_l=float(round(plt)),
            hemoglobin_g_dl=hb_row,
            lymphocytes_10e9_l=float(round(lym, 2)),
            lln=_LLN(**lln),  # one per row: the nested model is mutable
            # From the value written, not the unrounded one: 7.96 is written as 8.0 and must
            # not carry a transfusion flag (CTCAE grade 3) that the row itself contradicts.
            transfusion_indicated=hb_row < _HB_GRADE_3_BELOW,
        )
    )
