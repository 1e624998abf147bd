"""``fhir export`` → ``fhir import`` into an empty centre reproduces every record, its
fields, grade, standard, reasons and form status (verified → complete); a re-import changes
nothing; one patient; the research view; a hostile edit is reported, never stored."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from tests.web.conftest import Cast, actor_of
from tests.web.fhir_journeys import (
    build_journeys,
    import_json,
    load_synth,
    remove_patients,
    snapshot,
)

pytestmark = pytest.mark.django_db


def _export(cast: Cast, user: str = "data_manager_a", **options: Any) -> Any:
    from cartwatch.web.services.fhir_export import export_bundle

    return export_bundle(actor_of(cast, user), **options)


def _resources(bundle: dict[str, Any], rtype: str | None = None) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if rtype is None or e["resource"]["resourceType"] == rtype
    ]


def _unverified(snap: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The snapshot as an importing centre stores it: verification is its own users' act."""
    out = copy.deepcopy(snap)
    for rows in out.values():
        for row in rows:
            if row.get("form_status") == "verified":
                row["form_status"] = "complete"
    return {
        k: sorted(v, key=lambda r: json.dumps(r, sort_keys=True, default=str))
        for k, v in out.items()
    }


def test_round_trip_reproduces_every_record_and_grade(cast: Cast) -> None:
    from cartwatch.web.imports.models import ImportedResource

    load_synth(cast)
    build_journeys(cast)
    before = snapshot(cast.centre_a)
    assert all(before[k] for k in before), {k: len(v) for k, v in before.items()}
    assert any(r["grade"] is None for r in before["crs"])  # a not-gradable CRS assessment
    assert any(r["response"] == "PR-L" for r in before["responses"])
    assert any(r["form_status"] == "verified" for r in before["labs"])
    assert any(r["form_status"] == "incomplete" for r in before["crs"])
    exported = _export(cast)
    assert exported.problems == ()
    remove_patients(cast.centre_a)
    report = import_json(cast, "physician_a", exported.bundle)
    assert report["unmapped"] == []
    journey = report["journey"]
    assert journey["grade_differences"] == []
    assert journey["verified_now_complete"] == 1
    assert journey["patients_created"] == len(before["patient"])
    assert journey["adverse_events_checked"] == len(_resources(exported.bundle, "AdverseEvent"))
    after = snapshot(cast.centre_a)
    assert after == _unverified(before)

    ledger = ImportedResource.objects.count()
    again = import_json(cast, "physician_a", exported.bundle)
    assert again["journey"] is None and again["unmapped"] == []
    assert again["already_imported"] == report["resources"] == exported.resources
    assert snapshot(cast.centre_a) == after
    assert ImportedResource.objects.count() == ledger


