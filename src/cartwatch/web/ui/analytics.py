"""The centre dashboard's numbers: the report's tables, computed for the actor's centre.

Composition only, no statistics here: centre rows come from ``services.exports.centre_data``
(scoped to the actor's centre), ADaM from ``cartwatch.adam.derive``, and every number, CI and
method statement from ``cartwatch.outcomes.tables`` / ``survival`` / ``plots`` — the same
code the report and the CLI use. This belongs in the service layer (``services/analytics``)
once it exists; it lives here so the dashboard can ship.

Deriving ADaM for a centre takes a while, so the result is cached per centre and keyed by
the centre's latest audit event: any saved change (which always writes an audit event)
invalidates it.
"""

from __future__ import annotations

import io
import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Any

import pydantic

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.web.access import Actor, Perm
from cartwatch.web.audit.models import AuditEvent
from cartwatch.web.services import exports

logger = logging.getLogger(__name__)
CONF_TYPE = "log-log"  # the report's default KM CI transform (stated on every output)
KM_ENDPOINTS = ("PFS", "OS")


@dataclass
class Outcomes:
    tables: list[Any] = field(default_factory=list)  # cartwatch.outcomes.tables.Table
    km: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, title)
    population: str = ""
    data_cutoff: str = ""
    problem: str = ""
    n_patients: int = 0
    _derived: Any = None  # (AdamDatasets, efficacy flag) for the KM images


#: (centre code, research view?) → (stamp, outcomes): a researcher's numbers leave out the
#: patients without research consent, so they never share an entry with a clinician's.
_cache: dict[tuple[str, bool], tuple[int, Outcomes]] = {}
_lock = threading.Lock()


def _stamp(actor: Actor) -> int:
    assert actor.centre is not None
    last = AuditEvent.objects.filter(centre=actor.centre.code).order_by("-id").first()
    return last.pk if last else 0


def _compute(actor: Actor) -> Outcomes:
    from cartwatch.adam.derive import derive_adam
    from cartwatch.outcomes import tables as t

    try:
        data = exports.centre_data(actor)
    except pydantic.ValidationError as exc:
        logger.error("centre data for analytics: %s", exc)
        # A stored row the centre-format mapping cannot read back (a service bug): say so
        # rather than show numbers computed from part of the data.
        return Outcomes(
            problem=f"The centre's data could not be read for analysis: {exc.error_count()} "
            f"problem(s) mapping a stored {exc.title} back to the centre format "
            "(details in the server log)."
        )
    if not data.patients:
        return Outcomes(problem="No patients recorded at this centre yet.")
    try:
        ds = derive_adam(data)
    except (ClinicalInputError, ValueError, KeyError) as exc:
        return Outcomes(problem=f"The outcome analysis could not be derived: {exc}")
    eff = t.primary_efficacy_flag(ds.adsl)
    out = Outcomes(
        population=t.set_label(ds.adsl, eff),
        data_cutoff=ds.data_cutoff.isoformat(),
        n_patients=len(data.patients),
        _derived=(ds, eff),
    )
    out.tables.append(t.efficacy_table(ds.adsl, ds.adrs, eff))
    tte = t.tte_data(ds.adsl, ds.adrs, ds.adtte, eff)
    if tte:
        out.tables.append(t.tte_table(tte, ds.adsl, eff, CONF_TYPE))
    out.tables.append(t.crs_nt_table(ds.adsl, ds.adae))
    out.km = [(d.paramcd, d.label) for d in tte if d.paramcd in KM_ENDPOINTS]
    return out


def centre_outcomes(actor: Actor) -> Outcomes:
    actor.require(Perm.CENTRE_ANALYTICS)
    assert actor.centre is not None
    stamp = _stamp(actor)
    key = (actor.centre.code, actor.identifiable)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    result = _compute(actor)
    with _lock:
        _cache[key] = (stamp, result)
    return result


#: Tick spacings in whole months, finest first; at most MAX_TICKS intervals on the axis.
MONTH_STEPS = (1, 2, 3, 6, 12, 24)
MAX_TICKS = 8


def month_ticks(tmax: float) -> list[float]:
    """Whole-month ticks from 0 past the longest follow-up (*tmax*, months): the axis and
    the numbers-at-risk columns read "0 1 2 3" even with a few weeks of follow-up, never
    "0 0.2 0.4" or "2.5"."""
    for step in MONTH_STEPS:
        intervals = max(1, math.ceil(tmax / step - 1e-9))
        if intervals <= MAX_TICKS:
            return [float(step * i) for i in range(intervals + 1)]
    step = MONTH_STEPS[-1]
    return [float(step * i) for i in range(math.ceil(tmax / step) + 1)]


def km_png(actor: Actor, endpoint: str) -> bytes | None:
    """KM curves of *endpoint* (PFS or OS) by best response, as a PNG; None if no data."""
    from cartwatch.outcomes import tables as t
    from cartwatch.outcomes.plots import km_plot
    from cartwatch.outcomes.survival import kaplan_meier

    if endpoint not in KM_ENDPOINTS:
        return None
    outcomes = centre_outcomes(actor)
    if outcomes._derived is None:
        return None
    ds, eff = outcomes._derived
    code = actor.centre.code if actor.centre else ""
    for d in t.tte_data(ds.adsl, ds.adrs, ds.adtte, eff):
        if d.paramcd != endpoint:
            continue
        curves = {
            label: kaplan_meier(d.months[mask], d.event[mask], CONF_TYPE)
            for label, mask in t.groups_by_response(d).items()
        }
        tmax = max((float(k.time[-1]) for k in curves.values() if len(k.time)), default=0.0)
        fig = km_plot(
            curves,
            title=f"{d.label} by best overall response — centre {code}",
            xlabel=d.xlabel,
            width=8.0,
            risk_times=month_ticks(tmax),
        )
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        return buf.getvalue()
    return None
