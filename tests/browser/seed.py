"""Seed a fresh cartwatch installation for the browser tests (run as a script).

Environment: CARTWATCH_DATA_DIR (the server's data dir; SQLite). Creates centres A and B,
one user per role the scenarios need (password PASSWORD), and patients:

* A-001: infused 6 days ago, a CRS episode treated with tocilizumab, a grade-1 ICANS
  treated with dexamethasone, falling counts — the README's timeline screenshot;
* A-002: infused yesterday, no assessment yet — the nurse records the febrile patient;
* A-005: infused 4 days ago, nothing recorded — the data manager imports its EHR bundle
  (test_fhir_import_page.py);
* B-001 at centre B (physician_b's own patient).

Everything goes through the same service functions the pages use, so grades are the
engines' and the audit log is complete.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

PASSWORD = "correct-horse-battery-42"
USERS = {
    "nurse_a": ("nurse", "A"),
    "physician_a": ("physician", "A"),
    "data_manager_a": ("data_manager", "A"),
    "researcher_a": ("researcher", "A"),
    "admin_a": ("centre_admin", "A"),
    "physician_b": ("physician", "B"),
    "reviewer": ("network_reviewer", None),
}


def at(day: dt.date, offset: int, hour: int = 8) -> str:
    return dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(hour)).isoformat()


def seed() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartwatch.web.settings")
    from cartwatch.web import commands

    commands.setup()
    commands.migrate()
    from django.utils import timezone

    from cartwatch.web.access import resolve_actor
    from cartwatch.web.centres.models import Centre
    from cartwatch.web.services import records

    Centre.objects.get_or_create(code="A", defaults={"name": "Centre A (university hospital)"})
    Centre.objects.get_or_create(code="B", defaults={"name": "Centre B (regional centre)"})
    users: dict[str, Any] = {}
    for name, (role, centre) in USERS.items():
        commands.create_user(name, PASSWORD, role, centre)
        from django.contrib.auth import get_user_model

        users[name] = resolve_actor(get_user_model().objects.get(username=name))

    doc, kinds = users["physician_a"], records.KINDS
    today = timezone.localdate()
    inf = today - dt.timedelta(days=6)

    def add(actor: Any, kind: str, patient: Any, **row: Any) -> None:
        records.create_record(actor, kinds[kind], patient, row)

    p1 = records.create_patient(
        doc,
        {"patient_id": "A-001", "hospital_number": "MRN-0042", "age_years": 67, "sex": "F",
         "diagnosis": "CLL", "ecog": 1, "del17p": True, "consent_research": True},
    )  # fmt: skip
    add(doc, "prior-lines", p1, line_number=1, agents=["ibrutinib"], outcome="progression")
    add(doc, "prior-lines", p1, line_number=2, agents=["venetoclax", "obinutuzumab"],
        outcome="refractory")  # fmt: skip
    records.create_eligibility(
        doc,
        p1,
        {"product": "liso-cel", "diagnosis": "CLL", "age_years": 67,
         "relapsed_or_refractory": True,
         "prior_lines": [{"agents": ["ibrutinib"]}, {"agents": ["venetoclax", "obinutuzumab"]}],
         "as_of": (today - dt.timedelta(days=40)).isoformat()},
    )  # fmt: skip
    add(doc, "cell-therapy", p1, product="liso-cel",
        apheresis_date=(today - dt.timedelta(days=35)).isoformat(),
        lymphodepletion_start=(inf - dt.timedelta(days=5)).isoformat(),
        lymphodepletion_regimen="fludarabine 30 mg/m2 + cyclophosphamide 300 mg/m2 x 3 days",
        infusion_date=inf.isoformat(), lot="LC-24-0117", dose_10e6_car_t_cells=100.0)  # fmt: skip
    crs_days: list[dict[str, Any]] = [
        {"temperature_c": 37.1},
        {"temperature_c": 38.4},
        {"temperature_c": 39.1, "hypotension": True},
        {"temperature_c": 38.2, "antipyretic_or_anticytokine_given": True,
         "oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 2},
        {"temperature_c": 37.4, "antipyretic_or_anticytokine_given": True},
        {"temperature_c": 36.9, "antipyretic_or_anticytokine_given": True},
        {"temperature_c": 36.8, "antipyretic_or_anticytokine_given": True},
    ]  # fmt: skip
    ice = [10, 10, 10, 9, 7, 9, 10]
    for day, crs in enumerate(crs_days):
        add(users["nurse_a"], "crs", p1, observed_at=at(inf, day), **crs)
        add(users["nurse_a"], "icans", p1, observed_at=at(inf, day, 9), age_years=67,
            ice_score=ice[day])  # fmt: skip
    add(doc, "treatments", p1, given_at=at(inf, 2, 14), agent="tocilizumab", indication="crs",
        dose=8, dose_unit="mg/kg")  # fmt: skip
    add(doc, "treatments", p1, given_at=at(inf, 3, 10), agent="tocilizumab", indication="crs",
        dose=8, dose_unit="mg/kg")  # fmt: skip
    add(doc, "treatments", p1, given_at=at(inf, 4, 12), agent="dexamethasone",
        indication="icans", dose=10, dose_unit="mg")  # fmt: skip
    for day, anc, plt in ((0, 1.2, 110), (2, 0.6, 92), (4, 0.3, 61), (6, 0.4, 48)):
        add(users["nurse_a"], "labs", p1, observed_at=at(inf, day, 6), neutrophils_10e9_l=anc,
            platelets_10e9_l=plt, hemoglobin_g_dl=9.8)  # fmt: skip

    def infused(
        patient: dict[str, Any], apheresis: int, infusion: int, lot: str, dose: float
    ) -> None:
        """A consenting patient infused *infusion* days ago, nothing recorded after it."""
        stored = records.create_patient(doc, {**patient, "consent_research": True})
        add(doc, "cell-therapy", stored, product="liso-cel", lot=lot, dose_10e6_car_t_cells=dose,
            apheresis_date=(today - dt.timedelta(days=apheresis)).isoformat(),
            infusion_date=(today - dt.timedelta(days=infusion)).isoformat())  # fmt: skip

    infused({"patient_id": "A-002", "hospital_number": "MRN-0077", "age_years": 71, "sex": "M",
             "diagnosis": "SLL"},
            apheresis=30, infusion=1, lot="LC-24-0133", dose=98.0)  # fmt: skip

    # Corrected in the browser scenarios (test_correction_scenarios.py), on its own so the
    # other scenarios' expectations about A-001 and A-002 hold whatever order tests run in.
    infused({"patient_id": "A-003", "hospital_number": "MRN-0091", "age_years": 62, "sex": "F",
             "diagnosis": "CLL"},
            apheresis=31, infusion=2, lot="LC-24-0150", dose=101.0)  # fmt: skip

    # Infused 120 days ago: its CIBMTR 100-day follow-up form is due (the registry pages).
    p4 = records.create_patient(
        doc,
        {"patient_id": "A-004", "hospital_number": "MRN-0104", "age_years": 64, "sex": "M",
         "diagnosis": "CLL", "ecog": 0, "diagnosis_date": "2016-04-11",
         "consent_research": True},
    )  # fmt: skip
    inf4 = today - dt.timedelta(days=120)
    add(doc, "prior-lines", p4, line_number=1, agents=["ibrutinib"], outcome="progression")
    add(doc, "prior-lines", p4, line_number=2, agents=["venetoclax"], outcome="progression")
    add(doc, "responses", p4, assessed_at=(inf4 - dt.timedelta(days=10)).isoformat(),
        timepoint="baseline", lymph_nodes_spd_cm2=42.0, lymphocytes_10e9_l=31.0,
        platelets_10e9_l=88.0, hemoglobin_g_dl=10.9, neutrophils_10e9_l=2.1)  # fmt: skip
    add(doc, "cell-therapy", p4, product="liso-cel",
        apheresis_date=(inf4 - dt.timedelta(days=30)).isoformat(),
        lymphodepletion_start=(inf4 - dt.timedelta(days=5)).isoformat(),
        lymphodepletion_regimen="fludarabine 30 mg/m2 + cyclophosphamide 300 mg/m2 x 3 days",
        infusion_date=inf4.isoformat(), lot="LC-24-0042", dose_10e6_car_t_cells=99.0)  # fmt: skip
    for day, crs in enumerate(
        (
            {"temperature_c": 37.0},
            {"temperature_c": 38.6},
            {"temperature_c": 39.0, "hypotension": True},
            {"temperature_c": 37.2, "antipyretic_or_anticytokine_given": True},
            {"temperature_c": 36.9, "antipyretic_or_anticytokine_given": True},
        )
    ):
        add(users["nurse_a"], "crs", p4, observed_at=at(inf4, day), **crs)
        add(users["nurse_a"], "icans", p4, observed_at=at(inf4, day, 9), age_years=64,
            ice_score=10)  # fmt: skip
    add(doc, "treatments", p4, given_at=at(inf4, 2, 15), agent="tocilizumab", indication="crs",
        dose=8, dose_unit="mg/kg")  # fmt: skip
    for day, anc, plt in ((0, 1.4, 95), (14, 0.4, 41), (28, 1.1, 62), (90, 1.9, 120)):
        add(users["nurse_a"], "labs", p4, observed_at=at(inf4, day, 6), neutrophils_10e9_l=anc,
            platelets_10e9_l=plt, hemoglobin_g_dl=10.4)  # fmt: skip
    add(doc, "responses", p4, assessed_at=(inf4 + dt.timedelta(days=90)).isoformat(),
        timepoint="post", lymph_nodes_spd_cm2=12.0, lymphocytes_10e9_l=2.2,
        platelets_10e9_l=120.0, hemoglobin_g_dl=11.6, neutrophils_10e9_l=1.9)  # fmt: skip
    add(doc, "followup", p4, event_date=(inf4 + dt.timedelta(days=98)).isoformat(),
        event="last_contact")  # fmt: skip

    # Its EHR export is imported on the FHIR import page (test_fhir_import_page.py).
    infused({"patient_id": "A-005", "hospital_number": "MRN-0123", "age_years": 69, "sex": "F",
             "diagnosis": "CLL"},
            apheresis=33, infusion=4, lot="LC-24-0161", dose=97.0)  # fmt: skip

    records.create_patient(
        users["physician_b"],
        {"patient_id": "B-001", "hospital_number": "B-MRN-9", "age_years": 58, "sex": "M",
         "diagnosis": "CLL", "consent_research": False},
    )  # fmt: skip


if __name__ == "__main__":
    seed()