def test_grades_are_carried_with_standard_and_reasons(cast: Cast) -> None:
    build_journeys(cast)
    bundle = _export(cast).bundle
    crs = [
        o
        for o in _resources(bundle, "Observation")
        if o["code"]["coding"][0]["code"] == "crs-assessment"
    ]
    blank = next(o for o in crs if o["effectiveDateTime"].startswith("2025-07-02"))
    assert "valueInteger" not in blank
    assert blank["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert blank["method"]["text"] == "ASTCT 2019"
    assert blank["note"] and all(n["text"] for n in blank["note"])
    nurse = next(o for o in crs if o["effectiveDateTime"].startswith("2025-07-03"))
    assert nurse["valueInteger"] >= 2  # hypotension on a vasopressor
    draft = next(o for o in crs if o["effectiveDateTime"].startswith("2025-07-04"))
    assert draft["status"] == "preliminary"
    events = {e["event"]["coding"][0]["code"]: e for e in _resources(bundle, "AdverseEvent")}
    assert {"crs", "icans", "neutrophil_count_decreased"} <= set(events)
    grade = {x["url"]: x.get("valueInteger") for x in events["crs"]["extension"]}
    assert events["crs"]["severity"]["coding"][0]["code"] == (
        "moderate" if grade["urn:cartwatch:fhir:grade"] == 2 else "severe"
    )
    assert events["crs"]["suspectEntity"][0]["instance"]["display"] == "liso-cel"


def test_one_patient_and_the_audit_event(cast: Cast) -> None:
    from cartwatch.web.audit.models import AuditEvent

    build_journeys(cast)
    one = _export(cast, patient_id="H-002")
    patients = _resources(one.bundle, "Patient")
    assert [p["identifier"][0]["value"] for p in patients] == ["H-002"]
    assert one.patients == 1
    event = AuditEvent.objects.filter(action="export").order_by("-id").first()
    assert event is not None and event.object_id == "fhir-r4"
    assert event.after["patient"] == "H-002" and event.after["pseudonymised"] is False


def test_an_unknown_or_foreign_patient_is_404(cast: Cast) -> None:
    from django.http import Http404

    build_journeys(cast)
    with pytest.raises(Http404):
        _export(cast, patient_id="NO-SUCH")
    with pytest.raises(Http404):  # H-002 did not consent: the research view has no such patient
        _export(cast, patient_id="H-002", pseudonymise=True)


@pytest.mark.parametrize(
    ("user", "options"), [("data_manager_a", {"pseudonymise": True}), ("researcher_a", {})]
)
def test_the_research_view_leaves_out_what_it_must(
    cast: Cast, user: str, options: dict[str, Any]
) -> None:
    build_journeys(cast)
    text = json.dumps(_export(cast, user, **options).bundle)
    assert "H-001" in text and "H-002" not in text  # H-002 did not consent to research
    for secret in ("MRN-777", "MRN-888", "Ward 7", "LOT-42", "Dr Who", "clonoSEQ", "sepsis"):
        assert secret not in text
    full = json.dumps(_export(cast).bundle)
    assert "Ward 7" in full and "H-002" in full
    assert "MRN-777" not in full  # the hospital number is never exported


def test_a_lower_grade_edited_into_the_file_is_reported_not_stored(cast: Cast) -> None:
    from cartwatch.web.patients import models as m

    build_journeys(cast)
    bundle = _export(cast).bundle
    nurse = next(
        o
        for o in _resources(bundle, "Observation")
        if o["code"]["coding"][0]["code"] == "crs-assessment"
        and o["effectiveDateTime"].startswith("2025-07-03")
    )
    true_grade = nurse["valueInteger"]
    nurse["valueInteger"] = 0
    crs_event = next(
        e for e in _resources(bundle, "AdverseEvent") if e["event"]["coding"][0]["code"] == "crs"
    )
    crs_event["extension"][0]["valueInteger"] = 1
    remove_patients(cast.centre_a)
    report = import_json(cast, "physician_a", bundle)
    differences = report["journey"]["grade_differences"]
    assert [(d["kind"], d["field"], d["exported"], d["stored"]) for d in differences] == [
        ("crs", "grade", 0, true_grade),
        ("adverse-event", "crs grade", 1, true_grade),
    ]
    stored = m.CrsAssessment.objects.get(observed_at__date="2025-07-03")
    assert stored.grade == true_grade


def test_a_bundle_of_another_centre_writes_nothing(cast: Cast) -> None:
    from cartwatch.web.patients import models as m
    from cartwatch.web.services.fhir_import import BundleRefused

    build_journeys(cast)
    bundle = _export(cast).bundle
    count = m.CrsAssessment.objects.count()
    with pytest.raises(BundleRefused) as refused:
        import_json(cast, "physician_b", bundle)
    assert "belongs to centre A, not B" in refused.value.problems[0]
    assert m.Patient.objects.filter(centre=cast.centre_b).count() == 0
    assert m.CrsAssessment.objects.count() == count


def test_records_of_a_patient_registered_by_hand_are_not_duplicated(cast: Cast) -> None:
    from cartwatch.web.patients import models as m

    build_journeys(cast)
    bundle = _export(cast).bundle
    count = m.CrsAssessment.objects.count()
    report = import_json(cast, "physician_a", bundle)
    assert report["journey"]["patients_created"] == 0
    assert all("already registered" in u["reason"] for u in report["unmapped"])
    assert m.CrsAssessment.objects.count() == count


def test_a_nurse_cannot_register_patients_from_a_bundle(cast: Cast) -> None:
    from cartwatch.web.access import NotPermitted
    from cartwatch.web.patients import models as m

    build_journeys(cast)
    bundle = _export(cast).bundle
    remove_patients(cast.centre_a)
    with pytest.raises(NotPermitted):
        import_json(cast, "nurse_a", bundle)
    assert m.Patient.objects.filter(centre=cast.centre_a).count() == 0


def test_a_patient_with_a_stored_record_that_fails_the_checks_is_left_out_and_named(
    cast: Cast,
) -> None:
    import datetime as dt

    from cartwatch.web.patients import models as m

    build_journeys(cast)
    course = m.CellTherapy.objects.get(patient__patient_id="H-002")
    course.infusion_date = dt.date(9999, 12, 31)  # past the services, as an old row can be
    course.save()
    exported = _export(cast)
    assert exported.excluded == ("H-002",)
    assert [p["identifier"][0]["value"] for p in _resources(exported.bundle, "Patient")] == [
        "H-001"
    ]
