"""One stored cartwatch record → its FHIR R4 resource(s), for ``fhir export``.

Each resource carries (1) every input field of the record (``fhir_fields``: components on an
Observation, extensions elsewhere), so ``fhir import`` can recreate the record exactly;
(2) the result the clinical engine stored with it — the grade as the Observation's value
(absent with a dataAbsentReason when not gradable: never 0), the standard as ``method``,
each reason as a ``note``; (3) the ordinary FHIR elements a foreign reader looks at
(subject, effective time, status, codes, Procedure periods, the dose given). Its
``meta.tag`` (``JOURNEY_TAG``, code = record kind) and ``meta.profile`` mark it as a
cartwatch journey resource, and its identifier ``RECORD_SYSTEM | CENTRE/kind/id`` names the
record (the three Procedures of one CAR-T course share it).

Record kinds are the web app's names (``patient``, ``prior-lines``, ``cell-therapy``,
``crs``, ``icans``, ``treatments``, ``labs``, ``responses``, ``mrd``, ``followup``,
``eligibility``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cartwatch.interop import fhir_codes as codes
from cartwatch.interop.fhir_fields import components, extensions, local_iso

#: Kinds whose record is an Observation, with its code and the field giving its time.
OBSERVATION_KINDS: Final[dict[str, tuple[str, str, str]]] = {
    "crs": ("crs-assessment", "CRS assessment (ASTCT 2019 inputs)", "observed_at"),
    "icans": ("icans-assessment", "Neurotoxicity assessment (ASTCT 2019 inputs)", "observed_at"),
    "labs": ("blood-count", "Blood count (CTCAE v5.0 cytopenia inputs)", "observed_at"),
    "responses": ("iwcll-response-assessment", "iwCLL 2018 response assessment", "assessed_at"),
    "mrd": ("mrd-sample", "Minimal residual disease sample", "sampled_at"),
    "followup": ("follow-up-event", "Follow-up event", "event_date"),
    "eligibility": ("eligibility-check", "Label eligibility check", "as_of"),
}
#: The stored result shown as the Observation's value, per kind (the rest are components).
MAIN_RESULT: Final = {
    "crs": "grade",
    "icans": "grade",
    "responses": "response",
    "mrd": "status",
    "eligibility": "eligible",
}
#: Results stored with each kind besides standard and reasons (compared on import).
RESULT_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "crs": ("grade",),
    "icans": ("grade", "instrument"),
    "labs": ("grade_neutrophil_count_decreased", "grade_platelet_count_decreased", "grade_anemia"),
    "responses": ("response", "mrd_status"),
    "mrd": ("status",),
    "eligibility": ("eligible", "label_version", "indication"),
}
CELL_THERAPY_PARTS: Final = {
    "apheresis": (
        "Leukapheresis for CAR-T manufacture",
        "apheresis_date",
        ("product", "apheresis_date"),
    ),
    "lymphodepletion": (
        "Lymphodepleting chemotherapy",
        "lymphodepletion_start",
        ("lymphodepletion_start", "lymphodepletion_regimen"),
    ),
    "infusion": (
        "CAR-T cell infusion",
        "infusion_date",
        ("infusion_date", "lot", "dose_10e6_car_t_cells"),
    ),
}
#: What a missing stored result means, as a dataAbsentReason (never a 0).
NOT_GRADABLE: Final = ("unknown", "not gradable: the reasons say what was missing")
NOT_APPLICABLE: Final = ("not-applicable", "not applicable: a baseline has no response")
NOT_CLASSIFIED: Final = ("unknown", "not classified: the reasons say what was missing")
FORM_STATUSES: Final = ("incomplete", "complete", "verified")


@dataclass(frozen=True)
class StoredRecord:
    """One stored record as the export sees it: its centre-format fields (no patient_id or
    centre_id, except a patient's own patient_id), form status and the stored results."""

    kind: str
    record_id: int
    patient_id: str
    fields: Mapping[str, Any]
    form_status: str = "complete"
    result: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    centre: str
    zone: dt.tzinfo

    def resource_id(self, kind: str, record_id: int, part: str = "") -> str:
        """Stable and unique per centre: a short hash of the centre code (which may hold
        ``_``, not allowed in an id) + kind + record id (+ part)."""
        centre = hashlib.sha256(self.centre.encode()).hexdigest()[:8]
        return "-".join(x for x in ("cw", centre, kind, str(record_id), part) if x)

    def record_key(self, kind: str, record_id: int) -> str:
        return f"{self.centre}/{kind}/{record_id}"

    def when(self, value: Any) -> str:
        if isinstance(value, dt.datetime):
            return local_iso(value, self.zone)
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)  # already ISO text (an eligibility input)


def concept(code: str, display: str, system: str = codes.CARTWATCH_CODE) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _meta(kind: str) -> dict[str, Any]:
    return {
        "profile": [codes.PROFILE_PREFIX + kind],
        "tag": [{"system": codes.JOURNEY_TAG, "code": kind}],
    }


