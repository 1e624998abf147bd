"""Patient data: one Django model per file of the centre data format (DEVELOPERS.md).

Field names are the centre-format column names (dotted columns flattened with ``_``:
``ice_items.orientation`` → ``ice_orientation``, ``lln.neutrophils_10e9_l`` →
``lln_neutrophils_10e9_l``), so import, export and ADaM derivation map one to one. Computed
results (CRS/ICANS/CTCAE grade, iwCLL response, MRD status, eligibility) are stored with
their ``standard`` and ``reasons`` exactly as the clinical engine returned them: a stored
grade can always be explained and reproduced under the version that made it.

Timestamps: the centre format writes local wall-clock times without offset; the database
stores aware datetimes and the service layer reads/writes them in ``settings.TIME_ZONE``
(the centre's zone, ``CARTWATCH_TIME_ZONE``).

Every model here is audited: django-simple-history keeps row history, and the audit signals
append a hash-chained ``AuditEvent`` for each create/update/delete. ``QuerySet.update()`` and
``bulk_*`` are refused because they skip both (prior-art §7).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from cartwatch.web.centres.models import Centre


class BulkWriteRefused(RuntimeError):
    """Raised when code tries a write path that would skip the audit trail."""


class AuditedQuerySet(models.QuerySet[Any]):
    # update() and bulk_* write rows without calling save() or sending signals, so neither
    # simple-history nor the audit log would see them. delete() is allowed: Django sends
    # pre/post_delete for every row once receivers are connected.
    def update(self, **kwargs: Any) -> int:
        raise BulkWriteRefused("QuerySet.update() skips the audit trail; save each object")

    def bulk_create(self, *args: Any, **kwargs: Any) -> Any:
        raise BulkWriteRefused("bulk_create() skips the audit trail; save each object")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise BulkWriteRefused("bulk_update() skips the audit trail; save each object")

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise BulkWriteRefused("use the services in cartwatch.web.services")


class FormStatus(models.TextChoices):
    """REDCap-style status of one saved form (record).

    ``incomplete``: saved as a draft, may be changed without a reason; ``complete``: entered
    and checked by whoever entered it, a change needs a reason; ``verified``: checked against
    the source by a physician or data manager (``Perm.VERIFY_RECORDS``). Changing a verified
    record makes it ``complete`` again: the new values have not been verified.
    """

    INCOMPLETE = "incomplete", "incomplete"
    COMPLETE = "complete", "complete"
    VERIFIED = "verified", "verified"


class AuditedModel(models.Model):
    """Base of every patient-data model: version for optimistic locking, who/when, history,
    and the form status (incomplete / complete / verified)."""

    version = models.PositiveIntegerField(
        default=1, help_text="Incremented on every save; an edit must quote the version it read."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    form_status = models.CharField(
        max_length=12, choices=FormStatus.choices, default=FormStatus.COMPLETE
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedQuerySet.as_manager()
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True

    @property
    def completed(self) -> bool:
        """Complete or verified: changing the record needs a reason for change."""
        return self.form_status != FormStatus.INCOMPLETE

    @completed.setter
    def completed(self, value: bool) -> None:
        if not value:
            self.form_status = FormStatus.INCOMPLETE
        elif self.form_status == FormStatus.INCOMPLETE:
            self.form_status = FormStatus.COMPLETE


class Sex(models.TextChoices):
    F = "F"
    M = "M"
    U = "U"


class Diagnosis(models.TextChoices):
    CLL = "CLL"
    SLL = "SLL"


class Patient(AuditedModel):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="patients")
    patient_id = models.CharField(max_length=64, help_text="Pseudonym, never a name.")
    # Identifying: the hospital record number links the pseudonym back to the person. Only
    # roles with the 'identifiable' permission see it; it is never exported.
    hospital_number = models.CharField(max_length=64, blank=True, default="")
    age_years = models.PositiveSmallIntegerField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.U)
    diagnosis = models.CharField(max_length=3, choices=Diagnosis.choices)
    diagnosis_date = models.DateField(null=True, blank=True)
    del17p = models.BooleanField(null=True, blank=True)
    tp53_mutated = models.BooleanField(null=True, blank=True)
    complex_karyotype = models.BooleanField(null=True, blank=True)
    ighv_unmutated = models.BooleanField(null=True, blank=True, help_text="Empty = unknown.")
    bulky_disease = models.BooleanField(null=True, blank=True)
    ecog = models.PositiveSmallIntegerField(null=True, blank=True)
    consent_research = models.BooleanField(default=False)

    class Meta:
        verbose_name = "patient"
        ordering = ("centre", "patient_id")
        constraints = (
            models.UniqueConstraint(fields=["centre", "patient_id"], name="patient_id_per_centre"),
            models.CheckConstraint(condition=models.Q(ecog__lte=4), name="patient_ecog_0_4"),
        )

    def __str__(self) -> str:
        return str(self.patient_id)


class PatientRecord(AuditedModel):
    """A row that belongs to one patient (every file except patients.csv)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="%(class)ss")

    class Meta:
        abstract = True


