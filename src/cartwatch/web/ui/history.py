"""A record's history in words: who, when, what changed from → to, and the reason.

Read from django-simple-history (``Actor.record_history``), which every save through
``services.records`` fills with the user and the reason for change (the same reason the
hash-chained audit log holds). Field names become the labels of the entry forms, values are
shown as on the patient page; bookkeeping columns (version, timestamps) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from cartwatch.web.ui import forms as f
from cartwatch.web.ui.display import fmt

#: Flattened model columns of nested form paths (rows.NESTED_PREFIX, as the models name them).
_FLAT = (("ice_items.", "ice_"), ("lln.", "lln_"))

#: Stored results and status columns, which no entry form has.
RESULT_LABELS = {
    "grade": "Grade",
    "instrument": "Instrument",
    "standard": "Standard",
    "reasons": "Reasons",
    "grade_neutrophil_count_decreased": "Neutropenia grade",
    "grade_platelet_count_decreased": "Thrombocytopenia grade",
    "grade_anemia": "Anaemia grade",
    "response": "Response",
    "mrd_status": "MRD status",
    "status": "MRD status",
    "eligible": "Eligible",
    "label_version": "Label version",
    "indication": "Indication",
    "input": "Checked input",
    "result": "Engine result",
    "form_status": "Form status",
    "verified_at": "Verified at",
}

#: Bookkeeping: changes on every save, says nothing about the data.
HIDDEN = frozenset(
    {"version", "created_at", "updated_at", "created_by", "updated_by", "verified_by", "id",
     "patient", "centre", "result", "input"}
)  # fmt: skip


def _form_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for sections in f.EDIT_FORMS.values():
        for section in sections:
            for spec in section.fields:
                name = spec.name
                for dotted, flat in _FLAT:
                    name = name.replace(dotted, flat)
                labels.setdefault(name, spec.label)
    return labels


LABELS: dict[str, str] = {**_form_labels(), **RESULT_LABELS}
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


def shown(value: Any) -> str:
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        value = timezone.localtime(value).replace(tzinfo=None).isoformat(timespec="minutes")
    return fmt(value)


@dataclass(frozen=True)
class Entry:
    when: str
    who: str
    action: str
    reason: str
    changes: list[tuple[str, str, str]]  # (label, from, to)
    version: int


def entries(versions: Sequence[Any], hidden_fields: Sequence[str] = ()) -> list[Entry]:
    """History rows (oldest first) as entries, newest first. *hidden_fields* (identifying
    fields for a pseudonymised role) are never shown."""
    out: list[Entry] = []
    skip = HIDDEN | set(hidden_fields)
    previous = None
    for version in versions:
        changes: list[tuple[str, str, str]] = []
        if previous is not None and version.history_type == "~":
            delta = version.diff_against(previous)
            for change in delta.changes:
                if change.field in skip:
                    continue
                changes.append((label(change.field), shown(change.old), shown(change.new)))
        elif version.history_type == "+":
            for field in version.instance._meta.concrete_fields:
                if field.name in skip:
                    continue
                value = getattr(version, field.attname, None)
                if value not in (None, "", []):
                    changes.append((label(field.name), "", shown(value)))
        user = version.history_user
        out.append(
            Entry(
                when=shown(version.history_date),
                who=user.get_username() if user is not None else "—",
                action=ACTIONS.get(version.history_type, version.history_type),
                reason=version.history_change_reason or "",
                changes=changes,
                version=version.version,
            )
        )
        previous = version
    return out[::-1]
