"""API authentication: bearer tokens for scripts, the session (with CSRF) for the browser."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from cartwatch.web.centres.models import ApiToken, hash_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked=False)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        # Not an audited model: last use is bookkeeping, not patient data.
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user


# Token first: a script sends no cookie and must not trip the session's CSRF check.
API_AUTH = [TokenAuth(), SessionAuth(csrf=True)]