def _form_status(record: StoredRecord) -> dict[str, Any]:
    return {"url": codes.FORM_STATUS_EXTENSION, "valueCode": record.form_status}


def _base(
    ctx: Context, rtype: str, record: StoredRecord, patient_ref: str | None, part: str = ""
) -> dict[str, Any]:
    kind = record.kind
    resource: dict[str, Any] = {
        "resourceType": rtype,
        "id": ctx.resource_id(kind, record.record_id, part),
        "meta": _meta(kind),
    }
    if rtype != "Observation":  # an Observation carries its fields as components instead
        resource["extension"] = [_form_status(record)]
    resource["identifier"] = [
        {"system": codes.RECORD_SYSTEM, "value": ctx.record_key(kind, record.record_id)}
    ]
    if patient_ref is not None:
        resource["subject"] = {"reference": patient_ref}
    return resource


def patient_reference(ctx: Context, record: StoredRecord) -> str:
    return f"Patient/{ctx.resource_id('patient', record.record_id)}"


_GENDER: Final = {"F": "female", "M": "male", "U": "unknown"}


def patient_resources(
    ctx: Context, record: StoredRecord, death: dt.date | None
) -> list[dict[str, Any]]:
    """The Patient (every patients.csv field as an extension) and the Condition CLL/SLL
    (diagnosis and diagnosis_date, read back as part of the same record)."""
    fields = dict(record.fields)
    patient = _base(ctx, "Patient", record, None)
    patient["identifier"].insert(0, {"system": codes.PATIENT_ID_SYSTEM, "value": record.patient_id})
    patient["extension"] += extensions(fields, ctx.zone)
    patient["gender"] = _GENDER[str(getattr(fields["sex"], "value", fields["sex"]))]
    patient["managingOrganization"] = {
        "identifier": {"system": codes.CENTRE_SYSTEM, "value": ctx.centre},
        "display": f"cartwatch centre {ctx.centre}",
    }
    if death is not None:
        patient["deceasedDateTime"] = death.isoformat()
    diagnosis = str(getattr(fields["diagnosis"], "value", fields["diagnosis"]))
    condition = _base(ctx, "Condition", record, patient_reference(ctx, record), "condition")
    condition["extension"] += extensions(
        {k: fields.get(k) for k in ("diagnosis", "diagnosis_date")}, ctx.zone
    )
    condition["clinicalStatus"] = concept(
        "active", "Active", "http://terminology.hl7.org/CodeSystem/condition-clinical"
    )
    condition["code"] = {
        "coding": [{"system": s, "code": c} for s, c in codes.DIAGNOSIS_CODINGS[diagnosis]],
        "text": diagnosis,
    }
    if fields.get("diagnosis_date") is not None:
        condition["onsetDateTime"] = ctx.when(fields["diagnosis_date"])
    return [patient, condition]


