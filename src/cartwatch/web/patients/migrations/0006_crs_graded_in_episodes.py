"""Stored CRS grades become grades in the assessment's own episode (contract v2 item 2).

Until now (0005) each daily CRS assessment was graded over all the patient's earlier ones as
one episode, so tocilizumab given for CRS in week 1 lifted the fever requirement in an
unrelated episode weeks later (hypotension without fever stored as CRS grade 2). The web app
now splits the course into episodes by the rule ADaM and the CIBMTR registry use
(``clinical.episodes.grade_by_episode``: stopped and restarted within 7 days is one episode,
TRANSCEND CLL 004 Table 4 footnote [S14]) and grades each assessment within its own episode
(``web/services/crs_course.py``). Rows whose grade or reasons that changes are graded again
here, each with a history entry giving the reason; the others are left as they are.
"""

from django.db import migrations

#: At most 100 characters (simple-history's change-reason column).
REGRADE_REASON = (
    "graded in its own CRS episode (7-day rule): an earlier episode's therapy no longer counts"
)


def regrade_in_episodes(apps, schema_editor):  # type: ignore[no-untyped-def]
    from cartwatch.web.patients.migrations._history import regrade_crs_courses

    regrade_crs_courses(apps, REGRADE_REASON)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_crs_graded_in_course"),
    ]

    operations = [
        migrations.RunPython(regrade_in_episodes, migrations.RunPython.noop),
    ]
