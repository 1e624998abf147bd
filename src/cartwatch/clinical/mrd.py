"""MRD categories after treatment of CLL: uMRD4/5/6, detectable or not assessed.

iwCLL 2018 [S40] reports MRD by the assay sensitivity reached: undetectable below 10⁻⁴ is the
standard cut-off [S51][S52]; the uMRD5/uMRD6 naming is iwCLL 2018 (UNVERIFIED,
clinical-standards.md §2.5); typical assay sensitivities are the Leukemia 2021 consensus,
Table 3 [S53]. "uMRD" is meaningless without the sensitivity, so an undetectable result
needs one. Kept apart from :mod:`cartwatch.clinical.iwcll` (the response at one assessment):
the MRD category does not depend on the response and is derived per sample (ADaM MRDPB/MRDBM).
The names stay importable from ``cartwatch.clinical.iwcll``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cartwatch.clinical.errors import ClinicalInputError

__all__ = [
    "TYPICAL_ASSAY_SENSITIVITY",
    "UMRD_CATEGORIES",
    "Mrd",
    "MrdResult",
    "MrdResultKind",
    "MrdSample",
    "MrdStatus",
    "classify_mrd",
]


class MrdResultKind(StrEnum):
    UNDETECTABLE = "undetectable"
    DETECTABLE = "detectable"


class MrdSample(StrEnum):
    BLOOD = "blood"
    MARROW = "marrow"


class MrdStatus(StrEnum):
    UMRD4 = "uMRD4"
    UMRD5 = "uMRD5"
    UMRD6 = "uMRD6"
    DETECTABLE = "detectable"
    NOT_ASSESSED = "not_assessed"


# Floating-point slack when comparing a stated sensitivity with a cut-off (1e-4 vs 0.0001).
_REL_TOL = 1e-9

# Assay sensitivities from the Leukemia 2021 MRD consensus, Table 3 [S53]; keys are
# lower-case method names as commonly written. Used only to flag a stated sensitivity better
# than the method typically reaches, never to replace the stated one.
TYPICAL_ASSAY_SENSITIVITY: dict[str, float] = {
    "4-colour flow": 1e-4,
    "4-color flow": 1e-4,
    "eric flow": 1e-4,
    "6-colour flow": 1e-5,
    "6-color flow": 1e-5,
    "8-colour flow": 1e-6,
    "8-color flow": 1e-6,
    "10-colour flow": 1e-5,
    "10-color flow": 1e-5,
    "aso igh rq-pcr": 1e-5,
    "ddpcr": 1e-5,
    "clonoseq": 1e-6,
    "clonoseq ngs": 1e-6,
    "ngs": 1e-6,
}

# uMRD categories, best first: undetectable at a sensitivity ≤ the limit [S51][S52][S53]
# (uMRD5/uMRD6 naming from iwCLL 2018, UNVERIFIED).
UMRD_CATEGORIES: tuple[tuple[MrdStatus, float], ...] = (
    (MrdStatus.UMRD6, 1e-6),
    (MrdStatus.UMRD5, 1e-5),
    (MrdStatus.UMRD4, 1e-4),
)


@dataclass(frozen=True)
class Mrd:
    """One MRD result. ``level`` and ``sensitivity`` are fractions of leukocytes."""

    result: MrdResultKind
    sensitivity: float | None = None
    sample: MrdSample | None = None
    method: str | None = None
    level: float | None = None

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        if self.sensitivity is not None and not 0 < self.sensitivity < 1:
            problems.append(("sensitivity", f"must be in (0, 1), got {self.sensitivity!r}"))
        if self.level is not None and not 0 <= self.level <= 1:
            problems.append(("level", f"must be in [0, 1], got {self.level!r}"))
        if self.result is MrdResultKind.UNDETECTABLE:
            if self.sensitivity is None:
                problems.append(
                    ("sensitivity", "required when result is undetectable: uMRD needs it")
                )
            if self.level is not None and self.level > 0:
                problems.append(("level", f"{self.level:g} > 0 contradicts result undetectable"))
        if self.result is MrdResultKind.DETECTABLE and self.level == 0:
            problems.append(("level", "0 contradicts result detectable"))
        if problems:
            raise ClinicalInputError(problems)


@dataclass(frozen=True)
class MrdResult:
    status: MrdStatus
    sample: MrdSample | None = None
    sensitivity: float | None = None
    method: str | None = None
    level: float | None = None
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "status": str(self.status),
            "sample": None if self.sample is None else str(self.sample),
            "sensitivity": self.sensitivity,
            "method": self.method,
            "level": self.level,
            "reasons": list(self.reasons),
        }


def _method_note(mrd: Mrd) -> list[str]:
    if mrd.method is None or mrd.sensitivity is None:
        return []
    typical = TYPICAL_ASSAY_SENSITIVITY.get(mrd.method.strip().lower())
    if typical is None or mrd.sensitivity >= typical * (1 - _REL_TOL):
        return []
    return [
        f"stated sensitivity {mrd.sensitivity:g} is better than the {typical:g} typical of "
        f"{mrd.method} [S53]: check the assay report"
    ]


def _mrd_result(mrd: Mrd, status: MrdStatus, reasons: tuple[str, ...]) -> MrdResult:
    return MrdResult(status, mrd.sample, mrd.sensitivity, mrd.method, mrd.level, reasons)


def classify_mrd(mrd: Mrd | None) -> MrdResult:
    """uMRD4/5/6, detectable or not assessed [S51][S52][S53].

    Undetectable at a sensitivity ≤10⁻⁶/10⁻⁵/10⁻⁴ gives the best category that sensitivity
    supports. Undetectable with a worse sensitivity (e.g. 10⁻³) is not uMRD: it is reported
    as ``not_assessed`` (the contract enum has no "undetectable at low sensitivity"; calling
    it ``detectable`` would claim a finding the assay did not make), with a reason.
    """
    if mrd is None:
        return MrdResult(MrdStatus.NOT_ASSESSED, reasons=("no MRD result",))
    notes = _method_note(mrd)
    if mrd.result is MrdResultKind.DETECTABLE:
        level = "" if mrd.level is None else f" at level {mrd.level:g}"
        return _mrd_result(mrd, MrdStatus.DETECTABLE, (f"MRD detectable{level}", *notes))
    assert mrd.sensitivity is not None  # Mrd.__post_init__ requires it when undetectable
    for status, limit in UMRD_CATEGORIES:
        if mrd.sensitivity <= limit * (1 + _REL_TOL):
            why = f"{status}: undetectable at sensitivity {mrd.sensitivity:g} (≤{limit:g})"
            return _mrd_result(mrd, status, (why, *notes))
    why = (
        f"not uMRD: undetectable at sensitivity {mrd.sensitivity:g}, worse than the 1e-04 "
        "uMRD cut-off [S51][S52]; reported as not_assessed"
    )
    return _mrd_result(mrd, MrdStatus.NOT_ASSESSED, (why, *notes))