def _procedure(
    ctx: Context,
    record: StoredRecord,
    ref: str,
    part: str,
    display: str,
    when: Any,
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    resource = _base(ctx, "Procedure", record, ref, part)
    resource["extension"] += extensions(fields, ctx.zone)
    # No date: not (yet) done, or not recorded; FHIR's "unknown" says no more than that.
    resource["status"] = "completed" if when is not None else "unknown"
    resource["code"] = concept(part, display)
    return resource


def prior_line_resource(ctx: Context, record: StoredRecord, ref: str) -> dict[str, Any]:
    fields = record.fields
    resource = _procedure(
        ctx,
        record,
        ref,
        "prior-line-of-therapy",
        "Prior line of therapy",
        fields.get("start_date"),
        fields,
    )
    resource["status"] = "completed"  # a prior line is recorded because it was given
    period = {
        k: ctx.when(fields[f])
        for k, f in (("start", "start_date"), ("end", "end_date"))
        if fields.get(f) is not None
    }
    if period:
        resource["performedPeriod"] = period
    return resource


def cell_therapy_resources(ctx: Context, record: StoredRecord, ref: str) -> list[dict[str, Any]]:
    """Apheresis, lymphodepletion and infusion: three Procedures of one course record."""
    out = []
    for part, (display, date_field, names) in CELL_THERAPY_PARTS.items():
        fields = {n: record.fields.get(n) for n in names}
        when = record.fields.get(date_field)
        resource = _procedure(ctx, record, ref, part, display, when, fields)
        if when is not None:
            resource["performedDateTime"] = ctx.when(when)
        if part == "infusion":
            resource["usedCode"] = [{"text": str(record.fields.get("product"))}]
        out.append(resource)
    return out


_DOSE_UNITS: Final = {"mg": "mg", "g": "g", "mg/kg": "mg/kg", "mg/m2": "mg/m2"}


def treatment_resource(ctx: Context, record: StoredRecord, ref: str) -> dict[str, Any]:
    """A dose given as a MedicationAdministration (ATC code where the drug table has it)."""
    fields = record.fields
    agent = str(getattr(fields["agent"], "value", fields["agent"]))
    resource = _base(ctx, "MedicationAdministration", record, ref)
    resource["extension"] += extensions(fields, ctx.zone)
    resource["status"] = "completed"
    coding = [{"system": codes.CARTWATCH_CODE, "code": agent}]
    if agent in codes.AGENT_ATC:
        coding.insert(0, {"system": codes.ATC, "code": codes.AGENT_ATC[agent]})
    resource["medicationCodeableConcept"] = {
        "coding": coding,
        "text": str(fields.get("agent_other") or agent),
    }
    resource["effectiveDateTime"] = ctx.when(fields["given_at"])
    indication = str(getattr(fields["indication"], "value", fields["indication"]))
    resource["reasonCode"] = [concept(indication, indication)]
    if fields.get("dose") is not None and fields.get("dose_unit") is not None:
        unit = _DOSE_UNITS[str(getattr(fields["dose_unit"], "value", fields["dose_unit"]))]
        resource["dosage"] = {
            "dose": {"value": fields["dose"], "unit": unit, "system": codes.UCUM, "code": unit}
        }
    return resource


def _absent(reason: tuple[str, str]) -> dict[str, Any]:
    code, text = reason
    return {
        "dataAbsentReason": {"coding": [{"system": codes.DATA_ABSENT, "code": code}], "text": text}
    }


def result_value(kind: str, name: str, value: Any) -> dict[str, Any]:
    """The ``value[x]`` of a stored result (or its dataAbsentReason)."""
    if name in (
        "grade",
        "grade_neutrophil_count_decreased",
        "grade_platelet_count_decreased",
        "grade_anemia",
    ):
        return {"valueInteger": value} if value is not None else _absent(NOT_GRADABLE)
    if name == "eligible":
        return {"valueBoolean": bool(value)}
    if name == "response":
        return (
            {"valueCodeableConcept": concept(str(value), str(value))}
            if value
            else _absent(NOT_APPLICABLE)
        )
    if name == "status":
        return (
            {"valueCodeableConcept": concept(str(value), str(value))}
            if value
            else _absent(NOT_CLASSIFIED)
        )
    return {"valueString": str(value)}


def observation_resource(ctx: Context, record: StoredRecord, ref: str) -> dict[str, Any]:
    """A record with a time and (for most kinds) a computed result, as one Observation."""
    kind = record.kind
    code, display, time_field = OBSERVATION_KINDS[kind]
    resource = _base(ctx, "Observation", record, ref)
    # preliminary = a draft the receiving centre's staff still has to complete.
    resource["status"] = "preliminary" if record.form_status == "incomplete" else "final"
    if kind == "labs":
        resource["category"] = [concept("laboratory", "Laboratory", codes.OBSERVATION_CATEGORY)]
    resource["code"] = concept(code, display)
    resource["effectiveDateTime"] = ctx.when(record.fields[time_field])
    resource["extension"] = [_form_status(record)]
    main = MAIN_RESULT.get(kind)
    result = record.result
    if main is not None:
        resource |= result_value(kind, main, result.get(main))
    elif kind == "followup":
        event = str(getattr(record.fields["event"], "value", record.fields["event"]))
        resource["valueCodeableConcept"] = concept(event, event.replace("_", " "))
    if result.get("standard"):
        resource["method"] = {"text": str(result["standard"])}
    resource["component"] = components(record.fields, ctx.zone)
    for name in RESULT_FIELDS.get(kind, ()):
        if name == main or (name in ("mrd_status", "indication") and not result.get(name)):
            continue
        resource["component"].append(
            {
                "code": {"coding": [{"system": codes.RESULT_SYSTEM, "code": name}], "text": name},
                **result_value(kind, name, result.get(name)),
            }
        )
    if not resource["component"]:
        del resource["component"]
    reasons: Sequence[Any] = result.get("reasons") or ()
    if reasons:
        resource["note"] = [{"text": str(r)} for r in reasons]
    return resource


def record_resources(
    ctx: Context, record: StoredRecord, ref: str, death: dt.date | None = None
) -> list[dict[str, Any]]:
    """Every resource of one stored record (*ref*: its Patient's reference)."""
    if record.form_status not in FORM_STATUSES:
        raise ValueError(f"{record.kind} {record.record_id}: form status {record.form_status!r}")
    if record.kind == "patient":
        return patient_resources(ctx, record, death)
    if record.kind == "prior-lines":
        return [prior_line_resource(ctx, record, ref)]
    if record.kind == "cell-therapy":
        return cell_therapy_resources(ctx, record, ref)
    if record.kind == "treatments":
        return [treatment_resource(ctx, record, ref)]
    if record.kind in OBSERVATION_KINDS:
        return [observation_resource(ctx, record, ref)]
    raise ValueError(f"unknown record kind {record.kind!r}")
