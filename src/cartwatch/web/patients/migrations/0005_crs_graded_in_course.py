"""Stored CRS grades become grades in the patient's course (contract v2 item 2).

Until now each daily CRS assessment was graded on its own, with the v1 meaning of the
therapy flag (therapy given for CRS): a ticked premedication with hypotension and no fever
was stored as grade 2, and a day after tocilizumab without the box ticked lost the therapy.
The web app now grades each assessment as an observation of the episode made of the
patient's assessments in time order (``web/services/crs_course.py``, the engine's
``grade_crs_episode``). Rows whose grade or reasons that changes are graded again here, each
with a history entry giving the reason; the others are left as they are.
"""

from django.db import migrations

REGRADE_REASON = (
    "contract v2: graded with the patient's earlier CRS assessments "
    "(premedication is not CRS therapy)"
)


def regrade_in_course(apps, schema_editor):  # type: ignore[no-untyped-def]
    from cartwatch.web.patients.migrations._history import regrade_crs_courses

    regrade_crs_courses(apps, REGRADE_REASON)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_response_b_lymphocytes_bcr_inhibitor"),
    ]

    operations = [
        migrations.RunPython(regrade_in_course, migrations.RunPython.noop),
    ]
