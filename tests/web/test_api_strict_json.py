"""Request bodies are as strict as the CLI's input: a repeated key, NaN/Infinity or a body
that is not JSON is a 422 naming the path, never a guess (the standard library would keep
the last of two ``temperature_c`` values) and never django-ninja's bare 400."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def _post(cast: Any, path: str, body: str) -> Any:
    from django.test import Client

    return Client().post(
        path,
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {cast.tokens['nurse_a']}"},
    )


@pytest.mark.parametrize(
    ("body", "path", "loc", "msg"),
    [
        (
            '{"temperature_c": 39.4, "temperature_c": 37.0}',
            "temperature_c",
            ["body", "temperature_c"],
            "duplicate key (a repeated field is ambiguous)",
        ),
        ('{"temperature_c": NaN}', "input", ["body"], "not valid JSON: NaN is not allowed"),
        ('{"temperature_c": 1e999}', "input", ["body"], "not valid JSON: number 1e999 is too"),
        ('{"temperature_c": ', "input", ["body"], "not valid JSON: Expecting value"),
        ("\x00", "input", ["body"], "not valid JSON: Expecting value"),
    ],
    ids=["duplicate", "nan", "overflow", "truncated", "binary"],
)
def test_grading_refuses_what_json_loads_would_guess_at(
    cast: Any, body: str, path: str, loc: list[Any], msg: str
) -> None:
    response = _post(cast, "/api/grade/crs", body)
    assert response.status_code == 422, response.content
    [problem] = response.json()["detail"]
    assert problem["path"] == path and problem["loc"] == loc
    assert problem["msg"].startswith(msg)


def test_a_repeated_key_inside_a_record_names_its_full_path(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.patients.models import CrsAssessment

    body = (
        '{"data": {"observed_at": "2025-07-03T08:00:00", "temperature_c": 39.4,'
        ' "temperature_c": 37.0}}'
    )
    response = _post(cast, "/api/patients/A-001/crs", body)
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["detail"]] == ["data.temperature_c"]
    assert CrsAssessment.objects.filter(patient=patient_a).count() == 1  # nothing stored


def test_other_http_errors_keep_their_status(cast: Any) -> None:
    from django.test import Client

    # A wrong token is still 401 (its own handler, found before the generic HttpError one).
    response = Client().get("/api/me", headers={"Authorization": "Bearer cw_wrong"})
    assert response.status_code == 401
    assert response.json() == {"detail": "authentication required"}
