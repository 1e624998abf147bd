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
* Onset (days after infusion, infusion = day 0, as ``adam`` ONSDYINF counts) and duration
  (onset to resolution) of each patient's episode: CRS 4 (IQR 1–7) and 6 (4–11), neurological
  events 7 (4–11) and 7 (4–16), median (IQR) with R type-7 quartiles [S14]. The values are
  built (:func:`exact_sample`), not drawn, then shuffled onto patients; every episode
  resolves before the patient's last observation.
* Management [S14]: CRS tocilizumab only / steroids only / both = 41/2/35, tocilizumab doses
  per treated patient median 1 (IQR 1–2); neurotoxicity steroids only / both = 31/8.
* Prolonged cytopenia 63 [S14]: grade ≥3 at the blood count nearest day 28 in exactly those
  63 patients (others stay at grade ≤2 from day 21; ``adam`` PROLCYFL definition).
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

Every generated date lies on or before :data:`~cartwatch.synth.draws.DATA_CUT`, so an
analysis's default cut-off (the latest date in the data) is the documented one. Every prior
line starts on or after the patient's diagnosis date (the centre pages refuse a record dated
before the diagnosis).

Assessments are on days 30, 60, 90, 180, 270, 365 and then every 180 days until progression,
death or the data cut; a progression is a PD assessment (new lesion, node SPD +60 %) plus a
``followup`` ``progression`` event on the same date. Every measurement series is monotone
until progression, so PD "from the nadir" is never triggered before the intended date,
whichever nadir the analysis passes. PFS/OS follow the response-group model in calibration.py
(UNVERIFIED, a modelling assumption).

The generator's parts, in the order a patient is built: ``draws`` (random draws, validated
row construction, the data cut), ``plans`` (who each patient is; the published quartiles
built exactly), ``rows`` (timeline, patient, prior lines, course), ``toxicity`` (CRS and
neurotoxicity), ``disease`` (response, MRD, blood counts); this module puts them together
(follow-up, :func:`synthesize`) and holds the reference label-population derivation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cartwatch.centre import records as r
from cartwatch.centre.loader import CentreData, gc_paused
from cartwatch.clinical.labels import DrugClass, classify_agent
from cartwatch.synth import calibration as cal
from cartwatch.synth.disease import (
    _assessment_rows,
    _baseline,
    _Course,
    _course,
    _lab_rows,
    _mrd_rows,
    _pfs_day,
    _response_day,
)
from cartwatch.synth.draws import (
    _DAY,
    _FOLLOWUP,
    _MAX_FOLLOWUP_DAYS,
    _MONTH_DAYS,
    _OTHER_DEATH_CAUSES,
    DATA_CUT,
    Rng,
    _Draws,
)
from cartwatch.synth.plans import (
    _assign_episodes,
    _cohort_draws,
    _Plan,
    _planned_resolution,
    _published_plans,
    _random_plans,
)
from cartwatch.synth.rows import (
    _cell_therapy,
    _patient,
    _prior_lines,
    _Rows,
    _Timeline,
)
from cartwatch.synth.toxicity import (
    _crs_rows,
    _crs_treatment,
    _icans_rows,
    _nt_treatment,
)

# ---------------------------------------------------------------------------------------------
# Follow-up and assembly


def _followup(plan: _Plan, d: _Draws, rows: _Rows, tl: _Timeline, course: _Course | None) -> None:
    prog = course.progression_day if course else None
    if prog is not None and prog <= tl.end:
        detail = (
            "clinical progression, no iwCLL assessment"
            if course and course.clinical_progression
            else None
        )
        rows.followup.append(
            _FOLLOWUP(
                patient_id=plan.pid,
                event_date=tl.date(prog),
                event=r.FollowupEvent.PROGRESSION,
                detail=detail,
            )
        )
        new_therapy = prog + d.integers(14, 46)
        if new_therapy <= tl.end:
            rows.followup.append(
                _FOLLOWUP(
                    patient_id=plan.pid,
                    event_date=tl.date(new_therapy),
                    event=r.FollowupEvent.NEW_THERAPY,
                )
            )
    if tl.death:
        cause = _death_cause(plan, d, prog)
        rows.followup.append(
            _FOLLOWUP(
                patient_id=plan.pid,
                event_date=tl.date(tl.end),
                event=r.FollowupEvent.DEATH,
                death_cause=cause,
            )
        )
    else:
        rows.followup.append(
            _FOLLOWUP(
                patient_id=plan.pid, event_date=tl.date(tl.end), event=r.FollowupEvent.LAST_CONTACT
            )
        )


def _death_cause(plan: _Plan, d: _Draws, progression: int | None) -> r.DeathCause:
    if progression is not None or not plan.infused:
        return r.DeathCause.DISEASE_PROGRESSION
    return d.choice(_OTHER_DEATH_CAUSES)


