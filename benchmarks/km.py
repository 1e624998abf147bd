"""Kaplan–Meier + median CI on 1,000,000 subjects: cartwatch vs lifelines, side by side.

Run: ``.venv/bin/python benchmarks/km.py [n]``. Seeded data (exponential event and censoring
times rounded to 0.01 so that ties occur, as with day-level data). Both libraries fit the same
data in this one run; the script checks that the survival estimates agree (max abs difference)
and prints both best-of-3 wall times and the ratio. lifelines' median CI uses its log-log band
without R's midpoint rule, so only the point estimates are compared, not the median CI.
"""

from __future__ import annotations

import sys

import numpy as np

from cartwatch.outcomes.survival import kaplan_meier, km_median_ci
from timing import REPEATS, best_of


def main(n: int = 1_000_000) -> None:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    rng = np.random.default_rng(20240314)
    event_time = rng.exponential(24.0, n)
    censor_time = rng.uniform(0.0, 60.0, n)
    time_obs = np.round(np.minimum(event_time, censor_time), 2)
    event = event_time <= censor_time

    def ours() -> tuple[object, object]:
        km = kaplan_meier(time_obs, event, conf_type="log-log")
        return km, km_median_ci(km)

    def theirs() -> tuple[object, object]:
        kmf = KaplanMeierFitter().fit(time_obs, event)
        return kmf, median_survival_times(kmf.confidence_interval_)

    t_ours, (km, med) = best_of(ours)  # type: ignore[misc]
    t_theirs, (kmf, lmed) = best_of(theirs)  # type: ignore[misc]

    lifelines_surv = kmf.survival_function_["KM_estimate"].reindex(km.time).to_numpy()
    max_diff = float(np.max(np.abs(lifelines_surv - km.surv)))
    assert max_diff < 1e-10, f"survival estimates differ by {max_diff}"

    print(f"subjects: {n:,}  distinct times: {km.time.size:,}  events: {km.events:,}")
    print(f"max |S_cartwatch - S_lifelines| = {max_diff:.2e}")
    print(f"median (cartwatch, R rule): {med.estimate}  CI log-log: ({med.lower}, {med.upper})")
    print(f"median (lifelines): {kmf.median_survival_time_}  CI: {lmed.to_numpy().ravel()}")
    print(f"cartwatch KM + median CI : {t_ours * 1000:8.1f} ms (best of {REPEATS})")
    print(f"lifelines KM + median CI : {t_theirs * 1000:8.1f} ms (best of {REPEATS})")
    print(f"ratio lifelines / cartwatch: {t_theirs / t_ours:.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
