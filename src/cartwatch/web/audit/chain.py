"""Appending to and verifying the hash-chained audit log.

``record_event`` is the only way an ``AuditEvent`` is written: patient-data saves and
deletes reach it through the signals in ``signals.py``, logins through the auth signals, and
exports call it directly. ``audit_context`` carries the acting user and the reason for change
from the service layer down to those signals.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from cartwatch.web.audit.models import GENESIS_HASH, Action, AuditEvent

SYSTEM_ACTOR = "(system)"
# Any constant works: it names the one advisory lock that serialises appends on PostgreSQL.
_PG_AUDIT_LOCK_KEY = 0x0CA27A0D17


@dataclass(frozen=True)
class AuditContext:
    actor: str
    reason: str = ""


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "cartwatch_audit_context", default=None
)


@contextmanager
def audit_context(actor: str, reason: str = "") -> Iterator[AuditContext]:
    """Within this block, audited saves and deletes are attributed to *actor* with *reason*."""
    ctx = AuditContext(actor=actor, reason=reason)
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def current_context() -> AuditContext | None:
    return _context.get()


def jsonable(value: Any) -> Any:
    """Round-trip through JSON so the stored value is exactly the value that was hashed."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance: models.Model) -> dict[str, Any]:
    """All concrete field values of a row (foreign keys as ids), JSON-ready."""
    data = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    result: dict[str, Any] = jsonable(data)
    return result


def _lock_tail() -> None:
    # SQLite: the app runs every transaction as BEGIN IMMEDIATE, so writers are already
    # serialised. PostgreSQL: take a transaction-scoped advisory lock so two appenders cannot
    # read the same tail; the unique prev_hash would reject the loser anyway.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_AUDIT_LOCK_KEY])


def record_event(
    action: Action | str,
    *,
    actor: str | None = None,
    model: str = "",
    object_id: str | int = "",
    centre: str = "",
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append one event to the chain (inside the caller's transaction, if any)."""
    ctx = current_context()
    if actor is None:
        actor = ctx.actor if ctx else SYSTEM_ACTOR
    if reason is None:
        reason = ctx.reason if ctx else ""
    with transaction.atomic():
        _lock_tail()
        tail = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            timestamp=timezone.now(),
            actor=actor,
            action=str(action),
            model=model,
            object_id=str(object_id),
            centre=centre,
            before=jsonable(before),
            after=jsonable(after),
            reason=reason,
            prev_hash=tail or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save()
    return event


@dataclass(frozen=True)
class Anchor:
    """The chain's head at one moment, kept *outside* the database.

    The chain alone shows that a row was altered, inserted or removed, but not that the
    newest events were cut off, nor a chain rebuilt from an altered row onwards (the hash is
    unkeyed, so anyone who can write the table can recompute it). An anchor copied elsewhere
    (a ward log, an e-mail, write-once storage) pins event *event_id* to *hash*: a later
    check finds the event gone (truncated) or different (rewritten).
    """

    event_id: int
    hash: str
    recorded_at: str = ""  # ISO time the anchor was taken; informational

    def line(self) -> str:
        return f"{self.recorded_at} {self.event_id} {self.hash}"


class AnchorFileError(ValueError):
    """A malformed anchor line: ``line`` is 1-based."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


_HEX = frozenset("0123456789abcdef")


def parse_anchors(text: str) -> list[Anchor]:
    """Anchor lines as printed by ``cartwatch audit anchor``: ``<time> <event id> <hash>``.

    Blank lines and lines starting with ``#`` are ignored; anything else malformed is an
    error naming its line (a guessed anchor could hide a truncation).
    """
    anchors = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3:
            raise AnchorFileError(number, "expected '<time> <event id> <hash>'")
        recorded_at, event_id, digest = parts
        if not event_id.isdigit() or int(event_id) < 1:
            raise AnchorFileError(number, f"event id {event_id!r} is not a positive integer")
        if len(digest) != 64 or not set(digest) <= _HEX:
            raise AnchorFileError(number, "hash is not 64 lower-case hex digits (SHA-256)")
        anchors.append(Anchor(int(event_id), digest, recorded_at))
    return anchors


def current_anchor() -> Anchor | None:
    """The newest event as an anchor; None while the log is empty."""
    head = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    if head is None:
        return None
    return Anchor(head[0], head[1], timezone.now().isoformat(timespec="seconds"))


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    events: int
    broken_id: int | None = None
    problem: str = ""
    anchors: int = 0

    def describe(self) -> str:
        if self.intact:
            matched = f"; {self.anchors} anchor(s) match" if self.anchors else ""
            return f"chain intact: {self.events} events{matched}"
        return f"chain broken at event #{self.broken_id}: {self.problem}"


def verify_chain(anchors: Sequence[Anchor] = ()) -> ChainReport:
    """Recompute every hash in order; report the first event whose link or content is wrong,
    then the first *anchor* (by event id) whose event is missing or has another hash."""
    expected_prev = GENESIS_HASH
    count = 0
    anchored = {a.event_id for a in anchors}
    stored: dict[int, str] = {}
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                count,
                event.pk,
                "prev_hash does not match the previous event's hash "
                "(an event before it was removed, inserted or altered)",
            )
        if event.compute_hash() != event.hash:
            return ChainReport(False, count, event.pk, "content does not match its hash")
        if event.pk in anchored:
            stored[event.pk] = event.hash
        expected_prev = event.hash
    for anchor in sorted(anchors, key=lambda a: a.event_id):
        taken = f"anchor taken {anchor.recorded_at}" if anchor.recorded_at else "anchor"
        if anchor.event_id not in stored:
            return ChainReport(
                False,
                count,
                anchor.event_id,
                f"the event is missing but the {taken} records it "
                "(the log was truncated or rebuilt since)",
            )
        if stored[anchor.event_id] != anchor.hash:
            return ChainReport(
                False,
                count,
                anchor.event_id,
                f"its hash differs from the {taken} (the chain was rewritten since)",
            )
    return ChainReport(True, count, anchors=len(anchors))
