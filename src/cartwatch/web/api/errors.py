"""Every error the API returns, mapped in one place.

422 bodies: ``{"detail": [{"loc": [...], "path": "oxygen_flow_l_min", "msg": "..."}]}``.
``path`` is the contract field path (the same the CLI prints), ``loc`` where it sits in the
request body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pydantic
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.schemas.errors import loc_to_path, problems_from
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
        detail.append({"loc": _body_loc(request) + path_parts(path), "path": path, "msg": msg})
    return api.create_response(request, {"detail": detail}, status=status)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def _ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        detail = []
        for err in exc.errors:
            loc = list(err.get("loc", ()))
            # ninja puts ("body", "<parameter name>", ...) first; the path is what follows.
            inner = loc[2:] if loc[:1] == ["body"] else loc[1:]
            path = loc_to_path(inner, keep_last=err.get("type") == "extra_forbidden")
            msg = "unknown field" if err.get("type") == "extra_forbidden" else str(err.get("msg"))
            detail.append({"loc": loc, "path": path, "msg": msg})
        return api.create_response(request, {"detail": detail}, status=422)

    @api.exception_handler(pydantic.ValidationError)
    def _pydantic(request: HttpRequest, exc: pydantic.ValidationError) -> HttpResponse:
        return problems_response(api, request, problems_from(exc))

    @api.exception_handler(ClinicalInputError)
    def _clinical(request: HttpRequest, exc: ClinicalInputError) -> HttpResponse:
        return problems_response(api, request, problems_from(exc))

    @api.exception_handler(ReasonRequired)
    def _reason(request: HttpRequest, exc: ReasonRequired) -> HttpResponse:
        detail = [{"loc": ["body", "reason"], "path": "reason", "msg": str(exc)}]
        return api.create_response(request, {"detail": detail}, status=422)

    @api.exception_handler(Conflict)
    def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        body = {"detail": str(exc), "current_version": exc.current_version}
        return api.create_response(request, body, status=409)

    @api.exception_handler(NothingToReport)
    def _nothing_to_report(request: HttpRequest, exc: NothingToReport) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc)}, status=409)

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return api.create_response(request, {"detail": "not permitted for your role"}, status=403)

    @api.exception_handler(NotAuthenticated)
    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, {"detail": "authentication required"}, status=401)

    @api.exception_handler(Unavailable)
    def _unavailable(request: HttpRequest, exc: Unavailable) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc)}, status=501)
