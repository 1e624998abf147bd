"""CIBMTR registry export properties: appending a CRS observation (a later one, any
findings) never lowers an exported CRS maximum grade nor turns "Yes" into anything else;
adding a record that carries information (a gradable observation, a count, a dose, an
assessment, a contact) never lowers the number of present elements over the forms due.
Per form it may: an episode's onset moves to the form of the period it began in (reported
once), and a toxicity that now occurred asks for its therapy, which was not applicable."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.interop.test_cibmtr import (
    INFUSION,
    crs,
    data,
    dose,
    event,
    icans,
    lab,
)

from cartwatch.centre.loader import CentreData
from cartwatch.centre.records import ResponseAssessmentRow
from cartwatch.interop.cibmtr import Status, derive_registry

AS_OF = INFUSION + dt.timedelta(days=400)


def _findings(
    temperature: float | None,
    hypotension: bool,
    vasopressors: list[str],
    oxygen: str,
    therapy: bool,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "hypotension": hypotension or bool(vasopressors),
        "vasopressors": vasopressors,
        "oxygen_device": oxygen,
        "antipyretic_or_anticytokine_given": therapy,
    }
    if temperature is not None:  # None: not recorded (not gradable while fever is required)
        found["temperature_c"] = temperature
    return found


crs_findings = st.builds(
    _findings,
    st.sampled_from([None, 36.8, 37.9, 38.0, 38.6, 39.4, 40.1]),
    st.booleans(),
    st.sampled_from([[], ["norepinephrine"], ["norepinephrine", "epinephrine"]]),
    st.sampled_from(["none", "nasal_cannula", "face_mask", "cpap"]),
    st.booleans(),
)


def _crs_row(day: int, findings: dict[str, Any]) -> Any:
    if findings.get("oxygen_device") == "nasal_cannula":
        findings = {**findings, "oxygen_flow_l_min": 2}
    return crs(day, **findings)


def _max_grade(d: CentreData, timepoint: str = "100d") -> tuple[Status, str, str]:
    form = next(f for f in derive_registry(d, AS_OF).forms if f.timepoint == timepoint)
    occurred = next(v for v in form.values if v.element.key == "crs")
    grade = next(v for v in form.values if v.element.key == "crs_maximum_grade")
    return grade.status, grade.value, occurred.value


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 20), crs_findings), max_size=6),
    crs_findings,
)
def test_a_later_crs_observation_never_lowers_the_exported_maximum(
    base: list[tuple[int, dict[str, Any]]], extra: dict[str, Any]
) -> None:
    rows = [_crs_row(day, f) for day, f in sorted(base, key=lambda b: b[0])]
    before = _max_grade(data(crs_observations=rows))
    after = _max_grade(data(crs_observations=[*rows, _crs_row(30, extra)]))
    if before[0] is Status.PRESENT and after[0] is Status.PRESENT:
        assert int(after[1]) >= int(before[1])
    if before[2] == "Yes":
        assert after[2] == "Yes"
    # never a value lower than before, and never a "0": missing stays missing
    assert after[1] != "0"


def _assessment(day: int, nodes: float, timepoint: str = "post") -> ResponseAssessmentRow:
    return ResponseAssessmentRow.model_validate(
        {
            "patient_id": "P-001",
            "assessed_at": INFUSION + dt.timedelta(days=day),
            "timepoint": timepoint,
            "lymph_nodes_spd_cm2": nodes,
        }
    )


records = st.one_of(
    st.builds(
        lambda d, f: ("crs_observations", _crs_row(d, {**f, "temperature_c": 38.5})),
        st.integers(0, 390),
        crs_findings,
    ),
    st.builds(
        lambda d, ice: ("icans_observations", icans(d, ice)),
        st.integers(0, 390),
        st.integers(0, 10),
    ),
    st.builds(
        lambda d, a, p: ("labs", lab(d, a, p)),
        st.integers(0, 390),
        st.sampled_from([0.2, 0.8, 1.6, 3.0]),
        st.sampled_from([15, 40, 90, 200]),
    ),
    st.builds(
        lambda d, ind: ("treatments", dose(d, indication=ind)),
        st.integers(0, 390),
        st.sampled_from(["crs", "icans"]),
    ),
    st.builds(lambda d: ("followup", event(d, "last_contact")), st.integers(0, 400)),
    st.builds(
        lambda d, n: ("response_assessments", _assessment(d, n)),
        st.integers(20, 390),
        st.sampled_from([2.0, 10.0, 30.0, 60.0]),
    ),
)


def _present(d: CentreData) -> dict[tuple[str, str], int]:
    return {(f.form, f.timepoint): f.present for f in derive_registry(d, AS_OF).forms}


@settings(max_examples=150, deadline=None)
@given(st.lists(records, max_size=8), records)
def test_adding_a_record_never_lowers_the_present_counts(
    base: list[tuple[str, Any]], extra: tuple[str, Any]
) -> None:
    def build(items: list[tuple[str, Any]]) -> CentreData:
        rows: dict[str, list[Any]] = {"response_assessments": [_assessment(-5, 40.0, "baseline")]}
        for stem, row in items:
            rows.setdefault(stem, []).append(row)
        return data(**rows)

    before = _present(build(base))
    after = _present(build([*base, extra]))
    assert before.keys() == after.keys()  # only a death changes the forms due
    assert sum(after.values()) >= sum(before.values()), extra
