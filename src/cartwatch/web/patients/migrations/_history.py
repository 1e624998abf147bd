"""Shared by the data migrations that re-grade stored rows (the ``_`` keeps Django from
loading this module as a migration)."""

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
