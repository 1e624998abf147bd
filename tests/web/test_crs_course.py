"""Stored CRS grades in the patient's course (contract v2 item 2, issue 10 item 3).

Each daily CRS assessment is graded as one observation of the episode made of the patient's
assessments in time order (the engine's ``grade_crs_episode``): "antipyretic given" ticked
before any fever is premedication, fever is still required; therapy after a fever is CRS
therapy and is carried forward. Saving, correcting or deleting an assessment re-grades the
later ones, each on the record's history and the audit log with the reason. The live grade
(``/api/grade/crs?patient_id=…``) is the grade the save stores.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import PATIENT_ROW, actor_of

pytestmark = pytest.mark.django_db

PID = "A-050"
DAY1, DAY2, DAY3 = "2025-07-02T08:00:00", "2025-07-03T08:00:00", "2025-07-04T08:00:00"
FEVER = {"temperature_c": 38.5}
THERAPY = {"temperature_c": 37.5, "antipyretic_or_anticytokine_given": True}
HYPOTENSION_NO_FEVER = {"temperature_c": 37.0, "hypotension": True}
PREMEDICATION_REASON = "premedication, fever still required"


@pytest.fixture
def nurse(cast: Any) -> Any:
    return actor_of(cast, "nurse_a")


def _infused(cast: Any, patient_id: str) -> Any:
    """A patient infused with liso-cel on 2025-07-01, without any CRS assessment yet."""
    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    stored = records.create_patient(physician, {**PATIENT_ROW, "patient_id": patient_id})
    therapy = {"product": "liso-cel", "apheresis_date": "2025-06-01", "infusion_date": "2025-07-01"}
    records.create_record(physician, records.KINDS["cell-therapy"], stored, therapy)
    return stored


@pytest.fixture
def patient(cast: Any) -> Any:
    return _infused(cast, PID)


def _save(actor: Any, patient: Any, when: str, **clinical: Any) -> Any:
    from cartwatch.web.services import records

    payload = {"observed_at": when, **clinical}
    return records.create_record(actor, records.KINDS["crs"], patient, payload)


def _stored(row: Any) -> Any:
    row.refresh_from_db()
    return row


def test_premedication_then_hypotension_without_fever_is_grade_0(nurse: Any, patient: Any) -> None:
    # Paracetamol before the infusion, then daily with hypotension but never a fever: v1 (and
    # the web app before this change) stored grade 2 on the second day.
    premedication = _save(nurse, patient, DAY1, temperature_c=37.0,
                          antipyretic_or_anticytokine_given=True)  # fmt: skip
    hypotension = _save(nurse, patient, DAY2, antipyretic_or_anticytokine_given=True,
                        **HYPOTENSION_NO_FEVER)  # fmt: skip
    assert premedication.grade == 0
    assert any(PREMEDICATION_REASON in r for r in premedication.reasons)
    assert _stored(hypotension).grade == 0
    assert any(PREMEDICATION_REASON in r for r in hypotension.reasons)


def test_premedication_and_hypotension_on_one_day_is_grade_0(nurse: Any, patient: Any) -> None:
    # The case: one observation, no fever ever, box ticked, hypotension.
    row = _save(nurse, patient, DAY1, antipyretic_or_anticytokine_given=True,
                **HYPOTENSION_NO_FEVER)  # fmt: skip
    assert row.grade == 0


def test_fever_documented_at_home_makes_the_therapy_crs_therapy(nurse: Any, patient: Any) -> None:
    row = _save(nurse, patient, DAY1, antipyretic_or_anticytokine_given=True,
                fever_before_therapy=True, **HYPOTENSION_NO_FEVER)  # fmt: skip
    assert row.grade == 2


def test_fever_then_therapy_then_hypotension_without_fever_is_grade_2(
    nurse: Any, patient: Any
) -> None:
    fever = _save(nurse, patient, DAY1, **FEVER)
    therapy = _save(nurse, patient, DAY2, **THERAPY)
    # The box is not ticked on day 3: therapy for CRS is carried forward (fever masked).
    hypotension = _save(nurse, patient, DAY3, **HYPOTENSION_NO_FEVER)
    assert [fever.grade, therapy.grade, hypotension.grade] == [1, 0, 2]
    assert not any(PREMEDICATION_REASON in r for r in therapy.reasons)


def _history(row: Any) -> list[Any]:
    return list(row.history.order_by("history_date", "history_id"))


def _audit_reasons(row: Any) -> list[str]:
    from cartwatch.web.audit.models import AuditEvent

    events = AuditEvent.objects.filter(model__iendswith="crsassessment", object_id=str(row.pk))
    return [e.reason for e in events]


def test_correcting_the_fever_day_regrades_the_later_days_and_audits_it(
    nurse: Any, cast: Any, patient: Any
) -> None:
    from cartwatch.web.services import records

    fever = _save(nurse, patient, DAY1, **FEVER)
    therapy = _save(nurse, patient, DAY2, **THERAPY)
    hypotension = _save(nurse, patient, DAY3, **HYPOTENSION_NO_FEVER)
    physician = actor_of(cast, "physician_a")
    records.update_record(
        physician, records.KINDS["crs"], fever, {"observed_at": DAY1, "temperature_c": 37.0},
        version=1, reason="transcription error: 37.0 °C",
    )  # fmt: skip

    reason = "re-graded: earlier assessment of 2025-07-02 changed"
    assert _stored(hypotension).grade == 0  # was 2: the therapy is premedication now
    assert hypotension.version == 2
    last = _history(hypotension)[-1]
    assert last.grade == 0 and last.history_change_reason == reason
    assert last.history_user == cast.users["physician_a"]
    assert _audit_reasons(hypotension)[-1] == reason
    # Day 2 keeps grade 0, but its reasons change (now premedication): re-graded too, so the
    # stored reasons explain the stored grade.
    assert _stored(therapy).grade == 0
    assert any(PREMEDICATION_REASON in r for r in therapy.reasons)
    assert _history(therapy)[-1].history_change_reason == reason

    # And back: the fever restored, day 3 is grade 2 again.
    records.update_record(
        physician, records.KINDS["crs"], _stored(fever), {"observed_at": DAY1, **FEVER},
        version=2, reason="source rechecked: 38.5 °C",
    )  # fmt: skip
    assert _stored(hypotension).grade == 2 and hypotension.version == 3


def test_unchanged_later_assessments_are_not_rewritten(nurse: Any, patient: Any) -> None:
    from cartwatch.web.services import records

    first = _save(nurse, patient, DAY1, temperature_c=37.2)
    later = _save(nurse, patient, DAY2, **FEVER)
    records.update_record(
        nurse, records.KINDS["crs"], first, {"observed_at": DAY1, "temperature_c": 37.4},
        version=1, reason="recheck",
    )  # fmt: skip
    assert _stored(later).version == 1 and len(_history(later)) == 1


def test_deleting_the_fever_day_regrades_the_later_days(
    nurse: Any, cast: Any, patient: Any
) -> None:
    from cartwatch.web.services import records

    fever = _save(nurse, patient, DAY1, **FEVER)
    _save(nurse, patient, DAY2, **THERAPY)
    hypotension = _save(nurse, patient, DAY3, **HYPOTENSION_NO_FEVER)
    records.delete_record(
        actor_of(cast, "data_manager_a"), fever, version=1, reason="wrong patient"
    )
    assert _stored(hypotension).grade == 0
    assert _history(hypotension)[-1].history_change_reason == (
        "re-graded: earlier assessment of 2025-07-02 deleted"
    )


def test_an_assessment_entered_late_regrades_the_days_after_it(nurse: Any, patient: Any) -> None:
    # Charted out of order: the fever of day 1 is entered after day 3.
    therapy = _save(nurse, patient, DAY2, **THERAPY)
    hypotension = _save(nurse, patient, DAY3, **HYPOTENSION_NO_FEVER)
    assert hypotension.grade == 0
    _save(nurse, patient, DAY1, **FEVER)
    assert _stored(hypotension).grade == 2
    assert _stored(therapy).version == 2
    assert _history(hypotension)[-1].history_change_reason == (
        "re-graded: earlier assessment of 2025-07-02 added"
    )


def test_moving_an_assessment_later_in_time_regrades_from_its_old_place(
    nurse: Any, patient: Any
) -> None:
    from cartwatch.web.services import records

    fever = _save(nurse, patient, DAY1, **FEVER)
    _save(nurse, patient, DAY2, **THERAPY)
    hypotension = _save(nurse, patient, "2025-07-03T12:00:00", **HYPOTENSION_NO_FEVER)
    assert hypotension.grade == 2
    # The fever was in fact charted on day 3: the day-2 therapy becomes premedication.
    records.update_record(
        nurse, records.KINDS["crs"], fever, {"observed_at": DAY3, **FEVER},
        version=1, reason="wrong day",
    )  # fmt: skip
    assert _stored(hypotension).grade == 0
    assert _history(hypotension)[-1].history_change_reason == (
        "re-graded: earlier assessment of 2025-07-02 changed"
    )


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["in time order", "reversed"])
def test_several_assessments_saved_at_once_are_graded_in_one_course(
    nurse: Any, patient: Any, order: tuple[int, int]
) -> None:
    # As a FHIR bundle stores its days: every row made first, then all saved together.
    from cartwatch.web.services import records

    rows = [
        records.new_record(nurse, records.KINDS["crs"], patient, {"observed_at": when, **c})
        for when, c in ((DAY1, FEVER), (DAY2, {**THERAPY, "hypotension": True}))
    ]
    assert rows[1].grade == 0  # made before the fever day was stored: premedication so far
    records.save_new(nurse, *(rows[i] for i in order))
    assert [_stored(row).grade for row in rows] == [1, 2]


def test_other_patients_are_not_touched(nurse: Any, cast: Any, patient: Any) -> None:
    other = _infused(cast, "A-051")
    _save(nurse, patient, DAY1, **FEVER)
    theirs = _save(nurse, other, DAY2, **THERAPY, hypotension=True)
    assert theirs.grade == 0  # premedication: the fever was another patient's


# --- live grade == stored grade ---------------------------------------------------------------


def _live(api: Any, query: str, body: dict[str, Any]) -> Any:
    return api("nurse_a", "POST", f"/api/grade/crs?{query}", body)


def test_live_grade_in_the_course_says_premedication(api: Any, nurse: Any, patient: Any) -> None:
    _save(nurse, patient, DAY1, temperature_c=37.0, antipyretic_or_anticytokine_given=True)
    body = {"observed_at": DAY2, "antipyretic_or_anticytokine_given": True,
            **HYPOTENSION_NO_FEVER}  # fmt: skip
    response = _live(api, f"patient_id={PID}", body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["grade"] == 0
    assert result["note"] == "premedication: fever still required"
    assert result["earlier_assessments"] == 1
    # Without the patient: one observation, the flag's v1 meaning (therapy for CRS).
    assert _live(api, "", body).json()["grade"] == 2
    # What the live grade said is what the save stores.
    assert _save(nurse, patient, DAY2, **{k: v for k, v in body.items() if k != "observed_at"}
                 ).grade == result["grade"]  # fmt: skip


def test_live_grade_after_a_fever_is_crs_therapy(api: Any, nurse: Any, patient: Any) -> None:
    _save(nurse, patient, DAY1, **FEVER)
    body = {"observed_at": DAY2, "antipyretic_or_anticytokine_given": True,
            **HYPOTENSION_NO_FEVER}  # fmt: skip
    result = _live(api, f"patient_id={PID}", body).json()
    assert result["grade"] == 2 and result["note"] is None
    # Before the fever in time, the same observation is premedication.
    early = {**body, "observed_at": "2025-07-01T20:00:00"}
    assert _live(api, f"patient_id={PID}", early).json()["grade"] == 0


def test_live_grade_of_a_correction_leaves_the_stored_version_out(
    api: Any, nurse: Any, patient: Any
) -> None:
    fever = _save(nurse, patient, DAY1, **FEVER)
    _save(nurse, patient, DAY2, **THERAPY)
    body = {"observed_at": DAY1, "temperature_c": 37.0}
    result = _live(api, f"patient_id={PID}&record_id={fever.pk}", body).json()
    assert result["grade"] == 0 and result["earlier_assessments"] == 0


def test_live_grade_refuses_what_it_cannot_place(api: Any, cast: Any, patient: Any) -> None:
    other = _infused(cast, "A-052")
    theirs = _save(actor_of(cast, "nurse_a"), other, DAY1, **FEVER)
    wrong_record = _live(api, f"patient_id={PID}&record_id={theirs.pk}", {})
    assert wrong_record.status_code == 422
    assert wrong_record.json()["detail"][0]["path"] == "record_id"
    icans = api("nurse_a", "POST", f"/api/grade/icans?patient_id={PID}", {"age_years": 60})
    assert icans.status_code == 422 and icans.json()["detail"][0]["path"] == "patient_id"
    foreign = api("physician_b", "POST", f"/api/grade/crs?patient_id={PID}", {})
    assert foreign.status_code == 404
    bad = _live(api, f"patient_id={PID}", {"observed_at": "yesterday"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "observed_at"


def test_the_assessment_form_grades_live_in_the_patients_course(cast: Any, patient: Any) -> None:
    from tests.web.conftest import client_for

    page = client_for("nurse_a").get(f"/patients/{PID}/assessment/new/")
    body = page.content.decode()
    assert f'data-crs-url="/api/grade/crs?patient_id={PID}"' in body
    assert "Fever ≥38.0 °C before this therapy, documented outside this record" in body
    assert 'data-role="note"' in body and 'data-role="course"' in body


# --- each assessment in its own episode (clinical.episodes.grade_by_episode) -------------------
# TRANSCEND CLL 004 Table 4 footnote [S14]: stopped and restarted within 7 days is one
# episode; therapy for CRS lifts the fever requirement in its own episode only.

TOCILIZUMAB = {"temperature_c": 38.9, "antipyretic_or_anticytokine_given": True}


def _week_1_episode(nurse: Any, patient: Any) -> None:
    """Day 2: fever, tocilizumab for CRS; day 3: afebrile (resolved)."""
    _save(nurse, patient, "2025-07-03T08:00:00", **TOCILIZUMAB)
    _save(nurse, patient, "2025-07-04T08:00:00", temperature_c=37.0)


def test_tocilizumab_in_week_1_does_not_make_day_30_hypotension_without_fever_crs(
    api: Any, nurse: Any, patient: Any
) -> None:
    _week_1_episode(nurse, patient)
    day_30 = "2025-07-31T08:00:00"
    live = _live(api, f"patient_id={PID}", {"observed_at": day_30, **HYPOTENSION_NO_FEVER})
    assert live.json()["grade"] == 0
    afebrile = _save(nurse, patient, day_30, **HYPOTENSION_NO_FEVER)
    assert afebrile.grade == 0  # the whole course as one episode stored 2
    assert any("no fever and no antipyretic" in r for r in afebrile.reasons)
    unknown = _save(nurse, patient, "2025-07-31T20:00:00", hypotension=True)
    assert unknown.grade is None  # no temperature: fever still required, not gradable


def test_day_30_hypotension_with_fever_is_crs_in_a_new_episode(nurse: Any, patient: Any) -> None:
    _week_1_episode(nurse, patient)
    febrile = _save(nurse, patient, "2025-07-31T08:00:00", temperature_c=38.6, hypotension=True)
    assert febrile.grade == 2
    # The new episode's own therapy carries forward within it.
    _save(nurse, patient, "2025-07-31T12:00:00", **TOCILIZUMAB)
    after = _save(nurse, patient, "2025-08-01T08:00:00", **HYPOTENSION_NO_FEVER)
    assert after.grade == 2


@pytest.mark.parametrize(
    ("when", "grade"),
    [("2025-07-11T08:00:00", 2), ("2025-07-11T23:00:00", 2), ("2025-07-12T08:00:00", 0)],
    ids=["7 days after the resolution", "7 days 15 h after", "8 days after"],
)
def test_both_sides_of_the_7_day_boundary_in_the_course(
    nurse: Any, patient: Any, when: str, grade: int
) -> None:
    _week_1_episode(nurse, patient)  # resolved 2025-07-04T08:00
    assert _save(nurse, patient, when, **HYPOTENSION_NO_FEVER).grade == grade


def test_a_bridging_assessment_entered_late_regrades_the_new_episode(
    nurse: Any, patient: Any
) -> None:
    # Day 30 hypotension without fever is stored as not CRS; then hypotension without fever
    # charted late every 5 days from day 8 restarted the week-1 episode within 7 days and
    # never let it resolve: day 30 belongs to it and the tocilizumab for CRS carries forward.
    _week_1_episode(nurse, patient)
    day_30 = _save(nurse, patient, "2025-07-31T08:00:00", **HYPOTENSION_NO_FEVER)
    assert day_30.grade == 0
    for d in range(9, 31, 5):
        _save(nurse, patient, f"2025-07-{d:02d}T08:00:00", **HYPOTENSION_NO_FEVER)
    assert _stored(day_30).grade == 2
    assert _history(day_30)[-1].history_change_reason.startswith("re-graded: earlier assessment")


# --- property: the web course grades are the engine's grades over the split episodes --------


def _row(when: Any, clinical: dict[str, Any]) -> Any:
    """A stored assessment as crs_course reads it (its contract fields and observed_at)."""
    from types import SimpleNamespace

    from cartwatch.schemas.crs import CrsObservationIn

    fields = CrsObservationIn.model_validate(clinical).__dict__
    return SimpleNamespace(**{**fields, "observed_at": when})


def _by_definition(rows: list[Any]) -> list[int | None]:
    """Each grade straight from the rule, one observation at a time: graded within the
    current episode; grade ≥1 more than 7 days after that episode resolved starts a new
    episode, where it is graded again; an episode resolves at its first grade 0 after a
    grade ≥1. O(n²), independent of grade_by_episode."""
    from cartwatch.clinical.crs import grade_crs_episode
    from cartwatch.web.services.crs_course import stored_observation

    obs = [stored_observation(r) for r in rows]
    start, active, resolved, out = 0, False, None, []
    for i, row in enumerate(rows):
        grade = grade_crs_episode(obs[start : i + 1]).observations[-1].grade
        if grade and resolved is not None and (row.observed_at - resolved).days > 7:
            start, active, resolved = i, False, None
            grade = grade_crs_episode(obs[i : i + 1]).observations[-1].grade
        if grade is not None:
            if grade >= 1:
                active, resolved = True, None
            elif active:
                active, resolved = False, row.observed_at
        out.append(grade)
    return out


def _course_strategy() -> Any:
    import datetime as dt

    from hypothesis import strategies as st

    clinical = st.fixed_dictionaries(
        {
            "temperature_c": st.sampled_from([None, 37.0, 38.5]),
            "antipyretic_or_anticytokine_given": st.booleans(),
            "hypotension": st.booleans(),
            "fever_before_therapy": st.booleans(),
            "oxygen_device": st.sampled_from(["none", "face_mask"]),
        }
    )
    gaps = st.integers(min_value=0, max_value=15 * 24)  # hours, 0 to 15 days
    start = dt.datetime(2025, 7, 2, 8, tzinfo=dt.UTC)

    def course(items: list[tuple[int, dict[str, Any]]]) -> list[Any]:
        rows, when = [], start
        for gap, fields in items:
            when += dt.timedelta(hours=gap)
            rows.append(_row(when, fields))
        return rows

    # fever_before_therapy needs the therapy recorded on the same observation
    valid = clinical.filter(
        lambda c: c["antipyretic_or_anticytokine_given"] or not c["fever_before_therapy"]
    )
    return st.lists(st.tuples(gaps, valid), min_size=1, max_size=12).map(course)


def test_web_course_grades_are_the_engines_grades_over_the_split_episodes() -> None:
    from hypothesis import given, settings

    from cartwatch.adam.adae import _episode_records
    from cartwatch.clinical.crs import grade_crs_episode
    from cartwatch.clinical.episodes import grade_by_episode
    from cartwatch.web.services.crs_course import course_grades, stored_observation

    @settings(max_examples=150, deadline=None)
    @given(_course_strategy())
    def check(rows: list[Any]) -> None:
        web = course_grades(rows)
        obs = [stored_observation(r) for r in rows]
        times = [r.observed_at for r in rows]
        episodes = grade_by_episode(obs, times, grade_crs_episode)
        engine = [g for _, e in episodes for g in e.observations]
        assert web == [
            {"grade": g.grade, "standard": g.standard, "reasons": list(g.reasons)} for g in engine
        ]
        assert [w["grade"] for w in web] == _by_definition(rows)
        # Causal: an assessment's grade depends only on it and the earlier ones.
        for k in range(1, len(rows)):
            assert course_grades(rows[:k]) == web[:k]
        # ADaM's ADAE records are these episodes (those with grade ≥1).
        adae = _episode_records(obs, times, grade_crs_episode)
        assert [e.grade for e in adae] == [e.grade for _, e in episodes if (e.grade or 0) >= 1]

    check()
