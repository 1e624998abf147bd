"""Request middleware: a sliding idle timeout for sessions without a database write on
every request, the audit actor of a signed-in request, and no caching of what a signed-in
user sees.

``SessionIdleRenewal``:

``SESSION_SAVE_EVERY_REQUEST`` would extend the session on each request by saving it — one
write (and on SQLite the write lock) per page view. This middleware marks the session
modified only when its last renewal is ``CARTWATCH_SESSION_RENEW_SECONDS`` old or more;
SessionMiddleware then saves it, which moves the server-side expiry to now +
``SESSION_COOKIE_AGE``. The stored expiry is what Django checks when it loads a session, so
an idle session still ends after at most ``SESSION_COOKIE_AGE`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from cartwatch.web.audit.chain import audit_context

RENEWED_KEY = "_cartwatch_renewed"


class SessionIdleRenewal:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions that hold something (a signed-in user): renewing an empty one would
        # create a session row for every anonymous request.
        if session is None or session.is_empty() or not session.get("_auth_user_id"):
            return response
        now = int(time.time())
        last = session.get(RENEWED_KEY)
        if not isinstance(last, int) or now - last >= settings.CARTWATCH_SESSION_RENEW_SECONDS:
            session[RENEWED_KEY] = now
        return response


class AuditActor:
    """Attributes every audited write of a signed-in user's request to that user — also
    writes that bypass the services, such as the admin site's changes to users and roles.
    The services set their own (identical) actor together with a reason for change."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        with audit_context(user.get_username()):
            return self.get_response(request)


class NoStore:
    """``Cache-Control: no-store`` on every response to a signed-in user and on the API, so
    no browser, proxy or shared ward PC keeps a copy of a page with patient data (issue 12,
    finding 9). A view that set its own Cache-Control (the KM images) keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if (signed_in or request.path.startswith("/api/")) and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
