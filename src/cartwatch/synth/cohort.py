"""Synthetic TRANSCEND-CLL-004-like centre data: raw observations, not grades.

``synthesize(n, seed)`` draws ``n`` leukapheresed patients from the marginals in
:mod:`cartwatch.synth.calibration` (cited ``[S#]``; UNVERIFIED items and modelling assumptions
are flagged there). ``synthesize(..., published=True)`` ignores ``n`` and builds the primary
analysis of TRANSCEND CLL 004 (clinical-standards.md §3): 137 leukapheresed, 117 infused
(safety set), with counts that the clinical engines reproduce *exactly*:

* CRS, ASTCT 2019 maximum grade per patient (``crs.grade_crs_episode`` over the patient's
  ``crs_observations``): grade 1/2/3 = 43/46/10, 18 without CRS [S14].
* Neurotoxicity, ASTCT 2019 maximum grade (``icans.grade_icans_episode``): grade 1/2/3/4 =
  13/18/21/1, 64 without [S14]. (The trial reported investigator-identified neurological
  events, not ASTCT ICANS, §0.3; the synthetic observations are built so that the ASTCT
  grader reproduces the published grade counts.)
* Label efficacy population n = 65 [S19][S26]: best overall response (iwCLL 2018,
  ``iwcll.assess_response`` per post-infusion assessment against the baseline, then
  ``iwcll.best_overall_response`` in date order) 13 CR, 16 PR, 26 SD, 5 PD, 5 NE:
  CR 20.0 %, ORR 44.6 %.

How an analysis layer identifies the **label efficacy population** (all five must hold; the
reference implementation is :func:`label_population_reasons`):

1. infused: ``cell_therapy.infusion_date`` is present;
2. label dose: ``90 <= cell_therapy.dose_10e6_car_t_cells <= 110`` [S21][S26];
3. label prior therapy: ≥2 rows in ``prior_lines.csv`` and, across them, at least one BTK
   inhibitor and one BCL-2 inhibitor (agent names classified with
   ``cartwatch.clinical.labels.classify_agent``; cli-contract.md ``eligibility``);
4. measurable disease at baseline: the ``timepoint == "baseline"`` assessment has
   ``largest_node_cm >= 1.5`` or ``lymphocytes_10e9_l >= 5.0`` (project definition: a node
   that iwCLL calls abnormal [S41], or the CLL diagnostic lymphocytosis; the trial's exact
   definition is UNVERIFIED, §3.2);
5. evaluable: at least one ``timepoint == "post"`` assessment.

Other analysis sets: **enrolled** = every patient with a ``cell_therapy`` row (leukapheresed);
**safety** = infused (criterion 1). In published mode the 52 infused patients outside the
label population fail exactly one criterion each: 9 at dose level 1 (50 × 10⁶ [S16]), 20 without
a prior BCL-2 inhibitor, 11 without measurable disease at baseline, 12 without a post-baseline
assessment (left the study before day 30). ``patients``/``cell_therapy`` carry no such flag:
the analysis must derive it from the raw data, as for a real centre.

Assessments are on days 30, 60, 90, 180, 270, 365 and then every 180 days until progression,
death or the data cut; a progression is a PD assessment (new lesion, node SPD +60 %) plus a
``followup`` ``progression`` event on the same date. Every measurement series is monotone
until progression, so PD "from the nadir" is never triggered before the intended date,
whichever nadir the analysis passes. PFS/OS follow the response-group model in calibration.py
(UNVERIFIED, a modelling assumption).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cartwatch.centre import records as r
from cartwatch.centre.loader import CentreData
from cartwatch.clinical.iwcll import MrdResultKind
from cartwatch.clinical.labels import DrugClass, classify_agent
from cartwatch.synth import calibration as cal

Rng = np.random.Generator

#: Data cut of the synthetic cohorts: a fixed past date, so every output is reproducible and
#: no date lies in the future (the loader refuses future dates).
DATA_CUT = dt.date(2025, 6, 30)
_DAY = dt.timedelta(days=1)
_MONTH_DAYS = 30.4375
VISIT_DAYS: tuple[int, ...] = (30, 60, 90, 180, 270, 365)
_VISIT_STEP_AFTER_YEAR = 180
_MAX_FOLLOWUP_DAYS = 1200  # infusions lie 90..1200 days before the cut (median ≈ 21 months)
CENTRES = ("C01", "C02", "C03", "C04", "C05")

BTKI_AGENTS = ("ibrutinib", "acalabrutinib", "zanubrutinib", "pirtobrutinib")
OTHER_LINES: tuple[tuple[str, ...], ...] = (
    ("fludarabine", "cyclophosphamide", "rituximab"),
    ("bendamustine", "rituximab"),
    ("chlorambucil", "obinutuzumab"),
    ("idelalisib", "rituximab"),
    ("duvelisib",),
    ("alemtuzumab",),
    ("rituximab", "cyclophosphamide", "doxorubicin", "vincristine", "prednisone"),
    ("obinutuzumab",),
)


# ---------------------------------------------------------------------------------------------
# The per-patient plan


@dataclass
class _Plan:
    """Intended truth for one patient; the rows are generated from it."""

    index: int
    infused: bool = True
    dose: float = cal.DOSE_LEVEL_2.value
    venetoclax: bool = True
    measurable: bool = True
    early_exit: bool = False  # leaves before the first post-baseline visit
    crs_grade: int = 0
    nt_grade: int = 0
    best: str = "SD"
    label_reason: str | None = None
    prolonged_cytopenia: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> str:
        return f"SYN-{self.index + 1:04d}"


def _published_plans(rng: Rng) -> list[_Plan]:
    """137 plans whose engine-derived counts equal the published ones (module docstring)."""
    lab = cal.LABEL_POPULATION.value
    rest = lab["n"] - lab["CR"] - lab["PR"]  # 36 non-responders: SD/PD/NE in 39:7:7 [S18]
    n_pd = n_ne = round(rest * 7 / 53)
    label_best = ["CR"] * lab["CR"] + ["PR"] * lab["PR"]
    label_best += ["SD"] * (rest - n_pd - n_ne) + ["PD"] * n_pd + ["NE"] * n_ne
    plans = [_Plan(0, best=b) for b in label_best]
    exclusions = (
        ("dose level 1", 9),
        ("no BCL-2 inhibitor", 20),
        ("no measurable disease", 11),
        ("no post-baseline assessment", 12),
    )
    for reason, count in exclusions:
        plans += [_Plan(0, label_reason=reason) for _ in range(count)]
    n_infused = cal.SAFETY_SET_PUBLISHED.value
    assert len(plans) == n_infused
    crs = [g for g, k in cal.CRS_GRADE_COUNTS.value.items() for _ in range(k)]
    nt = [g for g, k in cal.NT_GRADE_COUNTS.value.items() for _ in range(k)]
    n_prolonged = round(cal.PROLONGED_CYTOPENIA.value * n_infused)
    prolonged = [True] * n_prolonged + [False] * (n_infused - n_prolonged)
    for plan, c, t, p in zip(
        plans, rng.permutation(crs), rng.permutation(nt), rng.permutation(prolonged), strict=True
    ):
        plan.crs_grade, plan.nt_grade, plan.prolonged_cytopenia = int(c), int(t), bool(p)
        _apply_exclusion(plan, rng)
    n_not_infused = cal.ENROLLED_PUBLISHED.value - n_infused
    plans += [_Plan(0, infused=False, label_reason="not infused") for _ in range(n_not_infused)]
    order = rng.permutation(len(plans))
    shuffled = [plans[i] for i in order]
    for i, plan in enumerate(shuffled):
        plan.index = i
    return shuffled


def _apply_exclusion(plan: _Plan, rng: Rng) -> None:
    reason = plan.label_reason
    if reason is None:
        return
    plan.best = _choice(rng, cal.BEST_RESPONSE_DL2.value)
    if reason == "dose level 1":
        plan.dose = cal.DOSE_LEVEL_1.value
    elif reason == "no BCL-2 inhibitor":
        plan.venetoclax = False
    elif reason == "no measurable disease":
        plan.measurable = False
    elif reason == "no post-baseline assessment":
        plan.early_exit = True


def _random_plans(n: int, rng: Rng) -> list[_Plan]:
    plans = []
    crs_p = _probabilities(cal.CRS_GRADE_COUNTS.value)
    nt_p = _probabilities(cal.NT_GRADE_COUNTS.value)
    for i in range(n):
        plan = _Plan(i, infused=bool(rng.random() < cal.P_INFUSED.value))
        plan.dose = (
            cal.DOSE_LEVEL_1.value
            if rng.random() < cal.P_DOSE_LEVEL_1.value
            else cal.DOSE_LEVEL_2.value
        )
        plan.venetoclax = bool(rng.random() < cal.P_PRIOR_VENETOCLAX.value)
        plan.measurable = bool(rng.random() < 0.95)  # modelling assumption
        plan.crs_grade = int(rng.choice(len(crs_p), p=crs_p))
        plan.nt_grade = int(rng.choice(len(nt_p), p=nt_p))
        plan.best = _choice(rng, cal.BEST_RESPONSE_DL2.value)
        plan.prolonged_cytopenia = bool(rng.random() < cal.PROLONGED_CYTOPENIA.value)
        plans.append(plan)
    return plans


def _probabilities(counts: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    values = np.array([counts[k] for k in sorted(counts)], dtype=np.float64)
    out: np.ndarray[Any, np.dtype[np.float64]] = values / values.sum()
    return out


def _choice(rng: Rng, probs: Any) -> str:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return str(keys[int(rng.choice(len(keys), p=p / p.sum()))])


def _quantile_draw(rng: Rng, q: cal.MedianIqr, lo: float, hi: float) -> int:
    """Whole days from a piecewise-linear quantile function through (0, lo), the quartiles
    and (1, hi): reproduces the published median and IQR (modelling assumption on shape)."""
    u = rng.random()
    value = np.interp(u, [0.0, 0.25, 0.5, 0.75, 1.0], [lo, q.q1, q.median, q.q3, hi])
    return max(1, round(float(value)))


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


@dataclass(frozen=True)
class _Timeline:
    """Day 0 = infusion (or apheresis when not infused); ``end`` = last day with data."""

    day0: dt.date
    end: int  # days after day0: death or data cut
    death: bool
    cut: int

    def date(self, day: int) -> dt.date:
        return self.day0 + day * _DAY

    def at(self, day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.date(day), dt.time(hour, minute))


def _patient(plan: _Plan, rng: Rng, rows: _Rows) -> int:
    age = int(
        np.clip(round(rng.normal(cal.MEDIAN_AGE_YEARS.value, cal.AGE_SD_YEARS.value)), 35, 85)
    )
    markers = _markers(rng)
    rows.patients.append(
        r.PatientRow(
            patient_id=plan.pid,
            centre_id=CENTRES[int(rng.integers(len(CENTRES)))],
            age_years=age,
            sex=r.Sex.M if rng.random() < cal.P_MALE.value else r.Sex.F,
            diagnosis=r.Diagnosis.SLL if rng.random() < cal.P_SLL.value else r.Diagnosis.CLL,
            diagnosis_date=DATA_CUT - int(rng.integers(6 * 365, 15 * 365)) * _DAY,
            bulky_disease=bool(rng.random() < cal.P_BULKY.value),
            ecog=int(rng.integers(0, 2)),
            consent_research=True,
            **markers,
        )
    )
    return age


def _markers(rng: Rng) -> dict[str, bool | None]:
    """High-risk markers; ≥1 present in P_HIGH_RISK of patients [S17][S18b]."""
    names = ("del17p", "tp53_mutated", "complex_karyotype", "ighv_unmutated")
    if rng.random() >= cal.P_HIGH_RISK.value:
        return dict.fromkeys(names, False)
    shares = cal.HIGH_RISK_MARKER_SHARES.value
    p = [shares["del17p"], shares["tp53_mutated"], shares["complex_karyotype"], shares["ighv"]]
    present = [bool(rng.random() < x) for x in p]
    if not any(present):
        present[int(rng.integers(4))] = True
    return dict(zip(names, present, strict=True))


def _prior_lines(plan: _Plan, rng: Rng, rows: _Rows, apheresis: dt.date) -> None:
    """Median 5 prior lines (range 2–12), all with a BTKi [S18b][S17]; venetoclax per plan."""
    spec = cal.PRIOR_LINES.value
    n = int(np.clip(spec["min"] + rng.poisson(spec["median"] - spec["min"]), 2, spec["max"]))
    lines: list[tuple[tuple[str, ...], r.LineOutcome]] = []
    n_other = n - 1 - int(plan.venetoclax)
    for k in range(n_other):
        lines.append(
            (OTHER_LINES[(k + int(rng.integers(3))) % len(OTHER_LINES)], r.LineOutcome.PROGRESSION)
        )
    btki_refractory = rng.random() < cal.P_BTKI_REFRACTORY.value
    btki = BTKI_AGENTS[0] if rng.random() < 0.8 else BTKI_AGENTS[int(rng.integers(1, 4))]
    outcome = r.LineOutcome.REFRACTORY if btki_refractory else r.LineOutcome.INTOLERANCE
    lines.insert(min(len(lines), 1 + int(rng.integers(2))), ((btki,), outcome))
    if plan.venetoclax:
        partner = "rituximab" if rng.random() < 0.6 else "obinutuzumab"
        lines.append((("venetoclax", partner), r.LineOutcome.REFRACTORY))
    start = apheresis - (len(lines) * 300 + 60) * _DAY
    for number, (agents, outcome) in enumerate(lines, start=1):
        end = start + int(rng.integers(120, 280)) * _DAY
        rows.prior_lines.append(
            r.PriorLineRow(
                patient_id=plan.pid,
                line_number=number,
                agents=list(agents),
                start_date=start,
                end_date=end,
                outcome=outcome,
            )
        )
        start = end + int(rng.integers(10, 20)) * _DAY


def _cell_therapy(plan: _Plan, rng: Rng, rows: _Rows, tl: _Timeline) -> dt.date:
    if not plan.infused:
        apheresis = tl.day0
        rows.cell_therapy.append(
            r.CellTherapyRow(patient_id=plan.pid, product="liso-cel", apheresis_date=apheresis)
        )
        return apheresis
    lo, hi = cal.LD_TO_INFUSION_DAYS.value
    ld_start = tl.date(-(int(rng.integers(lo, hi + 1)) + 2))  # 3 LD days, then 2–7 days [S26]
    apheresis = ld_start - int(rng.integers(21, 35)) * _DAY
    dose = round(plan.dose * float(rng.uniform(0.94, 1.06)), 1)
    rows.cell_therapy.append(
        r.CellTherapyRow(
            patient_id=plan.pid,
            product="liso-cel",
            apheresis_date=apheresis,
            lymphodepletion_start=ld_start,
            lymphodepletion_regimen="fludarabine/cyclophosphamide",
            infusion_date=tl.day0,
            lot=f"LOT-{int(rng.integers(10**5, 10**6))}",
            dose_10e6_car_t_cells=dose,
        )
    )
    return apheresis


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
    rng: Rng, grade: int, onset_q: cal.MedianIqr, dur_q: cal.MedianIqr, last_day: int
) -> _Episode | None:
    if grade == 0:
        return None
    onset = min(_quantile_draw(rng, onset_q, 1, 3 * onset_q.q3), last_day - 2)
    length = min(_quantile_draw(rng, dur_q, 1, 3 * dur_q.q3), last_day - 1 - onset)
    peak = onset if grade == 1 else onset + int(rng.integers(0, min(2, length - 1) + 1))
    return _Episode(onset, max(1, length), peak)


def _crs_treatment(plan: _Plan, rng: Rng, published_counts: dict[str, list[str]]) -> str:
    if plan.crs_grade == 0:
        return "none"
    queue = published_counts.get(f"crs{plan.crs_grade}")
    if queue:
        return queue.pop()
    return _choice(rng, cal.CRS_TREATMENT_BY_GRADE.value[plan.crs_grade])


def _crs_rows(plan: _Plan, rng: Rng, rows: _Rows, tl: _Timeline, treat: str) -> None:
    """Daily 08:00 observations from day 1 to ≥ day 14 (label monitoring, §3B).

    Grade 1: fever only. Peak grade 2: fever + hypotension without vasopressor, or nasal
    cannula ≤6 L/min; grade 3: fever + one vasopressor (norepinephrine), or nasal cannula
    >6 L/min / high-flow (ASTCT 2019, cli-contract.md). After the peak a grade-2 finding
    persists until resolution; tocilizumab/steroids are given after the 08:00 observation, so
    ``antipyretic_or_anticytokine_given`` is true from the next observation on.
    """
    last_day = 20 if plan.early_exit else 60
    ep = _episode(
        rng, plan.crs_grade, cal.CRS_ONSET_DAYS.value, cal.CRS_DURATION_DAYS.value, last_day
    )
    treated_at = _crs_treat(plan, rng, rows, tl, treat, ep)
    last = max(14, ep.resolution if ep else 0)
    step_down = _grade2_finding(rng)
    peak_finding = _peak_finding(rng, plan.crs_grade)
    for day in range(1, min(last, tl.end) + 1):
        at = tl.at(day, 8)
        flag = treated_at is not None and at > treated_at
        fields: dict[str, Any] = {"temperature_c": round(float(rng.uniform(36.5, 37.4)), 1)}
        if ep and ep.onset <= day < ep.resolution:
            fever = not flag or day <= ep.peak
            if fever:
                fields["temperature_c"] = round(float(rng.uniform(38.2, 39.6)), 1)
            if day == ep.peak:
                fields.update(peak_finding)
            elif day > ep.peak and plan.crs_grade >= 2:
                fields.update(step_down)
        rows.crs_observations.append(
            r.CrsObservationRow(
                patient_id=plan.pid,
                observed_at=at,
                antipyretic_or_anticytokine_given=flag,
                **fields,
            )
        )


def _grade2_finding(rng: Rng) -> dict[str, Any]:
    if rng.random() < 0.6:
        return {"hypotension": True}
    return {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": float(rng.integers(1, 5))}


def _peak_finding(rng: Rng, grade: int) -> dict[str, Any]:
    if grade <= 1:
        return {}
    if grade == 2:
        return _grade2_finding(rng)
    if rng.random() < 0.6:
        return {"hypotension": True, "vasopressors": ["norepinephrine"]}
    if rng.random() < 0.5:
        return {"oxygen_device": "high_flow_nasal_cannula", "oxygen_flow_l_min": 40.0}
    return {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 8.0}


def _crs_treat(
    plan: _Plan, rng: Rng, rows: _Rows, tl: _Timeline, treat: str, ep: _Episode | None
) -> dt.datetime | None:
    """CRS treatments [S14] (tocilizumab 8 mg/kg, dexamethasone 10 mg; §3B, UNVERIFIED doses)."""
    if ep is None or treat == "none":
        return None
    day = ep.peak if plan.crs_grade >= 2 else ep.resolution - 1
    first = tl.at(day, 10)
    if treat in ("tocilizumab", "both"):
        _give(rows, plan, first, r.TreatmentAgent.TOCILIZUMAB, r.Indication.CRS, 8.0, "mg/kg")
        if rng.random() < cal.P_SECOND_TOCILIZUMAB.value:
            _give(
                rows,
                plan,
                tl.at(day, 18),
                r.TreatmentAgent.TOCILIZUMAB,
                r.Indication.CRS,
                8.0,
                "mg/kg",
            )
    if treat in ("steroids", "both"):
        for d in range(day, max(day + 1, ep.resolution if plan.crs_grade >= 3 else day + 1)):
            _give(
                rows,
                plan,
                tl.at(d, 11),
                r.TreatmentAgent.DEXAMETHASONE,
                r.Indication.CRS,
                10.0,
                "mg",
            )
    return first


def _give(
    rows: _Rows,
    plan: _Plan,
    at: dt.datetime,
    agent: r.TreatmentAgent,
    indication: r.Indication,
    dose: float,
    unit: str,
) -> None:
    rows.treatments.append(
        r.TreatmentRow(
            patient_id=plan.pid,
            given_at=at,
            agent=agent,
            indication=indication,
            dose=dose,
            dose_unit=r.DoseUnit(unit),
        )
    )


def _nt_treatment(plan: _Plan, rng: Rng, published_counts: dict[str, list[str]]) -> str:
    if plan.nt_grade == 0:
        return "none"
    queue = published_counts.get(f"nt{plan.nt_grade}")
    if queue:
        return queue.pop()
    return _choice(rng, cal.NT_TREATMENT_BY_GRADE.value[plan.nt_grade])


def _icans_rows(plan: _Plan, rng: Rng, rows: _Rows, tl: _Timeline, age: int, treat: str) -> None:
    """Daily 09:00 neurological assessments (ICE score, consciousness), ASTCT 2019 grading:
    ICE 7–9 → 1, 3–6 → 2, 0–2 → 3, unarousable → 4 (cli-contract.md ``grade icans``)."""
    last_day = 20 if plan.early_exit else 90
    ep = _episode(rng, plan.nt_grade, cal.NT_ONSET_DAYS.value, cal.NT_DURATION_DAYS.value, last_day)
    last = max(14, ep.resolution if ep else 0)
    peak_ice = {1: int(rng.integers(7, 10)), 2: int(rng.integers(3, 7)), 3: int(rng.integers(0, 3))}
    for day in range(1, min(last, tl.end) + 1):
        fields: dict[str, Any] = {"ice_score": 10}
        if ep and ep.onset <= day < ep.resolution:
            fields["ice_score"] = int(rng.integers(7, 10))
            if day == ep.peak and plan.nt_grade == 4:
                fields = {"ice_score": None, "consciousness": "unarousable"}
            elif day == ep.peak:
                fields["ice_score"] = peak_ice[plan.nt_grade]
        rows.icans_observations.append(
            r.IcansObservationRow(
                patient_id=plan.pid, observed_at=tl.at(day, 9), age_years=float(age), **fields
            )
        )
    if ep is None or treat == "none":
        return
    steroid = r.TreatmentAgent.DEXAMETHASONE
    dose, unit = 10.0, "mg"
    if plan.nt_grade == 4:  # methylprednisolone 1 g/day for grade 4 (§3B, UNVERIFIED)
        steroid, dose = r.TreatmentAgent.METHYLPREDNISOLONE, 1000.0
    days = range(ep.peak, max(ep.peak + 1, ep.resolution)) if plan.nt_grade >= 3 else [ep.peak]
    for d in days:
        _give(rows, plan, tl.at(d, 12), steroid, r.Indication.ICANS, dose, unit)
    if treat == "both":
        _give(
            rows,
            plan,
            tl.at(ep.peak, 12, 30),
            r.TreatmentAgent.TOCILIZUMAB,
            r.Indication.ICANS,
            8.0,
            "mg/kg",
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


def _baseline(plan: _Plan, rng: Rng, bulky: bool, sll: bool) -> dict[str, Any]:
    """Baseline iwCLL measurements: nodes, spleen, lymphocytosis, cytopenias, marrow CLL."""
    u = rng.uniform
    if plan.measurable:
        largest = float(u(5.0, 8.0)) if bulky else float(u(2.0, 4.9))
        spd = float(u(15, 80))
        lymph = float(u(0.8, 3.5)) if sll else float(u(5.0, 80.0))
    else:  # marrow/blood-only disease below the measurable thresholds
        largest, spd, lymph = float(u(1.0, 1.4)), float(u(1.0, 2.0)), float(u(1.0, 3.5))
    spleen = float(u(13.5, 20.0)) if rng.random() < 0.6 else float(u(9.0, 12.5))
    return {
        "lymph_nodes_spd_cm2": round(spd, 1),
        "largest_node_cm": round(largest, 1),
        "new_lesion": False,
        "spleen_cm": round(spleen, 1),
        "liver_enlarged": bool(rng.random() < 0.2),
        "lymphocytes_10e9_l": round(lymph, 2),
        "neutrophils_10e9_l": round(float(u(1.2, 3.5)), 2),
        "platelets_10e9_l": round(float(u(40, 180))),
        "hemoglobin_g_dl": round(float(u(8.5, 10.8)), 1),
        "transfused_or_epo": False,
        "constitutional_symptoms": bool(rng.random() < 0.3),
        "marrow": "cll_or_nodules_present",
    }


def _states(base: dict[str, Any], rng: Rng) -> dict[str, dict[str, Any]]:
    """Measurements for each state, drawn once per patient so series are monotone."""
    u = rng.uniform
    spleen_pr = round(float(u(10.5, 12.5)), 1) if base["spleen_cm"] >= 13 else base["spleen_cm"]
    pr = {
        **base,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * float(u(0.2, 0.45)), 1),
        "largest_node_cm": round(max(1.6, base["largest_node_cm"] * 0.5), 1),
        "spleen_cm": spleen_pr,
        "liver_enlarged": False,
        "lymphocytes_10e9_l": round(float(u(0.5, 3.0)), 2),
        "neutrophils_10e9_l": round(float(u(1.5, 3.0)), 2),
        "platelets_10e9_l": round(float(u(100, 200))),
        "hemoglobin_g_dl": round(float(u(11.1, 13.0)), 1),
        "constitutional_symptoms": False,
        "marrow": "not_done",
    }
    cr = {
        **pr,
        "lymph_nodes_spd_cm2": 0.0,
        "largest_node_cm": round(float(u(0.6, 1.2)), 1),
        "platelets_10e9_l": round(float(u(110, 250))),
        "hemoglobin_g_dl": round(float(u(11.5, 14.0)), 1),
        "neutrophils_10e9_l": round(float(u(1.6, 3.5)), 2),
        "marrow": "normocellular_no_cll",
    }
    f = float(u(0.8, 1.0))
    sd = {
        **base,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * f, 1),
        "largest_node_cm": round(
            max(base["largest_node_cm"] * f, min(base["largest_node_cm"], 1.6)), 1
        ),
        "spleen_cm": round(base["spleen_cm"] * float(u(1.0, 1.08)), 1),
        "lymphocytes_10e9_l": round(base["lymphocytes_10e9_l"] * float(u(0.9, 1.2)), 2),
        "platelets_10e9_l": round(base["platelets_10e9_l"] * float(u(0.95, 1.1))),
        "hemoglobin_g_dl": round(base["hemoglobin_g_dl"] + float(u(-0.3, 0.3)), 1),
        "marrow": "not_done",
    }
    pd_ = {
        **base,
        "new_lesion": True,
        "lymph_nodes_spd_cm2": round(base["lymph_nodes_spd_cm2"] * 1.6, 1),
        "largest_node_cm": round(base["largest_node_cm"] * 1.2, 1),
        "marrow": "not_done",
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


def _response_day(plan: _Plan, rng: Rng) -> int:
    """Day of the best response: CR at 60/90/180 (median 3.0 months [S19]), others day 30
    (time to first response median 1.1 months [S19])."""
    if plan.best != "CR":
        return VISIT_DAYS[0]
    options = (90, 180) if plan.prolonged_cytopenia else (60, 90, 180)
    weights = (0.6, 0.4) if plan.prolonged_cytopenia else (0.3, 0.45, 0.25)
    return int(rng.choice(options, p=weights))


def _pfs_day(plan: _Plan, rng: Rng, response_day: int) -> int:
    """Progression day from the response-group model (UNVERIFIED, calibration.py)."""
    if plan.best == "PD":
        return VISIT_DAYS[0]
    median = cal.PFS_MEDIAN_MONTHS_BY_RESPONSE.value[plan.best] * _MONTH_DAYS
    return response_day + 1 + int(rng.exponential(median / np.log(2)))


def _course(plan: _Plan, rng: Rng, tl: _Timeline, response_day: int, pfs_day: int) -> _Course:
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
    plan: _Plan, rng: Rng, rows: _Rows, tl: _Timeline, course: _Course, base: dict[str, Any]
) -> dict[int, dict[str, Any]]:
    """Baseline (day −12, before lymphodepletion) and post-infusion assessments."""
    states = _states(base, rng)
    rows.response_assessments.append(
        r.ResponseAssessmentRow(
            patient_id=plan.pid, assessed_at=tl.date(-12), timepoint="baseline", **base
        )
    )
    by_day: dict[int, dict[str, Any]] = {}
    for day, state in course.visits:
        values = dict(states[state])
        if state == "PR" and plan.prolonged_cytopenia and day == VISIT_DAYS[0]:
            values["platelets_10e9_l"] = round(float(rng.uniform(60, 95)))  # still recovering
        by_day[day] = values
        rows.response_assessments.append(
            r.ResponseAssessmentRow(
                patient_id=plan.pid, assessed_at=tl.date(day), timepoint="post", **values
            )
        )
    return by_day


def _mrd_rows(plan: _Plan, rng: Rng, rows: _Rows, tl: _Timeline, course: _Course) -> None:
    """Blood MRD at the response visit, marrow at the CR visit or day 90 (10^-4 NGS [S16]);
    uMRD probabilities by response group (calibration.py, modelling assumption)."""
    if plan.best not in ("CR", "PR", "SD"):
        return
    days = {d for d, s in course.visits if s != "PROG"}
    blood_day = course.response_day
    marrow_day = course.response_day if plan.best == "CR" else 90
    for sample, day, probs in (
        (r.MrdSample.BLOOD, blood_day, cal.UMRD_BY_RESPONSE_BLOOD.value),
        (r.MrdSample.MARROW, marrow_day, cal.UMRD_BY_RESPONSE_MARROW.value),
    ):
        if day not in days:
            continue
        forced = plan.extra.get(f"umrd_{sample.value}")
        undetectable = forced if forced is not None else bool(rng.random() < probs[plan.best])
        level = None if undetectable else float(np.round(10 ** rng.uniform(-3.5, -1.5), 6))
        rows.mrd.append(
            r.MrdRow(
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
_LLN_PLATELETS = 150.0


def _lab_rows(
    plan: _Plan,
    rng: Rng,
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
        "platelets_10e9_l": 150,
        "hemoglobin_g_dl": 11.0,
        "lymphocytes_10e9_l": 10.0,
    }
    anc0, plt0, hb0 = b["neutrophils_10e9_l"], b["platelets_10e9_l"], b["hemoglobin_g_dl"]
    nadir = float(rng.uniform(0.05, 0.4))
    days = [-7, *range(15), 21, 28] if plan.infused else [-7]
    for day in days:
        if day > tl.end:
            break
        if day < 0:
            anc, plt, hb, lym = anc0, plt0, hb0, b["lymphocytes_10e9_l"]
        else:
            anc, plt = _early_counts(day, anc0, plt0, nadir, plan.prolonged_cytopenia, rng)
            hb, lym = max(7.5, hb0 - float(rng.uniform(0, 1.0))), float(rng.uniform(0.1, 0.8))
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
    day: int, anc0: float, plt0: float, nadir: float, prolonged: bool, rng: Rng
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
        plt = float(rng.uniform(25, 45)) if day == 28 else plt0 * 0.5
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
    rows.labs.append(
        r.LabRow(
            patient_id=plan.pid,
            observed_at=tl.at(day, 7),
            neutrophils_10e9_l=round(anc, 2),
            platelets_10e9_l=float(round(plt)),
            hemoglobin_g_dl=round(hb, 1),
            lymphocytes_10e9_l=round(lym, 2),
            lln=lln,
            transfusion_indicated=hb < 8.0,
        )
    )


# ---------------------------------------------------------------------------------------------
# Follow-up and assembly


def _followup(plan: _Plan, rng: Rng, rows: _Rows, tl: _Timeline, course: _Course | None) -> None:
    prog = course.progression_day if course else None
    if prog is not None and prog <= tl.end:
        detail = (
            "clinical progression, no iwCLL assessment"
            if course and course.clinical_progression
            else None
        )
        rows.followup.append(
            r.FollowupRow(
                patient_id=plan.pid, event_date=tl.date(prog), event="progression", detail=detail
            )
        )
        new_therapy = prog + int(rng.integers(14, 46))
        if new_therapy <= tl.end:
            rows.followup.append(
                r.FollowupRow(
                    patient_id=plan.pid, event_date=tl.date(new_therapy), event="new_therapy"
                )
            )
    if tl.death:
        cause = _death_cause(plan, rng, prog)
        rows.followup.append(
            r.FollowupRow(
                patient_id=plan.pid, event_date=tl.date(tl.end), event="death", death_cause=cause
            )
        )
    else:
        rows.followup.append(
            r.FollowupRow(patient_id=plan.pid, event_date=tl.date(tl.end), event="last_contact")
        )


def _death_cause(plan: _Plan, rng: Rng, progression: int | None) -> r.DeathCause:
    if progression is not None or not plan.infused:
        return r.DeathCause.DISEASE_PROGRESSION
    causes = (r.DeathCause.INFECTION, r.DeathCause.SECOND_PRIMARY_MALIGNANCY, r.DeathCause.OTHER)
    return causes[int(rng.choice(3, p=(0.6, 0.2, 0.2)))]


def _timeline(plan: _Plan, rng: Rng, response_day: int, pfs_day: int) -> _Timeline:
    cut = int(rng.integers(max(90, response_day + 30), _MAX_FOLLOWUP_DAYS + 1))
    day0 = DATA_CUT - cut * _DAY
    if not plan.infused:
        if rng.random() < 0.4:  # died before infusion (progression)
            return _Timeline(day0, int(rng.integers(20, 90)), True, cut)
        return _Timeline(day0, int(rng.integers(30, 120)), False, cut)
    if plan.early_exit:
        return _Timeline(day0, int(rng.integers(21, 29)), bool(rng.random() < 0.5), cut)
    nrm_rate = cal.NON_RELAPSE_DEATH_PER_YEAR.value / 365.25
    death = 45 + int(rng.exponential(1 / nrm_rate))
    after_prog = cal.OS_AFTER_PROGRESSION_MEDIAN_MONTHS.value * _MONTH_DAYS / np.log(2)
    death = min(death, pfs_day + 1 + int(rng.exponential(after_prog)))
    death = max(death, response_day + 1)
    return _Timeline(day0, min(death, cut), death <= cut, cut)


def _published_treatment_queues(rng: Rng, plans: Sequence[_Plan]) -> dict[str, list[str]]:
    """Exact treatment allocations of the published cohort (CRS/NT management, [S14])."""
    queues: dict[str, list[str]] = {}
    for kind, table, attr in (
        ("crs", cal.CRS_TREATMENT_BY_GRADE.value, "crs_grade"),
        ("nt", cal.NT_TREATMENT_BY_GRADE.value, "nt_grade"),
    ):
        for grade, probs in table.items():
            n = sum(1 for p in plans if p.infused and getattr(p, attr) == grade)
            items: list[str] = []
            for name, share in probs.items():
                items += [name] * round(share * n)
            items = (items + ["none"] * n)[:n]
            queues[f"{kind}{grade}"] = [str(x) for x in rng.permutation(items)] if items else []
    return queues


def _patient_rows(plan: _Plan, rng: Rng, rows: _Rows, queues: dict[str, list[str]]) -> None:
    age = _patient(plan, rng, rows)
    patient = rows.patients[-1]
    response_day = _response_day(plan, rng)
    pfs_day = _pfs_day(plan, rng, response_day)
    tl = _timeline(plan, rng, response_day, pfs_day)
    apheresis = _cell_therapy(plan, rng, rows, tl)
    _prior_lines(plan, rng, rows, apheresis)
    if not plan.infused:
        _lab_rows(plan, rng, rows, tl, None, {}, patient.sex is r.Sex.M)
        _followup(plan, rng, rows, tl, None)
        return
    _crs_rows(plan, rng, rows, tl, _crs_treatment(plan, rng, queues))
    _icans_rows(plan, rng, rows, tl, age, _nt_treatment(plan, rng, queues))
    base = _baseline(plan, rng, bool(patient.bulky_disease), patient.diagnosis is r.Diagnosis.SLL)
    course = _course(plan, rng, tl, response_day, pfs_day)
    visits = _assessment_rows(plan, rng, rows, tl, course, base)
    _mrd_rows(plan, rng, rows, tl, course)
    _lab_rows(plan, rng, rows, tl, base, visits, patient.sex is r.Sex.M)
    _followup(plan, rng, rows, tl, course)


def synthesize(n: int, seed: int, published: bool = False) -> CentreData:
    """A synthetic centre data set (module docstring); same ``(n, seed, published)`` → same data.

    ``n`` is the number of leukapheresed patients (ignored when ``published``). The random
    stream is ``numpy.random.Generator(PCG64(SeedSequence(seed)))``.
    """
    if not published and n < 1:
        raise ValueError("n must be at least 1")
    if seed < 0:
        raise ValueError("seed must be ≥0")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    plans = _published_plans(rng) if published else _random_plans(n, rng)
    queues = _published_treatment_queues(rng, plans) if published else {}
    if published:
        label_cr = [p for p in plans if p.label_reason is None and p.best == "CR"]
        for i, p in enumerate(label_cr):  # uMRD in CR: blood 100%, marrow 12/13 [S20][S23]
            p.extra["umrd_blood"] = True
            p.extra["umrd_marrow"] = i > 0
    rows = _Rows()
    for plan in plans:
        _patient_rows(plan, rng, rows, queues)
    return rows.data()


# ---------------------------------------------------------------------------------------------
# Reference derivation of the label efficacy population (for tests and the ADaM layer)

MEASURABLE_NODE_CM = 1.5  # iwCLL: a node ≥1.5 cm is abnormal [S41]
MEASURABLE_LYMPHOCYTES_10E9_L = 5.0  # CLL diagnostic B-lymphocytosis (project definition)


def label_population_reasons(data: CentreData) -> dict[str, str | None]:
    """Per patient with a CAR-T course: None when in the label efficacy population, else the
    first criterion (module docstring) that fails."""
    lines: dict[str, list[list[str]]] = {}
    for line in data.prior_lines:
        lines.setdefault(line.patient_id, []).append(list(line.agents))
    baseline = {
        a.patient_id: a for a in data.response_assessments if a.timepoint is r.Timepoint.BASELINE
    }
    post = {a.patient_id for a in data.response_assessments if a.timepoint is r.Timepoint.POST}
    lo, hi = cal.LABEL_DOSE_RANGE.value
    out: dict[str, str | None] = {}
    for course in data.cell_therapy:
        pid = course.patient_id
        classes = {
            agent.drug_class
            for agents in lines.get(pid, [])
            for name in agents
            if (agent := classify_agent(name)) is not None
        }
        b = baseline.get(pid)
        if course.infusion_date is None:
            out[pid] = "not infused"
        elif course.dose_10e6_car_t_cells is None or not lo <= course.dose_10e6_car_t_cells <= hi:
            out[pid] = "dose outside 90–110 × 10⁶"
        elif len(lines.get(pid, [])) < 2 or DrugClass.BTK_INHIBITOR not in classes:
            out[pid] = "fewer than 2 prior lines or no BTK inhibitor"
        elif DrugClass.BCL2_INHIBITOR not in classes:
            out[pid] = "no BCL-2 inhibitor"
        elif b is None or not _measurable(b):
            out[pid] = "no measurable disease at baseline"
        elif pid not in post:
            out[pid] = "no post-baseline assessment"
        else:
            out[pid] = None
    return out


def _measurable(b: r.ResponseAssessmentRow) -> bool:
    node = b.largest_node_cm is not None and b.largest_node_cm >= MEASURABLE_NODE_CM
    lymph = (
        b.lymphocytes_10e9_l is not None and b.lymphocytes_10e9_l >= MEASURABLE_LYMPHOCYTES_10E9_L
    )
    return node or lymph
