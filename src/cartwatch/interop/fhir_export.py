"""FHIR R4 export of CAR-T journeys: stored records → a validated ``collection`` Bundle.

Pure (no Django): the web service (``web/services/fhir_export.py``) scopes, checks and
pseudonymises the records and hands them over as :class:`Journey` objects. Per patient:
Patient + Condition, one resource per record (``fhir_resources``), and one AdverseEvent per
toxicity that reached grade ≥ 1 on or after the infusion: CRS, ICANS (ASTCT 2019) and each
CTCAE v5.0 cytopenia term. Every resource is validated by the ``fhir.resources`` R4B models
(the R4-line model set of fhir.resources 8, as the import uses) before anything is written;
a resource that fails is a bug of this module, so the export stops (:class:`InvalidExport`)
rather than write an invalid bundle. The file is written atomically (temporary file in the
same folder, then rename).

AdverseEvent: R4 ``severity`` has mild/moderate/severe only, so grade 1 → mild, 2 →
moderate, ≥ 3 → severe, and the exact maximum grade and its standard are extensions
(``fhir_codes.GRADE_EXTENSION``/``STANDARD_EXTENSION``); ``date`` is the onset (first
observation at grade ≥ 1), ``suspectEntity`` the infusion Procedure, and the Observations at
grade ≥ 1 are referenced by ``SUPPORTING_EXTENSION`` (R4 has no supportingInfo). Event codes
are local (``fhir_codes.ADVERSE_EVENTS``: UNVERIFIED, no MedDRA code in a cited table).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cartwatch.interop import fhir_codes as codes
from cartwatch.interop.fhir_resources import (
    Context,
    StoredRecord,
    concept,
    patient_reference,
    record_resources,
)

__all__ = ["InvalidExport", "Journey", "StoredRecord", "build_bundle", "write_bundle"]

#: Stored results graded per toxicity term: term → (record kind, result name).
AE_SOURCES: dict[str, tuple[str, str]] = {
    "crs": ("crs", "grade"),
    "icans": ("icans", "grade"),
    "neutrophil_count_decreased": ("labs", "grade_neutrophil_count_decreased"),
    "platelet_count_decreased": ("labs", "grade_platelet_count_decreased"),
    "anemia": ("labs", "grade_anemia"),
}


class InvalidExport(RuntimeError):
    """A resource of the export fails the FHIR R4 models: a bug, nothing is written."""


@dataclass(frozen=True)
class Journey:
    """One patient: the patient record and every other record of theirs."""

    patient: StoredRecord
    records: Sequence[StoredRecord]


@dataclass(frozen=True)
class AdverseEventSummary:
    """The worst grade of one toxicity term on or after the infusion."""

    term: str
    grade: int
    onset: Any  # date or local date-time of the first observation at grade >= 1
    records: tuple[StoredRecord, ...]  # those at grade >= 1, in time order


def _time(record: StoredRecord) -> dt.datetime:
    value = record.fields["observed_at"]
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def infusion(journey: Journey) -> tuple[StoredRecord, dt.date] | None:
    for record in journey.records:
        if record.kind == "cell-therapy" and record.fields.get("infusion_date") is not None:
            return record, record.fields["infusion_date"]
    return None


def adverse_event_summaries(journey: Journey) -> list[AdverseEventSummary]:
    """Per term, the maximum stored grade of the observations on or after the infusion day,
    when it is ≥ 1 (no infusion: no CAR-T adverse event)."""
    infused = infusion(journey)
    if infused is None:
        return []
    day = infused[1]
    out = []
    for term, (kind, name) in AE_SOURCES.items():
        graded = sorted(
            (
                r
                for r in journey.records
                if r.kind == kind and _time(r).date() >= day and (r.result.get(name) or 0) >= 1
            ),
            key=_time,
        )
        if graded:
            worst = max(int(r.result[name]) for r in graded)
            out.append(
                AdverseEventSummary(term, worst, graded[0].fields["observed_at"], tuple(graded))
            )
    return out


def _adverse_event(ctx: Context, journey: Journey, summary: AdverseEventSummary) -> dict[str, Any]:
    term = codes.ADVERSE_EVENTS[summary.term]
    patient = journey.patient
    kind = "adverse-event"
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": ctx.resource_id(kind, patient.record_id, term.code.replace("_", "-")),
        "meta": {
            "profile": [codes.PROFILE_PREFIX + kind],
            "tag": [{"system": codes.JOURNEY_TAG, "code": kind}],
        },
        "extension": [
            {"url": codes.GRADE_EXTENSION, "valueInteger": summary.grade},
            {"url": codes.STANDARD_EXTENSION, "valueString": term.standard},
            *(
                {
                    "url": codes.SUPPORTING_EXTENSION,
                    "valueReference": {
                        "reference": f"Observation/{ctx.resource_id(r.kind, r.record_id)}"
                    },
                }
                for r in summary.records
            ),
        ],
        "identifier": {
            "system": codes.RECORD_SYSTEM,
            "value": f"{ctx.record_key(kind, patient.record_id)}/{term.code}",
        },
        "actuality": "actual",
        "event": concept(term.code, term.display),
        "subject": {"reference": patient_reference(ctx, patient)},
        "date": ctx.when(summary.onset),
        "severity": concept(
            codes.ae_severity(summary.grade), codes.ae_severity(summary.grade), codes.AE_SEVERITY
        ),
    }
    infused = infusion(journey)
    if infused is not None:
        course = infused[0]
        resource["suspectEntity"] = [
            {
                "instance": {
                    "reference": "Procedure/"
                    + ctx.resource_id(course.kind, course.record_id, "infusion"),
                    "display": str(course.fields.get("product")),
                }
            }
        ]
    return resource


def _death(journey: Journey) -> dt.date | None:
    deaths = [
        r.fields["event_date"]
        for r in journey.records
        if r.kind == "followup"
        and str(getattr(r.fields["event"], "value", r.fields["event"])) == "death"
    ]
    return min(deaths) if deaths else None


def journey_resources(ctx: Context, journey: Journey) -> list[dict[str, Any]]:
    ref = patient_reference(ctx, journey.patient)
    out = record_resources(ctx, journey.patient, ref, _death(journey))
    for record in journey.records:
        out += record_resources(ctx, record, ref)
    out += [_adverse_event(ctx, journey, s) for s in adverse_event_summaries(journey)]
    return out


def validate_resource(resource: dict[str, Any]) -> None:
    """Raise :class:`InvalidExport` when *resource* fails its fhir.resources R4B model."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    model = get_fhir_model_class(resource["resourceType"])
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        where = f"{resource['resourceType']}/{resource.get('id')}"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise InvalidExport(f"{where} is not valid FHIR R4 (a bug): {problems}") from None


