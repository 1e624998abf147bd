"""Issue 12 findings 2 and 3: a bad record already stored is isolated, never a centre-wide 500.

Each bad row is written straight to the database (``Model.save()``, past the services'
validation: how a row from before the rules, an old backup or a hand edit gets there). The
work list lists it as a problem for that patient and keeps every other alert; the exports
and the report leave that patient out, name it, and still export everyone else. A second
CAR-T course is refused at the boundary with a 422 that says why (services/records.py,
ONE_COURSE_PROBLEM). Runs on SQLite and, with DATABASE_URL, PostgreSQL.

Patients: A-001 (``patient_a``: infused 2025-07-01, CRS grade 2 at 2025-07-02 08:00) gets
the bad row; A-002 is the same but healthy.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from django.utils import timezone
from tests.web.conftest import actor_of, client_for, infused_patient

from cartwatch.centre.loader import load_centre_dir
from cartwatch.web.services.alerts import work_list

pytestmark = pytest.mark.django_db

BAD_ROWS = (
    "infusion-9999",
    "second-course",
    "followup-0001",
    "crs-9999",
    "crs-future",
    "b-above-total",
)
#: Bad rows of records the work list does not read (it names none of them; the exports do).
NOT_ON_THE_WORK_LIST = ("followup-0001", "b-above-total")


def _write_bad_row(patient: Any, how: str) -> None:
    """Store *how* for *patient* directly, as no service would."""
    from cartwatch.web.patients import models as m

    if how == "infusion-9999":
        course = m.CellTherapy.objects.get(patient=patient)
        course.infusion_date = dt.date(9999, 12, 31)
        course.save()
    elif how == "second-course":
        course = m.CellTherapy.objects.get(patient=patient)
        course.pk = None
        course.apheresis_date, course.infusion_date = dt.date(2025, 8, 1), dt.date(2025, 9, 1)
        course.save()
    elif how == "followup-0001":
        m.FollowUp(patient=patient, event_date=dt.date(1, 1, 1), event="last_contact").save()
    elif how == "b-above-total":
        # A baseline whose B count (9) exceeds the total lymphocyte count (8): impossible.
        m.ResponseAssessment(
            patient=patient,
            assessed_at=dt.date(2025, 6, 20),
            timepoint="baseline",
            lymphocytes_10e9_l=8.0,
            b_lymphocytes_10e9_l=9.0,
            new_lesion=False,
            cytopenia_due_to_cll=False,
            cytopenia_due_to_treatment=False,
            richter_transformation=False,
        ).save()
    else:
        crs = m.CrsAssessment.objects.get(patient=patient)
        crs.pk = None
        crs.observed_at = (
            timezone.make_aware(dt.datetime(9999, 12, 31, 8, 0), dt.UTC)
            if how == "crs-9999"
            else timezone.now() + dt.timedelta(days=400)
        )
        crs.save()


@pytest.fixture()
def centre(cast: Any, patient_a: Any) -> Any:
    """A-002 healthy beside A-001, with a grade-3 CRS assessment an hour ago (an alert)."""
    healthy = infused_patient(actor_of(cast, "physician_a"), patient_id="A-002")
    _grade_3_crs(cast, healthy, hours_ago=1)
    return patient_a


def _grade_3_crs(cast: Any, patient: Any, hours_ago: int) -> None:
    from cartwatch.web.services import records

    now = timezone.localtime().replace(tzinfo=None, microsecond=0)
    records.create_record(
        actor_of(cast, "physician_a"),
        records.KINDS["crs"],
        patient,
        {"observed_at": (now - dt.timedelta(hours=hours_ago)).isoformat(),
         "temperature_c": 39.0, "hypotension": True, "vasopressors": ["norepinephrine"]},
    )  # fmt: skip


@pytest.mark.parametrize("how", BAD_ROWS)
def test_the_work_list_names_the_bad_row_and_keeps_every_other_alert(
    cast: Any, centre: Any, api: Any, how: str
) -> None:
    _write_bad_row(centre, how)
    response = api("nurse_a", "GET", "/api/alerts")
    assert response.status_code == 200, response.content
    found = response.json()
    assert any(a["patient_id"] == "A-002" and a["rule"] == "crs_grade_ge2" for a in found)
    problems = [a for a in found if a["rule"] == "record_problem"]
    if how in NOT_ON_THE_WORK_LIST:
        assert problems == []  # the work list reads no follow-up or response; exports name it
    else:
        assert [a["patient_id"] for a in problems] == ["A-001"], problems
    page = client_for("nurse_a").get("/worklist/")
    assert page.status_code == 200
    assert ("Record to correct" in page.content.decode()) is bool(problems)


@pytest.mark.parametrize("how", BAD_ROWS)
def test_the_patient_page_and_list_still_open(cast: Any, centre: Any, how: str) -> None:
    _write_bad_row(centre, how)
    for url in ("/patients/", "/patients/A-001/", "/dashboard/"):
        assert client_for("physician_a").get(url).status_code == 200, url


def test_a_future_assessment_does_not_hide_todays_alert(cast: Any, centre: Any) -> None:
    """Issue 10 item 7: a CRS row dated 2027-01-20 replaced today's grade-3 alert."""
    _write_bad_row(centre, "crs-future")
    _grade_3_crs(cast, centre, hours_ago=2)
    alerts = work_list(actor_of(cast, "nurse_a"))
    mine = {a.rule for a in alerts if a.patient_id == "A-001"}
    assert {"crs_grade_ge2", "record_problem"} <= mine


