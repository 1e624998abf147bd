"""Row models of the centre data format: one pydantic v2 model per CSV file.

The format is the table in DEVELOPERS.md ("centre data format"), documented column by column
in ``docs/centre-data-format.md``; the JSON Schema of every row is generated from these models
into ``centre/schema/<file>.schema.json`` by ``scripts/gen_centre_schema.py``.

The web app stores the same model (one Django model per file) and uses these classes as the
API input schemas for the rows, so they are the single definition of the format. The
observation rows (CRS, neurotoxicity, labs, iwCLL measurements, MRD) *extend* the clinical
input schemas of ``cartwatch.schemas`` (the CLI contract, cli-contract.md) with
``patient_id`` and the timestamp, so the clinical field set is defined once.

Conventions (DEVELOPERS.md): dates are ISO ``YYYY-MM-DD``; timestamps are ISO 8601 local
wall-clock time at the centre *without* UTC offset (a centre records bedside times; mixing
offset and naive times would make the time order ambiguous); ``patient_id`` is a pseudonym.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from cartwatch.clinical.iwcll import Measurements, Mrd
from cartwatch.clinical.iwcll import MrdResultKind as MrdResult  # noqa: F401 - re-export
from cartwatch.clinical.iwcll import MrdSample as MrdSample
from cartwatch.schemas.crs import CrsObservationIn
from cartwatch.schemas.cytopenia import (
    CytopeniaObservationIn,
    NonNegativeNumber,
)
from cartwatch.schemas.dates import RecordDateCheck
from cartwatch.schemas.eligibility import MAX_AGENTS_PER_LINE, IsoDate, parse_iso_date
from cartwatch.schemas.icans import IcansObservationIn
from cartwatch.schemas.response import MeasurementsIn, MrdIn
from cartwatch.schemas.text import multi_line

# A pseudonym, never a name: letters, digits and ``-_.``; no spaces, so a full name
# ("Jane Doe") cannot be typed into the column by mistake.
PSEUDONYM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

PatientId = Annotated[
    str,
    StringConstraints(pattern=PSEUDONYM_PATTERN),
    Field(description="pseudonymised patient id (letters, digits, '.', '_', '-'; max 64)"),
]
CentreId = Annotated[
    str,
    StringConstraints(pattern=PSEUDONYM_PATTERN),
    Field(description="centre code (letters, digits, '.', '_', '-'; max 64)"),
]


#: Limits from clinical sense (stated in the JSON Schema and the OpenAPI document).
#: The largest single doses of the agents given for CRS/ICANS are around 1 g
#: (methylprednisolone pulse: 1000 mg; tocilizumab: at most 800 mg); 5000 in any of the
#: units (mg, g, mg/kg, mg/m2) is far above every real dose and catches a typo of 100×.
MAX_DOSE = 5000

ShortText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, strip_whitespace=True),
    # Names and notes; tab and line breaks kept as before (a note may have lines).
    AfterValidator(multi_line),
]


def _naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError("give local wall-clock time at the centre without a UTC offset")
    return value


def _date_time_text(value: object) -> object:
    # Pydantic's lax mode would read a number as seconds since 1970 (0 → 1970-01-01T00:00).
    if isinstance(value, bool | int | float):
        raise ValueError(f"must be an ISO 8601 date-time string, got {value!r}")
    return value


def _optional_iso_date(value: object) -> object:
    return None if value is None else parse_iso_date(value)


#: A date as ``YYYY-MM-DD`` (or a date object); a number or a date-time is refused rather
#: than read as seconds since 1970 or truncated to its day.
OptionalIsoDate = Annotated[dt.date | None, BeforeValidator(_optional_iso_date), RecordDateCheck]

LocalDateTime = Annotated[
    dt.datetime,
    BeforeValidator(_date_time_text),
    AfterValidator(_naive),
    RecordDateCheck,
    Field(description="ISO 8601 local date-time (YYYY-MM-DDTHH:MM[:SS]) without UTC offset"),
]


class _Row(BaseModel):
    """Base of every row model: unknown fields are errors (a misspelt column is never lost)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, frozen=True)


