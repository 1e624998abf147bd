"""The first run of a fresh installation (``cartwatch start``, issue 11 item 8).

On a database without any user, :func:`first_run` makes what a newcomer needs to see a
working centre at once: a sample centre, its first centre administrator, and the centre's
patients from the synthetic cohort (``cartwatch.synth``, calibrated to TRANSCEND CLL 004),
stored through the same services as the pages, graded by the engines and audited. The sample
rows are attributed to a deactivated data-manager account, ``sample_data``, so the audit log
and the Users page say where they came from and no one can sign in with it.

On any later run there is a user, and nothing is created: the command only serves.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from cartwatch.synth.cohort import synthesize
from cartwatch.web.access import Actor
from cartwatch.web.audit.chain import audit_context
from cartwatch.web.centres.models import Centre, Role
from cartwatch.web.services.imports import load_centre_data
from cartwatch.web.services.users import new_centre_user

SAMPLE_CENTRE_CODE = "SAMPLE"
SAMPLE_CENTRE_NAME = "Sample centre (synthetic patients)"
SAMPLE_LOADER = "sample_data"
#: Patients of the sample centre and the cohort's seed: enough for a work list, a patient
#: list and a dashboard with Kaplan–Meier curves, loaded in about ten seconds.
SAMPLE_PATIENTS = 12
SAMPLE_SEED = 11
FIRST_RUN_REASON = "cartwatch start: first run"


@dataclass(frozen=True)
class FirstRun:
    centre_code: str
    admin: str
    patients: int
    rows: int


def is_fresh() -> bool:
    """True when nobody can sign in yet: no user at all."""
    return not User.objects.exists()


def generated_password() -> str:
    """A random password that passes the password rules (20 characters, ~120 bits)."""
    return secrets.token_urlsafe(15)


def first_run(admin: str, password: str, *, sample: bool = True, actor: str) -> FirstRun:
    """Create the sample centre, its administrator *admin* and (with *sample*) its
    synthetic patients; *actor* names who ran it for the audit log. The password has been
    checked by the caller (commands.check_password)."""
    with transaction.atomic(), audit_context(actor, reason=FIRST_RUN_REASON):
        centre = Centre.objects.create(code=SAMPLE_CENTRE_CODE, name=SAMPLE_CENTRE_NAME)
        new_centre_user(centre, admin, "", Role.CENTRE_ADMIN, password)
    if not sample:
        return FirstRun(centre.code, admin, 0, 0)
    with audit_context(actor, reason=FIRST_RUN_REASON):
        loader = new_centre_user(centre, SAMPLE_LOADER, "", Role.DATA_MANAGER, None)
        loader.is_active = False
        loader.save(update_fields=["is_active"])
    cohort = synthesize(SAMPLE_PATIENTS, seed=SAMPLE_SEED)
    # The loader's actor is built here, not resolved: the account is inactive so that nobody
    # signs in with it, and resolve_actor refuses inactive accounts.
    rows = load_centre_data(Actor(user=loader, role=Role.DATA_MANAGER, centre=centre), cohort)
    return FirstRun(centre.code, admin, len(cohort.patients), rows)
