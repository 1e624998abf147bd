"""10,000 simulated two-arm trials: cartwatch vs rpact getSimulationSurvival vs a lifelines loop.

Run: ``.venv/bin/python benchmarks/simulate_survival.py [replicates]``. The design is the
research contract's example without cure (rpact has no cure fraction): 217 patients, 1:1,
uniform accrual over 24 months, control median 12 vs treatment 20 months (HR 0.6), cut at
161 events, one-sided alpha 0.025, log-rank only. Side by side in one run:

* cartwatch ``simulate_survival`` (numpy, all replicates at once per block), best of 3;
* rpact ``getSimulationSurvival`` through ``Rscript`` when R and rpact are present (timed
  inside R, so R's start-up is not counted), else a line saying it is skipped;
* a lifelines loop (per replicate: build the trial with the same cartwatch draw, then
  ``KaplanMeierFitter`` per arm + ``logrank_test``) on a few hundred replicates, scaled.

Prints each wall time, the powers (they agree within Monte Carlo error) and the ratios.
Also times the contract example as written (treatment cure fraction 0.3, all three tests).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import numpy as np

from cartwatch.research.examples import SIMULATION, simulation
from cartwatch.research.inputs import SimulateSurvivalIn, parse
from cartwatch.research.simulate import observe, simulate_survival
from timing import REPEATS, best_of

LIFELINES_REPLICATES = 200

DESIGN: dict[str, Any] = simulation(
    arms={
        "control": {"cure_fraction": 0.0, "median_months": 12},
        "treatment": {"cure_fraction": 0.0, "median_months": 20},
    },
    tests=["logrank"],
)

R_SCRIPT = """
suppressMessages(library(rpact))
d <- getDesignGroupSequential(kMax = 1, alpha = 0.025, sided = 1)
best <- Inf
for (i in 1:%(repeats)d) {
  t0 <- Sys.time()
  sim <- getSimulationSurvival(d, lambda2 = log(2) / 12, hazardRatio = 0.6,
    directionUpper = FALSE, accrualTime = c(0, 24), maxNumberOfSubjects = 217,
    plannedEvents = 161, maxNumberOfIterations = %(replicates)d, seed = 1)
  best <- min(best, as.numeric(difftime(Sys.time(), t0, units = "secs")))
}
cat(sprintf('{"seconds": %%.4f, "power": %%.5f}', best, sim$overallReject))
"""


def run_rpact(replicates: int) -> dict[str, float] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    code = R_SCRIPT % {"repeats": REPEATS, "replicates": replicates}
    done = subprocess.run(
        [rscript, "-e", code], capture_output=True, text=True, check=False, timeout=900
    )
    if done.returncode != 0:
        print(f"rpact: skipped (Rscript failed: {done.stderr.strip()[-200:]})")
        return None
    out: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def lifelines_loop(spec: SimulateSurvivalIn, replicates: int) -> float:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    obs = observe(spec, np.random.default_rng(spec.seed), replicates)
    rejected = 0
    for i in range(replicates):
        keep = obs.included[i]
        t, e, arm = obs.time[i][keep], obs.event[i][keep], obs.treat[keep]
        KaplanMeierFitter().fit(t[arm], e[arm])
        KaplanMeierFitter().fit(t[~arm], e[~arm])
        test = logrank_test(t[arm], t[~arm], e[arm], e[~arm])
        # One-sided in favour of treatment: fewer events on treatment than expected.
        rejected += bool(test.p_value / 2 < 0.025 and e[arm].sum() < e[~arm].sum())
    return rejected / replicates


def main(replicates: int = 10_000) -> None:
    spec = parse(SimulateSurvivalIn, {**DESIGN, "replicates": replicates})
    t_ours, ours = best_of(lambda: simulate_survival(spec))
    print(f"design: contract example without cure, {replicates:,} replicates, log-rank")
    print(
        f"cartwatch: {t_ours:.3f} s  power {ours.power['logrank']:.4f} "
        f"(MC se {ours.mc_se['logrank']:.4f})"
    )

    rpact = run_rpact(replicates)
    if rpact is None:
        print("rpact: skipped (Rscript or rpact not available)")
    else:
        print(f"rpact getSimulationSurvival: {rpact['seconds']:.3f} s  power {rpact['power']:.4f}")
        print(f"ratio rpact / cartwatch: {rpact['seconds'] / t_ours:.2f}x (>1: cartwatch faster)")

    t_loop, _ = best_of(lambda: lifelines_loop(spec, LIFELINES_REPLICATES), repeats=1)
    scaled = t_loop * replicates / LIFELINES_REPLICATES
    print(
        f"lifelines loop: {t_loop:.2f} s for {LIFELINES_REPLICATES} replicates, "
        f"{scaled:.1f} s scaled to {replicates:,}"
    )
    print(f"ratio lifelines loop / cartwatch: {scaled / t_ours:.0f}x")

    full = parse(SimulateSurvivalIn, {**SIMULATION, "replicates": replicates})
    t_full, res = best_of(lambda: simulate_survival(full))
    print(
        f"cartwatch, contract example as written (cure 0.3, three tests): {t_full:.3f} s, "
        f"power {res.power}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
