"""Input model for ``cartwatch assess response`` (cli-contract.md, section
``cartwatch assess response``; rules: iwCLL 2018 Table 4 [S41], clinical-standards.md §2).

Validation only: the response rules live in ``cartwatch.clinical.iwcll``. Every measurement
is optional (a rule needing a missing one lowers the response or makes it NE); numbers are
JSON numbers ≥0, booleans strict, enums exact lower-case strings. Contract v2 item 4 adds
``b_lymphocytes_10e9_l`` to every measurement set and the top-level ``bcr_inhibitor_ongoing``.
MRD ``sensitivity`` is a fraction in (0, 1) and ``level`` a fraction of leukocytes in [0, 1];
the contract marks only ``level`` optional.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.iwcll import (
    Marrow,
    Measurements,
    Mrd,
    MrdResultKind,
    MrdSample,
    ResponseRequest,
    b_count_problem,
)
from cartwatch.schemas.cytopenia import NonNegativeNumber

__all__ = ["MeasurementsIn", "MrdIn", "ResponseAssessmentIn"]

Fraction = Annotated[float, Field(ge=0, le=1, strict=True, allow_inf_nan=False)]
Sensitivity = Annotated[float, Field(gt=0, lt=1, strict=True, allow_inf_nan=False)]
MethodName = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]


def _prefixed(prefix: str, exc: ClinicalInputError) -> ClinicalInputError:
    return ClinicalInputError((f"{prefix}.{path}", message) for path, message in exc.problems)


class MrdIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: MrdResultKind
    sensitivity: Sensitivity
    sample: MrdSample
    method: MethodName
    level: Fraction | None = None

    def to_domain(self) -> Mrd:
        return Mrd(
            result=self.result,
            sensitivity=self.sensitivity,
            sample=self.sample,
            method=self.method,
            level=self.level,
        )


class MeasurementsIn(BaseModel):
    """One iwCLL evaluation (the contract's M)."""

    model_config = ConfigDict(extra="forbid")

    lymph_nodes_spd_cm2: NonNegativeNumber | None = None
    largest_node_cm: NonNegativeNumber | None = None
    new_lesion: StrictBool = False
    spleen_cm: NonNegativeNumber | None = None
    liver_enlarged: StrictBool | None = None
    lymphocytes_10e9_l: NonNegativeNumber | None = None
    b_lymphocytes_10e9_l: NonNegativeNumber | None = None
    neutrophils_10e9_l: NonNegativeNumber | None = None
    platelets_10e9_l: NonNegativeNumber | None = None
    hemoglobin_g_dl: NonNegativeNumber | None = None
    transfused_or_epo: StrictBool | None = None
    constitutional_symptoms: StrictBool | None = None
    marrow: Marrow | None = None
    cytopenia_due_to_cll: StrictBool = False
    cytopenia_due_to_treatment: StrictBool = False
    richter_transformation: StrictBool = False
    mrd: MrdIn | None = None

    @field_validator("b_lymphocytes_10e9_l")
    @classmethod
    def _b_within_total(cls, value: float | None, info: ValidationInfo) -> float | None:
        # On the field (not the model) so the problem names ``b_lymphocytes_10e9_l``: the
        # total is declared before it, so it is in ``info.data`` once it validated.
        problem = b_count_problem(info.data.get("lymphocytes_10e9_l"), value)
        if problem is not None:
            raise ValueError(problem)
        return value

    def to_domain(self) -> Measurements:
        mrd = None
        if self.mrd is not None:
            try:
                mrd = self.mrd.to_domain()
            except ClinicalInputError as exc:
                raise _prefixed("mrd", exc) from exc
        fields = self.model_dump(exclude={"mrd"})
        return Measurements(**fields, mrd=mrd)


class ResponseAssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    baseline: MeasurementsIn
    assessment: MeasurementsIn
    nadir: MeasurementsIn | None = None
    bcr_inhibitor_ongoing: StrictBool = False

    def to_domain(self) -> ResponseRequest:
        parts: dict[str, Measurements | None] = {}
        problems: list[tuple[str, str]] = []
        for name in ("baseline", "assessment", "nadir"):
            model: MeasurementsIn | None = getattr(self, name)
            try:
                parts[name] = None if model is None else model.to_domain()
            except ClinicalInputError as exc:
                problems.extend(_prefixed(name, exc).problems)
        if problems:
            raise ClinicalInputError(problems)
        baseline, assessment = parts["baseline"], parts["assessment"]
        assert baseline is not None and assessment is not None
        return ResponseRequest(
            baseline=baseline,
            assessment=assessment,
            nadir=parts["nadir"],
            bcr_inhibitor_ongoing=self.bcr_inhibitor_ongoing,
        )
