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

import datetime as dt
import secrets
from dataclasses import dataclass, fields, replace
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel

from cartwatch.centre.loader import CentreData
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
#: The sample centre's newest infusion is this many days before today: day +3 of the
#: daily-assessment window (14 days), so the work list, the schedule obligations and the
#: forms to complete have a patient in care on the first sign-in.
SAMPLE_LATEST_INFUSION_DAYS_AGO = 3


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
    cohort = recent_sample(synthesize(SAMPLE_PATIENTS, seed=SAMPLE_SEED), timezone.localdate())
    # The loader's actor is built here, not resolved: the account is inactive so that nobody
    # signs in with it, and resolve_actor refuses inactive accounts.
    rows = load_centre_data(Actor(user=loader, role=Role.DATA_MANAGER, centre=centre), cohort)
    return FirstRun(centre.code, admin, len(cohort.patients), rows)


def recent_sample(data: CentreData, today: dt.date) -> CentreData:
    """*data* moved in time so that its newest infusion is
    :data:`SAMPLE_LATEST_INFUSION_DAYS_AGO` days before *today*, cut at *today*.

    Every date and date-time moves by the same whole number of days, so every patient's
    dates keep their order and their intervals (grades, windows and data-quality rules see
    the same course). The synthetic cohort ends at its data cut (2025-06-30) with at least
    90 days of follow-up after every infusion, so no shift can bring an infusion into the
    window without pushing later records past today: those are left out, as at a real
    centre whose data end today (the newest patient has three days of records, no last
    contact yet). A patient whose own row or CAR-T course would lie after today is left out
    whole. Only the sample centre is moved; ``synth``, ``demo`` and the goldens are not.
    """
    infusions = [c.infusion_date for c in data.cell_therapy if c.infusion_date is not None]
    if not infusions:
        return data
    target = today - dt.timedelta(days=SAMPLE_LATEST_INFUSION_DAYS_AGO)
    shift = target - max(infusions)
    moved = {f.name: [_shifted(row, shift) for row in data.rows(f.name)] for f in fields(data)}
    late = {
        row.patient_id
        for stem in ("patients", "cell_therapy")
        for row in moved[stem]
        if _latest_date(row) > today
    }
    kept = {
        stem: tuple(r for r in rows if r.patient_id not in late and _latest_date(r) <= today)
        for stem, rows in moved.items()
    }
    return replace(data, **kept)


def _shifted(value: Any, shift: dt.timedelta) -> Any:
    """*value* with every date and date-time in it (nested rows, lists) moved by *shift*."""
    if isinstance(value, dt.date):  # a datetime is a date too
        return value + shift
    if isinstance(value, BaseModel):
        update = {name: _shifted(getattr(value, name), shift) for name in type(value).model_fields}
        return value.model_copy(update=update)
    if isinstance(value, list | tuple):
        return type(value)(_shifted(v, shift) for v in value)
    return value


def _latest_date(value: Any) -> dt.date:
    """The latest calendar day of any date in *value* (``date.min`` without one)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, BaseModel):
        value = [getattr(value, name) for name in type(value).model_fields]
    if isinstance(value, list | tuple):
        return max((_latest_date(v) for v in value), default=dt.date.min)
    return dt.date.min
