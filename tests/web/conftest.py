"""Fixtures for the web tests: Django settings, and a cast of users.

The cast (one per role at centre A, a physician at centre B, the network reviewer):

* ``admin_a`` (centre_admin), ``physician_a``, ``nurse_a``, ``data_manager_a``,
  ``researcher_a`` (read-only, pseudonymised): work at centre A and see A's patients;
* ``physician_b``: a physician at centre B — A's patients are 404 for them;
* ``reviewer``: the network reviewer, aggregates only, no patient rows.

Settings: DJANGO_SETTINGS_MODULE is set here, in ``pytest_configure``, so the shared
pyproject stays Django-free; the data dir is a temporary folder so tests never touch a real
installation. ``DATABASE_URL`` (set by scripts/test) switches to PostgreSQL.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

_DATA_DIR = tempfile.mkdtemp(prefix="cartwatch-test-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartwatch.web.settings")
    os.environ.setdefault("CARTWATCH_DATA_DIR", _DATA_DIR)
    # This conftest is not an initial conftest, so pytest-django's own set-up ran before the
    # settings module was known; run the same step now (django.setup + DB access blocker).
    import django.conf
    from pytest_django.plugin import _setup_django

    django.conf.settings.INSTALLED_APPS  # noqa: B018 - loads the lazy settings
    _setup_django(config)


PASSWORD = "correct-horse-battery-42"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Argon2 is deliberately slow; the cast is rebuilt for every test. test_security.py checks
    # the real hasher list and that a real login stores an argon2 hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Cast:
    users: dict[str, Any]
    centre_a: Any
    centre_b: Any
    tokens: dict[str, str]


CAST_ROLES: dict[str, tuple[str, str | None]] = {
    "admin_a": ("centre_admin", "A"),
    "physician_a": ("physician", "A"),
    "nurse_a": ("nurse", "A"),
    "data_manager_a": ("data_manager", "A"),
    "researcher_a": ("researcher", "A"),
    "physician_b": ("physician", "B"),
    "reviewer": ("network_reviewer", None),
}


@pytest.fixture
def cast(db: None) -> Cast:
    from django.contrib.auth import get_user_model

    from cartwatch.web.centres.models import ApiToken, Centre, Membership

    centres = {
        "A": Centre.objects.create(code="A", name="Centre A"),
        "B": Centre.objects.create(code="B", name="Centre B"),
    }
    users: dict[str, Any] = {}
    tokens: dict[str, str] = {}
    for name, (role, centre) in CAST_ROLES.items():
        user = get_user_model().objects.create_user(name, f"{name}@example.org", PASSWORD)
        Membership.objects.create(user=user, role=role, centre=centres[centre] if centre else None)
        users[name] = user
        tokens[name] = ApiToken.issue(user, "tests")[1]
    return Cast(users, centres["A"], centres["B"], tokens)


def client_for(user: str | None) -> Any:
    """A test client signed in as *user* (force_login: axes needs a request to log in), or
    anonymous for None."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(get_user_model().objects.get(username=user))
    return client


def actor_of(cast: Cast, name: str) -> Any:
    from cartwatch.web.access import resolve_actor

    return resolve_actor(cast.users[name])


PATIENT_ROW: dict[str, Any] = {
    "patient_id": "A-001",
    "age_years": 64,
    "sex": "F",
    "diagnosis": "CLL",
    "consent_research": True,
}

CRS_ROW: dict[str, Any] = {
    "observed_at": "2025-07-02T08:00:00",
    "temperature_c": 38.6,
    "oxygen_device": "nasal_cannula",
    "oxygen_flow_l_min": 2,
}


def infused_patient(physician: Any, **patient: Any) -> Any:
    """A patient (PATIENT_ROW with *patient* on top) infused with liso-cel on 2025-07-01,
    with one grade-2 CRS assessment (CRS_ROW) the next morning."""
    from cartwatch.web.services import records

    stored = records.create_patient(physician, {**PATIENT_ROW, **patient})
    records.create_record(
        physician,
        records.KINDS["cell-therapy"],
        stored,
        {"product": "liso-cel", "apheresis_date": "2025-06-01", "infusion_date": "2025-07-01"},
    )
    records.create_record(physician, records.KINDS["crs"], stored, CRS_ROW)
    return stored


@pytest.fixture
def patient_a(cast: Cast) -> Any:
    """Patient A-001 at centre A, infused 2025-07-01, with one grade-2 CRS assessment."""
    return infused_patient(actor_of(cast, "physician_a"), hospital_number="MRN-123")


@pytest.fixture
def api(cast: Cast) -> Callable[..., Any]:
    """``api(user, method, path, json=None)``: a request with the user's bearer token."""
    from django.test import Client

    client = Client()

    def call(user: str | None, method: str, path: str, json: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {cast.tokens[user]}"} if user else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if json is not None:
            kwargs.update(data=json, content_type="application/json")
        return getattr(client, method.lower())(path, **kwargs)

    return call


@pytest.fixture
def synth_centre(cast: Cast) -> int:
    """A 12-patient synthetic cohort (cartwatch.synth, fixed seed) stored at centre A."""
    from cartwatch.synth.cohort import synthesize
    from cartwatch.web.services.imports import load_centre_data

    return load_centre_data(actor_of(cast, "data_manager_a"), synthesize(12, seed=7))
