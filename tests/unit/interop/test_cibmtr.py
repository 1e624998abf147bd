"""CIBMTR registry export: forms due, each derivation on both sides of its boundary, the
missing-is-never-No rule, and the files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from cartwatch.centre.loader import CentreData
from cartwatch.centre.records import (
    CellTherapyRow,
    CrsObservationRow,
    FollowupRow,
    IcansObservationRow,
    LabRow,
    PatientRow,
    TreatmentRow,
)
from cartwatch.interop.cibmtr import FormInstance, Status, derive_registry, forms_due
from cartwatch.interop.cibmtr_files import ExportFolderError, registry_files, write_folder
from cartwatch.interop.cibmtr_forms import ELEMENTS, FORMS

INFUSION = dt.date(2025, 3, 1)
PID = "P-001"


def patient(**extra: Any) -> PatientRow:
    row = {
        "patient_id": PID,
        "centre_id": "C",
        "age_years": 60,
        "sex": "F",
        "diagnosis": "CLL",
        "consent_research": True,
        **extra,
    }
    return PatientRow.model_validate(row)


def course(**extra: Any) -> CellTherapyRow:
    row = {
        "patient_id": PID,
        "product": "liso-cel",
        "apheresis_date": "2025-02-01",
        "infusion_date": INFUSION.isoformat(),
        **extra,
    }
    return CellTherapyRow.model_validate(row)


def crs(day: int, **fields: Any) -> CrsObservationRow:
    when = dt.datetime.combine(INFUSION + dt.timedelta(days=day), dt.time(8))
    return CrsObservationRow.model_validate({"patient_id": PID, "observed_at": when, **fields})


def icans(day: int, ice: int) -> IcansObservationRow:
    when = dt.datetime.combine(INFUSION + dt.timedelta(days=day), dt.time(9))
    return IcansObservationRow.model_validate(
        {"patient_id": PID, "observed_at": when, "age_years": 60, "ice_score": ice}
    )


def dose(day: int, agent: str = "tocilizumab", indication: str = "crs") -> TreatmentRow:
    when = dt.datetime.combine(INFUSION + dt.timedelta(days=day), dt.time(10))
    return TreatmentRow.model_validate(
        {"patient_id": PID, "given_at": when, "agent": agent, "indication": indication}
    )


def event(day: int, kind: str, **extra: Any) -> FollowupRow:
    when = INFUSION + dt.timedelta(days=day)
    return FollowupRow.model_validate(
        {"patient_id": PID, "event_date": when, "event": kind, **extra}
    )


def lab(day: int, anc: float, plt: float) -> LabRow:
    when = INFUSION + dt.timedelta(days=day)
    return LabRow.model_validate(
        {"patient_id": PID, "observed_at": when, "neutrophils_10e9_l": anc, "platelets_10e9_l": plt}
    )


def data(**rows: Any) -> CentreData:
    return CentreData(
        patients=(patient(),), cell_therapy=(course(),), **{k: tuple(v) for k, v in rows.items()}
    )


def form(d: CentreData, as_of: dt.date, name: str, timepoint: str) -> FormInstance:
    export = derive_registry(d, as_of)
    return next(f for f in export.forms if (f.form, f.timepoint) == (name, timepoint))


def value(f: FormInstance, key: str) -> Any:
    return next(v for v in f.values if v.element.key == key)


DAY100 = INFUSION + dt.timedelta(days=100)

# ----------------------------------------------------------------------------- forms due


def test_day_100_form_is_due_on_day_100_not_day_99() -> None:
    before = forms_due(INFUSION, DAY100 - dt.timedelta(days=1), None)
    on = forms_due(INFUSION, DAY100, None)
    assert [d.timepoint for d in before if d.form == "4100"] == []
    assert [d.timepoint for d in on if d.form == "4100"] == ["100d"]
    assert {d.form for d in before} == {"4000", "4003", "4006"}


def test_yearly_forms_after_the_first_year() -> None:
    as_of = INFUSION + dt.timedelta(days=365 * 3)
    labels = [d.timepoint for d in forms_due(INFUSION, as_of, None) if d.form == "4100"]
    assert labels == ["100d", "6m", "1y", "2y", "3y"]
    short = INFUSION + dt.timedelta(days=365 * 3 - 1)
    assert [d.timepoint for d in forms_due(INFUSION, short, None)][-1] == "2y"


def test_no_form_before_the_infusion_or_without_one() -> None:
    assert forms_due(None, DAY100, None) == []
    assert forms_due(INFUSION, INFUSION - dt.timedelta(days=1), None) == []
    assert len(forms_due(INFUSION, INFUSION, None)) == 3


def test_death_brings_the_period_form_and_the_death_form_and_stops_follow_up() -> None:
    death = INFUSION + dt.timedelta(days=40)
    due = forms_due(INFUSION, INFUSION + dt.timedelta(days=60), death)
    assert [(d.form, d.timepoint, d.due) for d in due if d.form in ("4100", "2900")] == [
        ("4100", "100d", death),
        ("2900", "death", death),
    ]
    later = forms_due(INFUSION, INFUSION + dt.timedelta(days=800), death)
    assert [d.timepoint for d in later if d.form == "4100"] == ["100d"]


# ----------------------------------------------------------------------------- CRS


def test_crs_maximum_grade_from_the_observations() -> None:
    rows = [
        crs(1, temperature_c=38.5),
        crs(2, temperature_c=39.0, hypotension=True),
        crs(3, temperature_c=37.0),
    ]
    f = form(data(crs_observations=rows), DAY100, "4100", "100d")
    assert value(f, "crs").value == "Yes"
    grade = value(f, "crs_maximum_grade")
    assert (grade.status, grade.value) == (Status.PRESENT, "2")
    assert "crs_observations row 2" in grade.provenance
    onset = value(f, "crs_date_of_diagnosis")
    assert onset.value == (INFUSION + dt.timedelta(days=1)).isoformat()


def test_tocilizumab_in_week_1_does_not_make_day_30_hypotension_without_fever_crs() -> None:
    # Each observation graded within its own episode (clinical.episodes.grade_by_episode, as
    # ADaM and the web app): day 30 is more than 7 days after the resolution on day 3, a new
    # episode where fever is still required.
    week_1 = [
        crs(2, temperature_c=38.9, antipyretic_or_anticytokine_given=True),
        crs(3, temperature_c=37.0),
    ]
    for day_30, grade in (({"temperature_c": 37.0}, "1"), ({"temperature_c": 38.6}, "2")):
        rows = [*week_1, crs(30, hypotension=True, **day_30)]
        f = form(data(crs_observations=rows), DAY100, "4100", "100d")
        assert value(f, "crs_maximum_grade").value == grade, day_30
    # Within 7 days of the resolution (day 10): the same episode, therapy carried forward.
    rows = [*week_1, crs(10, temperature_c=37.0, hypotension=True)]
    f = form(data(crs_observations=rows), DAY100, "4100", "100d")
    assert value(f, "crs_maximum_grade").value == "2"


def test_not_gradable_observations_are_never_no_crs_nor_grade_0() -> None:
    rows = [crs(1, temperature_c=37.0), crs(2, hypotension=True)]  # [1]: no temperature
    f = form(data(crs_observations=rows), DAY100, "4100", "100d")
    for key in ("crs", "crs_date_of_diagnosis", "crs_maximum_grade"):
        v = value(f, key)
        assert v.status is Status.MISSING, key
        assert v.value == ""
    assert "not gradable" in value(f, "crs").provenance


def test_not_gradable_beside_a_grade_keeps_the_maximum_missing() -> None:
    rows = [crs(1, temperature_c=38.4), crs(2, hypotension=True)]
    f = form(data(crs_observations=rows), DAY100, "4100", "100d")
    assert value(f, "crs").value == "Yes"  # grade 1 is certain
    assert value(f, "crs_maximum_grade").status is Status.MISSING  # may be higher


def test_all_grade_0_is_no_crs_and_the_onset_is_not_applicable() -> None:
    f = form(data(crs_observations=[crs(1, temperature_c=37.0)]), DAY100, "4100", "100d")
    assert (value(f, "crs").status, value(f, "crs").value) == (Status.PRESENT, "No")
    for key in ("crs_date_of_diagnosis", "crs_maximum_grade", "crs_therapy_given"):
        assert value(f, key).status is Status.NOT_APPLICABLE


def test_no_observation_in_the_period_is_missing_not_no() -> None:
    f = form(data(), DAY100, "4100", "100d")
    assert value(f, "crs").status is Status.MISSING
    assert value(f, "icans").status is Status.MISSING


def test_crs_therapy_from_doses_in_the_period() -> None:
    rows = [crs(1, temperature_c=39.0)]
    with_dose = form(
        data(crs_observations=rows, treatments=[dose(1), dose(2)]), DAY100, "4100", "100d"
    )
    assert value(with_dose, "crs_therapy_given").value == "Yes"
    assert value(with_dose, "crs_therapy").value == "tocilizumab ×2"
    without = form(data(crs_observations=rows), DAY100, "4100", "100d")
    assert value(without, "crs_therapy_given").status is Status.MISSING  # not "No"


def test_icans_grade_and_period_split() -> None:
    rows = [icans(3, 5), icans(120, 10)]
    as_of = INFUSION + dt.timedelta(days=180)
    first = form(data(icans_observations=rows), as_of, "4100", "100d")
    second = form(data(icans_observations=rows), as_of, "4100", "6m")
    assert value(first, "icans_maximum_grade").value == "2"  # ICE 5 → grade 2
    assert value(second, "icans").value == "No"


# ----------------------------------------------------------------------------- survival


def test_death_gives_dead_and_the_death_form() -> None:
    rows = [event(40, "death", death_cause="infection")]
    export = derive_registry(data(followup=rows), INFUSION + dt.timedelta(days=50))
    f100 = next(f for f in export.forms if f.form == "4100")
    assert value(f100, "survival_status").value == "Dead"
    assert value(f100, "date_of_contact").value == (INFUSION + dt.timedelta(days=40)).isoformat()
    f2900 = next(f for f in export.forms if f.form == "2900")
    assert value(f2900, "date_of_death").value == (INFUSION + dt.timedelta(days=40)).isoformat()
    assert value(f2900, "primary_cause_of_death").value == "infection"


def test_alive_needs_a_contact() -> None:
    none = form(data(), DAY100, "4100", "100d")
    assert value(none, "survival_status").status is Status.MISSING
    seen = form(data(followup=[event(95, "last_contact")]), DAY100, "4100", "100d")
    assert value(seen, "survival_status").value == "Alive"
    assert "within" in value(seen, "date_of_contact").provenance


def test_subsequent_therapy_yes_no_and_missing() -> None:
    as_of = INFUSION + dt.timedelta(days=200)
    yes = form(
        data(followup=[event(50, "new_therapy", detail="pirtobrutinib")]), as_of, "4100", "100d"
    )
    assert value(yes, "subsequent_therapy").value == "Yes"
    followed = form(data(followup=[event(150, "last_contact")]), as_of, "4100", "100d")
    assert value(followed, "subsequent_therapy").value == "No"
    unknown = form(data(followup=[event(90, "last_contact")]), as_of, "4100", "100d")
    assert value(unknown, "subsequent_therapy").status is Status.MISSING


# ----------------------------------------------------------------------------- cytopenia


def test_prolonged_cytopenia_at_day_28_on_both_sides_of_grade_3() -> None:
    yes = form(data(labs=[lab(28, 0.4, 100)]), DAY100, "4100", "100d")  # ANC <0.5: grade 4
    assert value(yes, "prolonged_cytopenia").value == "Yes"
    no = form(data(labs=[lab(28, 1.2, 100)]), DAY100, "4100", "100d")  # grade 2 at most
    assert value(no, "prolonged_cytopenia").value == "No"
    outside = form(data(labs=[lab(36, 0.4, 100)]), DAY100, "4100", "100d")  # day 36 > 28+7
    assert value(outside, "prolonged_cytopenia").status is Status.MISSING
    edge = form(data(labs=[lab(35, 0.4, 100)]), DAY100, "4100", "100d")  # day 35 = 28+7
    assert value(edge, "prolonged_cytopenia").value == "Yes"


def test_prolonged_cytopenia_after_an_early_death_is_not_applicable() -> None:
    early = data(followup=[event(20, "death", death_cause="crs")])
    assert value(form(early, DAY100, "4100", "100d"), "prolonged_cytopenia").status is (
        Status.NOT_APPLICABLE
    )
    late = data(followup=[event(21, "death", death_cause="crs")])  # day 21 is in the window
    assert value(form(late, DAY100, "4100", "100d"), "prolonged_cytopenia").status is (
        Status.MISSING
    )


# ----------------------------------------------------------------------------- pre-infusion


def test_pre_infusion_values_and_not_collected() -> None:
    f = form(data(), DAY100, "4000", "infusion")
    assert value(f, "sex").value == "Female"
    assert value(f, "date_of_birth").status is Status.NOT_COLLECTED
    assert value(f, "date_of_diagnosis").status is Status.MISSING
    infusion = form(data(), DAY100, "4006", "infusion")
    assert value(infusion, "infusion_date").value == INFUSION.isoformat()


def test_every_element_has_a_source_and_no_guessed_number() -> None:
    for e in ELEMENTS:
        assert e.form in FORMS and e.source.startswith("https://")
        if not e.verified:
            # an UNVERIFIED element may carry no number read from nowhere
            assert e.question is None, e


# ----------------------------------------------------------------------------- files


def test_files_and_manifest_hashes(tmp_path: Path) -> None:
    export = derive_registry(data(crs_observations=[crs(1, temperature_c=38.5)]), DAY100)
    files = registry_files(export, "C")
    assert sorted(files) == ["README.txt", "completeness.csv", "elements.csv", "manifest.json"]
    manifest = json.loads(files["manifest.json"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest
    assert manifest["unverified_elements"] == sum(1 for e in ELEMENTS if not e.verified)
    out = tmp_path / "out"
    write_folder(files, out)
    assert (out / "elements.csv").read_bytes() == files["elements.csv"]
    with pytest.raises(ExportFolderError):
        write_folder(files, out)
    write_folder(files, out, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_crs_episode_running_into_the_next_period_was_reported_there() -> None:
    # grade ≥1 from day 99 to day 102: the 6-month form's CRS began in the 100-day period
    rows = [crs(99, temperature_c=38.5), crs(102, temperature_c=38.6)]
    as_of = INFUSION + dt.timedelta(days=180)
    first = form(data(crs_observations=rows), as_of, "4100", "100d")
    second = form(data(crs_observations=rows), as_of, "4100", "6m")
    assert value(first, "crs_date_previously_reported").value == "No"
    assert value(first, "crs_date_of_diagnosis").value == (INFUSION + dt.timedelta(99)).isoformat()
    assert value(second, "crs").value == "Yes"
    assert value(second, "crs_date_previously_reported").value == "Yes"
    assert value(second, "crs_date_of_diagnosis").status is Status.NOT_APPLICABLE
    # resolved (grade 0) and CRS again more than 7 days later: a new episode (ADaM's rule,
    # adam.adae.split_episodes); 7 days or fewer: the same episode
    for again, previously in ((104, "No"), (103, "Yes")):
        rows = [crs(95, temperature_c=38.5), crs(96, temperature_c=37.0),
                crs(again, temperature_c=38.6)]  # fmt: skip
        later = form(data(crs_observations=rows), as_of, "4100", "6m")
        assert value(later, "crs_date_previously_reported").value == previously, again
    assert value(later, "crs_date_of_diagnosis").status is Status.NOT_APPLICABLE
