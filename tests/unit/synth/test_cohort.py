"""Synthetic cohort (synth/cohort.py): reproducibility, calibrated marginals and the exact
published counts, checked through the clinical engines (not through the generator's plan)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cartwatch.centre.loader import (
    FILE_SPECS,
    CentreData,
    CentreDataError,
    load_centre_dir,
    write_centre_dir,
)
from cartwatch.clinical import crs, icans, iwcll
from cartwatch.synth import calibration as cal
from cartwatch.synth.cohort import label_population_reasons, synthesize
from cartwatch.synth.draws import DATA_CUT


def _by_patient(rows: Iterable[Any], key: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        out[row.patient_id].append(row)
    for items in out.values():
        items.sort(
            key=lambda x: (
                dt.datetime.combine(getattr(x, key), dt.time())
                if type(getattr(x, key)) is dt.date
                else getattr(x, key)
            )
        )
    return out


def _infused(data: CentreData) -> list[str]:
    return [c.patient_id for c in data.cell_therapy if c.infusion_date is not None]


def crs_grades(data: CentreData) -> dict[str, int]:
    obs = _by_patient(data.crs_observations, "observed_at")
    return {
        pid: crs.grade_crs_episode([o.to_domain() for o in obs[pid]]).grade if obs[pid] else 0
        for pid in _infused(data)
    }


def nt_grades(data: CentreData) -> dict[str, int]:
    obs = _by_patient(data.icans_observations, "observed_at")
    return {
        pid: icans.grade_icans_episode([o.to_domain() for o in obs[pid]]).grade if obs[pid] else 0
        for pid in _infused(data)
    }


def best_responses(data: CentreData, pids: Iterable[str], use_nadir: bool) -> Counter[str]:
    """BOR per patient: assess_response per post visit (optionally with the running nadir)."""
    visits = _by_patient(data.response_assessments, "assessed_at")
    out: Counter[str] = Counter()
    for pid in pids:
        rows = visits[pid]
        base = next(v for v in rows if v.timepoint == "baseline").measurements()
        nadir = None
        responses = []
        for v in (v for v in rows if v.timepoint == "post"):
            m = v.measurements()
            result = iwcll.assess_response(base, m, nadir if use_nadir else None)
            responses.append(result.response)
            spd = m.lymph_nodes_spd_cm2
            if spd is not None and (nadir is None or spd < (nadir.lymph_nodes_spd_cm2 or 0)):
                nadir = m
        out[str(iwcll.best_overall_response(responses))] += 1
    return out


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert synthesize(30, seed=4) == synthesize(30, seed=4)
    assert synthesize(30, seed=4) != synthesize(30, seed=5)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n must"):
        synthesize(0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        synthesize(5, seed=-1)


@pytest.fixture(scope="module", params=[0, 2024])
def published(request: pytest.FixtureRequest) -> CentreData:
    return synthesize(999, seed=request.param, published=True)


def test_published_disposition(published: CentreData) -> None:
    assert len(published.patients) == cal.ENROLLED_PUBLISHED.value == 137
    assert len(_infused(published)) == cal.SAFETY_SET_PUBLISHED.value == 117


def test_published_crs_and_neurotoxicity_counts_exact(published: CentreData) -> None:
    assert Counter(crs_grades(published).values()) == {0: 18, 1: 43, 2: 46, 3: 10}
    assert Counter(nt_grades(published).values()) == {0: 64, 1: 13, 2: 18, 3: 21, 4: 1}


@pytest.mark.parametrize("use_nadir", [False, True])
def test_published_label_population_best_response_exact(
    published: CentreData, use_nadir: bool
) -> None:
    reasons = label_population_reasons(published)
    label = [pid for pid, why in reasons.items() if why is None]
    assert len(label) == 65
    bor = best_responses(published, label, use_nadir)
    assert bor == {"CR": 13, "PR": 16, "SD": 26, "PD": 5, "NE": 5}
    assert round(100 * bor["CR"] / 65, 1) == 20.0
    assert round(100 * (bor["CR"] + bor["PR"]) / 65, 1) == 44.6
    assert Counter(why for why in reasons.values() if why) == {
        "not infused": 20,
        "no BCL-2 inhibitor": 20,
        "no post-baseline assessment": 12,
        "no measurable disease at baseline": 11,
        "dose outside 90–110 × 10⁶": 9,
    }


def test_published_mrd_in_cr(published: CentreData) -> None:
    reasons = label_population_reasons(published)
    label = {pid for pid, why in reasons.items() if why is None}
    visits = _by_patient(published.response_assessments, "assessed_at")
    cr = {pid for pid in label if any(v.marrow == "normocellular_no_cll" for v in visits[pid])}
    assert len(cr) == 13
    blood = [m for m in published.mrd if m.patient_id in cr and m.sample == "blood"]
    marrow = [m for m in published.mrd if m.patient_id in cr and m.sample == "marrow"]
    assert sum(m.result == "undetectable" for m in blood) == 13
    assert sum(m.result == "undetectable" for m in marrow) == 12


@pytest.fixture(scope="module")
def large() -> CentreData:
    return synthesize(2000, seed=7)


def _close(observed: float, expected: float, n: int, z: float = 4.0) -> bool:
    return bool(abs(observed - expected) <= z * np.sqrt(expected * (1 - expected) / n) + 1e-9)


def test_marginals_n2000_crs_nt(large: CentreData) -> None:
    grades = crs_grades(large)
    n = len(grades)
    assert _close(n / 2000, cal.P_INFUSED.value, 2000)
    for g, k in cal.CRS_GRADE_COUNTS.value.items():
        share = sum(1 for x in grades.values() if x == g) / n
        assert _close(share, k / 117, n), (g, share)
    nt = nt_grades(large)
    for g, k in cal.NT_GRADE_COUNTS.value.items():
        share = sum(1 for x in nt.values() if x == g) / n
        assert _close(share, k / 117, n), (g, share)


def test_marginals_n2000_onset_and_duration(large: CentreData) -> None:
    obs = _by_patient(large.crs_observations, "observed_at")
    infusion = {c.patient_id: c.infusion_date for c in large.cell_therapy}
    onsets, durations = [], []
    for pid, items in obs.items():
        episode = crs.grade_crs_episode([o.to_domain() for o in items])
        if episode.grade >= 1:
            day0 = infusion[pid]
            assert day0 is not None
            onset = episode.to_dict()["onset"]
            onsets.append((dt.date.fromisoformat(str(onset)[:10]) - day0).days)
            if episode.to_dict()["duration_days"] is not None:
                durations.append(float(str(episode.to_dict()["duration_days"])))
    q = cal.CRS_ONSET_DAYS.value
    assert np.median(onsets) == pytest.approx(q.median, abs=1)
    assert np.percentile(onsets, 25) == pytest.approx(q.q1, abs=1)
    assert np.percentile(onsets, 75) == pytest.approx(q.q3, abs=1)
    d = cal.CRS_DURATION_DAYS.value
    assert np.median(durations) == pytest.approx(d.median, abs=1)


def test_marginals_n2000_patients_and_response(large: CentreData) -> None:
    n = len(large.patients)
    high = sum(
        1
        for p in large.patients
        if p.del17p or p.tp53_mutated or p.complex_karyotype or p.ighv_unmutated
    )
    assert _close(high / n, cal.P_HIGH_RISK.value, n)
    assert _close(sum(bool(p.bulky_disease) for p in large.patients) / n, cal.P_BULKY.value, n)
    assert np.median([p.age_years for p in large.patients]) == pytest.approx(65, abs=1)
    lines = Counter(line.patient_id for line in large.prior_lines)
    assert np.median(list(lines.values())) == cal.PRIOR_LINES.value["median"]
    assert min(lines.values()) >= 2 and max(lines.values()) <= 12
    reasons = label_population_reasons(large)
    evaluable = [pid for pid, why in reasons.items() if why is None]
    bor = best_responses(large, evaluable, use_nadir=False)
    m = len(evaluable)
    for group, p in cal.BEST_RESPONSE_DL2.value.items():
        assert _close(bor[group] / m, p, m), (group, bor[group] / m)


def _diagnosis_to_first_line_days(data: CentreData) -> list[int]:
    """Days from each patient's diagnosis to the start of their first prior line, after
    checking that no prior line starts before the diagnosis: the centre pages refuse a record
    dated before the diagnosis, so the generator never makes one."""
    diagnosed = {p.patient_id: p.diagnosis_date for p in data.patients}
    assert [x for x in data.prior_lines if x.start_date < diagnosed[x.patient_id]] == []
    first = {pid: min(x.start_date for x in lines)
             for pid, lines in _by_patient(data.prior_lines, "start_date").items()}  # fmt: skip
    leads = [(first[pid] - day).days for pid, day in diagnosed.items() if day is not None]
    assert len(leads) == len(data.patients)
    low, high = cal.DIAGNOSIS_TO_FIRST_LINE_DAYS.value
    assert low <= min(leads) and max(leads) < high
    return leads


def test_published_prior_lines_start_on_or_after_the_diagnosis(published: CentreData) -> None:
    _diagnosis_to_first_line_days(published)


def test_marginals_n2000_diagnosis_before_every_prior_line(large: CentreData) -> None:
    low, high = cal.DIAGNOSIS_TO_FIRST_LINE_DAYS.value
    leads = _diagnosis_to_first_line_days(large)
    assert np.median(leads) == pytest.approx((low + high) / 2, rel=0.05)


@pytest.mark.parametrize("published", [False, True])
def test_synthesized_cohort_validates_through_the_full_loader(
    tmp_path: Path, published: bool
) -> None:
    """The one honest check of the generator: synthesize() builds its rows without pydantic
    validation (values correct by construction), so a 200-patient cohort (and the published
    137-patient one) is written and re-loaded through the full loader — every row validated
    by its model and the clinical engines, every cross-file rule — with zero problems, and
    every reloaded row equals the generated one field by field, with the same value types
    (an int where the model holds a float, or a plain string where it holds an enum member,
    would fail here)."""
    data = synthesize(200, seed=2025, published=published)
    write_centre_dir(data, tmp_path)
    try:
        loaded = load_centre_dir(tmp_path, today=DATA_CUT)
    except CentreDataError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{len(exc.problems)} problems, first: {exc.problems[:5]}")
    for spec in FILE_SPECS:
        made, read = data.rows(spec.stem), loaded.rows(spec.stem)
        assert len(made) == len(read), spec.stem
        for i, (a, b) in enumerate(zip(made, read, strict=True)):
            assert type(a) is type(b)
            got = {k: (type(v), v) for k, v in a.__dict__.items()}
            want = {k: (type(v), v) for k, v in b.__dict__.items()}
            assert got == want, (spec.stem, i)
            assert list(a.__dict__) == list(b.__dict__), (spec.stem, i)
    assert loaded == data