def build_bundle(
    centre: str,
    journeys: Iterable[Journey],
    *,
    zone: dt.tzinfo,
    now: dt.datetime,
    export_id: str,
) -> dict[str, Any]:
    """The collection Bundle of *journeys* exported from *centre*; every resource validated.

    *zone*: the centre's time zone (its local wall-clock times get their UTC offset);
    *now*: the timestamp (aware); *export_id*: the Bundle's id and identifier value.
    """
    ctx = Context(centre, zone)
    entries = []
    for journey in journeys:
        for resource in journey_resources(ctx, journey):
            validate_resource(resource)
            entries.append({"resource": resource})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": export_id,
        "meta": {
            "profile": [codes.PROFILE_PREFIX + "journey-bundle"],
            "tag": [{"system": codes.JOURNEY_TAG, "code": "bundle"}],
        },
        "identifier": {"system": codes.EXPORT_SYSTEM, "value": export_id},
        "type": "collection",
        "timestamp": now.isoformat(),
    }
    validate_resource(bundle)  # the Bundle's own elements; each entry was validated above
    bundle["entry"] = entries
    return bundle


def write_bundle(bundle: dict[str, Any], path: str | Path) -> int:
    """Write *bundle* to *path* atomically; returns the number of bytes written."""
    target = Path(path)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed into place below
        "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
    )
    try:
        with handle:
            json.dump(bundle, handle, ensure_ascii=False, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return target.stat().st_size
