"""Response rates with exact (Clopper–Pearson) binomial confidence intervals.

The US Breyanzi label and the TRANSCEND CLL 004 reports give ORR and CR rates with exact
binomial 95% CIs (e.g. CR 13/65 = 20.0%, 95% CI 11.1–31.8; ORR 29/65 = 44.6%, 32.3–57.5;
clinical-standards.md §3B/§3.3, [S19]). This module reproduces that method.

Note that R ``tern::estimate_proportion()`` defaults to Wald with continuity correction and
statsmodels ``proportion_confint`` to the normal approximation; the method is therefore named in
every output (``"method": "clopper-pearson"``).

References
----------
1. Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of
   the binomial. Biometrika 1934;26(4):404–413.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

# scipy.special rather than scipy.stats: same incomplete-beta inverse, a fraction of the
# import time (the CLI imports this module on every start).
from scipy.special import betaincinv

METHOD = "clopper-pearson"


@dataclass(frozen=True)
class RateEstimate:
    """A proportion k/n with its exact confidence interval.

    ``ci`` is ``(lower, upper)`` on the proportion scale (0–1). The lower limit is exactly 0
    when ``k == 0`` and the upper limit exactly 1 when ``k == n``.
    """

    k: int
    n: int
    rate: float
    ci: tuple[float, float]
    conf_level: float
    method: str = METHOD

    def to_dict(self) -> dict[str, object]:
        """Contract JSON for ``cartwatch rate`` (``rate``, ``ci``, ``method``) plus k, n, level."""
        return {
            "rate": self.rate,
            "ci": [self.ci[0], self.ci[1]],
            "method": self.method,
            "k": self.k,
            "n": self.n,
            "conf_level": self.conf_level,
        }


def _check_int(name: str, value: object) -> int:
    # bool is an int subclass; "True responders" is a caller bug, not a count.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    return int(value)


def validate_conf_level(conf_level: object) -> float:
    """Return *conf_level* as float or raise ValueError unless it lies strictly in (0, 1)."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, numbers.Real):
        raise ValueError(f"conf_level: must be a number in (0, 1), got {conf_level!r}")
    level = float(conf_level)
    if not (math.isfinite(level) and 0.0 < level < 1.0):
        raise ValueError(f"conf_level: must be strictly between 0 and 1, got {conf_level!r}")
    return level


def clopper_pearson(k: int, n: int, conf_level: float = 0.95) -> RateEstimate:
    """Exact binomial confidence interval for the proportion ``k / n``.

    Parameters
    ----------
    k : int
        Number of responders (0 ≤ k ≤ n).
    n : int
        Number of evaluable subjects (n ≥ 1).
    conf_level : float
        Two-sided confidence level in (0, 1), default 0.95.

    Returns
    -------
    RateEstimate
        ``rate = k/n`` and ``ci = (Beta(α/2; k, n−k+1), Beta(1−α/2; k+1, n−k))`` [1], with the
        lower limit 0 when k = 0 and the upper limit 1 when k = n. Matches R
        ``binom.test(k, n)$conf.int`` and SAS PROC FREQ ``BINOMIAL(EXACT)``.

    Raises
    ------
    ValueError
        k or n not integers, n < 1, k < 0, k > n, or conf_level outside (0, 1).

    References
    ----------
    1. Clopper CJ, Pearson ES. Biometrika 1934;26:404–413.
    """
    k = _check_int("k", k)
    n = _check_int("n", n)
    level = validate_conf_level(conf_level)
    problems = []
    if n < 1:
        problems.append(f"n: must be at least 1, got {n}")
    if k < 0:
        problems.append(f"k: must not be negative, got {k}")
    if n >= 1 and k > n:
        problems.append(f"k: responders ({k}) exceed n ({n})")
    if problems:
        raise ValueError("; ".join(problems))
    alpha = 1.0 - level
    # The beta quantiles are undefined (shape 0) at the boundaries; the exact limits there are
    # 0 and 1 by definition, so set them rather than rely on scipy returning nan.
    lower = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2.0))
    upper = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1.0 - alpha / 2.0))
    return RateEstimate(k=k, n=n, rate=k / n, ci=(lower, upper), conf_level=level)
