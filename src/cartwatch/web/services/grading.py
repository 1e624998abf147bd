"""Calls into the clinical engines: validate with the shared CLI schemas, grade, return dicts.

No thresholds here. The engines and their input schemas (``cartwatch.schemas.*``) are the
same ones the CLI uses, so a grade computed live in the form, stored with an assessment and
printed by ``cartwatch grade`` can never disagree. Imports happen inside the functions: the
web app starts (and the other endpoints work) even in a build where one engine is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cartwatch.clinical.errors import ClinicalInputError

if TYPE_CHECKING:
    from cartwatch.web.patients.models import Patient

LIVE_KINDS = ("crs", "icans", "cytopenia")


def _contract_dict(result: Any) -> dict[str, Any]:
    out: dict[str, Any] = result.to_dict()
    return out


def grade_crs(clinical: dict[str, Any]) -> dict[str, Any]:
    """``grade crs`` on one observation (contract fields): grade, standard, reasons."""
    from cartwatch.clinical.crs import grade_crs as engine
    from cartwatch.schemas.crs import CrsObservationIn

    return _contract_dict(engine(CrsObservationIn.model_validate(clinical).to_domain()))


def grade_icans(clinical: dict[str, Any]) -> dict[str, Any]:
    """``grade icans`` on one observation: grade, standard, instrument, reasons."""
    from cartwatch.clinical.icans import grade_icans as engine
    from cartwatch.schemas.icans import IcansObservationIn

    return _contract_dict(engine(IcansObservationIn.model_validate(clinical).to_domain()))


def grade_cytopenia(clinical: dict[str, Any]) -> dict[str, Any]:
    """``grade cytopenia`` on one lab draw: grades per term, standard, reasons."""
    from cartwatch.clinical.cytopenia import grade_cytopenia as engine
    from cartwatch.schemas.cytopenia import CytopeniaObservationIn

    return _contract_dict(engine(CytopeniaObservationIn.model_validate(clinical).to_domain()))


def assess_response(
    baseline: dict[str, Any],
    assessment: dict[str, Any],
    nadir: dict[str, Any] | None = None,
    *,
    bcr_inhibitor_ongoing: bool = False,
) -> dict[str, Any]:
    """``assess response`` (iwCLL 2018): response, standard, reasons, mrd."""
    from cartwatch.schemas.response import ResponseAssessmentIn

    doc: dict[str, Any] = {
        "baseline": baseline,
        "assessment": assessment,
        "bcr_inhibitor_ongoing": bcr_inhibitor_ongoing,
    }
    if nadir is not None:
        doc["nadir"] = nadir
    return _contract_dict(ResponseAssessmentIn.model_validate(doc).to_domain().assess())


def classify_mrd(mrd: dict[str, Any]) -> dict[str, Any]:
    """uMRD4/5/6 | detectable | not_assessed for one MRD sample."""
    from cartwatch.clinical.mrd import classify_mrd as engine
    from cartwatch.schemas.response import MrdIn

    return _contract_dict(engine(MrdIn.model_validate(mrd).to_domain()))


def check_eligibility(document: dict[str, Any]) -> tuple[BaseModel, dict[str, Any]]:
    """The label eligibility decision; returns the validated input and the result dict."""
    from cartwatch.clinical.eligibility import check_eligibility as engine
    from cartwatch.schemas.eligibility import EligibilityIn

    request = EligibilityIn.model_validate(document)
    return request, _contract_dict(engine(request.to_domain()))


def grade_crs_in_course(
    patient: Patient, clinical: dict[str, Any], record_id: int | None = None
) -> dict[str, Any]:
    """The grade the save of *clinical* (correcting the stored assessment *record_id*, if
    given) would store: graded with *patient*'s earlier CRS assessments (``crs_course``)."""
    from cartwatch.schemas.crs import CrsObservationIn
    from cartwatch.web.patients.models import CrsAssessment
    from cartwatch.web.services import crs_course
    from cartwatch.web.services.rows import stored_datetime

    if (
        record_id is not None
        and not CrsAssessment.objects.filter(patient=patient, pk=record_id).exists()
    ):
        raise ClinicalInputError.single(
            "record_id", f"{record_id} is not a CRS assessment of {patient.patient_id}"
        )
    observed_at = CrsObservationIn.model_validate(clinical).observed_at
    return crs_course.grade_in_course(
        patient,
        clinical,
        None if observed_at is None else stored_datetime(observed_at),
        record_id,
    )


def grade_live(
    kind: str,
    clinical: dict[str, Any],
    patient: Patient | None = None,
    record_id: int | None = None,
) -> dict[str, Any]:
    """Live grading for the assessment form: nothing is stored. With *patient* (CRS only),
    the grade the save will store, in the patient's course (*record_id*: the assessment
    being corrected)."""
    graders = {"crs": grade_crs, "icans": grade_icans, "cytopenia": grade_cytopenia}
    if kind not in graders:
        raise ClinicalInputError.single("kind", f"unknown grading {kind!r}")
    if patient is not None or record_id is not None:
        if kind != "crs":
            raise ClinicalInputError.single(
                "patient_id", f"only crs is graded in the patient's course, not {kind}"
            )
        if patient is None:
            raise ClinicalInputError.single("patient_id", "required with record_id")
        return grade_crs_in_course(patient, clinical, record_id)
    return graders[kind](clinical)