class AssessmentRecord(PatientRecord):
    """A clinical assessment: a record with a result computed by a clinical engine."""

    standard = models.CharField(max_length=64, blank=True, default="")
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


class PriorLineOutcome(models.TextChoices):
    PROGRESSION = "progression"
    REFRACTORY = "refractory"
    INTOLERANCE = "intolerance"
    COMPLETED = "completed"
    OTHER = "other"
    UNKNOWN = "unknown"


class PriorLine(PatientRecord):
    line_number = models.PositiveSmallIntegerField()
    agents = models.JSONField(default=list, help_text="List of agent names.")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=PriorLineOutcome.choices, default=PriorLineOutcome.UNKNOWN
    )

    class Meta:
        verbose_name = "prior line of therapy"
        verbose_name_plural = "prior lines of therapy"
        ordering = ("patient", "line_number")
        constraints = (
            models.UniqueConstraint(fields=["patient", "line_number"], name="one_line_number"),
        )


class CellTherapy(PatientRecord):
    product = models.CharField(max_length=64, default="liso-cel")
    apheresis_date = models.DateField(null=True, blank=True)
    lymphodepletion_start = models.DateField(null=True, blank=True)
    lymphodepletion_regimen = models.CharField(max_length=200, blank=True, default="")
    infusion_date = models.DateField(null=True, blank=True, help_text="Empty = not infused.")
    lot = models.CharField(max_length=64, blank=True, default="")
    dose_10e6_car_t_cells = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = "CAR-T course"
        verbose_name_plural = "CAR-T courses"
        ordering = ("patient", "infusion_date")


class CrsAssessment(AssessmentRecord):
    """crs_observations.csv: the ASTCT CRS inputs and the grade computed from them."""

    observed_at = models.DateTimeField()
    temperature_c = models.FloatField(null=True, blank=True)
    fever_attributable_to_other_cause = models.BooleanField(default=False)
    antipyretic_or_anticytokine_given = models.BooleanField(default=False)
    hypotension = models.BooleanField(default=False)
    vasopressors = models.JSONField(default=list, blank=True)
    oxygen_device = models.CharField(max_length=32, default="none")
    oxygen_flow_l_min = models.FloatField(null=True, blank=True)
    hypotension_attributable_to_other_cause = models.BooleanField(default=False)
    hypoxia_attributable_to_other_cause = models.BooleanField(default=False)
    death_due_to_crs = models.BooleanField(default=False)
    # contract v2 item 2: a fever documented before this therapy (e.g. at home).
    fever_before_therapy = models.BooleanField(default=False)
    # null = not gradable (no temperature and fever still required; contract v2 item 1):
    # the reasons say what is missing; a blank observation is never stored as grade 0.
    grade = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "CRS assessment"
        ordering = ("patient", "observed_at")


