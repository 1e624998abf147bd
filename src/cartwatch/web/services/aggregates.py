"""Network aggregates for the reviewer: counts and rates per centre and pooled, no rows.

Rates are exact (Clopper–Pearson) binomial intervals from ``cartwatch.outcomes.rates``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max

from cartwatch.web.access import Actor, Perm
from cartwatch.web.centres.models import Centre
from cartwatch.web.patients import models as m


def _rate(k: int, n: int) -> dict[str, Any]:
    from cartwatch.outcomes.rates import clopper_pearson

    if n == 0:
        return {"k": 0, "n": 0, "rate": None, "ci": None, "method": "clopper-pearson"}
    est = clopper_pearson(k, n)
    return {"k": k, "n": n, "rate": est.rate, "ci": list(est.ci), "method": est.method}


def _centre_counts(centre: Centre | None) -> dict[str, Any]:
    patients = (
        m.Patient.objects.all() if centre is None else m.Patient.objects.filter(centre=centre)
    )
    infused_ids = set(
        m.CellTherapy.objects.filter(patient__in=patients)
        .exclude(infusion_date=None)
        .values_list("patient_id", flat=True)
    )
    n_infused = len(infused_ids)

    def max_grades(model: type[m.CrsAssessment] | type[m.IcansAssessment]) -> list[int]:
        rows = model.objects.filter(patient_id__in=infused_ids).values("patient_id")
        return [r["g"] for r in rows.annotate(g=Max("grade"))]

    crs, icans = max_grades(m.CrsAssessment), max_grades(m.IcansAssessment)
    return {
        "patients": patients.count(),
        "infused": n_infused,
        "crs_any": _rate(sum(g >= 1 for g in crs), n_infused),
        "crs_grade_3_plus": _rate(sum(g >= 3 for g in crs), n_infused),
        "icans_any": _rate(sum(g >= 1 for g in icans), n_infused),
        "icans_grade_3_plus": _rate(sum(g >= 3 for g in icans), n_infused),
    }


def network_aggregates(actor: Actor) -> dict[str, Any]:
    actor.require(Perm.NETWORK_AGGREGATES)
    return {
        "centres": [{"centre": c.code, **_centre_counts(c)} for c in Centre.objects.all()],
        "pooled": _centre_counts(None),
        "standard": "ASTCT 2019 (stored grades); rates: clopper-pearson 95%",
    }
