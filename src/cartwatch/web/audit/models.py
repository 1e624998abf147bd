"""The append-only, hash-chained audit log.

Each event stores ``prev_hash`` (the previous event's ``hash``; 64 zeros for the first) and
``hash = sha256(canonical JSON of prev_hash, actor, action, model, object id, centre,
before, after, reason, timestamp)``. Changing, inserting or removing any row breaks the chain
at that row, which ``verify_chain()`` reports. Rows are never updated or deleted through the
ORM; the unique ``prev_hash`` makes a fork (two events claiming the same predecessor)
impossible even under concurrent writers.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.db import models

GENESIS_HASH = "0" * 64


class AppendOnlyError(RuntimeError):
    """The audit log is append-only."""


class Action(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"
    EXPORT = "export"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events cannot be updated")

    def bulk_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("append audit events one at a time with record_event()")


class AuditEvent(models.Model):
    timestamp = models.DateTimeField()
    # The username is stored as text (and hashed) so the record survives the user's deletion
    # and reads the same years later.
    actor = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=16, choices=Action.choices)
    model = models.CharField(max_length=100, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    centre = models.CharField(max_length=32, blank=True, default="", help_text="Centre code.")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        indexes = (models.Index(fields=("centre", "timestamp")),)

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.model} {self.object_id} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")

    def payload(self) -> dict[str, Any]:
        return {
            "prev_hash": self.prev_hash,
            "actor": self.actor,
            "action": self.action,
            "model": self.model,
            "object_id": self.object_id,
            "centre": self.centre,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "timestamp": canonical_timestamp(self.timestamp),
        }

    def compute_hash(self) -> str:
        return chain_hash(self.payload())


def canonical_timestamp(value: datetime) -> str:
    # Microsecond precision in UTC: both SQLite and PostgreSQL store it unchanged.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