class IcansAssessment(AssessmentRecord):
    """icans_observations.csv: the ASTCT ICANS inputs (ICE or CAPD) and the computed grade."""

    observed_at = models.DateTimeField()
    age_years = models.FloatField()
    developmental_delay = models.BooleanField(default=False)
    ice_score = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_orientation = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_naming = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_commands = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_writing = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_attention = models.PositiveSmallIntegerField(null=True, blank=True)
    capd_score = models.PositiveSmallIntegerField(null=True, blank=True)
    capd_unable = models.BooleanField(default=False)
    consciousness = models.CharField(max_length=32, default="alert")
    seizure = models.CharField(max_length=32, default="none")
    motor_weakness = models.CharField(max_length=32, default="none")
    cerebral_edema = models.CharField(max_length=32, default="none")
    raised_icp_signs = models.BooleanField(default=False)
    attributable_to_other_cause = models.JSONField(default=list, blank=True)
    tremor = models.BooleanField(default=False)
    myoclonus = models.BooleanField(default=False)
    headache = models.BooleanField(default=False)
    intracranial_hemorrhage = models.BooleanField(default=False)
    death_due_to_icans = models.BooleanField(default=False)
    grade = models.PositiveSmallIntegerField()
    instrument = models.CharField(max_length=8, default="ICE")

    class Meta:
        verbose_name = "ICANS assessment"
        ordering = ("patient", "observed_at")


class TreatmentAgent(models.TextChoices):
    TOCILIZUMAB = "tocilizumab"
    DEXAMETHASONE = "dexamethasone"
    METHYLPREDNISOLONE = "methylprednisolone"
    ANAKINRA = "anakinra"
    SILTUXIMAB = "siltuximab"
    LEVETIRACETAM = "levetiracetam"
    OTHER = "other"


class TreatmentIndication(models.TextChoices):
    CRS = "crs"
    ICANS = "icans"
    OTHER = "other"


class Treatment(PatientRecord):
    given_at = models.DateTimeField()
    agent = models.CharField(max_length=32, choices=TreatmentAgent.choices)
    agent_other = models.CharField(max_length=200, blank=True, default="")
    indication = models.CharField(max_length=8, choices=TreatmentIndication.choices)
    dose = models.FloatField(null=True, blank=True)
    dose_unit = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        verbose_name = "dose given"
        verbose_name_plural = "doses given"
        ordering = ("patient", "given_at")


class Lab(AssessmentRecord):
    """labs.csv plus the CTCAE v5.0 grades computed at save time (null = not gradable)."""

    observed_at = models.DateTimeField()
    neutrophils_10e9_l = models.FloatField(null=True, blank=True)
    platelets_10e9_l = models.FloatField(null=True, blank=True)
    hemoglobin_g_dl = models.FloatField(null=True, blank=True)
    lymphocytes_10e9_l = models.FloatField(null=True, blank=True)
    lln_neutrophils_10e9_l = models.FloatField(null=True, blank=True)
    lln_platelets_10e9_l = models.FloatField(null=True, blank=True)
    lln_hemoglobin_g_dl = models.FloatField(null=True, blank=True)
    transfusion_indicated = models.BooleanField(default=False)
    grade_neutrophil_count_decreased = models.PositiveSmallIntegerField(null=True, blank=True)
    grade_platelet_count_decreased = models.PositiveSmallIntegerField(null=True, blank=True)
    grade_anemia = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "blood count"
        ordering = ("patient", "observed_at")


class Timepoint(models.TextChoices):
    BASELINE = "baseline"
    POST = "post"


class Marrow(models.TextChoices):
    NOT_DONE = "not_done"
    NORMOCELLULAR_NO_CLL = "normocellular_no_cll"
    HYPOCELLULAR_NO_CLL = "hypocellular_no_cll"
    CLL_OR_NODULES_PRESENT = "cll_or_nodules_present"


