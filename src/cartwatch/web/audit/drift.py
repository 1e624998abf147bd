"""Does the data still equal what the audit log says it is?

The hash chain proves the *log* unaltered; it says nothing about the rows themselves. A
change made behind the application's back (``UPDATE patients_crsassessment SET grade=0``
in a database shell, a restored table, a bug writing with ``QuerySet.update()``) leaves
the chain intact. So ``audit verify`` also replays the log: the last create/update event of
every audited row records the row's whole state (``snapshot``), and the row must equal it.

Reported per row: a field that differs (with the logged and the current value), a row the
log never recorded, a row the log says was deleted but is there, a row the log says exists
but is gone. Secret fields (password and token hashes, logged as "(hidden)") and routine
fields (a login time, a token's last use, not events by design) are not compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Model

from cartwatch.web.audit.chain import snapshot
from cartwatch.web.audit.models import Action, AuditEvent
from cartwatch.web.audit.signals import ACCESS_CONTROL, _is_audited


@dataclass(frozen=True)
class Drift:
    model: str  # the audit log's model label, e.g. "patients.CrsAssessment"
    object_id: str
    problem: str

    def describe(self) -> str:
        return f"{self.model} #{self.object_id}: {self.problem}"


def _audited_models() -> list[type[Model]]:
    return [m for m in apps.get_models() if _is_audited(m)]


def _ignored(model: type[Model]) -> frozenset[str]:
    rules = ACCESS_CONTROL.get(model._meta.label_lower)
    return rules.secret | rules.routine if rules is not None else frozenset()


def _differences(model: type[Model], logged: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Fields whose values differ, compared as the field's Python values (so "2" vs 2.0 or
    a UTC vs a local spelling of the same instant are equal)."""
    out = []
    ignored = _ignored(model)
    for field in model._meta.concrete_fields:
        name = field.attname
        if name in ignored:
            continue
        if name not in logged:
            out.append(f"{name} is not in the logged state")
            continue
        before, now = logged[name], current.get(name)
        try:
            same = field.to_python(before) == field.to_python(now)
        except Exception:  # a value the field cannot read is a difference, not a crash
            same = before == now
        if not same:
            out.append(f"{name} is {now!r} but the audit log recorded {before!r}")
    return out


def _last_states() -> dict[tuple[str, str], dict[str, Any] | None]:
    """(model label, object id) → the state of its last create/update event, or None if the
    last event deleted it."""
    last: dict[tuple[str, str], dict[str, Any] | None] = {}
    events = (
        AuditEvent.objects.filter(action__in=(Action.CREATE, Action.UPDATE, Action.DELETE))
        .order_by("id")
        .values_list("model", "object_id", "action", "after")
    )
    for model, object_id, action, after in events.iterator(chunk_size=2000):
        last[(model, object_id)] = None if action == Action.DELETE else (after or {})
    return last


def find_drift() -> Iterator[Drift]:
    """Every audited row that differs from its last audit event (module docstring)."""
    last = _last_states()
    seen: set[tuple[str, str]] = set()
    for model in _audited_models():
        label = model._meta.label
        for row in model._base_manager.order_by("pk").iterator(chunk_size=2000):
            key = (label, str(row.pk))
            seen.add(key)
            if key not in last:
                yield Drift(label, key[1], "no audit event records this row")
            elif last[key] is None:
                yield Drift(label, key[1], "the audit log records its deletion, but it exists")
            else:
                logged = last[key]
                assert logged is not None
                for difference in _differences(model, logged, snapshot(row)):
                    yield Drift(label, key[1], difference)
    audited_labels = {m._meta.label for m in _audited_models()}
    for (label, object_id), state in last.items():
        if state is not None and label in audited_labels and (label, object_id) not in seen:
            yield Drift(label, object_id, "the audit log records it, but the row is gone")
