"""Published-mode cohort through the real pipeline reproduces Lancet Table 4 safety figures.

Pipeline: ``synthesize(published=True)`` → ``cartwatch.adam.derive.derive_adam`` (default
cut-off) → ``cartwatch.outcomes.tables`` (``crs_nt_table``, ``management_table``,
``cytopenia_table``; R ``quantile(type = 7)`` via ``outcomes.survival.median_iqr``).
Source: Siddiqi et al., Lancet 2023, Table 4, safety set n = 117 [S14] (clinical-standards.md
§3.5). Tolerance 0: counts exact, medians and quartiles equal as floats.
Seeds: 0 (golden ADaM test), 1 (``cartwatch demo`` default) and 2024.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pytest

from cartwatch.adam.derive import AdamDatasets, derive_adam, latest_date
from cartwatch.centre import records as r
from cartwatch.centre.loader import CentreData
from cartwatch.clinical import crs
from cartwatch.outcomes import tables
from cartwatch.outcomes.survival import median_iqr
from cartwatch.synth import calibration as cal
from cartwatch.synth.cohort import synthesize
from cartwatch.synth.draws import DATA_CUT
from cartwatch.synth.plans import exact_sample

CRS, NT = 0, 1  # column of the CRS / neurological-toxicity values in the safety tables


@dataclass(frozen=True)
class Derived:
    data: CentreData
    adam: AdamDatasets
    crs_nt: tables.Table
    management: tables.Table
    cytopenias: tables.Table


@pytest.fixture(scope="module", params=[0, 1, 2024])
def derived(request: pytest.FixtureRequest) -> Derived:
    data = synthesize(0, seed=request.param, published=True)
    adam = derive_adam(data)
    return Derived(
        data,
        adam,
        tables.crs_nt_table(adam.adsl, adam.adae),
        tables.management_table(adam.adsl, adam.adae),
        tables.cytopenia_table(adam.adsl, adam.adae),
    )


def _summary(table: tables.Table, row: str, col: int) -> tuple[object, ...]:
    v = table.row(row).cells[col].values
    return v["n"], v["n_missing"], v["median"], v["q1"], v["q3"]


def _k(table: tables.Table, row: str, col: int) -> object:
    return table.row(row).cells[col].values["k"]


def test_crs_onset_and_duration(derived: Derived) -> None:
    """[S14] Table 4, "Cytokine release syndrome": onset median 4 days (IQR 1–7), duration
    (to resolution) median 6 days (IQR 4–11), over the 99 patients with CRS; every episode
    resolves, so none is missing from the duration summary."""
    assert _summary(derived.crs_nt, "onset", CRS) == (99, 0, 4.0, 1.0, 7.0)
    assert _summary(derived.crs_nt, "duration", CRS) == (99, 0, 6.0, 4.0, 11.0)
    assert derived.crs_nt.row("onset").cells[CRS].text == "4 (1–7)"
    assert derived.crs_nt.row("duration").cells[CRS].text == "6 (4–11)"


def test_neurotoxicity_onset_and_duration(derived: Derived) -> None:
    """[S14] Table 4, "Neurological events": onset median 7 days (IQR 4–11), duration median
    7 days (IQR 4–16), over the 53 patients with an event."""
    assert _summary(derived.crs_nt, "onset", NT) == (53, 0, 7.0, 4.0, 11.0)
    assert _summary(derived.crs_nt, "duration", NT) == (53, 0, 7.0, 4.0, 16.0)


def test_grade_counts_unchanged(derived: Derived) -> None:
    """[S14] Table 4 rows "any grade" and grade 1–5: CRS 99 = 43/46/10/0/0; neurological
    events 53 = 13/18/21/1/0."""
    keys = ("any", "grade_1", "grade_2", "grade_3", "grade_4", "grade_5")
    assert [_k(derived.crs_nt, k, CRS) for k in keys] == [99, 43, 46, 10, 0, 0]
    assert [_k(derived.crs_nt, k, NT) for k in keys] == [53, 13, 18, 21, 1, 0]


def test_crs_and_neurotoxicity_management(derived: Derived) -> None:
    """[S14] Table 4 management rows: CRS treated with tocilizumab only 41, corticosteroids
    only 2, both 35, either 78; NE treated with tocilizumab only 0, corticosteroids only 31,
    both 8, either 39 (ADAE TOCIFL/STERFL: a dose of that indication between onset and
    resolution). Tocilizumab doses per CRS patient treated (n = 76): median 1 (IQR 1–2)."""
    keys = ("toci_only", "steroids_only", "both", "either")
    assert [_k(derived.management, k, CRS) for k in keys] == [41, 2, 35, 78]
    assert [_k(derived.management, k, NT) for k in keys] == [0, 31, 8, 39]
    assert _summary(derived.management, "toci_doses", CRS) == (76, 0, 1.0, 1.0, 2.0)


def test_prolonged_cytopenia(derived: Derived) -> None:
    """[S14] Table 4 "Prolonged cytopenia": 63 (54%) of 117 (ADSL.PROLCYFL: grade ≥3 at the
    count nearest day 28 ± 7; the trial's definition is UNVERIFIED, §3.5)."""
    assert _k(derived.cytopenias, "prolonged", 0) == 63
    assert (derived.adam.adsl["PROLCYFL"] == "Y").sum() == 63
    assert (derived.adam.adsl["SAFFL"] == "Y").sum() == 117


def test_onset_day_is_the_day_of_the_first_graded_observation(derived: Derived) -> None:
    """Synth and ADaM count days the same way (day 0 = infusion, ADAE.ONSDYINF = ASTDY − 1):
    ONSDYINF equals the calendar days from ``cell_therapy.infusion_date`` to the engine's
    CRS onset in the raw observations, with no day-0/day-1 shift."""
    infusion = {c.patient_id: c.infusion_date for c in derived.data.cell_therapy}
    by_patient: dict[str, list[r.CrsObservationRow]] = defaultdict(list)
    for row in derived.data.crs_observations:
        by_patient[row.patient_id].append(row)
    raw: dict[str, int] = {}
    for pid, rows in by_patient.items():
        rows.sort(key=lambda x: x.observed_at)
        summary = crs.grade_crs_episode([x.to_domain() for x in rows]).summary
        day0 = infusion[pid]
        if summary.onset is not None and day0 is not None:
            onset = summary.onset
            raw[pid] = ((onset.date() if isinstance(onset, dt.datetime) else onset) - day0).days
    adae = derived.adam.adae
    first = adae[adae["AECAT"] == "CRS"].sort_values("ONSDYINF").drop_duplicates("SUBJID")
    derived_days = dict(zip(first["SUBJID"], first["ONSDYINF"].astype(int), strict=True))
    assert derived_days == raw and len(raw) == 99
    assert (adae["ONSDYINF"] == adae["ASTDY"] - 1).all()
    assert min(raw.values()) >= 1  # observations start the day after infusion


def test_default_cutoff_is_the_documented_data_cut(derived: Derived) -> None:
    assert latest_date(derived.data) == DATA_CUT
    assert derived.adam.data_cutoff == DATA_CUT


@pytest.mark.parametrize("seed", [9, 12, 29, 3])
def test_random_cohorts_have_no_date_after_the_data_cut(seed: int) -> None:
    """Seeds 9, 12 and 29 (n = 300) used to give a non-infused patient a last contact after
    the cut (2025-07-04/-13/-06), which moved derive's default cut-off."""
    data = synthesize(300, seed=seed)
    latest = latest_date(data)
    assert latest is not None and latest <= DATA_CUT
    for stem in ("followup", "labs", "crs_observations", "icans_observations", "treatments"):
        for row in data.rows(stem):
            for value in row.__dict__.values():
                if isinstance(value, dt.datetime):
                    assert value.date() <= DATA_CUT, (stem, row)
                elif isinstance(value, dt.date):
                    assert value <= DATA_CUT, (stem, row)


@pytest.mark.parametrize(
    ("n", "q"),
    [
        (99, cal.CRS_ONSET_DAYS.value),
        (99, cal.CRS_DURATION_DAYS.value),
        (53, cal.NT_ONSET_DAYS.value),
        (53, cal.NT_DURATION_DAYS.value),
        (1, cal.MedianIqr(3, 3, 3)),
        (2, cal.MedianIqr(4, 4, 4)),
        (5, cal.MedianIqr(5, 2, 9)),
        (100, cal.MedianIqr(4, 1, 7)),
        (1000, cal.MedianIqr(7, 4, 16)),
    ],
)
def test_exact_sample_has_the_type7_median_and_quartiles(n: int, q: cal.MedianIqr) -> None:
    values = exact_sample(n, q)
    assert len(values) == n and values == sorted(values) and min(values) >= 1
    m = median_iqr(values)
    assert (m.median, m.q1, m.q3) == (q.median, q.q1, q.q3)
    assert np.quantile(values, [0.25, 0.5, 0.75], method="linear").tolist() == [
        q.q1,
        q.median,
        q.q3,
    ]


def test_exact_sample_refuses_what_it_cannot_hit() -> None:
    with pytest.raises(ValueError, match="whole-day"):
        exact_sample(10, cal.MedianIqr(4.5, 1, 7))
    with pytest.raises(ValueError, match="n=0"):
        exact_sample(0, cal.MedianIqr(4, 1, 7))
