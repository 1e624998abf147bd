"""The centre dashboard on a realistic data set: a synthetic cohort stored through the
services, so the ADaM derivation and the report tables run on rows the web app wrote."""

from __future__ import annotations

import pytest
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def test_dashboard_shows_the_outcome_tables_and_km_images(synth_centre: int) -> None:
    client = client_for("physician_a")
    body = client.get("/dashboard/").content.decode()
    assert "could not be read" not in body and "could not be derived" not in body
    assert "12 patients recorded" in body
    assert body.count("<table") >= 3  # efficacy, time-to-event, CRS/NT
    assert "clopper-pearson" in body.lower() or "Clopper" in body
    for endpoint in ("pfs", "os"):
        assert f"/dashboard/km-{endpoint}.png" in body
        image = client.get(f"/dashboard/km-{endpoint}.png")
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
        assert image.content.startswith(b"\x89PNG") and len(image.content) > 10_000


def test_researcher_sees_the_same_numbers(synth_centre: int) -> None:
    body = client_for("researcher_a").get("/dashboard/").content.decode()
    assert "12 patients recorded" in body
