"""ADRS: iwCLL 2018 response per assessment, best overall response and MRD (BDS).

Every response comes from ``clinical.iwcll.assess_response`` (baseline = the patient's
``baseline`` assessment; nadir = the smallest node SPD, spleen and B-lymphocyte count recorded
so far, baseline included, for "PD from response"; ``bcr_inhibitor_ongoing`` of the row);
BOR from ``iwcll.best_overall_response``; MRD status from ``iwcll.classify_mrd``. AVALC is the
response as iwCLL names it, PR-L included; AVAL its ``metadata.RESPONSE_AVAL`` code; first
response (ADTTE DOR) counts CR, CRi, PR and PR-L. Conventions: :mod:`cartwatch.adam.derive`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from cartwatch.adam.common import Subjects, join_reasons
from cartwatch.adam.metadata import RESPONSE_AVAL
from cartwatch.centre.loader import CentreData
from cartwatch.centre.records import MrdRow, ResponseAssessmentRow
from cartwatch.clinical import iwcll

PARCAT1 = iwcll.STANDARD  # "iwCLL 2018"
RESPONDER = iwcll.RESPONDERS  # CR, CRi, PR and PR-L (metadata.RESPONDER_AVALC)
UMRD4_OR_BETTER = frozenset({iwcll.MrdStatus.UMRD4, iwcll.MrdStatus.UMRD5, iwcll.MrdStatus.UMRD6})

PARAMS: Mapping[str, str] = {
    "OVRLRESP": "Overall Response by Investigator (iwCLL 2018)",
    "BOR": "Best Overall Response (iwCLL 2018)",
    "MRDPB": "MRD Status in Peripheral Blood",
    "MRDBM": "MRD Status in Bone Marrow",
    "UMRD4PB": "uMRD4 or Better in Blood After Infusion",
    "UMRD4BM": "uMRD4 or Better in Marrow After Infusion",
}
_MRD_PARAM = {"blood": "MRDPB", "marrow": "MRDBM"}
_UMRD_PARAM = {"blood": "UMRD4PB", "marrow": "UMRD4BM"}
# "from baseline or nadir": node SPD and spleen [S41]; the B count (contract v2 item 4).
_NADIR_FIELDS = ("lymph_nodes_spd_cm2", "spleen_cm", "b_lymphocytes_10e9_l")


@dataclass
class ResponseSummary:
    """Per-patient results the other datasets need (ADTTE: PD, last adequate assessment)."""

    bor: dict[str, str] = field(default_factory=dict)
    first_response: dict[str, pd.Timestamp] = field(default_factory=dict)
    first_pd: dict[str, pd.Timestamp] = field(default_factory=dict)
    adequate: dict[str, list[pd.Timestamp]] = field(default_factory=dict)


class _Nadir:
    """Best state so far: the smallest node SPD, spleen and B count, each over the recorded values.

    Kept as a running minimum (one update per assessment) instead of a scan of the whole
    history before every assessment; the minimum over the same values is the same.
    """

    def __init__(self) -> None:
        self._best: dict[str, float] = {}

    def add(self, m: iwcll.Measurements) -> None:
        best = self._best
        for name in _NADIR_FIELDS:
            value = m.number(name)
            if value is not None and (name not in best or value < best[name]):
                best[name] = value

    def measurements(self) -> iwcll.Measurements:
        best = self._best
        return iwcll.Measurements(
            lymph_nodes_spd_cm2=best.get("lymph_nodes_spd_cm2"),
            spleen_cm=best.get("spleen_cm"),
            b_lymphocytes_10e9_l=best.get("b_lymphocytes_10e9_l"),
        )


def _records_for_patient(
    pid: str,
    baseline: ResponseAssessmentRow | None,
    posts: list[ResponseAssessmentRow],
    stop: pd.Timestamp,
    summary: ResponseSummary,
) -> list[dict[str, object]]:
    """OVRLRESP records and the BOR record of one infused patient."""
    rows: list[dict[str, object]] = []
    responses: list[tuple[iwcll.Response, pd.Timestamp]] = []
    # ``to_domain()`` is ``measurements()`` without MRD, minus a dataclasses.replace per row.
    first = baseline.to_domain() if baseline is not None else None
    nadir = _Nadir()
    if first is not None:
        nadir.add(first)
    for post in sorted(posts, key=lambda r: r.assessed_at):
        when = pd.Timestamp(post.assessed_at)
        current = post.to_domain()
        reasons: tuple[str, ...]
        if first is None:
            response, reasons = iwcll.Response.NE, ("NE: no baseline assessment to compare with",)
        else:
            result = iwcll.assess_response(
                first,
                current,
                nadir.measurements(),
                bcr_inhibitor_ongoing=post.bcr_inhibitor_ongoing,
            )
            response, reasons = result.response, result.reasons
        nadir.add(current)
        # ANL01FL: assessments before new anticancer therapy, up to and including first PD.
        used = when < stop and not any(r is iwcll.Response.PD for r, _ in responses)
        if used:
            responses.append((response, when))
        rows.append(_record(pid, "OVRLRESP", response.value, when, reasons, used))
    best = iwcll.best_overall_response([r for r, _ in responses])
    summary.bor[pid] = best.value
    bor_date = next((w for r, w in responses if r is best), pd.NaT)
    why = (f"best of {len(responses)} assessment(s) before first PD/new therapy",)
    rows.append(_record(pid, "BOR", best.value, bor_date, why, True))
    hits = [w for r, w in responses if r in RESPONDER]
    if hits:
        summary.first_response[pid] = hits[0]
    pd_dates = [w for r, w in responses if r is iwcll.Response.PD]
    if pd_dates:
        summary.first_pd[pid] = pd_dates[0]
    summary.adequate[pid] = [w for r, w in responses if r is not iwcll.Response.NE]
    return rows


def _record(
    pid: str,
    paramcd: str,
    avalc: str,
    when: object,
    reasons: tuple[str, ...],
    used: bool,
    aval: float | None = None,
) -> dict[str, object]:
    if aval is None:
        aval = RESPONSE_AVAL.get(avalc, float("nan"))
    return {
        "patient_id": pid,
        "PARAMCD": paramcd,
        "PARAM": PARAMS[paramcd],
        "PARCAT1": PARCAT1,
        "AVALC": avalc,
        "AVAL": aval,
        "ADT": when,
        "ANL01FL": "Y" if used else "",
        "AVALREAS": join_reasons(reasons),
    }


def _mrd_records(
    rows: list[MrdRow], infusion: Mapping[str, pd.Timestamp]
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    best: dict[tuple[str, str], tuple[bool, str]] = {}
    for row in sorted(rows, key=lambda r: (r.patient_id, r.sampled_at)):
        result = iwcll.classify_mrd(row.to_domain())
        sample = str(row.sample.value)
        when = pd.Timestamp(row.sampled_at)
        day = infusion.get(row.patient_id)
        post = day is not None and when > day
        level = float("nan") if row.level is None else float(row.level)
        out.append(
            _record(
                row.patient_id,
                _MRD_PARAM[sample],
                result.status.value,
                when,
                result.reasons,
                post,
                level,
            )
        )
        if post:
            key = (row.patient_id, sample)
            hit = result.status in UMRD4_OR_BETTER
            if key not in best or (hit and not best[key][0]):
                best[key] = (hit, f"{result.status.value} on {when.date().isoformat()}")
    for pid in sorted(infusion):
        for sample, paramcd in _UMRD_PARAM.items():
            hit, why = best.get((pid, sample), (False, f"no post-infusion {sample} MRD sample"))
            out.append(_record(pid, paramcd, "Y" if hit else "N", pd.NaT, (why,), True, 0.0))
            out[-1]["AVAL"] = 1.0 if hit else 0.0
    return out


def derive_adrs_records(
    data: CentreData,
    subjects: Subjects,
    new_therapy: Mapping[str, pd.Timestamp],
) -> tuple[pd.DataFrame, ResponseSummary]:
    """Long ADRS records keyed by ``patient_id`` (identifiers are added by ``derive``)."""
    infusion = subjects.infusion()
    baselines: dict[str, ResponseAssessmentRow] = {}
    posts: dict[str, list[ResponseAssessmentRow]] = {}
    for row in data.response_assessments:
        if row.timepoint.value == "baseline":
            baselines[row.patient_id] = row
        else:
            posts.setdefault(row.patient_id, []).append(row)
    summary = ResponseSummary()
    records: list[dict[str, object]] = []
    for pid in sorted(infusion):
        stop = new_therapy.get(pid, pd.Timestamp.max)
        if pd.isna(stop):
            stop = pd.Timestamp.max
        records += _records_for_patient(pid, baselines.get(pid), posts.get(pid, []), stop, summary)
    records += _mrd_records(list(data.mrd), infusion)
    frame = pd.DataFrame.from_records(records, columns=list(_COLUMNS))
    # No records (nobody infused by the cut-off) would leave ADT an object column, which the
    # study-day arithmetic refuses; with records it is datetime64 already (a no-op).
    frame["ADT"] = frame["ADT"].astype("datetime64[ns]")
    return frame, summary


_COLUMNS = (
    "patient_id",
    "PARAMCD",
    "PARAM",
    "PARCAT1",
    "AVALC",
    "AVAL",
    "ADT",
    "ANL01FL",
    "AVALREAS",
)