# ---------------------------------------------------------------------------------------------
# Enumerations


class Sex(StrEnum):
    F = "F"
    M = "M"
    U = "U"  # unknown / not recorded


class Diagnosis(StrEnum):
    """CLL or SLL: the liso-cel CLL/SLL indication ([S21]); SLL is small lymphocytic lymphoma."""

    CLL = "CLL"
    SLL = "SLL"


class LineOutcome(StrEnum):
    PROGRESSION = "progression"
    REFRACTORY = "refractory"
    INTOLERANCE = "intolerance"
    COMPLETED = "completed"
    OTHER = "other"
    UNKNOWN = "unknown"


class TreatmentAgent(StrEnum):
    """Agents for CRS/neurotoxicity management (clinical-standards.md §3.5, §3B)."""

    TOCILIZUMAB = "tocilizumab"
    DEXAMETHASONE = "dexamethasone"
    METHYLPREDNISOLONE = "methylprednisolone"
    ANAKINRA = "anakinra"
    SILTUXIMAB = "siltuximab"
    LEVETIRACETAM = "levetiracetam"
    OTHER = "other"


class Indication(StrEnum):
    CRS = "crs"
    ICANS = "icans"
    OTHER = "other"


class DoseUnit(StrEnum):
    MG = "mg"
    MG_PER_KG = "mg/kg"
    G = "g"
    MG_PER_M2 = "mg/m2"


class Timepoint(StrEnum):
    BASELINE = "baseline"
    POST = "post"


class FollowupEvent(StrEnum):
    PROGRESSION = "progression"
    NEW_THERAPY = "new_therapy"
    DEATH = "death"
    LAST_CONTACT = "last_contact"


class DeathCause(StrEnum):
    DISEASE_PROGRESSION = "disease_progression"
    CRS = "crs"
    NEUROTOXICITY = "neurotoxicity"
    INFECTION = "infection"
    SECOND_PRIMARY_MALIGNANCY = "second_primary_malignancy"
    OTHER = "other"
    UNKNOWN = "unknown"


# ---------------------------------------------------------------------------------------------
# patients.csv, prior_lines.csv, cell_therapy.csv


class PatientRow(_Row):
    """``patients.csv``: one row per patient.

    High-risk markers (del(17p), TP53 mutation, complex karyotype, unmutated IGHV: the
    TRANSCEND CLL 004 definition, clinical-standards.md §6.1 [S59]) are true/false, empty =
    unknown/not tested.
    """

    patient_id: PatientId
    centre_id: CentreId
    age_years: int = Field(ge=0, le=120, strict=True, description="age in whole years at apheresis")
    sex: Sex
    diagnosis: Diagnosis
    diagnosis_date: OptionalIsoDate = None
    del17p: StrictBool | None = None
    tp53_mutated: StrictBool | None = None
    complex_karyotype: StrictBool | None = None
    ighv_unmutated: StrictBool | None = None
    bulky_disease: StrictBool | None = Field(
        default=None, description="bulky disease at baseline (any node ≥5 cm); empty = unknown"
    )
    ecog: int | None = Field(
        default=None, ge=0, le=4, strict=True, description="ECOG performance status"
    )
    consent_research: StrictBool = Field(
        description="patient consented to research use of pseudonymised data"
    )


class PriorLineRow(_Row):
    """``prior_lines.csv``: one row per prior line of therapy (a combination is one line)."""

    patient_id: PatientId
    line_number: int = Field(ge=1, le=50, strict=True, description="1 = first line")
    agents: list[ShortText] = Field(
        min_length=1,
        max_length=MAX_AGENTS_PER_LINE,
        description="agents of the line, ';'-separated (generic or brand names)",
    )
    start_date: OptionalIsoDate = None
    end_date: OptionalIsoDate = None
    outcome: LineOutcome = LineOutcome.UNKNOWN

    @model_validator(mode="after")
    def _dates_in_order(self) -> PriorLineRow:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date: is before start_date")
        return self


