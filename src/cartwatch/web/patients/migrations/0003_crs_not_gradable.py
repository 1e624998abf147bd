"""CRS grades may be null (not gradable), and the new ``fever_before_therapy`` field.

Contract v2 item 1: without a temperature, and without therapy lifting the fever
requirement, a CRS observation is not gradable — v1 stored grade 0 for it. Such rows are
graded again by the engine here so that no stored 0 stands for missing data, and each change
is written to the record's history (simple-history) with the reason, next to what was
stored before.
"""

from django.db import migrations, models

REGRADE_REASON = "contract v2: no temperature is not gradable (was grade 0)"


def regrade_missing_temperatures(apps, schema_editor):  # type: ignore[no-untyped-def]
    from cartwatch.clinical.crs import grade_crs
    from cartwatch.schemas.crs import CrsObservationIn
    from cartwatch.web.patients.migrations._history import record_regrade

    model = apps.get_model("patients", "CrsAssessment")
    history = apps.get_model("patients", "HistoricalCrsAssessment")
    fields = [name for name in CrsObservationIn.model_fields if name != "observed_at"]
    rows = model._default_manager.filter(
        temperature_c__isnull=True, antipyretic_or_anticytokine_given=False, death_due_to_crs=False
    )
    for row in rows:
        clinical = {name: getattr(row, name) for name in fields}
        result = grade_crs(CrsObservationIn.model_validate(clinical).to_domain())
        row.grade, row.reasons = result.grade, list(result.reasons)
        record_regrade(model, history, row, REGRADE_REASON)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_form_status"),
    ]

    operations = [
        migrations.AddField(
            model_name="crsassessment",
            name="fever_before_therapy",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="historicalcrsassessment",
            name="fever_before_therapy",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="crsassessment",
            name="grade",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="historicalcrsassessment",
            name="grade",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(regrade_missing_temperatures, migrations.RunPython.noop),
    ]
