"""Migration 0003 (contract v2 item 1): CRS grades become nullable, and a v1 row stored as
grade 0 only because no temperature was recorded is graded again — null with the reason —
with the change written to the record's history. Rows with a temperature, or with therapy
lifting the fever requirement, are left as they were."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("patients", "0002_form_status")]
AFTER = [("patients", "0003_crs_not_gradable")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_v1_zeros_without_a_temperature_become_not_gradable() -> None:
    old = _migrate(BEFORE)
    try:
        centre = old.get_model("centres", "Centre")._default_manager.create(code="M", name="M")
        patient = old.get_model("patients", "Patient")._default_manager.create(
            centre=centre, patient_id="M-001", age_years=60, sex="F", diagnosis="CLL"
        )
        crs = old.get_model("patients", "CrsAssessment")._default_manager
        when = dt.datetime(2025, 7, 2, 8, tzinfo=dt.UTC)
        blank = crs.create(patient=patient, observed_at=when, hypotension=True, grade=0)
        afebrile = crs.create(
            patient=patient, observed_at=when, temperature_c=37.2, hypotension=True, grade=0
        )
        treated = crs.create(
            patient=patient,
            observed_at=when,
            antipyretic_or_anticytokine_given=True,
            hypotension=True,
            grade=2,
        )
        new = _migrate(AFTER)
        rows = new.get_model("patients", "CrsAssessment")._default_manager
        regraded = rows.get(pk=blank.pk)
        assert regraded.grade is None
        assert regraded.reasons[-1] == (
            "not gradable: temperature not recorded; with fever ≥38.0 °C this is grade 2"
        )
        assert rows.get(pk=afebrile.pk).grade == 0  # a recorded 37.2 °C stays 0
        assert rows.get(pk=treated.pk).grade == 2
        history = new.get_model("patients", "HistoricalCrsAssessment")._default_manager
        [entry] = history.filter(id=blank.pk)
        assert entry.grade is None and entry.history_change_reason.startswith("contract v2")
    finally:
        _migrate(_latest())


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
