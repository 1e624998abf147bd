"""What the pages show: stored grades with reasons and standard, pseudonyms for researchers,
server-side grading on save, form errors placed on their inputs.

Uses the cast and ``patient_a`` (A-001, infused 2025-07-01, one CRS grade 2 at 2025-07-02
08:00: fever + nasal cannula 2 L/min) from tests/web/conftest.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.web.conftest import actor_of, client_for

pytestmark = pytest.mark.django_db


def test_patient_page_shows_the_stored_crs_grade_reasons_and_standard(patient_a: Any) -> None:
    from cartwatch.web.patients.models import CrsAssessment

    stored = CrsAssessment.objects.get(patient=patient_a)
    body = client_for("nurse_a").get("/patients/A-001/").content.decode()
    assert stored.grade == 2
    assert '<span class="grade g2">2</span>' in body
    for reason in stored.reasons:
        assert reason.replace(">", "&gt;").replace("<", "&lt;") in body
    assert "ASTCT 2019" in body
    assert "Timeline after infusion" in body
    assert "day 1: CRS grade 2" in body  # the SVG cell of 2025-07-02 (day 1)


def test_timeline_shows_the_obligations_of_the_label_in_force(patient_a: Any) -> None:
    import datetime as dt

    from cartwatch.clinical.schedule import post_infusion_schedule

    schedule = post_infusion_schedule("liso-cel", dt.date(2025, 7, 1))
    body = client_for("physician_a").get("/patients/A-001/").content.decode()
    assert schedule.stay_near_centre_until.isoformat() in body
    assert schedule.no_driving_until.isoformat() in body
    assert schedule.label_version in body


def test_researcher_sees_pseudonyms_only(cast: Any, patient_a: Any) -> None:
    from cartwatch.web.services import records

    records.create_record(
        actor_of(cast, "physician_a"),
        records.KINDS["followup"],
        patient_a,
        {"event_date": "2025-09-01", "event": "last_contact", "detail": "seen by Dr Jones"},
    )
    for url in ("/patients/", "/patients/A-001/"):
        body = client_for("researcher_a").get(url).content.decode()
        assert "A-001" in body
        assert "MRN-123" not in body, url
        assert "Dr Jones" not in body, url
    clinical = client_for("physician_a").get("/patients/A-001/").content.decode()
    assert "MRN-123" in clinical and "Dr Jones" in clinical


ASSESSMENT = {
    "observed_at": "2025-07-03T08:00",
    "crs.temperature_c": "38.9",
    "crs.hypotension": "true",
    "crs.vasopressors": "norepinephrine",
    "icans.assessed": "true",
    "icans.age_years": "64",
    "icans.ice_score": "10",
}


def test_saving_an_assessment_stores_the_servers_grade(patient_a: Any) -> None:
    from cartwatch.web.patients.models import CrsAssessment, IcansAssessment

    response = client_for("nurse_a").post("/patients/A-001/assessment/new/", ASSESSMENT)
    assert response.status_code == 302
    crs = CrsAssessment.objects.filter(patient=patient_a).latest("observed_at")
    icans = IcansAssessment.objects.get(patient=patient_a)
    assert (crs.grade, crs.standard) == (3, "ASTCT 2019")
    assert any("vasopressor" in r for r in crs.reasons)
    assert icans.grade == 0 and icans.instrument == "ICE"
    page = client_for("nurse_a").get("/patients/A-001/").content.decode()
    assert '<span class="grade g3">3</span>' in page
    assert "ICE 10/10" in page  # the ICANS row (with an ICE total) is shown with its reasons


def test_an_invalid_assessment_saves_nothing_and_names_the_field(patient_a: Any) -> None:
    from cartwatch.web.patients.models import CrsAssessment, IcansAssessment

    bad = {**ASSESSMENT, "crs.oxygen_device": "nasal_cannula", "icans.ice_score": "11"}
    response = client_for("nurse_a").post("/patients/A-001/assessment/new/", bad)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="f-icans-ice-score-err"' in body  # the error sits on the ICE input
    assert CrsAssessment.objects.filter(patient=patient_a).count() == 1  # CRS rolled back
    assert not IcansAssessment.objects.filter(patient=patient_a).exists()


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ([("crs.temperature_c", "37.0")], "sent more than once (a repeated field is ambiguous)"),
        (
            [("crs.temperatur_c", "39.4")],
            "the page sent a field this form does not have (&#x27;crs.temperatur_c&#x27;)",
        ),
    ],
    ids=["repeated", "unknown"],
)
def test_a_repeated_or_unknown_form_field_is_an_error_not_a_guess(
    patient_a: Any, extra: list[tuple[str, str]], shown: str
) -> None:
    from urllib.parse import urlencode

    from cartwatch.web.patients.models import CrsAssessment

    body = urlencode([*ASSESSMENT.items(), *extra])
    response = client_for("nurse_a").post(
        "/patients/A-001/assessment/new/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    assert shown in response.content.decode()
    assert CrsAssessment.objects.filter(patient=patient_a).count() == 1  # the fixture's only


def test_a_failed_write_of_the_icans_half_stores_neither_half(
    patient_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DatabaseError

    from cartwatch.web.audit.models import AuditEvent
    from cartwatch.web.patients.models import CrsAssessment, IcansAssessment
    from cartwatch.web.services import records

    save = records._save

    def failing_icans(actor: Any, instance: Any, reason: str = "") -> None:
        if isinstance(instance, IcansAssessment):
            raise DatabaseError("disk full")
        save(actor, instance, reason)

    monkeypatch.setattr(records, "_save", failing_icans)
    client = client_for("nurse_a")
    client.raise_request_exception = True
    events = AuditEvent.objects.count()  # after the sign-in's own event
    with pytest.raises(DatabaseError):
        client.post("/patients/A-001/assessment/new/", ASSESSMENT)
    assert CrsAssessment.objects.filter(patient=patient_a).count() == 1  # the fixture's only
    assert not IcansAssessment.objects.filter(patient=patient_a).exists()
    assert AuditEvent.objects.count() == events  # the CRS half's audit event rolled back too


def test_work_list_shows_the_patient_after_a_grade_3(patient_a: Any) -> None:
    from django.utils import timezone

    now = timezone.localtime().replace(tzinfo=None).isoformat(timespec="minutes")
    client = client_for("nurse_a")
    client.post("/patients/A-001/assessment/new/", {**ASSESSMENT, "observed_at": now})
    body = client.get("/worklist/").content.decode()
    assert 'data-rule="crs_grade_ge2"' in body
    assert "CRS grade 3" in body


def test_eligibility_is_stored_with_the_label_version_and_reasons(patient_a: Any) -> None:
    from cartwatch.web.patients.models import EligibilityCheck

    response = client_for("physician_a").post(
        "/patients/A-001/eligibility/new/",
        {
            "product": "liso-cel",
            "diagnosis": "CLL",
            "age_years": "64",
            "relapsed_or_refractory": "yes",
            "prior_lines": "ibrutinib\nvenetoclax; obinutuzumab",
            "as_of": "2025-06-01",
        },
    )
    assert response.status_code == 302
    check = EligibilityCheck.objects.get(patient=patient_a)
    assert check.label_version and check.reasons
    body = client_for("physician_a").get("/patients/A-001/").content.decode()
    assert check.label_version in body


def test_live_grading_page_loads_its_script_from_static_files(patient_a: Any) -> None:
    body = client_for("nurse_a").get("/patients/A-001/assessment/new/").content.decode()
    assert 'src="/static/ui/live-grade.js"' in body
    assert 'data-crs-url="/api/grade/crs?patient_id=A-001"' in body  # graded in the course
    assert "<script>" not in body  # no inline script: the CSP forbids it
    assert "style=" not in body  # no inline styles either


def test_dashboard_reports_the_centres_outcomes_or_says_why_not(patient_a: Any) -> None:
    body = client_for("physician_a").get("/dashboard/").content.decode()
    assert "Centre dashboard" in body
    assert ("Best overall response" in body) or ("could not" in body)


def test_patient_list_shows_each_patients_own_highest_grades_and_latest_infusion(
    cast: Any, patient_a: Any, django_assert_num_queries: Any
) -> None:
    import re

    from tests.web.conftest import PATIENT_ROW

    from cartwatch.web.services import records

    physician = actor_of(cast, "physician_a")

    def add(kind: str, row: dict[str, Any]) -> None:
        records.create_record(physician, records.KINDS[kind], patient_a, row)

    # CRS 2 then 1, ICANS 0 then 3, a second course infused later — stored directly:
    # the services refuse a second course now (ONE_COURSE_PROBLEM), but one stored before
    # that rule must still list.
    add("crs", {"observed_at": "2025-07-03T08:00:00", "temperature_c": 38.2})
    for at, ice in (("2025-07-02T09:00:00", 10), ("2025-07-03T09:00:00", 2)):
        add("icans", {"observed_at": at, "age_years": 64, "ice_score": ice})
    from cartwatch.web.patients.models import CellTherapy

    CellTherapy(
        patient=patient_a,
        product="liso-cel",
        apheresis_date=dt.date(2025, 8, 1),
        infusion_date=dt.date(2025, 9, 1),
    ).save()
    records.create_patient(physician, {**PATIENT_ROW, "patient_id": "A-002"})  # nothing yet

    client = client_for("nurse_a")
    client.get("/patients/")  # session and user loaded once
    with django_assert_num_queries(4):  # session, user, membership, the list: one query
        body = client.get("/patients/").content.decode()
    rows = {
        m.group(1): re.sub(r"<[^>]+>", "|", m.group(0))
        for m in re.finditer(r'<tr>\s*<th scope="row"><a [^>]*>(A-\d+)</a>.*?</tr>', body, re.S)
    }
    cells = {k: [c.strip() for c in v.split("|") if c.strip()] for k, v in rows.items()}
    # The later course's infusion; max CRS 2 (not the latest, 1); max ICANS 3.
    assert cells["A-001"][-3:] == ["1 Sep 2025", "2", "3"]
    assert cells["A-002"][-3:] == ["—", "—", "—"]


# --- not gradable CRS (contract v2 item 1) ----------------------------------------------------
def test_a_not_gradable_crs_assessment_reads_not_gradable_on_the_page_and_timeline(
    patient_a: Any,
) -> None:
    from cartwatch.web.patients.models import CrsAssessment

    blank = {"observed_at": "2025-07-03T08:00", "crs.hypotension": "true"}  # no temperature
    response = client_for("nurse_a").post("/patients/A-001/assessment/new/", blank)
    assert response.status_code == 302
    stored = CrsAssessment.objects.filter(patient=patient_a).latest("observed_at")
    assert stored.grade is None
    body = client_for("nurse_a").get("/patients/A-001/").content.decode()
    assert "not gradable (temperature missing)" in body
    assert "day 2: CRS not gradable" in body  # the SVG cell of 2025-07-03, not a grade 0
    assert "day 2: CRS grade 0" not in body
    assert "with fever ≥38.0 °C this is grade 2" in body


def test_live_grading_of_a_blank_crs_form_is_null_not_0(patient_a: Any) -> None:
    client = client_for("nurse_a")
    blank = client.post("/api/grade/crs", {}, content_type="application/json").json()
    assert blank["grade"] is None
    typed = client.post(
        "/api/grade/crs", {"temperature_c": 37.2}, content_type="application/json"
    ).json()
    assert typed["grade"] == 0
