"""Contract v2 item 5 on the web: the API takes an agent with a declared class (the same
pydantic model as the CLI), stores it, answers the classes per line, refuses an unknown
class on its path, and the pages holding such a decision open."""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.conftest import client_for

DOC = {
    "product": "liso-cel",
    "diagnosis": "CLL",
    "age_years": 64,
    "relapsed_or_refractory": True,
    "as_of": "2025-01-15",
}


@pytest.mark.django_db
def test_web_api_stores_a_declared_agent_and_its_pages_open(patient_a: Any, api: Any) -> None:
    lines = [{"agents": ["orelabrutinib"]},
             {"agents": [{"name": "XY-12", "class": "BCL-2 inhibitor"}]}]  # fmt: skip
    response = api(
        "physician_a", "POST", "/api/patients/A-001/eligibility", {**DOC, "prior_lines": lines}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"]["eligible"] is True
    assert body["result"]["classes"] == [["BTK inhibitor"], ["BCL-2 inhibitor"]]
    assert body["data"]["prior_lines"][1]["agents"][0] == {
        "name": "XY-12",
        "class": "BCL-2 inhibitor",
    }
    bad = {**DOC, "prior_lines": [{"agents": [{"name": "x", "class": "BTK"}]}]}
    refused = api("physician_a", "POST", "/api/patients/A-001/eligibility", bad)
    assert refused.status_code == 422
    assert [p["path"] for p in refused.json()["detail"]] == ["prior_lines[0].agents[0].class"]
    check = patient_a.eligibilitychecks.get()
    client = client_for("physician_a")
    for url in ("/patients/A-001/", f"/patients/A-001/records/eligibility/{check.pk}/"):
        assert client.get(url).status_code == 200, url
