"""The per-group Kaplan–Meier summary that ``cartwatch km`` prints, from fitted curves.

One place for the output keys (``groups[].n``, ``events``, ``median``, ``ci``, statuses,
quantiles, the rules and legend) so that every command showing medians — ``cartwatch km`` on
rows, ``cartwatch federated pool`` on shared counts — prints them by the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cartwatch.outcomes.km_quantiles import (
    MEDIAN_RULE,
    QUANTILE_RULE,
    STATUS_FOOTNOTE,
    QuantileEstimate,
    km_median_ci,
    km_quantile,
)
from cartwatch.outcomes.logrank import LogRank
from cartwatch.outcomes.survival import KaplanMeier


def group_order(labels: Sequence[str]) -> list[str]:
    """Display order of group labels: numeric when every label parses (R sorts a numeric
    column's levels numerically), else as text."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def quantile_row(q: QuantileEstimate) -> dict[str, object]:
    return {
        "p": q.p,
        "time": q.estimate,
        "ci": [q.lower, q.upper],
        "status": q.estimate_status,
        "ci_status": [q.lower_status, q.upper_status],
    }


def group_row(label: str, fit: KaplanMeier, probs: Sequence[float] = ()) -> dict[str, object]:
    """n, events, the printed median with its CI and statuses (and quantiles if asked)."""
    med = km_median_ci(fit)
    row: dict[str, object] = {
        "group": label,
        "n": fit.n,
        "events": fit.events,
        "median": med.estimate,
        "ci": [med.lower, med.upper],
        "median_status": med.estimate_status,
        "ci_status": [med.lower_status, med.upper_status],
    }
    if probs:
        row["quantiles"] = [quantile_row(km_quantile(fit, p)) for p in probs]
    return row


def km_summary(
    fits: Mapping[str, KaplanMeier],
    conf_type: str,
    conf_level: float,
    probs: Sequence[float] = (),
) -> dict[str, object]:
    """The ``cartwatch km`` result for curves already fitted, one per group in *fits* order."""
    result: dict[str, object] = {
        "groups": [group_row(label, fit, probs) for label, fit in fits.items()],
        "conf_type": conf_type,
        "conf_level": conf_level,
        "method": "kaplan-meier",
        "variance": "greenwood",
        "median_rule": MEDIAN_RULE,
        "status_legend": STATUS_FOOTNOTE,
    }
    if probs:
        result["quantile_rule"] = QUANTILE_RULE
    return result


def logrank_summary(lr: LogRank) -> dict[str, object]:
    return {"chisq": lr.chisq, "df": lr.df, "p": lr.p, "method": "log-rank"}
