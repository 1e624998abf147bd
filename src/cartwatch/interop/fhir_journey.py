"""Reading cartwatch journey resources back (the import side of ``fhir export``), pure.

A resource is a journey resource when its ``meta.tag`` has the system
``fhir_codes.JOURNEY_TAG``; the tag code is its record kind. Resources with the same record
identifier (``RECORD_SYSTEM``) are one record — the three Procedures of a CAR-T course, a
Patient and its Condition — and their fields are merged (a field given twice with different
values is a problem of the record, never a choice). The record's fields are read from the
components / extensions ``fhir_fields`` wrote; the ordinary FHIR elements (codes, periods,
severity) are for other readers and are not read back. The results the exporting centre
had stored (grade, standard, reasons …) are read too, to be *compared* with what the
engines compute when the record is stored here: they are never stored as such.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cartwatch.interop import fhir_codes as codes
from cartwatch.interop.fhir_fields import FieldProblem, plain_value, unflatten
from cartwatch.interop.fhir_resources import FORM_STATUSES, MAIN_RESULT, RESULT_FIELDS

#: The kinds a journey record can have (adverse events are derived, not records).
RECORD_KINDS = (
    "patient",
    "prior-lines",
    "cell-therapy",
    "crs",
    "icans",
    "treatments",
    "labs",
    "responses",
    "mrd",
    "followup",
    "eligibility",
)
ADVERSE_EVENT = "adverse-event"


def journey_kind(resource: Mapping[str, Any]) -> str | None:
    """The record kind of a cartwatch journey resource, or None for any other resource."""
    meta = resource.get("meta")
    tags = meta.get("tag") if isinstance(meta, Mapping) else None
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, Mapping) and tag.get("system") == codes.JOURNEY_TAG:
            code = tag.get("code")
            return code if isinstance(code, str) else ""
    return None


@dataclass(frozen=True)
class SourceRef:
    """A resource behind a record: identity, content hash and entry index (the ledger's)."""

    identity: str
    sha256: str
    index: int


@dataclass
class JourneyRecord:
    kind: str
    key: str  # CENTRE/kind/record-id of the exporting centre
    subject: str | None  # "Patient/<id>"; a patient record's own reference
    pairs: list[tuple[str, Any]] = field(default_factory=list)
    form_status: str = "complete"
    exported: dict[str, Any] = field(default_factory=dict)  # results as stored there
    sources: list[SourceRef] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def source_id(self) -> int:
        """The record id at the exporting centre (keeps the order records were entered in)."""
        tail = self.key.rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    def fields(self) -> dict[str, Any]:
        """The centre-format fields (raises FieldProblem)."""
        return unflatten(self.pairs)


@dataclass(frozen=True)
class ExportedAdverseEvent:
    source: SourceRef
    subject: str | None
    term: str
    grade: int | None


@dataclass
class JourneyPlan:
    records: dict[str, JourneyRecord] = field(default_factory=dict)
    adverse_events: list[ExportedAdverseEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.records or self.adverse_events)

    def add(
        self, resource: Mapping[str, Any], kind: str, source: SourceRef, zone: dt.tzinfo
    ) -> str | None:
        """Read one journey resource into the plan; a problem (why it cannot be used) or
        None."""
        if kind == ADVERSE_EVENT:
            return self._adverse_event(resource, source)
        if kind not in RECORD_KINDS:
            return f"meta.tag: {kind!r} is not a cartwatch record kind"
        key = _record_key(resource)
        if key is None:
            return f"identifier: no {codes.RECORD_SYSTEM} identifier (the record it belongs to)"
        record = self.records.get(key)
        if record is None:
            subject = _reference(resource.get("subject"))
            if resource.get("resourceType") == "Patient":
                subject = f"Patient/{resource.get('id')}"
            record = self.records[key] = JourneyRecord(kind, key, subject)
        elif record.kind != kind:
            return f"identifier: record {key} is a {record.kind}, not a {kind}"
        status = _extension_value(resource, codes.FORM_STATUS_EXTENSION)
        if status is not None:
            if status not in FORM_STATUSES:
                record.problems.append(f"form status {status!r} is not one of cartwatch's")
            record.form_status = str(status)
        record.sources.append(source)
        try:
            self._read_values(resource, record, zone)
        except FieldProblem as exc:
            record.problems.append(str(exc))
        return None

    def _read_values(
        self, resource: Mapping[str, Any], record: JourneyRecord, zone: dt.tzinfo
    ) -> None:
        if resource.get("resourceType") != "Observation":
            for ext in resource.get("extension") or ():
                url = ext.get("url", "")
                if url.startswith(codes.FIELD_EXTENSION):
                    path = url.removeprefix(codes.FIELD_EXTENSION)
                    record.pairs.append((path, plain_value(ext, zone, path)))
            return
        for component in resource.get("component") or ():
            coding = (component.get("code") or {}).get("coding") or ()
            system_code = {c.get("system"): c.get("code") for c in coding}
            if codes.FIELD_SYSTEM in system_code:
                path = str(system_code[codes.FIELD_SYSTEM])
                record.pairs.append((path, plain_value(component, zone, path)))
            elif codes.RESULT_SYSTEM in system_code:
                name = str(system_code[codes.RESULT_SYSTEM])
                record.exported[name] = _result(component)
        main = MAIN_RESULT.get(record.kind)
        if main is not None:
            record.exported[main] = _result(resource)
        if record.kind in RESULT_FIELDS:
            method = resource.get("method") or {}
            record.exported["standard"] = method.get("text") or ""
            record.exported["reasons"] = [n.get("text") for n in resource.get("note") or ()]

    def _adverse_event(self, resource: Mapping[str, Any], source: SourceRef) -> str | None:
        coding = (resource.get("event") or {}).get("coding") or ()
        term = next(
            (c.get("code") for c in coding if c.get("system") == codes.CARTWATCH_CODE), None
        )
        if term not in codes.ADVERSE_EVENTS:
            return f"event: {term!r} is not one of cartwatch's adverse event terms"
        grade = _extension_value(resource, codes.GRADE_EXTENSION)
        self.adverse_events.append(
            ExportedAdverseEvent(
                source,
                _reference(resource.get("subject")),
                str(term),
                grade if isinstance(grade, int) else None,
            )
        )
        return None


def _reference(value: Any) -> str | None:
    ref = value.get("reference") if isinstance(value, Mapping) else None
    return ref if isinstance(ref, str) else None


def _record_key(resource: Mapping[str, Any]) -> str | None:
    identifiers = resource.get("identifier")
    if isinstance(identifiers, Mapping):
        identifiers = [identifiers]
    for ident in identifiers if isinstance(identifiers, list) else ():
        if ident.get("system") == codes.RECORD_SYSTEM and isinstance(ident.get("value"), str):
            return str(ident["value"])
    return None


def _extension_value(resource: Mapping[str, Any], url: str) -> Any:
    for ext in resource.get("extension") or ():
        if ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def _result(item: Mapping[str, Any]) -> Any:
    """A stored result as the record holds it: a grade (None when not gradable), a code
    ("" when absent: a baseline response, an unclassified MRD), a boolean or text."""
    if "valueInteger" in item:
        return item["valueInteger"]
    if "valueBoolean" in item:
        return item["valueBoolean"]
    if "valueString" in item:
        return item["valueString"]
    concept = item.get("valueCodeableConcept")
    if isinstance(concept, Mapping):
        coding = concept.get("coding") or ()
        return next(
            (c.get("code") for c in coding if c.get("system") == codes.CARTWATCH_CODE),
            concept.get("text") or "",
        )
    return None  # dataAbsentReason: compared as not gradable / empty


def same_result(exported: Any, stored: Any) -> bool:
    """Equal as results: None and "" both mean "none" (a code field stores "", a grade None)."""
    if exported in (None, "") and stored in (None, ""):
        return True
    if isinstance(stored, list | tuple):
        return list(stored) == list(exported or [])
    return bool(exported == stored)