def _zip(response: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.parametrize("how", BAD_ROWS)
@pytest.mark.parametrize("fmt", ["centre-csv", "adam-csv", "adam-xpt", "fhir-r4"])
def test_exports_leave_the_patient_out_and_name_it(
    cast: Any, centre: Any, api: Any, how: str, fmt: str
) -> None:
    _write_bad_row(centre, how)
    response = api("data_manager_a", "GET", f"/api/exports/{fmt}")
    assert response.status_code == 200, response.content
    archive = _zip(response)
    excluded = archive.read("EXCLUDED.txt").decode()
    assert excluded.startswith("1 patient(s) left out") and "A-001" in excluded
    assert "A-002" not in excluded
    names = archive.namelist()
    assert len(names) > 1
    if fmt == "adam-csv":
        adsl = archive.read("adsl.csv").decode()
        assert "A-002" in adsl and "A-001" not in adsl
    from cartwatch.web.audit.models import AuditEvent

    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.after["excluded"] == ["A-001"] and event.after["patients"] == 1


def test_the_centre_export_with_a_bad_row_reads_back_with_the_loader(
    cast: Any, centre: Any, api: Any, tmp_path: Any
) -> None:
    """EXCLUDED.txt is not a .csv: the exported folder still loads as centre data."""
    _write_bad_row(centre, "second-course")
    response = api("data_manager_a", "GET", "/api/exports/centre-csv")
    _zip(response).extractall(tmp_path)
    data = load_centre_dir(tmp_path)
    assert [p.patient_id for p in data.patients] == ["A-002"]


@pytest.mark.parametrize("how", BAD_ROWS)
def test_the_report_is_made_without_the_patient_and_says_so(
    cast: Any, centre: Any, api: Any, how: str
) -> None:
    _write_bad_row(centre, how)
    response = api("data_manager_a", "GET", "/api/report")
    assert response.status_code == 200, response.content
    html = response.content.decode()
    assert "centre A: 1 patients recorded in cartwatch" in html
    assert "1 patient(s) left out because a stored record fails the checks: A-001" in html


def test_the_messages_are_hidden_from_a_researcher(cast: Any, centre: Any, api: Any) -> None:
    _write_bad_row(centre, "followup-0001")
    response = api("researcher_a", "GET", "/api/exports/centre-csv")
    excluded = _zip(response).read("EXCLUDED.txt").decode()
    assert "A-001: followup record" in excluded and "year 1" not in excluded
    staff = api("data_manager_a", "GET", "/api/exports/centre-csv")
    assert "event_date: year 1 is outside 1900–2100" in _zip(staff).read("EXCLUDED.txt").decode()


def test_a_stored_b_count_above_the_total_is_named_on_its_field(
    cast: Any, centre: Any, api: Any
) -> None:
    _write_bad_row(centre, "b-above-total")
    response = api("data_manager_a", "GET", "/api/exports/centre-csv")
    excluded = _zip(response).read("EXCLUDED.txt").decode()
    assert excluded.count("A-001: response_assessments record") == 1, excluded  # nothing else
    assert (
        "response_assessments record" in excluded
        and "b_lymphocytes_10e9_l: B lymphocytes (9 ×10⁹/L) cannot exceed total lymphocytes "
        "(8 ×10⁹/L)"
        in excluded
    ), excluded


def test_a_centre_whose_only_patient_is_bad_gets_409_with_the_reason(
    cast: Any, patient_a: Any, api: Any
) -> None:
    _write_bad_row(patient_a, "infusion-9999")
    response = api("data_manager_a", "GET", "/api/report")
    assert response.status_code == 409
    assert "A-001" in response.json()["detail"]


# --- a second CAR-T course is refused at the boundary --------------------------------------

SECOND_COURSE = {
    "product": "liso-cel",
    "apheresis_date": "2025-08-01",
    "infusion_date": "2025-09-01",
}


def test_a_second_course_is_422_and_says_why(cast: Any, patient_a: Any, api: Any) -> None:
    response = api(
        "physician_a", "POST", "/api/patients/A-001/cell-therapy", {"data": SECOND_COURSE}
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["path"] == "input"
    assert problem["msg"].startswith("one CAR-T course per patient")
    assert "new_therapy" in problem["msg"]
    from cartwatch.web.patients import models as m

    assert m.CellTherapy.objects.filter(patient=patient_a).count() == 1


def test_the_course_itself_can_still_be_corrected(cast: Any, patient_a: Any, api: Any) -> None:
    from cartwatch.web.patients import models as m

    course = m.CellTherapy.objects.get(patient=patient_a)
    body = {
        "data": {"product": "liso-cel", "apheresis_date": "2025-06-02",
                 "infusion_date": "2025-07-01"},
        "version": course.version, "reason": "apheresis date typo",
    }  # fmt: skip
    response = api("physician_a", "PUT", f"/api/patients/A-001/cell-therapy/{course.pk}", body)
    assert response.status_code == 200, response.content


def test_the_course_page_shows_why_a_second_course_is_refused(patient_a: Any) -> None:
    form = {"product": "liso-cel", "apheresis_date": "2025-08-01", "infusion_date": "2025-09-01"}
    response = client_for("physician_a").post("/patients/A-001/cell-therapy/new/", form)
    assert response.status_code == 422
    assert "one CAR-T course per patient" in response.content.decode()


def test_a_stored_bad_baseline_is_named_when_a_later_response_is_entered(
    cast: Any, centre: Any, api: Any
) -> None:
    """The new assessment has no B count: the problem is the stored baseline's, said so."""
    _write_bad_row(centre, "b-above-total")
    post = {"assessed_at": "2025-09-01", "timepoint": "post", "lymph_nodes_spd_cm2": 10}
    refused = api("physician_a", "POST", "/api/patients/A-001/responses", {"data": post})
    assert refused.status_code == 422, refused.content
    [problem] = refused.json()["detail"]
    assert problem["path"] == "timepoint"
    assert problem["msg"] == (
        "the baseline assessment of 2025-06-20 fails the checks (b_lymphocytes_10e9_l: B "
        "lymphocytes (9 ×10⁹/L) cannot exceed total lymphocytes (8 ×10⁹/L)): correct it first"
    )
