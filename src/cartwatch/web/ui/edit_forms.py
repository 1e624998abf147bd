"""The forms to correct a saved record: each kind's entry form plus the change section
(reason for change, form status, the version read). Presentation only, like forms.py."""

from __future__ import annotations

from cartwatch.web.ui import forms as f

#: Correcting a saved record: why, the form status, and the version that was read.
CHANGE = f.Section(
    "Change",
    (
        f.Field("reason", "Reason for change",
              help="Required once the form is complete: what was wrong and where the right "
              "value comes from (e.g. 'misread the chart: 38.2 not 39.2')."),
        f.Field("form_status", "Form status", "choice",
              (("incomplete", "incomplete (draft)"), ("complete", "complete")), required=True),
        f.Field("version", "Version read", "hidden"),
    ),
    prefix="change.",
)  # fmt: skip

WHEN = f.ASSESSMENT[0]

#: The forms to correct one saved record, by record kind (services.records.KINDS names).
#: A daily assessment is stored as a CRS and an ICANS record; each is corrected on its own
#: half of the daily form (the live grade still works: same field names and prefixes).
EDIT_FORMS: dict[str, tuple[f.Section, ...]] = {
    "prior-lines": f.PRIOR_LINE,
    "cell-therapy": f.CELL_THERAPY,
    "crs": (WHEN, f.ASSESSMENT[1]),
    "icans": (WHEN, f.Section(f.ASSESSMENT[2].legend, f.ICANS_FIELDS, prefix="icans.")),
    "treatments": f.TREATMENT,
    "labs": f.LAB,
    "responses": f.RESPONSE,
    "mrd": f.MRD,
    "followup": f.FOLLOWUP,
    "eligibility": f.ELIGIBILITY,
    "patient": f.PATIENT,
}
