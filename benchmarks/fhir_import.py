"""FHIR import throughput on a 100,000-resource Bundle, streamed, with its memory.

Run: ``.venv/bin/python benchmarks/fhir_import.py [resources]``. A seeded EHR-shaped
searchset Bundle (patients with 4-hourly temperatures in °F, daily blood counts in 10*3/uL
and g/L, norepinephrine and tocilizumab administrations) is written to a file, then read two
ways side by side:

* cartwatch: ``iter_entries`` (ijson stream) → ``plan_import`` (fhir.resources R4B
  validation of every resource, UCUM conversion, code tables, daily aggregation);
* baseline: ``json.load`` of the whole file and ``fhir.resources`` ``Bundle.model_validate``
  of the whole document (what a non-streaming importer does before it can map anything).

Each runs in a fresh process; prints resources per second and the peak resident memory
(ru_maxrss) of each, with what the process held before reading; the plan's
memory grows with the number of patient-days and blood draws, not with the file. The writes
to the database (one record per patient-day and per draw, audited) are not included.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from cartwatch.interop.fhir_bundle import iter_entries
from cartwatch.interop.fhir_import import plan_import

UCUM = "http://unitsofmeasure.org"


def _obs(rid: str, pid: str, loinc: str, when: str, value: float, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": rid, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": code, "system": UCUM, "code": code},
    }  # fmt: skip


def _administration(pid: str, date: str) -> dict[str, Any]:
    atc = {"system": "http://www.whocc.no/atc", "code": "L04AC07"}  # tocilizumab
    return {
        "resourceType": "MedicationAdministration",
        "id": f"{pid}-ma{date}",
        "status": "completed",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"coding": [atc]},
        "effectiveDateTime": f"{date}T10:00:00+02:00",
    }


def _resources(n: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(20261206)
    out: list[dict[str, Any]] = []
    patient = 0
    while len(out) < n:
        pid = f"P{patient:05d}"
        ident = {"system": "urn:cartwatch:patient-id", "value": pid}
        out.append({"resourceType": "Patient", "id": pid, "identifier": [ident]})
        for day in range(1, 29):
            date = f"2025-07-{day:02d}"
            for hour in range(0, 24, 4):
                temp = round(float(rng.normal(99.0, 1.2)), 1)
                when = f"{date}T{hour:02d}:00:00+02:00"
                out.append(_obs(f"{pid}-t{day}-{hour}", pid, "8310-5", when, temp, "[degF]"))
            when = f"{date}T07:00:00+02:00"
            anc = round(float(rng.gamma(2, 1)), 2)
            out.append(_obs(f"{pid}-n{day}", pid, "751-8", when, anc, "10*3/uL"))
            plt = float(rng.integers(5, 300))
            out.append(_obs(f"{pid}-p{day}", pid, "777-3", when, plt, "10*3/uL"))
            hb = float(rng.integers(60, 140))
            out.append(_obs(f"{pid}-h{day}", pid, "718-7", when, hb, "g/L"))
            if day in (2, 3):
                out.append(_administration(pid, date))
        patient += 1
    return out[:n]


def _run_one(mode: str, path: Path) -> None:
    """One mode in this (fresh) process: prints seconds and peak resident memory (MB)."""
    import resource

    from fhir.resources.R4B.bundle import Bundle

    from cartwatch.interop.fhir_units import convert

    convert(1.0, "[degF]", "Cel")  # build the UCUM registry (~3 s, once per process) first
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    with path.open("rb") as stream:
        if mode == "cartwatch":
            plan = plan_import(iter_entries(stream), "A")
            summary = f"{len(plan.days)} {len(plan.labs)} {len(plan.unmapped)}"
        else:
            Bundle.model_validate(json.load(stream))
            summary = "- - -"
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed} {peak} {base} {summary}")


def _spawn(mode: str, path: Path) -> tuple[float, float, float, list[str]]:
    import subprocess

    done = subprocess.run(
        [sys.executable, __file__, "--one", mode, str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    elapsed, peak, base, *rest = done.stdout.split()
    return float(elapsed), float(peak), float(base), rest


def main(n: int = 100_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.json"
        doc = {"resourceType": "Bundle", "type": "searchset",
               "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r}
                         for i, r in enumerate(_resources(n))]}  # fmt: skip
        path.write_text(json.dumps(doc))
        del doc
        size = path.stat().st_size / 1e6
        t_ours, mem_ours, base_ours, (days, labs, unmapped) = _spawn("cartwatch", path)
        t_base, mem_base, base_base, _ = _spawn("baseline", path)

    print(f"bundle: {n:,} resources, {size:.1f} MB")
    print(f"plan: {int(days):,} daily CRS drafts, {int(labs):,} lab records, "
          f"{int(unmapped):,} unmapped")  # fmt: skip
    print(
        f"cartwatch streamed import plan: {t_ours:.1f} s = {n / t_ours:,.0f} resources/s, "
        f"peak RSS {mem_ours:.0f} MB (after imports and the UCUM registry: {base_ours:.0f} MB)"
    )
    print(
        f"baseline json.load + Bundle.model_validate: {t_base:.1f} s = "
        f"{n / t_base:,.0f} resources/s, peak RSS {mem_base:.0f} MB (before: {base_base:.0f} MB)"
    )
    print(
        f"ratio (baseline / cartwatch): time {t_base / t_ours:.2f}, "
        f"peak memory {mem_base / mem_ours:.1f}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        _run_one(sys.argv[2], Path(sys.argv[3]))
    else:
        main(*[int(a) for a in sys.argv[1:2]])