class CellTherapyRow(_Row):
    """``cell_therapy.csv``: one CAR-T course (apheresis → lymphodepletion → infusion).

    One course per patient in this version of the format. ``infusion_date`` empty = not
    (yet) infused: leukapheresed but not infused patients belong to the enrolled set but
    not to the safety set (clinical-standards.md §3.1, §3.2).
    """

    patient_id: PatientId
    product: ShortText = Field(description="product name, e.g. liso-cel")
    apheresis_date: IsoDate
    lymphodepletion_start: OptionalIsoDate = None
    lymphodepletion_regimen: ShortText | None = None
    infusion_date: OptionalIsoDate = None
    lot: ShortText | None = None
    dose_10e6_car_t_cells: float | None = Field(
        default=None,
        gt=0,
        le=10_000,
        strict=True,
        allow_inf_nan=False,
        description="infused dose in 10^6 CAR-positive viable T cells (label: 90–110 [S21])",
    )


# ---------------------------------------------------------------------------------------------
# treatments.csv, followup.csv


class TreatmentRow(_Row):
    """``treatments.csv``: one row per dose given (tocilizumab, steroids, others)."""

    patient_id: PatientId
    given_at: LocalDateTime
    agent: TreatmentAgent
    agent_other: ShortText | None = Field(
        default=None, description="name of the agent when agent is 'other'"
    )
    indication: Indication
    dose: float | None = Field(
        default=None,
        ge=0,
        le=MAX_DOSE,
        strict=True,
        allow_inf_nan=False,
        description=f"dose in dose_unit (at most {MAX_DOSE}: no single dose of these agents "
        "comes near it in any unit)",
    )
    dose_unit: DoseUnit | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TreatmentRow:
        if (self.dose is None) != (self.dose_unit is None):
            raise ValueError("dose_unit: dose and dose_unit go together: give both or neither")
        if self.agent_other is not None and self.agent is not TreatmentAgent.OTHER:
            raise ValueError("agent_other: only for agent 'other'")
        return self


class FollowupRow(_Row):
    """``followup.csv``: progression, new therapy, death (with cause) or last contact."""

    patient_id: PatientId
    event_date: IsoDate
    event: FollowupEvent
    death_cause: DeathCause | None = Field(
        default=None, description="required when event is death, otherwise empty"
    )
    detail: ShortText | None = None

    @model_validator(mode="after")
    def _cause_with_death(self) -> FollowupRow:
        if self.event is FollowupEvent.DEATH and self.death_cause is None:
            raise ValueError("death_cause: required when event is death (use 'unknown')")
        if self.event is not FollowupEvent.DEATH and self.death_cause is not None:
            raise ValueError("death_cause: only for event 'death'")
        return self


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_timestamp(value: object) -> object:
    """``YYYY-MM-DD`` → date, any other ISO 8601 text → date-time (as the contract's
    ``observed_at``); dates and date-times pass through; anything else is refused."""
    if not isinstance(value, str):
        if isinstance(value, dt.date):
            return value
        raise ValueError(f"must be an ISO 8601 date or date-time string, got {value!r}")
    try:
        if _ISO_DATE.match(value):
            return dt.date.fromisoformat(value)
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date or date-time: {value!r}") from exc


def _required_timestamp(value: object) -> object:
    """Date or date-time as in the contract's ``observed_at``; a UTC offset is refused."""
    if value is None:
        raise ValueError("required")
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        raise ValueError("give local wall-clock time at the centre without a UTC offset")
    return value


#: ``observed_at`` of an observation row: required, ISO date or date-time (contract), local.
ObservationTime = Annotated[
    dt.date | dt.datetime,
    BeforeValidator(_parse_timestamp),
    AfterValidator(_required_timestamp),
    RecordDateCheck,
    Field(description="ISO 8601 date or local date-time (no UTC offset)"),
]


# ---------------------------------------------------------------------------------------------
# Observation rows: the clinical input schemas (cli-contract.md) + patient_id + timestamp.


