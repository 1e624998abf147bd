"""Mapping between Django rows and the centre data format row models (centre/records.py).

Dotted columns are flattened into model fields with a prefix (``ice_items.orientation`` →
``ice_orientation``, ``lln.neutrophils_10e9_l`` → ``lln_neutrophils_10e9_l``). Local
wall-clock timestamps of the format become aware datetimes in ``settings.TIME_ZONE``.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

from django.db.models import Model
from django.utils import timezone
from pydantic import BaseModel

from cartwatch.centre import records as r
from cartwatch.web.patients import models as m

#: Nested row objects and the prefix of their flattened model fields.
NESTED_PREFIX = {"ice_items": "ice", "lln": "lln"}


def nested_model(row_model: type[BaseModel], name: str) -> type[BaseModel]:
    """The object type of a nested column (``IceItemsIn``, ``LowerLimitsIn``), from the row
    model itself so the mapping follows the schema as it evolves."""
    annotation = row_model.model_fields[name].annotation
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    raise TypeError(f"{row_model.__name__}.{name} is not a nested object")


#: Django model → (centre file stem, row model).
ROW_MODELS: dict[type[Model], tuple[str, type[BaseModel]]] = {
    m.Patient: ("patients", r.PatientRow),
    m.PriorLine: ("prior_lines", r.PriorLineRow),
    m.CellTherapy: ("cell_therapy", r.CellTherapyRow),
    m.CrsAssessment: ("crs_observations", r.CrsObservationRow),
    m.IcansAssessment: ("icans_observations", r.IcansObservationRow),
    m.Treatment: ("treatments", r.TreatmentRow),
    m.Lab: ("labs", r.LabRow),
    m.ResponseAssessment: ("response_assessments", r.ResponseAssessmentRow),
    m.MrdResult: ("mrd", r.MrdRow),
    m.FollowUp: ("followup", r.FollowupRow),
}


def to_aware(value: dt.datetime) -> dt.datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def to_local_naive(value: dt.datetime) -> dt.datetime:
    return timezone.make_naive(value) if timezone.is_aware(value) else value


def stored_datetime(value: dt.date) -> dt.datetime:
    """A format date or date-time as the database stores it: aware; a date (the format
    allows one for an observation) is local midnight."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return to_aware(value)


def row_to_fields(row: BaseModel) -> dict[str, Any]:
    """Model field values from a validated row (patient_id and centre_id left out)."""
    out: dict[str, Any] = {}
    for name, value in row.model_dump(mode="python").items():
        if name in ("patient_id", "centre_id"):
            continue
        if name in NESTED_PREFIX:
            # Absent nested object: every flattened field is cleared (matters on update).
            for sub in nested_model(type(row), name).model_fields:
                out[f"{NESTED_PREFIX[name]}_{sub}"] = (value or {}).get(sub)
            continue
        if isinstance(value, dt.datetime):
            value = to_aware(value)
        out[name] = _blank_to_model(value)
    return out


def _blank_to_model(value: Any) -> Any:
    # Text columns are non-null in the database ("" = missing), enums are stored by value.
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def fields_to_row_dict(instance: Model, row_model: type[BaseModel]) -> dict[str, Any]:
    """The row-model input dict for a stored row (the inverse of row_to_fields)."""
    data: dict[str, Any] = {}
    for name, info in row_model.model_fields.items():
        if info.exclude:
            # Not a column of the format (e.g. ResponseAssessmentRow.mrd, always None: MRD
            # samples live in mrd.csv), so nothing is stored for it and nothing is read.
            continue
        if name == "patient_id":
            data[name] = (
                instance.patient_id
                if isinstance(instance, m.Patient)
                else (
                    instance.patient.patient_id  # type: ignore[attr-defined]
                )
            )
        elif name == "centre_id":
            data[name] = instance.centre.code  # type: ignore[attr-defined]
        elif name in NESTED_PREFIX:
            # Only the nested object's own keys: a prefix match on the model's columns would
            # also collect siblings such as ``ice_score`` (a top-level ICANS field), which the
            # nested model rejects as an unknown key.
            prefix = NESTED_PREFIX[name]
            nested = {
                sub: getattr(instance, f"{prefix}_{sub}")
                for sub in nested_model(row_model, name).model_fields
            }
            data[name] = nested if any(v is not None for v in nested.values()) else None
        else:
            value = getattr(instance, name)
            if isinstance(value, dt.datetime):
                value = to_local_naive(value)
            if value == "" and name not in ("agents",):
                value = None  # "" in a text column means missing
            data[name] = value
    return data


def apply_fields(instance: Model, values: dict[str, Any]) -> None:
    """Set model fields from row values; None in a text column is stored as ""."""
    for name, value in values.items():
        field = instance._meta.get_field(name)
        kind = field.get_internal_type()
        if kind == "DateTimeField" and isinstance(value, dt.date):
            value = stored_datetime(value)
        if value is None and kind in ("CharField", "TextField"):
            value = ""
        setattr(instance, name, value)


def to_row(instance: Model) -> BaseModel:
    _, row_model = ROW_MODELS[type(instance)]
    return row_model.model_validate(fields_to_row_dict(instance, row_model))


def _json_ready(value: Any) -> Any:
    if isinstance(value, dt.date):  # date and (naive, local) datetime
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def stored_row_json(instance: Model) -> dict[str, Any]:
    """``to_row(instance).model_dump(mode="json")`` for display, without re-validation.

    Every stored row was validated by its row model when it was saved, and the columns hold
    the canonical values (enum values, canonical vasopressor names, "" for missing text), so
    the dump is the stored values with dates as ISO text. Pages and API reads call this per
    row; validating each row again cost more than the queries. Exports still go through
    :func:`to_row` (full validation), and tests/web/test_rows.py checks both agree for every
    kind.
    """
    _, row_model = ROW_MODELS[type(instance)]
    return {k: _json_ready(v) for k, v in fields_to_row_dict(instance, row_model).items()}
