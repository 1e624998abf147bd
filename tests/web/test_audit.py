"""The audit log: every write, login and export is on the hash chain; tampering is named."""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import CRS_ROW, PASSWORD, actor_of

pytestmark = pytest.mark.django_db


def _events(action: str, model: str = "") -> list[Any]:
    from cartwatch.web.audit.models import AuditEvent

    queryset = AuditEvent.objects.filter(action=action)
    return list(queryset.filter(model=model) if model else queryset)


def test_create_update_delete_are_recorded_with_before_after_and_reason(
    cast: Any, patient_a: Any
) -> None:
    from cartwatch.web.services import records

    physician, manager = actor_of(cast, "physician_a"), actor_of(cast, "data_manager_a")
    kind = records.KINDS["crs"]
    row = records.create_record(physician, kind, patient_a, {**CRS_ROW, "temperature_c": 37.0})
    records.update_record(
        physician, kind, row, {**CRS_ROW, "temperature_c": 39.1}, version=1, reason="misread"
    )
    records.delete_record(manager, row, version=2, reason="entered twice")

    created = [e for e in _events("create", "patients.CrsAssessment") if e.object_id == str(row.pk)]
    [updated] = _events("update", "patients.CrsAssessment")
    [deleted] = _events("delete", "patients.CrsAssessment")
    assert created[0].actor == "physician_a" and created[0].before is None
    assert created[0].after["temperature_c"] == 37.0
    assert updated.before["temperature_c"] == 37.0 and updated.after["temperature_c"] == 39.1
    assert updated.reason == "misread" and updated.centre == "A"
    assert deleted.actor == "data_manager_a" and deleted.reason == "entered twice"
    assert deleted.before["version"] == 2 and deleted.after is None


