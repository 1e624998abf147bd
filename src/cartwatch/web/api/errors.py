"""Every error the API returns, mapped in one place.

422 bodies: ``{"detail": [{"loc": [...], "path": "oxygen_flow_l_min", "msg": "..."}]}``.
``path`` is the contract field path (the same the CLI prints), ``loc`` where it sits in the
request body.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

import pydantic
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas import strict_json
from cartwatch.schemas.errors import ROOT_PATH, loc_to_path, problems_from
from cartwatch.web.access import NotAuthenticated
from cartwatch.web.services.errors import Conflict, NothingToReport, ReasonRequired, Unavailable

_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def path_parts(path: str) -> list[str | int]:
    """``ice_items.orientation`` → ``['ice_items', 'orientation']``; ``[2].x`` → ``[2, 'x']``."""
    return [int(i) if i else name for i, name in _PART.findall(path)]


def _body_loc(request: HttpRequest) -> list[str | int]:
    return list(getattr(request, "body_loc", ("body",)))


def problems_response(
    api: NinjaAPI, request: HttpRequest, lines: Sequence[str], status: int = 422
) -> HttpResponse:
    detail: list[dict[str, Any]] = []
    for line in lines:
        path, _, msg = line.partition(": ")
        inner = [] if path == ROOT_PATH else path_parts(path)
        detail.append({"loc": _body_loc(request) + inner, "path": path, "msg": msg})
    return api.create_response(request, {"detail": detail}, status=status)


def _ninja_validation(api: NinjaAPI, request: HttpRequest, exc: NinjaValidationError) -> Any:
    detail = []
    for err in exc.errors:
        loc = list(err.get("loc", ()))
        # ninja puts ("body", "<parameter name>", ...) first; the path is what follows.
        inner = loc[2:] if loc[:1] == ["body"] else loc[1:]
        path = loc_to_path(inner, keep_last=err.get("type") == "extra_forbidden")
        msg = "unknown field" if err.get("type") == "extra_forbidden" else str(err.get("msg"))
        detail.append({"loc": loc, "path": path, "msg": msg})
    return api.create_response(request, {"detail": detail}, status=422)


def _http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> Any:
    # django-ninja reports any body it cannot parse as a bare 400 "Cannot parse request
    # body"; the strict parser's cause names each problem, answered like any bad input.
    if isinstance(exc.__cause__, strict_json.JsonProblems):
        return problems_response(api, request, exc.__cause__.problems)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _input_problems(
    api: NinjaAPI, request: HttpRequest, exc: pydantic.ValidationError | ClinicalInputError
) -> Any:
    return problems_response(api, request, problems_from(exc))


def _too_large(api: NinjaAPI, request: HttpRequest, exc: RequestDataTooBig) -> Any:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    msg = f"the request body is larger than {limit} bytes"
    detail = [{"loc": ["body"], "path": ROOT_PATH, "msg": msg}]
    return api.create_response(request, {"detail": detail}, status=413)


def _reason(api: NinjaAPI, request: HttpRequest, exc: ReasonRequired) -> Any:
    detail = [{"loc": ["body", "reason"], "path": "reason", "msg": str(exc)}]
    return api.create_response(request, {"detail": detail}, status=422)


def _conflict(api: NinjaAPI, request: HttpRequest, exc: Conflict) -> Any:
    body = {"detail": str(exc), "current_version": exc.current_version}
    return api.create_response(request, body, status=409)


def _detail(status: int, fixed: str | None = None) -> Callable[[NinjaAPI, HttpRequest, Any], Any]:
    """A handler answering *status* with the exception's text (or *fixed*) as detail."""

    def handler(api: NinjaAPI, request: HttpRequest, exc: Exception) -> Any:
        return api.create_response(request, {"detail": fixed or str(exc)}, status=status)

    return handler


#: Every error type the API answers, and how (looked up along the exception's MRO, so
#: ``AuthenticationError`` finds its own entry before ``HttpError``'s).
HANDLERS: dict[type[Exception], Callable[[NinjaAPI, HttpRequest, Any], Any]] = {
    NinjaValidationError: _ninja_validation,
    HttpError: _http_error,
    pydantic.ValidationError: _input_problems,
    ClinicalInputError: _input_problems,
    RequestDataTooBig: _too_large,
    ReasonRequired: _reason,
    Conflict: _conflict,
    NothingToReport: _detail(409),
    PermissionDenied: _detail(403, "not permitted for your role"),
    NotAuthenticated: _detail(401, "authentication required"),
    AuthenticationError: _detail(401, "authentication required"),
    Unavailable: _detail(501),
}


def install(api: NinjaAPI) -> None:
    for exc_class, handler in HANDLERS.items():
        api.add_exception_handler(exc_class, functools.partial(handler, api))
