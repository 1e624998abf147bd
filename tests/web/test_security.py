"""Security defaults: argon2, lockout, CSRF, CSP, session timeout, check --deploy."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]


def test_argon2_is_the_first_hasher() -> None:
    from cartwatch.web import settings

    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_a_new_password_is_stored_as_argon2(cast: Any) -> None:
    from django.test import override_settings

    from cartwatch.web import settings

    with override_settings(PASSWORD_HASHERS=settings.PASSWORD_HASHERS):
        user = cast.users["nurse_a"]
        user.set_password("another-long-password-7")
        assert user.password.startswith("argon2")


@pytest.mark.django_db
def test_login_is_locked_after_repeated_failures(cast: Any, settings: Any) -> None:
    from django.test import Client

    client = Client()
    wrong = {"username": "nurse_a", "password": "no"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/accounts/login/", wrong).status_code == 200
    assert client.post("/accounts/login/", wrong).status_code == 429  # the limit-th failure
    locked = client.post("/accounts/login/", {"username": "nurse_a", "password": PASSWORD})
    assert locked.status_code == 429  # even the right password is refused now
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_session_post_needs_csrf_token(cast: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.users["physician_a"])
    response = client.post(
        "/api/patients/A-001/crs", data={"data": {}}, content_type="application/json"
    )
    assert response.status_code == 403
    # The same call with a bearer token needs no CSRF token (no cookie, no ambient authority).
    token = Client(enforce_csrf_checks=True).get(
        "/api/me", headers={"Authorization": f"Bearer {cast.tokens['physician_a']}"}
    )
    assert token.status_code == 200


@pytest.mark.django_db
def test_responses_carry_csp_and_session_is_an_idle_timeout(cast: Any, settings: Any) -> None:
    from django.test import Client

    client = Client()
    client.force_login(cast.users["nurse_a"])
    response = client.get("/api/me")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert settings.SESSION_COOKIE_AGE <= 30 * 60


@pytest.mark.django_db
def test_session_is_an_idle_timeout_renewed_at_most_once_a_minute(cast: Any, settings: Any) -> None:
    """Activity extends the session (sliding expiry), an idle session ends after
    SESSION_COOKIE_AGE, and page views do not write the session on every request."""
    import time
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.test import Client
    from django.utils import timezone

    from cartwatch.web.middleware import RENEWED_KEY

    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    assert settings.CARTWATCH_SESSION_RENEW_SECONDS <= 60
    client = Client()
    client.post("/accounts/login/", {"username": "nurse_a", "password": PASSWORD})
    key = client.cookies["sessionid"].value

    def expiry() -> Any:
        return Session.objects.get(pk=key).expire_date

    assert client.get("/api/me").status_code == 200
    renewed = expiry()
    assert client.get("/worklist/").status_code == 200
    assert expiry() == renewed  # within the renewal interval: no session write

    # A minute later, activity renews: the expiry moves to now + SESSION_COOKIE_AGE.
    store = SessionStore(session_key=key)
    store[RENEWED_KEY] = int(time.time()) - settings.CARTWATCH_SESSION_RENEW_SECONDS
    store.save()
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=2))
    assert client.get("/api/me").status_code == 200
    age = (expiry() - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 30 < age <= settings.SESSION_COOKIE_AGE

    # Idle past the expiry: signed out, for the pages and the API alike.
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/me").status_code == 401
    assert client.get("/worklist/")["Location"].startswith("/accounts/login/")


def test_revoked_or_unknown_token_is_401(db: None, cast: Any) -> None:
    from django.test import Client

    from cartwatch.web.centres.models import ApiToken

    ApiToken.objects.filter(user=cast.users["nurse_a"]).update(revoked=True)
    client = Client()
    for token in (cast.tokens["nurse_a"], "cw_not-a-token"):
        response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CARTWATCH_DEBUG")}
    full_env.update(CARTWATCH_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPO / "src"), **env)
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        CARTWATCH_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(64),
        CARTWATCH_ALLOWED_HOSTS="cartwatch.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_the_development_settings(tmp_path: Path) -> None:
    """The test above can fail: without production settings, check --deploy warns."""
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS


def test_secret_key_is_generated_once_into_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartwatch.web.settings import _secret_key

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("CARTWATCH_SECRET_KEY", raising=False)
    key = _secret_key(tmp_path)
    key_file = tmp_path / "secret_key"
    assert len(key) >= 50 and key_file.read_text() == key
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    assert _secret_key(tmp_path) == key
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert _secret_key(tmp_path) == "from-the-environment"
