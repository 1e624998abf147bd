"""The NinjaAPI instance: routers, authentication, error mapping."""

from __future__ import annotations

from cartwatch.web.api import errors, fhir, routers
from cartwatch.web.api.auth import API_AUTH
from cartwatch.web.api.openapi import DocumentedBodiesAPI
from cartwatch.web.api.parser import StrictJsonParser

api = DocumentedBodiesAPI(
    title="cartwatch",
    version="1",
    description=(
        "CAR-T centre API. Authenticate with `Authorization: Bearer <token>` "
        "(`cartwatch createtoken`) or the browser session (with CSRF). Data are scoped to "
        "your centre; other centres' patients are 404."
    ),
    auth=API_AUTH,
    urls_namespace="api",
    parser=StrictJsonParser(),
)
errors.install(api)
for router in (
    routers.me_router,
    routers.patients_router,
    routers.grade_router,
    routers.centre_router,
    routers.network_router,
    fhir.fhir_router,
):
    api.add_router("", router)
