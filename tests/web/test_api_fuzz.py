"""Property: no request the OpenAPI document allows, and none it forbids, makes the API fail.

Schemathesis generates requests for every operation from ``/api/openapi.json`` (valid and
invalid bodies, odd path parameters) and sends them in-process as a signed-in physician of
centre A with patient A-001 on file. Every answer must be a documented, non-5xx status.
A manual run with many more examples (``schemathesis run`` against ``cartwatch serve``)
found the bugs this guards against: a 500 on a repeated prior line number, NaN and repeated
JSON keys accepted, a number stored as a 1970 date.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from cartwatch.web.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)

pytestmark = pytest.mark.django_db


@pytest.fixture
def test_transaction_kept_open() -> Iterator[None]:
    """Requests go straight to the WSGI app, whose end-of-request hook would close the
    connection that holds the test's transaction (Django's own test client unhooks it)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


#: The long run (README, "Tests"): CARTWATCH_SLOW_FUZZ=1 pytest -m slow tests/web/test_*_fuzz.py
SLOW_FUZZ = os.environ.get("CARTWATCH_SLOW_FUZZ") == "1"
SLOW_REASON = "the long fuzz run: set CARTWATCH_SLOW_FUZZ=1 (README, Tests)"
FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


def _send(case: Any, cast: Any) -> None:
    token = cast.tokens["physician_a"]
    if case.path_parameters and "patient_id" in case.path_parameters:
        # A generated pseudonym is almost always unknown (404): reach the handlers' logic.
        case.path_parameters["patient_id"] = "A-001"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error, status_code_conformance],
    )


@schema.parametrize()
@settings(max_examples=12, **FUZZ_SETTINGS)
def test_no_generated_request_fails_the_api(
    case: Any, cast: Any, patient_a: Any, test_transaction_kept_open: None
) -> None:
    _send(case, cast)


@pytest.mark.slow
@pytest.mark.skipif(not SLOW_FUZZ, reason=SLOW_REASON)
@schema.parametrize()
@settings(max_examples=150, **FUZZ_SETTINGS)
def test_no_generated_request_fails_the_api_long_run(
    case: Any, cast: Any, patient_a: Any, test_transaction_kept_open: None
) -> None:
    _send(case, cast)
