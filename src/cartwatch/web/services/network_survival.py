"""Pooled PFS and OS for the network reviewer, by centre and overall, from federated shares.

Each centre's data is reduced on the server to the share a centre would send
(``cartwatch.interop.federated``: per endpoint, the distinct times in months with their
events and censorings, in the efficacy population of the centre's ADaM derivation); the
overall row is the exact pool of those shares (the same numbers ``cartwatch federated
pool`` prints, equal to a Kaplan–Meier fit of the pooled rows). No row leaves the centre's
derivation.

Small cells (``cartwatch.outcomes.disclosure``, the rule of the network table): the subject
and event counts of every centre and of the pool are suppressed together (1–4 read "<5",
complementary cells "suppressed", including the censored counts a reader could derive), and
a median and its CI are shown only where the subject count is shown — a median of fewer
than five patients is one patient's follow-up time.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import pydantic

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.outcomes.disclosure import RULE, Cell, Status, suppress
from cartwatch.web.access import Actor, Perm
from cartwatch.web.audit.models import AuditEvent
from cartwatch.web.centres.models import Centre
from cartwatch.web.patients import models as m
from cartwatch.web.services.exports import rows_of

logger = logging.getLogger(__name__)
ENDPOINTS = ("PFS", "OS")
CONF_TYPE = "log-log"
OVERALL = "(overall)"  # not a centre code (a slug)


@dataclass
class EndpointTable:
    paramcd: str
    label: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # centres then the overall row


@dataclass
class NetworkSurvival:
    endpoints: list[EndpointTable]
    problems: list[str]  # centres whose data could not be derived, in words
    method: str
    suppression: str


_cache: dict[str, tuple[int, dict[str, Any]]] = {}
_lock = threading.Lock()


def _stamp(code: str) -> int:
    last = AuditEvent.objects.filter(centre=code).order_by("-id").first()
    return last.pk if last else 0


def _centre_shares(centre: Centre) -> dict[str, Any]:
    """{paramcd: share dict, "_labels": {paramcd: label}} or {"_problem": text}; cached per
    centre until its next audited change."""
    stamp = _stamp(centre.code)
    with _lock:
        hit = _cache.get(centre.code)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    result = _derive_shares(centre)
    with _lock:
        _cache[centre.code] = (stamp, result)
    return result


def _derive_shares(centre: Centre) -> dict[str, Any]:
    from cartwatch.adam.derive import derive_adam
    from cartwatch.interop.federated import Analysis, make_share, sha256_of
    from cartwatch.outcomes import tables as t

    patients = m.Patient.objects.filter(centre=centre)
    if not patients.exists():
        return {"_labels": {}}
    try:
        data = rows_of(patients, identifiable=False)
        ds = derive_adam(data)
    except (pydantic.ValidationError, ClinicalInputError, ValueError, KeyError) as exc:
        logger.error("network survival, centre %s: %s", centre.code, exc)
        return {"_problem": f"centre {centre.code}: its outcome data could not be derived"}
    eff = t.primary_efficacy_flag(ds.adsl)
    out: dict[str, Any] = {"_labels": {}}
    for d in t.tte_data(ds.adsl, ds.adrs, ds.adtte, eff):
        if d.paramcd not in ENDPOINTS or d.months.size == 0:
            continue
        analysis = Analysis(source="adam", time="AVAL / 30.4375 (months)", event="CNSR == 0",
                            param=d.paramcd, group=None)  # fmt: skip
        source = json.dumps([d.months.tolist(), d.event.tolist()]).encode()
        out[d.paramcd] = make_share(
            d.months, d.event, None, centre=centre.code, source_sha256=sha256_of(source),
            analysis=analysis,
        )  # fmt: skip
        out["_labels"][d.paramcd] = d.label
    return out


def _counts(share: dict[str, Any]) -> tuple[int, int]:
    group = share["groups"][0]
    return int(sum(group["events"])), int(sum(group["censored"]))


def _median_cells(result: dict[str, object]) -> dict[str, Any]:
    from cartwatch.outcomes.km_quantiles import display

    group = result["groups"][0]  # type: ignore[index]
    (lo, hi), (lo_status, hi_status) = group["ci"], group["ci_status"]

    def months(value: float) -> str:
        return f"{value:.1f}"

    return {
        "median": group["median"],
        "ci": group["ci"],
        "median_text": f"{display(group['median'], group['median_status'], months)} "
        f"({display(lo, lo_status, months)}, {display(hi, hi_status, months)})",
    }


def _table(paramcd: str, label: str, shares: dict[str, dict[str, Any]]) -> EndpointTable:
    from cartwatch.interop.federated import parse_share, pool

    atoms: dict[str, int] = {}
    published: dict[str, frozenset[str]] = {}
    derived: dict[str, frozenset[str]] = {}
    for code, share in shares.items():
        events, censored = _counts(share)
        atoms[f"{code}|event"], atoms[f"{code}|censored"] = events, censored
    for scope in [*shares, OVERALL]:
        members = list(atoms) if scope == OVERALL else [f"{scope}|event", f"{scope}|censored"]
        ev = frozenset(a for a in members if a.endswith("|event"))
        published[f"{scope}.n"] = frozenset(members)
        published[f"{scope}.events"] = ev
        derived[f"{scope}.censored"] = frozenset(members) - ev
    cells = suppress(atoms, published, derived)
    parsed = {code: parse_share(json.dumps(s), code) for code, s in shares.items()}
    table = EndpointTable(paramcd, label)
    for scope in [*shares, OVERALL]:
        n_cell: Cell = cells[f"{scope}.n"]
        row: dict[str, Any] = {
            "centre": "Overall" if scope == OVERALL else scope,
            "n": n_cell.display,
            "events": cells[f"{scope}.events"].display,
            "median": None,
        }
        if n_cell.status is Status.SHOWN:
            chosen = list(parsed.items()) if scope == OVERALL else [(scope, parsed[scope])]
            row.update(_median_cells(pool(chosen, CONF_TYPE)))
        table.rows.append(row)
    return table


def network_survival(actor: Actor) -> NetworkSurvival:
    actor.require(Perm.NETWORK_AGGREGATES)
    problems: list[str] = []
    by_endpoint: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in ENDPOINTS}
    labels: dict[str, str] = {}
    for centre in Centre.objects.order_by("code"):
        shares = _centre_shares(centre)
        if "_problem" in shares:
            problems.append(shares["_problem"])
            continue
        labels.update(shares["_labels"])
        for paramcd in ENDPOINTS:
            if paramcd in shares:
                by_endpoint[paramcd][centre.code] = shares[paramcd]
    tables = [_table(p, labels[p], by_endpoint[p]) for p in ENDPOINTS if by_endpoint[p]]
    from cartwatch.interop.federated import POOLING

    method = (
        f"Kaplan–Meier in months, efficacy population, {CONF_TYPE} 95% CI, median as R "
        f"print(survfit); overall: {POOLING}"
    )
    return NetworkSurvival(tables, problems, method, RULE)
