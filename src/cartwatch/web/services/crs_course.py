"""The CRS grade of a daily assessment in its patient's course (contract v2 item 2).

A patient's stored CRS assessments, in time order, are split into episodes by the one
episode rule (``clinical.episodes.grade_by_episode``: TRANSCEND CLL 004's "stopped and
restarted within 7 days counts as one episode", the rule ADaM's ADAE and the CIBMTR registry
use), and each assessment is graded as an observation of its own episode by the engine's
episode grading (``clinical.crs.grade_crs_episode``; nothing is re-implemented here). That is
what makes a ticked "antipyretic given" on a patient who never had a fever premedication
(fever still required), what carries therapy for CRS forward to the later days of the
episode, and what keeps tocilizumab given in week 1 from lifting the fever requirement in an
unrelated episode weeks later. The live form, the save and the re-grade of later rows all
call this module, so they cannot disagree.

The split and the grading are causal: an observation's episode and grade depend on it and
the earlier ones only. So an assessment is graded with the earlier ones alone, and saving,
editing or deleting one can change only the later ones (:func:`later_regrades`).
Order: ``observed_at``, then the primary key (two assessments charted at the same minute
keep the order they were entered in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from cartwatch.clinical.crs import (
    CrsEpisode,
    CrsObservation,
    TherapyTimeline,
    grade_crs_episode,
)
from cartwatch.clinical.episodes import grade_by_episode
from cartwatch.schemas.crs import CrsObservationIn
from cartwatch.web.patients import models as m

#: The contract fields stored on a CRS assessment that the grade depends on (observed_at is
#: the order, given by the database).
CLINICAL_FIELDS: Final = tuple(n for n in CrsObservationIn.model_fields if n != "observed_at")

#: What the live grade says when the therapy ticked on this assessment is premedication.
PREMEDICATION_NOTE: Final = "premedication: fever still required"

#: The time given to an unplaced assessment with no stored one before it (it is then an
#: episode on its own whatever its time).
_UNPLACED_ALONE: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

#: Sort key of an assessment in its course; ``None`` pk (not saved yet) sorts last.
CourseKey = tuple[dt.datetime, float]


def course_key(observed_at: dt.datetime, pk: int | None) -> CourseKey:
    return (observed_at, float("inf") if pk is None else float(pk))


def observation(clinical: dict[str, Any]) -> CrsObservation:
    """The engine's observation from contract fields (validated; no ``observed_at``)."""
    fields = {k: v for k, v in clinical.items() if k != "observed_at"}
    return CrsObservationIn.model_validate(fields).to_domain()


def stored_observation(row: Any) -> CrsObservation:
    """The observation of a stored assessment (a model instance, also a historical one in a
    migration)."""
    return observation({name: getattr(row, name) for name in CLINICAL_FIELDS})


def _computed(graded: Any) -> dict[str, Any]:
    return {"grade": graded.grade, "standard": graded.standard, "reasons": list(graded.reasons)}


def _episodes(
    rows: Sequence[Any], this: CrsObservation | None = None, this_at: dt.datetime | None = None
) -> list[tuple[int, CrsEpisode]]:
    """*rows* (course order), and *this* after them when given, split into episodes and
    graded (``clinical.episodes.grade_by_episode``)."""
    series = [stored_observation(row) for row in rows]
    times = [row.observed_at for row in rows]
    if this is not None:
        series.append(this)
        # Unplaced (the live form before a time is typed): after every stored one, at the
        # time of the last, so it continues the latest episode (alone: any time will do).
        times.append(this_at or (times[-1] if times else _UNPLACED_ALONE))
    return grade_by_episode(series, times, grade_crs_episode)


def course_grades(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """grade/standard/reasons of each of *rows* (one patient's assessments in course order),
    each graded in its own episode."""
    if not rows:
        return []
    return [_computed(g) for _, episode in _episodes(rows) for g in episode.observations]


def _course(patient: m.Patient, *, locked: bool = False) -> list[m.CrsAssessment]:
    rows = m.CrsAssessment.objects.filter(patient=patient)
    if locked:
        rows = rows.select_for_update()
    return list(rows.order_by("observed_at", "pk"))


def grade_in_course(
    patient: m.Patient,
    clinical: dict[str, Any],
    observed_at: dt.datetime | None,
    pk: int | None = None,
) -> dict[str, Any]:
    """The grade *clinical* gets as the assessment at *observed_at* in *patient*'s course.

    *pk*: the stored assessment being corrected (its stored version is left out).
    *observed_at* None (the live form before a time is typed): after every stored one.
    Returns grade/standard/reasons as stored, plus ``earlier_assessments`` (how many of the
    patient's assessments were taken into account) and ``note`` (:data:`PREMEDICATION_NOTE`
    when the therapy ticked here is premedication, else None).
    """
    this = observation(clinical)
    earlier = [row for row in _course(patient) if row.pk != pk]
    if observed_at is not None:
        place = course_key(observed_at, pk)
        earlier = [row for row in earlier if course_key(row.observed_at, row.pk) < place]
    start, episode = _episodes(earlier, this, observed_at)[-1]
    own = [*map(stored_observation, earlier[start:]), this]
    premedication = len(own) - 1 in TherapyTimeline.of(own).premedication
    return {
        **_computed(episode.observations[-1]),
        "earlier_assessments": len(earlier),
        "note": PREMEDICATION_NOTE if premedication else None,
    }


def regraded(row: m.CrsAssessment) -> dict[str, Any]:
    """grade/standard/reasons of *row* (saved or not) in its patient's course as stored now."""
    clinical = {name: getattr(row, name) for name in CLINICAL_FIELDS}
    result = grade_in_course(row.patient, clinical, row.observed_at, row.pk)
    return {k: result[k] for k in ("grade", "standard", "reasons")}


def later_regrades(
    patient: m.Patient, after: CourseKey
) -> list[tuple[m.CrsAssessment, dict[str, Any]]]:
    """The stored assessments after *after* whose grade or reasons the course now gives
    differently, each with its new grade/standard/reasons (rows locked for the update).

    Reasons count too: a stored grade is stored with the reasons that explain it, and a
    reason such as "premedication, fever still required" can stop being true while the
    grade stays the same.
    """
    rows = _course(patient, locked=True)
    return [
        (row, new)
        for row, new in zip(rows, course_grades(rows), strict=True)
        if course_key(row.observed_at, row.pk) > after
        and (row.grade, row.standard, list(row.reasons))
        != (new["grade"], new["standard"], new["reasons"])
    ]
