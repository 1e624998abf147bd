"""The k-group log-rank test, as R ``survdiff`` (rho = 0) [1], from rows or from the counts
per distinct time it depends on (which is what makes the federated pool exact).

The full hypergeometric covariance; χ² on (groups with expected > 0) − 1 df, with a
generalised inverse where the covariance is singular, as R tolerates it.

1. Mantel N. Evaluation of survival data and two new rank order statistics arising in its
   consideration. Cancer Chemother Rep 1966;50:163–170.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import chdtrc

from cartwatch.outcomes.survival import group_codes, validate_time_event


@dataclass(frozen=True)
class LogRank:
    """k-group log-rank test (R ``survdiff``, rho = 0)."""

    chisq: float
    df: int
    p: float
    groups: tuple[object, ...]
    n: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "method": "log-rank",
            "reference": "R survival::survdiff (rho = 0)",
            "chisq": self.chisq,
            "df": self.df,
            "p": self.p,
            "groups": [
                {"group": g, "n": n, "observed": o, "expected": e}
                for g, n, o, e in zip(
                    self.groups, self.n, self.observed, self.expected, strict=True
                )
            ],
        }


def logrank_test(time: npt.ArrayLike, event: npt.ArrayLike, group: npt.ArrayLike) -> LogRank:
    """k-sample log-rank test, matching R ``survdiff(Surv(time, event) ~ group)``.

    Parameters
    ----------
    time, event : array-like
        As for :func:`kaplan_meier`.
    group : array-like
        Group label per subject (no missing values); groups are ordered as sorted labels.

    Returns
    -------
    LogRank
        Observed and expected events per group, χ² = (O−E)ᵀ V⁻(O−E) using the hypergeometric
        covariance V with one group (the first with expected > 0) dropped, df = number of
        groups with expected > 0 minus 1, p from the χ² upper tail [1].
    """
    t, e = validate_time_event(time, event)
    labels, codes = group_codes(group, t.size)
    k = len(labels)
    if k < 2:
        raise ValueError("group: at least two groups are needed for a log-rank test")
    utime = np.unique(t)
    tcode = np.searchsorted(utime, t)  # index of each subject's time among distinct times
    nt = utime.size
    es, gs = e.astype(np.float64), codes
    flat = tcode * k + gs
    at_time = np.bincount(flat, minlength=nt * k).reshape(nt, k).astype(np.float64)
    d_k = np.bincount(flat, weights=es, minlength=nt * k).reshape(nt, k)
    return logrank_from_counts(at_time, d_k, labels)


def logrank_from_counts(
    at_time: npt.NDArray[Any], d_k: npt.NDArray[Any], labels: Sequence[object]
) -> LogRank:
    """The log-rank test from the counts it depends on (see :func:`logrank_test`).

    *at_time*[i, j]: subjects of group j whose follow-up ends at the i-th distinct time
    (events and censorings, times in increasing order, over all groups); *d_k*[i, j]: events
    among them; *labels*: the k group labels in column order (sorted, as R orders factor
    levels). Identical to :func:`logrank_test` on any rows with these counts.
    """
    k = len(labels)
    if at_time.shape != d_k.shape or at_time.ndim != 2 or at_time.shape[1] != k:
        raise ValueError("at_time, d_k: one (times × groups) count matrix each is needed")
    if k < 2:
        raise ValueError("group: at least two groups are needed for a log-rank test")
    # At risk at each distinct time: reverse cumulative count per group.
    n_k = np.cumsum(at_time[::-1], axis=0)[::-1]
    d = d_k.sum(axis=1)
    rows = d > 0
    n_k, d_k, d = n_k[rows], d_k[rows], d[rows]
    n = n_k.sum(axis=1)
    share = n_k / n[:, None]
    observed = d_k.sum(axis=0)
    expected = (share * d[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    var = np.diag((c[:, None] * share).sum(axis=0)) - (share * c[:, None]).T @ share
    keep = expected > 0
    df = int(keep.sum()) - 1
    if df < 1:
        chisq, pval = 0.0, float("nan")
    else:
        diff = (observed - expected)[keep][1:]
        vv = var[np.ix_(keep, keep)][1:, 1:]
        # Generalised inverse, as R's survdiff tolerates a singular covariance (e.g. every
        # event at a time with one subject at risk); identical to solve() when V is regular.
        chisq = float(diff @ np.linalg.pinv(vv, hermitian=True) @ diff)
        pval = float(chdtrc(df, chisq))
    n_per = at_time.sum(axis=0)
    return LogRank(
        chisq=chisq,
        df=df,
        p=pval,
        groups=tuple(labels),
        n=tuple(int(v) for v in n_per),
        observed=tuple(float(v) for v in observed),
        expected=tuple(float(v) for v in expected),
    )