class CrsObservationRow(CrsObservationIn):
    """``crs_observations.csv``: one CRS observation = every ``grade crs`` contract field.

    Extends :class:`cartwatch.schemas.crs.CrsObservationIn`; ``observed_at`` is required.
    ``vasopressors`` is a ``;``-list in CSV. ``antipyretic_or_anticytokine_given`` is true on
    observations made after antipyretic/tocilizumab/steroid therapy for CRS (the grader also
    carries it forward within the episode).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_id: PatientId
    observed_at: ObservationTime


class IcansObservationRow(IcansObservationIn):
    """``icans_observations.csv``: one neurotoxicity observation = every ``grade icans`` field.

    Extends :class:`cartwatch.schemas.icans.IcansObservationIn`; ``ice_items`` become the
    dotted columns ``ice_items.orientation`` … (all five or none);
    ``attributable_to_other_cause`` is a ``;``-list.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_id: PatientId
    observed_at: ObservationTime


class LabRow(CytopeniaObservationIn):
    """``labs.csv``: one blood count = the ``grade cytopenia`` fields + lymphocytes.

    Extends :class:`cartwatch.schemas.cytopenia.CytopeniaObservationIn`; ``observed_at`` is
    required here. A draw with only a lymphocyte count is allowed (the cytopenia grader is
    then not applicable, see :meth:`check_domain`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_id: PatientId
    observed_at: ObservationTime
    lymphocytes_10e9_l: NonNegativeNumber | None = None

    def check_domain(self) -> None:
        """Raise ClinicalInputError for contradictions the clinical engine refuses."""
        if self.lymphocytes_10e9_l is not None and self.counts_missing:
            return
        self.to_domain()

    @property
    def counts_missing(self) -> bool:
        """True when none of the three CTCAE-graded counts was measured."""
        counts = (self.neutrophils_10e9_l, self.platelets_10e9_l, self.hemoglobin_g_dl)
        return all(v is None for v in counts)


class ResponseAssessmentRow(MeasurementsIn):
    """``response_assessments.csv``: one iwCLL evaluation (the contract's M without ``mrd``).

    Extends :class:`cartwatch.schemas.response.MeasurementsIn`. MRD samples live in
    ``mrd.csv`` (several samples per assessment, blood and marrow); ``mrd`` is therefore not
    a column, and :meth:`measurements` attaches a sample when the analysis wants one.
    ``timepoint`` says whether this is the pre-infusion baseline or a post-infusion visit.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_id: PatientId
    assessed_at: IsoDate
    timepoint: Timepoint
    # contract v2 item 4: a BTK or PI3K inhibitor is being given at this assessment (a
    # lymphocytosis alone is then PR-L or SD, not PD); not a measurement, so not in M.
    bcr_inhibitor_ongoing: StrictBool = False
    mrd: SkipJsonSchema[None] = Field(default=None, exclude=True)

    def to_domain(self) -> Measurements:
        """The clinical engine's :class:`Measurements` (no MRD).

        Built from the validated field values directly: the row has already been validated
        with exactly the parent schema's field types, so a model_dump + MeasurementsIn
        re-validation (what this did before) gave the same values at ~10× the cost, and the
        loader calls this for every assessment row.
        """
        values = self.__dict__
        return Measurements(**{name: values[name] for name in _MEASUREMENT_FIELDS})

    def measurements(self, mrd: Mrd | None = None) -> Measurements:
        """The clinical engine's :class:`Measurements`, with an optional MRD result."""
        return dataclasses.replace(self.to_domain(), mrd=mrd)


class MrdRow(MrdIn):
    """``mrd.csv``: one MRD sample = the contract's ``mrd`` object + patient and date.

    Extends :class:`cartwatch.schemas.response.MrdIn` (sensitivity is a fraction, e.g. 1e-4
    for the TRANSCEND CLL 004 NGS cut-off [S16]; uMRD needs it, clinical-standards.md §2.5).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_id: PatientId
    sampled_at: IsoDate


#: The iwCLL measurement fields of an assessment row (the contract's M without ``mrd``).
_MEASUREMENT_FIELDS: tuple[str, ...] = tuple(n for n in MeasurementsIn.model_fields if n != "mrd")


def row_dict(row: BaseModel) -> dict[str, Any]:
    """The row as a nested JSON-ready dict (the web API's form of a row)."""
    return row.model_dump(mode="json")