def test_simple_history_keeps_rows_with_user_and_reason(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")
    row = patient_a.crsassessments.get()
    records.update_record(
        physician, records.KINDS["crs"], row, CRS_ROW, version=1, reason="re-checked"
    )
    history = list(row.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert history[-1].history_user == cast.users["physician_a"]
    assert history[-1].history_change_reason == "re-checked"


def test_login_logout_and_failed_login_are_recorded(cast: Any) -> None:
    from django.test import Client

    client = Client()
    client.post("/accounts/login/", {"username": "nurse_a", "password": "wrong"})
    client.post("/accounts/login/", {"username": "nurse_a", "password": PASSWORD})
    client.post("/accounts/logout/")
    assert [e.actor for e in _events("login_failed")] == ["nurse_a"]
    assert [e.actor for e in _events("login")] == ["nurse_a"]
    assert [e.actor for e in _events("logout")] == ["nurse_a"]
    assert "wrong" not in str(_events("login_failed")[0].after)


def test_export_is_recorded(cast: Any, patient_a: Any, api: Any) -> None:
    response = api("researcher_a", "GET", "/api/exports/centre-csv")
    assert response.status_code == 200
    [event] = _events("export")
    assert event.actor == "researcher_a" and event.centre == "A"
    assert event.after["pseudonymised"] is True and event.after["patients"] == 1


def test_chain_verifies_and_names_the_first_tampered_event(cast: Any, patient_a: Any) -> None:
    from django.db import connection

    from cartwatch.web.audit.chain import verify_chain
    from cartwatch.web.audit.models import AuditEvent

    report = verify_chain()
    assert report.intact and report.events == AuditEvent.objects.count() >= 3
    target = AuditEvent.objects.order_by("id")[1]
    with connection.cursor() as cursor:  # what an attacker with database access would do
        cursor.execute(
            "UPDATE audit_auditevent SET actor = %s WHERE id = %s", ["someone_else", target.pk]
        )
    report = verify_chain()
    assert not report.intact
    assert report.broken_id == target.pk
    assert f"#{target.pk}" in report.describe()


def test_deleting_an_event_breaks_the_chain_at_its_successor(cast: Any, patient_a: Any) -> None:
    from django.db import connection

    from cartwatch.web.audit.chain import verify_chain
    from cartwatch.web.audit.models import AuditEvent

    _, second, third = AuditEvent.objects.order_by("id")[:3]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    report = verify_chain()
    assert not report.intact and report.broken_id == third.pk


def test_the_orm_refuses_to_change_or_delete_events(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.audit.models import AppendOnlyError, AuditEvent

    event = AuditEvent.objects.first()
    assert event is not None
    event.actor = "x"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(actor="x")


def test_bulk_writes_on_patient_data_are_refused(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.patients.models import BulkWriteRefused, CrsAssessment

    with pytest.raises(BulkWriteRefused):
        CrsAssessment.objects.filter(patient=patient_a).update(grade=0)
    with pytest.raises(BulkWriteRefused):
        CrsAssessment.objects.bulk_create([])


@pytest.mark.parametrize(("fmt", "suffix"), [("adam-csv", ".csv"), ("adam-xpt", ".xpt")])
def test_adam_export_contains_the_four_datasets(
    cast: Any, patient_a: Any, api: Any, fmt: str, suffix: str
) -> None:
    import io
    import zipfile

    response = api("data_manager_a", "GET", f"/api/exports/{fmt}")
    assert response.status_code == 200, response.content
    names = set(zipfile.ZipFile(io.BytesIO(response.content)).namelist())
    assert {f"ad{n}{suffix}" for n in ("sl", "rs", "tte", "ae")} <= names
    [event] = _events("export")
    assert event.after["format"] == fmt and event.after["pseudonymised"] is False


def _rewrite_from(event_id: int, actor: str) -> None:
    """What an attacker with write access to the table can do: alter one event and recompute
    every hash after it, so the chain alone verifies again."""
    from django.db import connection

    from cartwatch.web.audit.models import AuditEvent

    prev = None
    for event in AuditEvent.objects.order_by("id"):
        if event.pk == event_id:
            event.actor = actor
        if event.pk >= event_id:
            event.prev_hash = prev if prev is not None else event.prev_hash
            event.hash = event.compute_hash()
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE audit_auditevent SET actor = %s, prev_hash = %s, hash = %s "
                    "WHERE id = %s",
                    [event.actor, event.prev_hash, event.hash, event.pk],
                )
        prev = event.hash


def test_an_anchor_detects_a_truncated_tail_that_the_chain_cannot(
    cast: Any, patient_a: Any
) -> None:
    from django.db import connection

    from cartwatch.web.audit.chain import current_anchor, record_event, verify_chain
    from cartwatch.web.audit.models import AuditEvent

    anchor = current_anchor()
    assert anchor is not None
    assert anchor.event_id == AuditEvent.objects.order_by("-id")[0].pk
    record_event("login", actor="nurse_a")  # later events do not disturb an old anchor
    assert verify_chain([anchor]).intact
    assert verify_chain([anchor]).describe().endswith("; 1 anchor(s) match")
    with connection.cursor() as cursor:  # cut the newest events off
        cursor.execute("DELETE FROM audit_auditevent WHERE id >= %s", [anchor.event_id])
    assert verify_chain().intact  # the remaining chain is consistent …
    report = verify_chain([anchor])  # … but the anchor still remembers the event
    assert not report.intact and report.broken_id == anchor.event_id
    assert "missing" in report.problem and "truncated" in report.problem


def test_an_anchor_detects_a_rebuilt_chain(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.audit.chain import current_anchor, verify_chain
    from cartwatch.web.audit.models import AuditEvent

    anchor = current_anchor()
    assert anchor is not None
    first = AuditEvent.objects.order_by("id")[0].pk
    _rewrite_from(first, "someone_else")
    assert verify_chain().intact  # hashes recomputed: the chain alone cannot tell
    report = verify_chain([anchor])
    assert not report.intact and report.broken_id == anchor.event_id
    assert "rewritten" in report.problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-01-01T00:00:00 12", "line 1: expected '<time> <event id> <hash>'"),
        ("# comment\n\nt x " + "a" * 64, "line 3: event id 'x' is not a positive integer"),
        ("t 0 " + "a" * 64, "line 1: event id '0' is not a positive integer"),
        ("t 3 " + "a" * 63, "line 1: hash is not 64 lower-case hex digits (SHA-256)"),
        ("t 3 " + "A" * 64, "line 1: hash is not 64 lower-case hex digits (SHA-256)"),
    ],
)
def test_malformed_anchor_lines_are_errors_naming_the_line(text: str, problem: str) -> None:
    from cartwatch.web.audit.chain import AnchorFileError, parse_anchors

    with pytest.raises(AnchorFileError) as raised:
        parse_anchors(text)
    assert str(raised.value) == problem


def test_anchor_lines_round_trip() -> None:
    from cartwatch.web.audit.chain import Anchor, parse_anchors

    anchors = [Anchor(7, "ab" * 32, "2026-11-26T02:00:00+00:00"), Anchor(9, "cd" * 32, "t")]
    text = "# daily\n" + "\n".join(a.line() for a in anchors) + "\n"
    assert parse_anchors(text) == anchors
