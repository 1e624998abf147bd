"""ADTTE: PFS, OS, DOR, time to CRS and to neurotoxicity (BDS-TTE).

Vectorised over subjects: each parameter is a choice between an event date and a censoring
date per patient, then ``AVAL = ADT - STARTDT + 1`` days. Rules: :mod:`cartwatch.adam.derive`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cartwatch.adam.adrs import ResponseSummary

PARAMS: Mapping[str, str] = {
    "PFS": "Progression-Free Survival (days)",
    "OS": "Overall Survival (days)",
    "DOR": "Duration of Response (days)",
    "TTCRS": "Time to CRS Onset (days)",
    "TTNT": "Time to Neurotoxicity Onset (days)",
}

_COLUMNS = (
    "patient_id",
    "PARAMCD",
    "PARAM",
    "STARTDT",
    "ADT",
    "CNSR",
    "EVNTDESC",
    "CNSDTDSC",
    "SRCDOM",
    "SRCVAR",
)


def _dates(values: Mapping[str, pd.Timestamp], index: pd.Index) -> pd.Series:
    return pd.Series(values, dtype="datetime64[ns]").reindex(index)


def _frame(
    paramcd: str,
    start: pd.Series,
    event_date: pd.Series,
    censor_date: pd.Series,
    event_text: pd.Series,
    censor_text: pd.Series,
    event_src: pd.Series,
    censor_src: pd.Series,
) -> pd.DataFrame:
    """Event when an event date exists, otherwise censored at the censoring date."""
    event = event_date.notna()
    out = pd.DataFrame(
        {
            "patient_id": start.index,
            "PARAMCD": paramcd,
            "PARAM": PARAMS[paramcd],
            "STARTDT": start.to_numpy(),
            "ADT": event_date.where(event, censor_date).to_numpy(),
            "CNSR": np.where(event, 0.0, 1.0),
            "EVNTDESC": event_text.where(event, censor_text).to_numpy(),
            "CNSDTDSC": np.where(event, "", censor_text.to_numpy()),
        }
    )
    src = event_src.where(event, censor_src)
    out["SRCDOM"] = [s.split(".")[0] for s in src]
    out["SRCVAR"] = [s.split(".")[1] for s in src]
    return out


def _pfs_parts(
    adsl: pd.DataFrame, resp: ResponseSummary, followup_pd: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, pd.Series, pd.Series]:
    """(event date, censor date, event text, censor text, event source, censor source)."""
    index = adsl.index
    start = adsl["TRTSDT"]
    assessed_pd = _dates(resp.first_pd, index)
    death = adsl["DTHDT"]
    nact = adsl["NACTDT"]
    progression = pd.concat([assessed_pd, followup_pd], axis=1).min(axis=1)
    event = pd.concat([progression, death], axis=1).min(axis=1)
    # New anticancer therapy before the event: censor (the event is no longer the CAR-T's).
    event = event.where(~(nact.notna() & (nact < event)))
    # A plain dict: indexing the Series once per patient costs more than the comparison.
    limit = nact.fillna(pd.Timestamp.max).to_dict()
    last_adequate = pd.Series(
        {
            pid: max((d for d in resp.adequate.get(pid, []) if d <= limit[pid]), default=pd.NaT)
            for pid in index
        },
        dtype="datetime64[ns]",
    ).reindex(index)
    censor = last_adequate.fillna(start)
    by_death = death.notna() & (event == death) & ~(progression <= death)
    by_assessment = assessed_pd.notna() & (event == assessed_pd)
    event_text = pd.Series(
        np.where(
            by_death,
            "Death",
            np.where(
                by_assessment,
                "Disease progression (iwCLL 2018)",
                "Disease progression (follow-up report)",
            ),
        ),
        index=index,
    )
    event_src = pd.Series(
        np.where(by_death, "ADSL.DTHDT", np.where(by_assessment, "ADRS.ADT", "FOLLOWUP.EVNTDATE")),
        index=index,
    )
    censored_nact = nact.notna() & event.isna()
    censor_text = pd.Series(
        np.where(
            last_adequate.isna(),
            "Infusion date (no adequate post-baseline assessment)",
            np.where(
                censored_nact,
                "Last adequate assessment before new anticancer therapy",
                "Last adequate response assessment",
            ),
        ),
        index=index,
    )
    censor_src = pd.Series(np.where(last_adequate.isna(), "ADSL.TRTSDT", "ADRS.ADT"), index=index)
    return event, censor, event_text, censor_text, event_src, censor_src


def derive_adtte_records(
    adsl: pd.DataFrame,
    resp: ResponseSummary,
    followup_pd: pd.Series,
    first_onset: Mapping[str, pd.Series],
) -> pd.DataFrame:
    """ADTTE records keyed by ``patient_id`` for infused patients (ADSL indexed by SUBJID).

    *followup_pd*: first progression reported in ``followup.csv`` per patient;
    *first_onset*: ``{"CRS": dates, "NEUROTOXICITY": dates}`` first grade ≥1 onset per patient.
    """
    safety = adsl[adsl["SAFFL"] == "Y"]
    index = safety.index
    start = safety["TRTSDT"]
    death = safety["DTHDT"]
    alive = safety["LSTALVDT"].fillna(start)
    fpd = followup_pd.reindex(index).astype("datetime64[ns]")
    parts = _pfs_parts(safety, resp, fpd)
    frames = [_frame("PFS", start, *parts)]
    frames.append(
        _frame(
            "OS",
            start,
            death,
            alive,
            pd.Series("Death", index=index),
            pd.Series("Last known alive date", index=index),
            pd.Series("ADSL.DTHDT", index=index),
            pd.Series("ADSL.LSTALVDT", index=index),
        )
    )
    first_resp = _dates(resp.first_response, index)
    responders = first_resp.notna()
    event, censor, etext, ctext, esrc, csrc = (p[responders] for p in parts)
    frames.append(_frame("DOR", first_resp[responders], event, censor, etext, ctext, esrc, csrc))
    end = death.fillna(alive)
    end_text = pd.Series(
        np.where(death.notna(), "Death without onset", "Last known alive date"), index=index
    )
    end_src = pd.Series(np.where(death.notna(), "ADSL.DTHDT", "ADSL.LSTALVDT"), index=index)
    for paramcd, category, text in (
        ("TTCRS", "CRS", "CRS onset (ASTCT 2019 grade >=1)"),
        ("TTNT", "NEUROTOXICITY", "Neurotoxicity onset (ASTCT 2019 grade >=1)"),
    ):
        onset = first_onset[category].reindex(index).astype("datetime64[ns]")
        frames.append(
            _frame(
                paramcd,
                start,
                onset,
                end,
                pd.Series(text, index=index),
                end_text,
                pd.Series("ADAE.ASTDT", index=index),
                end_src,
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["AVAL"] = (out["ADT"] - out["STARTDT"]).dt.days.astype("float64") + 1.0
    out["AVALU"] = "DAYS"
    return out
