"""API authentication: bearer tokens for scripts, the session (with CSRF) for the browser."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from cartwatch.web.centres.models import ApiToken, hash_token

LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked=False)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        if not AxesProxyHandler.is_allowed(request, {"username": found.user.get_username()}):
            # Locked out after failed sign-ins (django-axes, per username and address): the
            # token is refused exactly where the password would be, until the cool-off ends.
            raise HttpError(
                403,
                "account locked after too many failed sign-ins; try again later or ask your "
                "centre administrator",
            )
        # Not an audited model: last use is bookkeeping, not patient data. Written at most
        # once a minute per token, so a script's read requests do not each cost a write.
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


# Token first: a script sends no cookie and must not trip the session's CSRF check.
API_AUTH = [TokenAuth(), SessionAuth(csrf=True)]
