"""Migration 0005 (contract v2 item 2): stored CRS grades become grades in the patient's
course. A v1 row where premedication was read as CRS therapy (grade 2 with no fever ever)
and a day after therapy for CRS that lost the therapy (grade 0) are graded again, each with
a history entry giving the reason; rows the course grades the same are left alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.web.test_migration_crs_not_gradable import _latest, _migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("patients", "0004_response_b_lymphocytes_bcr_inhibitor")]
AFTER = [("patients", "0005_crs_graded_in_course")]


def _day(n: int) -> dt.datetime:
    return dt.datetime(2025, 7, n, 8, tzinfo=dt.UTC)


def test_v1_single_observation_grades_are_graded_again_in_the_course() -> None:
    from cartwatch.clinical.crs import CrsObservation, grade_crs

    old = _migrate(BEFORE)
    try:
        centre = old.get_model("centres", "Centre")._default_manager.create(code="M", name="M")
        patients = old.get_model("patients", "Patient")._default_manager
        crs = old.get_model("patients", "CrsAssessment")._default_manager

        def v1(patient: Any, day: int, **clinical: Any) -> Any:
            # What the web app stored before: each observation graded on its own.
            graded = grade_crs(CrsObservation(**clinical))
            return crs.create(patient=patient, observed_at=_day(day), grade=graded.grade,
                              standard=graded.standard, reasons=list(graded.reasons),
                              **clinical)  # fmt: skip

        premedicated = patients.create(centre=centre, patient_id="M-1", sex="F", diagnosis="CLL")
        premedication = v1(premedicated, 2, temperature_c=37.0, hypotension=True,
                           antipyretic_or_anticytokine_given=True)  # fmt: skip
        treated = patients.create(centre=centre, patient_id="M-2", sex="F", diagnosis="CLL")
        fever = v1(treated, 2, temperature_c=38.5, antipyretic_or_anticytokine_given=True)
        after_therapy = v1(treated, 3, temperature_c=37.0, hypotension=True)
        assert (premedication.grade, after_therapy.grade) == (2, 0)

        new = _migrate(AFTER)
        rows = new.get_model("patients", "CrsAssessment")._default_manager
        history = new.get_model("patients", "HistoricalCrsAssessment")._default_manager
        assert rows.get(pk=premedication.pk).grade == 0
        assert rows.get(pk=after_therapy.pk).grade == 2  # therapy for CRS carried forward
        assert rows.get(pk=fever.pk).grade == 1
        for regraded in (premedication, after_therapy):
            [entry] = history.filter(id=regraded.pk)
            assert entry.history_change_reason.startswith("contract v2: graded with the patient")
            assert entry.grade == rows.get(pk=regraded.pk).grade
        assert not history.filter(id=fever.pk).exists()  # same grade and reasons: untouched
    finally:
        _migrate(_latest())
