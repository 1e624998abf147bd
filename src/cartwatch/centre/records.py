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

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

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
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


def _naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError("give local wall-clock time at the centre without a UTC offset")
    return value


LocalDateTime = Annotated[
    dt.datetime,
    AfterValidator(_naive),
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


class MrdSample(StrEnum):
    BLOOD = "blood"
    MARROW = "marrow"


class MrdResult(StrEnum):
    UNDETECTABLE = "undetectable"
    DETECTABLE = "detectable"


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
    age_years: int = Field(ge=0, le=120, description="age in whole years at apheresis")
    sex: Sex
    diagnosis: Diagnosis
    diagnosis_date: dt.date | None = None
    del17p: StrictBool | None = None
    tp53_mutated: StrictBool | None = None
    complex_karyotype: StrictBool | None = None
    ighv_unmutated: StrictBool | None = None
    bulky_disease: StrictBool | None = Field(
        default=None, description="bulky disease at baseline (any node ≥5 cm); empty = unknown"
    )
    ecog: int | None = Field(default=None, ge=0, le=4, description="ECOG performance status")
    consent_research: StrictBool = Field(
        description="patient consented to research use of pseudonymised data"
    )


class PriorLineRow(_Row):
    """``prior_lines.csv``: one row per prior line of therapy (a combination is one line)."""

    patient_id: PatientId
    line_number: int = Field(ge=1, le=50, description="1 = first line")
    agents: list[ShortText] = Field(
        min_length=1, description="agents of the line, ';'-separated (generic or brand names)"
    )
    start_date: dt.date | None = None
    end_date: dt.date | None = None
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
    apheresis_date: dt.date
    lymphodepletion_start: dt.date | None = None
    lymphodepletion_regimen: ShortText | None = None
    infusion_date: dt.date | None = None
    lot: ShortText | None = None
    dose_10e6_car_t_cells: float | None = Field(
        default=None,
        gt=0,
        le=10_000,
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
    dose: float | None = Field(default=None, ge=0)
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
    event_date: dt.date
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


# ---------------------------------------------------------------------------------------------
# Observation rows: the clinical input schemas + patient_id + timestamp.
#
# PROVISIONAL: the clinical input schemas (cartwatch.schemas.crs/icans/cytopenia/response) are
# being written in parallel. Until they land, the contract fields (cli-contract.md) are
# declared here under the same names; these classes will then *extend* the schemas instead,
# with no change to column names.


class OxygenDevice(StrEnum):
    NONE = "none"
    NASAL_CANNULA = "nasal_cannula"
    BLOW_BY = "blow_by"
    HIGH_FLOW_NASAL_CANNULA = "high_flow_nasal_cannula"
    FACE_MASK = "face_mask"
    NONREBREATHER_MASK = "nonrebreather_mask"
    VENTURI_MASK = "venturi_mask"
    CPAP = "cpap"
    BIPAP = "bipap"
    MECHANICAL_VENTILATION = "mechanical_ventilation"


class CrsObservationRow(_Row):
    """``crs_observations.csv``: one CRS observation (``grade crs`` contract fields)."""

    patient_id: PatientId
    observed_at: LocalDateTime
    temperature_c: float | None = Field(default=None, ge=25, le=45)
    fever_attributable_to_other_cause: StrictBool = False
    antipyretic_or_anticytokine_given: StrictBool = False
    hypotension: StrictBool = False
    vasopressors: list[str] = Field(default_factory=list)
    oxygen_device: OxygenDevice = OxygenDevice.NONE
    oxygen_flow_l_min: float | None = Field(default=None, ge=0)
    hypotension_attributable_to_other_cause: StrictBool = False
    hypoxia_attributable_to_other_cause: StrictBool = False
    death_due_to_crs: StrictBool = False


class IceItems(_Row):
    orientation: int = Field(ge=0, le=4)
    naming: int = Field(ge=0, le=3)
    commands: int = Field(ge=0, le=1)
    writing: int = Field(ge=0, le=1)
    attention: int = Field(ge=0, le=1)


class IcansObservationRow(_Row):
    """``icans_observations.csv``: one neurotoxicity observation (``grade icans`` fields)."""

    patient_id: PatientId
    observed_at: LocalDateTime
    age_years: float = Field(ge=0, le=120)
    developmental_delay: StrictBool = False
    ice_score: int | None = Field(default=None, ge=0, le=10)
    ice_items: IceItems | None = None
    capd_score: int | None = Field(default=None, ge=0, le=32)
    capd_unable: StrictBool = False
    consciousness: str = "alert"
    seizure: str = "none"
    motor_weakness: str = "none"
    cerebral_edema: str = "none"
    raised_icp_signs: StrictBool = False
    attributable_to_other_cause: list[str] = Field(default_factory=list)
    tremor: StrictBool = False
    myoclonus: StrictBool = False
    headache: StrictBool = False
    intracranial_hemorrhage: StrictBool = False
    death_due_to_icans: StrictBool = False


class LowerLimits(_Row):
    neutrophils_10e9_l: float | None = Field(default=None, ge=0)
    platelets_10e9_l: float | None = Field(default=None, ge=0)
    hemoglobin_g_dl: float | None = Field(default=None, ge=0)


class LabRow(_Row):
    """``labs.csv``: one lab draw (``grade cytopenia`` fields + lymphocytes)."""

    patient_id: PatientId
    observed_at: LocalDateTime
    neutrophils_10e9_l: float | None = Field(default=None, ge=0)
    platelets_10e9_l: float | None = Field(default=None, ge=0)
    hemoglobin_g_dl: float | None = Field(default=None, ge=0)
    lymphocytes_10e9_l: float | None = Field(default=None, ge=0)
    lln: LowerLimits | None = None
    transfusion_indicated: StrictBool = False


class Marrow(StrEnum):
    NOT_DONE = "not_done"
    NORMOCELLULAR_NO_CLL = "normocellular_no_cll"
    HYPOCELLULAR_NO_CLL = "hypocellular_no_cll"
    CLL_OR_NODULES_PRESENT = "cll_or_nodules_present"


class ResponseAssessmentRow(_Row):
    """``response_assessments.csv``: one iwCLL assessment (measurement fields except mrd)."""

    patient_id: PatientId
    assessed_at: dt.date
    timepoint: Timepoint
    lymph_nodes_spd_cm2: float | None = Field(default=None, ge=0)
    largest_node_cm: float | None = Field(default=None, ge=0)
    new_lesion: StrictBool | None = None
    spleen_cm: float | None = Field(default=None, ge=0)
    liver_enlarged: StrictBool | None = None
    lymphocytes_10e9_l: float | None = Field(default=None, ge=0)
    neutrophils_10e9_l: float | None = Field(default=None, ge=0)
    platelets_10e9_l: float | None = Field(default=None, ge=0)
    hemoglobin_g_dl: float | None = Field(default=None, ge=0)
    transfused_or_epo: StrictBool | None = None
    constitutional_symptoms: StrictBool | None = None
    marrow: Marrow | None = None
    cytopenia_due_to_cll: StrictBool | None = None
    cytopenia_due_to_treatment: StrictBool | None = None
    richter_transformation: StrictBool | None = None


class MrdRow(_Row):
    """``mrd.csv``: one MRD sample (``mrd`` object of ``assess response``)."""

    patient_id: PatientId
    sampled_at: dt.date
    sample: MrdSample
    result: MrdResult
    level: float | None = Field(default=None, ge=0, le=1)
    sensitivity: float | None = Field(default=None, gt=0, le=1)
    method: ShortText | None = None


def row_dict(row: BaseModel) -> dict[str, Any]:
    """The row as a nested JSON-ready dict (the web API's form of a row)."""
    return row.model_dump(mode="json")
