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

from cartwatch.web.ui import edit_forms as ef
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
    for sections in ef.EDIT_FORMS.values():
        for section in sections:
            for spec in section.fields:
                name = spec.name
                for dotted, flat in _FLAT:
                    name = name.replace(dotted, flat)
                labels.setdefault(name, spec.label)
    return labels


LABELS: dict[str, str] = {**_form_labels(), **RESULT_LABELS}
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def sentence_case(name: str) -> str:
    """ "CRS assessment", "Blood count", "iwCLL response assessment": the first letter up
    unless the first word is a name spelt with capitals inside (iwCLL)."""
    first = name.split(" ", 1)[0]
    return name if any(c.isupper() for c in first) else name[:1].upper() + name[1:]


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


def event_subjects(events: Sequence[Any]) -> dict[int, str]:
    """Audit events' subjects in words: "CRS assessment, day 4, patient NORTH-001" (day after
    the patient's infusion), "patient NORTH-001", "sign-in" — never a model name and row id.
    Two queries for the whole page: the patients' pseudonyms and infusion dates."""
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    from cartwatch.web.patients import models as m
    from cartwatch.web.services.quality import DATE_FIELDS

    rows = {e.pk: (e.after or e.before or {}) for e in events}
    patient_pks: set[int] = {
        int(pk)
        for e in events
        for pk in [rows[e.pk].get("id" if e.model == "patients.Patient" else "patient_id")]
        if isinstance(pk, int)
    }
    pseudonyms = dict(m.Patient.objects.filter(pk__in=patient_pks).values_list("pk", "patient_id"))
    infusions: dict[int, Any] = {}
    courses = m.CellTherapy.objects.filter(patient_id__in=patient_pks).exclude(infusion_date=None)
    for pk, day in courses.order_by("infusion_date").values_list("patient_id", "infusion_date"):
        infusions.setdefault(pk, day)
    out: dict[int, str] = {}
    for e in events:
        row = rows[e.pk]
        if e.model == "auth.user":
            out[e.pk] = {"login": "sign-in", "logout": "sign-out"}.get(e.action, "sign-in attempt")
            continue
        if e.action == "export":
            out[e.pk] = f"export ({e.object_id})"
            continue
        try:
            model = apps.get_model(e.model) if e.model else None
        except (LookupError, ValueError, ImproperlyConfigured):
            model = None
        if model is None:
            out[e.pk] = e.model or "—"
            continue
        name = str(model._meta.verbose_name)
        patient_pk = row.get("id") if model is m.Patient else row.get("patient_id")
        patient_pk = patient_pk if isinstance(patient_pk, int) else -1
        pseudonym = pseudonyms.get(patient_pk, "")
        if model is m.Patient:
            out[e.pk] = f"patient {pseudonym or '(deleted)'}"
            continue
        parts = [sentence_case(name)]
        day = _day_after_infusion(row, DATE_FIELDS.get(model, ()), infusions.get(patient_pk))
        # "day N" counts from the infusion: the course itself and earlier records have none.
        if day is not None and day >= 0 and model is not m.CellTherapy:
            parts.append(f"day {day}")
        parts.append(f"patient {pseudonym or '(deleted)'}")
        out[e.pk] = ", ".join(parts)
    return out


def _day_after_infusion(row: dict[str, Any], fields: Sequence[str], infusion: Any) -> int | None:
    import datetime as dt

    from django.utils.dateparse import parse_datetime

    if infusion is None:
        return None
    for name in fields:
        text = row.get(name)
        if not isinstance(text, str) or not text:
            continue
        when = parse_datetime(text)
        day = (
            timezone.localdate(when)
            if when is not None and timezone.is_aware(when)
            else dt.date.fromisoformat(text[:10])
        )
        return int((day - infusion).days)
    return None
