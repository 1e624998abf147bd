"""Network aggregates for the reviewer: counts and rates per centre and pooled, no rows.

Rates are exact (Clopper–Pearson) binomial intervals from ``cartwatch.outcomes.rates``.
Small cells are suppressed with ``cartwatch.outcomes.disclosure`` (counts 1–4 read "<5", and
complementary cells are hidden so no total reveals one), over the whole table at once: every
centre and the pooled row, every count and every count a reader could derive (infused minus
CRS any grade, …).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max

from cartwatch.outcomes.disclosure import RULE, THRESHOLD, Cell, suppress
from cartwatch.web.access import Actor, Perm
from cartwatch.web.centres.models import Centre
from cartwatch.web.patients import models as m

#: Per infused patient: the worst stored grade of one syndrome as a category.
NONE, LOW, HIGH = "none", "g1_2", "g3plus"  # no CRS/ICANS (or grade 0), grade 1–2, grade ≥3
CATEGORIES = (NONE, LOW, HIGH)
#: The rates of the table: (key, syndrome, categories counted).
RATES = (
    ("crs_any", "crs", (LOW, HIGH)),
    ("crs_grade_3_plus", "crs", (HIGH,)),
    ("icans_any", "icans", (LOW, HIGH)),
    ("icans_grade_3_plus", "icans", (HIGH,)),
)
POOLED = "(pooled)"  # not a valid centre code (a slug), so no clash


def _category(grade: int | None) -> str:
    if grade is None or grade < 1:
        return NONE
    return HIGH if grade >= 3 else LOW


def _atoms(centre: Centre) -> dict[str, int]:
    """The centre's patients split into disjoint counts: not infused, and infused by worst
    CRS × worst ICANS category (never shown; suppression works on them)."""
    patients = m.Patient.objects.filter(centre=centre)
    infused_ids = set(
        m.CellTherapy.objects.filter(patient__in=patients)
        .exclude(infusion_date=None)
        .values_list("patient_id", flat=True)
    )

    def worst(model: type[m.CrsAssessment] | type[m.IcansAssessment]) -> dict[int, int]:
        rows = model.objects.filter(patient_id__in=infused_ids).values("patient_id")
        return {r["patient_id"]: r["g"] for r in rows.annotate(g=Max("grade"))}

    crs, icans = worst(m.CrsAssessment), worst(m.IcansAssessment)
    atoms = {f"{centre.code}|not_infused": patients.count() - len(infused_ids)}
    for c in CATEGORIES:
        for i in CATEGORIES:
            atoms[f"{centre.code}|crs={c}|icans={i}"] = 0
    for pid in infused_ids:
        atoms[f"{centre.code}|crs={_category(crs.get(pid))}|icans={_category(icans.get(pid))}"] += 1
    return atoms


def _counts_of(
    scope: str, atoms: list[str]
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(published, derived) counts of one scope (a centre code or pooled) over its atoms."""

    def where(**wanted: tuple[str, ...]) -> frozenset[str]:
        # "A|crs=none|icans=g1_2" → {"crs": "none", "icans": "g1_2"}; not_infused has none.
        found = set()
        for atom in atoms:
            parts = dict(p.split("=") for p in atom.split("|")[1:] if "=" in p)
            if parts and all(parts[key] in allowed for key, allowed in wanted.items()):
                found.add(atom)
        return frozenset(found)

    infused = where()
    published = {f"{scope}.patients": frozenset(atoms), f"{scope}.infused": infused}
    derived = {f"{scope}.not_infused": frozenset(atoms) - infused}
    for key, syndrome, counted in RATES:
        k = where(**{syndrome: counted})
        published[f"{scope}.{key}"] = k
        derived[f"{scope}.{key}.complement"] = infused - k  # infused patients not counted
    for syndrome in ("crs", "icans"):
        derived[f"{scope}.{syndrome}.grade_1_2"] = where(**{syndrome: (LOW,)})
    return published, derived


def _rate(k: int | str, n: int | str) -> dict[str, Any]:
    from cartwatch.outcomes.rates import clopper_pearson

    if not isinstance(k, int) or not isinstance(n, int) or n == 0:
        return {"k": k, "n": n, "rate": None, "ci": None, "method": "clopper-pearson"}
    est = clopper_pearson(k, n)
    return {"k": k, "n": n, "rate": est.rate, "ci": list(est.ci), "method": est.method}


def _row(scope: str, cells: dict[str, Cell]) -> dict[str, Any]:
    shown = {name.split(".", 1)[1]: cell.display for name, cell in cells.items()
             if name.startswith(f"{scope}.")}  # fmt: skip
    row: dict[str, Any] = {"patients": shown["patients"], "infused": shown["infused"]}
    for key, _, _ in RATES:
        row[key] = _rate(shown[key], shown["infused"])
    return row


def network_aggregates(actor: Actor) -> dict[str, Any]:
    """Counts and rates per centre and pooled, with small cells suppressed
    (``cartwatch.outcomes.disclosure``: 1–4 read "<5", complementary cells "suppressed")."""
    actor.require(Perm.NETWORK_AGGREGATES)
    centres = list(Centre.objects.order_by("code"))
    atoms: dict[str, int] = {}
    published: dict[str, frozenset[str]] = {}
    derived: dict[str, frozenset[str]] = {}
    scopes: list[tuple[str, list[str]]] = []
    for centre in centres:
        own = _atoms(centre)
        atoms.update(own)
        scopes.append((centre.code, list(own)))
    for scope, members in [*scopes, (POOLED, list(atoms))]:
        shown, implied = _counts_of(scope, members)
        published.update(shown)
        derived.update(implied)
    cells = suppress(atoms, published, derived)
    return {
        "centres": [{"centre": c.code, **_row(c.code, cells)} for c in centres],
        "pooled": _row(POOLED, cells),
        "standard": "ASTCT 2019 (stored grades); rates: clopper-pearson 95%",
        "suppression": {"threshold": THRESHOLD, "rule": RULE},
    }