def _timeline(plan: _Plan, d: _Draws, response_day: int, pfs_day: int) -> _Timeline:
    cut = d.integers(max(90, response_day + 30), _MAX_FOLLOWUP_DAYS + 1)
    day0 = DATA_CUT - cut * _DAY
    if not plan.infused:
        # min(…, cut): the last contact must not lie after the data cut (cut can be < 120).
        if d.random() < 0.4:  # died before infusion (progression)
            return _Timeline(day0, min(d.integers(20, 90), cut), True, cut)
        return _Timeline(day0, min(d.integers(30, 120), cut), False, cut)
    if plan.early_exit:
        return _Timeline(day0, d.integers(21, 29), d.random() < 0.5, cut)
    nrm_rate = cal.NON_RELAPSE_DEATH_PER_YEAR.value / 365.25
    death = 45 + int(d.exponential(1 / nrm_rate))
    after_prog = cal.OS_AFTER_PROGRESSION_MEDIAN_MONTHS.value * _MONTH_DAYS / math.log(2)
    death = min(death, pfs_day + 1 + int(d.exponential(after_prog)))
    # Alive until the planned response and the planned episode resolutions (published mode,
    # ≤ day 59 < the next visit, so no visit is added).
    death = max(death, response_day + 1, _planned_resolution(plan))
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
    # Tocilizumab doses per CRS patient treated: median 1 (IQR 1–2) [S14]; a fixed number of
    # second doses instead of a draw makes the type-7 quartiles exact (calibration.py).
    n_toci = sum(
        x in ("tocilizumab", "both") for k, q in queues.items() if k.startswith("crs") for x in q
    )
    n_second = round(cal.P_SECOND_TOCILIZUMAB.value * n_toci)
    doses = ["2"] * n_second + ["1"] * (n_toci - n_second)
    queues[_SECOND_DOSES] = [str(x) for x in rng.permutation(doses)] if doses else []
    return queues


_SECOND_DOSES = "crs_tocilizumab_doses"


def _patient_rows(plan: _Plan, d: _Draws, rows: _Rows, queues: dict[str, list[str]]) -> None:
    drawn = _patient(plan, d)
    male = drawn.male
    response_day = _response_day(plan, d)
    pfs_day = _pfs_day(plan, d, response_day)
    tl = _timeline(plan, d, response_day, pfs_day)
    apheresis = _cell_therapy(plan, d, rows, tl)
    patient = drawn.row(first_line=_prior_lines(plan, d, rows, apheresis))
    rows.patients.append(patient)
    if not plan.infused:
        _lab_rows(plan, d, rows, tl, None, {}, male)
        _followup(plan, d, rows, tl, None)
        return
    treat = _crs_treatment(plan, d, queues)
    _crs_rows(plan, d, rows, tl, treat, queues.setdefault(_SECOND_DOSES, []))
    _icans_rows(plan, d, rows, tl, plan.age, _nt_treatment(plan, d, queues))
    base = _baseline(plan, d, bool(patient.bulky_disease), patient.diagnosis is r.Diagnosis.SLL)
    course = _course(plan, tl, response_day, pfs_day)
    visits = _assessment_rows(plan, d, rows, tl, course, base)
    _mrd_rows(plan, d, rows, tl, course)
    _lab_rows(plan, d, rows, tl, base, visits, male)
    _followup(plan, d, rows, tl, course)


def synthesize(n: int, seed: int, published: bool = False) -> CentreData:
    """A synthetic centre data set (module docstring); same ``(n, seed, published)`` → same data.

    ``n`` is the number of leukapheresed patients (ignored when ``published``). The random
    stream is ``numpy.random.Generator(PCG64(SeedSequence(seed)))``: per-cohort draws (the
    plans, ages, numbers of prior lines) come from it directly, per-patient draws from
    blocks of its uniforms (:class:`_Draws`).
    """
    if not published and n < 1:
        raise ValueError("n must be at least 1")
    if seed < 0:
        raise ValueError("seed must be ≥0")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    draws = _Draws(rng)
    plans = _published_plans(rng, draws) if published else _random_plans(n, rng)
    queues = _published_treatment_queues(rng, plans) if published else {}
    if published:
        _assign_episodes(plans, rng)
        label_cr = [p for p in plans if p.label_reason is None and p.best == "CR"]
        for i, p in enumerate(label_cr):  # uMRD in CR: blood 100%, marrow 12/13 [S20][S23]
            p.extra["umrd_blood"] = True
            p.extra["umrd_marrow"] = i > 0
    _cohort_draws(plans, rng)
    rows = _Rows()
    with gc_paused():  # ~70,000 rows for 1,000 patients, no cycles (see loader.gc_paused)
        for plan in plans:
            _patient_rows(plan, draws, rows, queues)
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