class ResponseAssessment(AssessmentRecord):
    """response_assessments.csv plus the iwCLL 2018 response of a post-baseline timepoint."""

    assessed_at = models.DateField()
    timepoint = models.CharField(max_length=8, choices=Timepoint.choices)
    lymph_nodes_spd_cm2 = models.FloatField(null=True, blank=True)
    largest_node_cm = models.FloatField(null=True, blank=True)
    new_lesion = models.BooleanField(null=True, blank=True)
    spleen_cm = models.FloatField(null=True, blank=True)
    liver_enlarged = models.BooleanField(null=True, blank=True)
    lymphocytes_10e9_l = models.FloatField(null=True, blank=True)
    b_lymphocytes_10e9_l = models.FloatField(
        null=True, blank=True, help_text="CLL/B lymphocytes by flow cytometry (contract v2)."
    )
    neutrophils_10e9_l = models.FloatField(null=True, blank=True)
    platelets_10e9_l = models.FloatField(null=True, blank=True)
    hemoglobin_g_dl = models.FloatField(null=True, blank=True)
    transfused_or_epo = models.BooleanField(null=True, blank=True)
    constitutional_symptoms = models.BooleanField(null=True, blank=True)
    marrow = models.CharField(max_length=32, choices=Marrow.choices, blank=True, default="")
    cytopenia_due_to_cll = models.BooleanField(null=True, blank=True)
    cytopenia_due_to_treatment = models.BooleanField(null=True, blank=True)
    richter_transformation = models.BooleanField(null=True, blank=True)
    bcr_inhibitor_ongoing = models.BooleanField(
        default=False, help_text="A BTK or PI3K inhibitor is being given (contract v2)."
    )
    response = models.CharField(
        max_length=4, blank=True, default="", help_text="Empty at baseline."
    )
    mrd_status = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        verbose_name = "iwCLL response assessment"
        ordering = ("patient", "assessed_at")


class MrdResult(AssessmentRecord):
    sampled_at = models.DateField()
    sample = models.CharField(max_length=8, choices=[("blood", "blood"), ("marrow", "marrow")])
    result = models.CharField(
        max_length=12, choices=[("undetectable", "undetectable"), ("detectable", "detectable")]
    )
    level = models.FloatField(null=True, blank=True)
    sensitivity = models.FloatField(null=True, blank=True)
    method = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, blank=True, default="", help_text="uMRD4/5/6 …")

    class Meta:
        verbose_name = "MRD result"
        ordering = ("patient", "sampled_at")


class FollowUpEvent(models.TextChoices):
    PROGRESSION = "progression"
    NEW_THERAPY = "new_therapy"
    DEATH = "death"
    LAST_CONTACT = "last_contact"


class FollowUp(PatientRecord):
    event_date = models.DateField()
    event = models.CharField(max_length=16, choices=FollowUpEvent.choices)
    death_cause = models.CharField(max_length=32, blank=True, default="")
    detail = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "follow-up event"
        ordering = ("patient", "event_date")


class EligibilityCheck(AssessmentRecord):
    """A label eligibility decision, stored with the label version used and its input."""

    as_of = models.DateField()
    input = models.JSONField(help_text="The EligibilityIn document that was checked.")
    eligible = models.BooleanField()
    label_version = models.CharField(max_length=64)
    indication = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict, help_text="The engine's full result (to_dict()).")

    class Meta:
        verbose_name = "eligibility check"
        ordering = ("patient", "as_of", "id")


#: Every patient-data model, in centre-format file order (audit, access and export use it).
PATIENT_DATA_MODELS: tuple[type[AuditedModel], ...] = (
    Patient,
    PriorLine,
    CellTherapy,
    CrsAssessment,
    IcansAssessment,
    Treatment,
    Lab,
    ResponseAssessment,
    MrdResult,
    FollowUp,
    EligibilityCheck,
)
