"""Shared by the data migrations that re-grade stored rows (the ``_`` keeps Django from
loading this module as a migration)."""

import itertools
from typing import Any

from django.utils import timezone


def record_regrade(model: Any, history: Any, row: Any, reason: str) -> None:
    """Write a re-graded *row* of *model* and the history entry that says why: the
    migration's own ``save`` sends no simple-history signal (historical models)."""
    row.save(update_fields=["grade", "standard", "reasons"])
    history._default_manager.create(
        **{f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields},
        history_date=timezone.now(),
        history_type="~",
        history_change_reason=reason,
        history_user=None,
    )


def regrade_crs_courses(apps: Any, reason: str) -> None:
    """Grade every patient's stored CRS assessments again as the web app grades them now
    (``web/services/crs_course.course_grades``) and write those whose grade or reasons change,
    each with a history entry giving *reason*; the others are left as they are."""
    from cartwatch.web.services.crs_course import course_grades

    model = apps.get_model("patients", "CrsAssessment")
    history = apps.get_model("patients", "HistoricalCrsAssessment")
    rows = model._default_manager.order_by("patient_id", "observed_at", "pk")
    for _, group in itertools.groupby(rows.iterator(), key=lambda row: row.patient_id):
        course = list(group)
        for row, new in zip(course, course_grades(course), strict=True):
            if (row.grade, row.standard, list(row.reasons)) == (
                new["grade"],
                new["standard"],
                new["reasons"],
            ):
                continue
            row.grade, row.standard, row.reasons = new["grade"], new["standard"], new["reasons"]
            record_regrade(model, history, row, reason)
