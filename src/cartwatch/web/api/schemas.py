"""Request/response envelopes. The row content (``data``) is validated by the centre-format
row models and the CLI's clinical schemas in the service layer, so the field paths of a 422
are the contract paths."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

from cartwatch.schemas.text import multi_line
from cartwatch.web.services.records import MAX_REASON_LENGTH

#: A reason for change: free text of a few sentences, on the audit trail for good.
Reason = Annotated[str, Field(max_length=MAX_REASON_LENGTH), AfterValidator(multi_line)]


class _Strict(Schema):
    # strict: "completed": 0 or "version": "3" is refused, not coerced (as in the CLI).
    model_config = ConfigDict(extra="forbid", strict=True)


class RecordIn(_Strict):
    data: dict[str, Any] = Field(description="one row of the centre data format (no patient_id)")
    completed: bool = Field(True, description="false = draft (form status incomplete)")


class RecordUpdateIn(_Strict):
    data: dict[str, Any]
    version: int = Field(description="the version you read; a different current version is 409")
    reason: Reason = Field("", description="reason for change; required for complete records")
    completed: bool | None = None


class DeleteIn(_Strict):
    version: int
    reason: Reason = Field(description="why the record is deleted (required)")


class RecordOut(Schema):
    id: int
    patient_id: str
    version: int
    updated_at: str
    completed: bool | None = None
    data: dict[str, Any]
    result: dict[str, Any]


class PatientDetailOut(Schema):
    patient: RecordOut
    records: dict[str, list[RecordOut]]
    eligibility: list[RecordOut]


class MeOut(Schema):
    username: str
    role: str
    centre: str | None
    permissions: list[str]


class AlertOut(Schema):
    patient_id: str
    rule: str
    message: str
    when: str


class Message(Schema):
    detail: Any
