"""``cartwatch federated pool`` of 50 centre shares (1,000,000 subjects in all) side by side
with ``cartwatch km`` on the pooled rows.

Run: ``.venv/bin/python benchmarks/federated_pool.py [n] [centres]``. Seeded data: follow-up
in days (exponential event times, uniform censoring, so times tie heavily, as in registry
data), two arms, subjects spread unevenly over the centres. Each centre's share is written
with ``make_share``; the pooled rows are written as one CSV. Two comparisons, best of 3 wall
times each, and the results are checked to be identical first:

* library: parsing + validating the 50 share files and pooling them, against fitting
  Kaplan–Meier per arm and the log-rank on the 1 M rows already in memory;
* command line: ``cartwatch federated pool SHARE...`` against ``cartwatch km POOLED.csv``
  (each run as a user runs it, in a fresh process, reading its files).

Ratio > 1 means the pool is faster.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from cartwatch.interop import federated as fed
from cartwatch.outcomes.km_summary import km_summary, logrank_summary
from cartwatch.outcomes.logrank import logrank_test
from cartwatch.outcomes.survival import kaplan_meier
from timing import best_of


def main(n: int = 1_000_000, centres: int = 50) -> None:
    rng = np.random.default_rng(20261206)
    arm = rng.integers(0, 2, n)
    event_time = np.ceil(rng.exponential(np.where(arm == 1, 540.0, 400.0)))
    censor_time = np.ceil(rng.uniform(30.0, 1800.0, n))
    days = np.minimum(event_time, censor_time)
    event = event_time <= censor_time
    labels = np.where(arm == 1, "B", "A").astype(object)
    centre = rng.choice(centres, n, p=rng.dirichlet(np.full(centres, 2.0)))
    analysis = fed.Analysis(source="csv", time="days", event="event", group="arm")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shares = []
        for c in range(centres):
            m = centre == c
            payload = fed.make_share(
                days[m], event[m], list(labels[m]), centre=f"C{c:02d}",
                source_sha256=f"{c:064x}", analysis=analysis,
            )  # fmt: skip
            path = folder / f"C{c:02d}.json"
            path.write_text(json.dumps(payload))
            shares.append(path)
        pooled_csv = folder / "pooled.csv"
        with pooled_csv.open("w") as handle:
            handle.write("days,event,arm\n")
            handle.writelines(
                f"{d:g},{int(e)},{g}\n" for d, e, g in zip(days, event, labels, strict=True)
            )

        def pool_lib() -> dict[str, object]:
            parsed = [(str(p), fed.parse_share(p.read_bytes(), str(p))) for p in shares]
            return fed.pool(parsed)

        def km_lib() -> dict[str, object]:
            fits = {g: kaplan_meier(days[labels == g], event[labels == g]) for g in ("A", "B")}
            out = km_summary(fits, "log-log", 0.95)
            out["logrank"] = logrank_summary(logrank_test(days, event, labels))
            return out

        t_pool, pooled = best_of(pool_lib)
        t_km, whole = best_of(km_lib)
        assert isinstance(pooled, dict) and isinstance(whole, dict)
        assert pooled["groups"] == whole["groups"], "pooled and whole medians differ"
        assert pooled["logrank"] == whole["logrank"], "pooled and whole log-rank differ"

        cli = [sys.executable, "-m", "cartwatch.cli.app"]
        km_args = [*cli, "km", str(pooled_csv), "--time", "days", "--event", "event"]
        km_args += ["--group", "arm"]
        pool_args = [*cli, "federated", "pool", *map(str, shares)]

        def run(args: list[str]) -> dict[str, object]:
            done = subprocess.run(args, capture_output=True, text=True, check=True)
            result: dict[str, object] = json.loads(done.stdout)
            return result

        t_pool_cli, pooled_cli = best_of(lambda: run(pool_args))
        t_km_cli, whole_cli = best_of(lambda: run(km_args))
        assert isinstance(pooled_cli, dict) and isinstance(whole_cli, dict)
        assert pooled_cli["groups"] == whole_cli["groups"]
        assert pooled_cli["logrank"] == whole_cli["logrank"]
        share_bytes = sum(p.stat().st_size for p in shares)

    print(f"subjects: {n:,} in {centres} centres; shares {share_bytes / 1e6:.1f} MB in all, "
          f"pooled CSV {n:,} rows")  # fmt: skip
    print("results identical (medians, CIs, log-rank): yes")
    print(
        f"library: pool {t_pool:.3f} s   km on rows {t_km:.3f} s   "
        f"ratio km/pool {t_km / t_pool:.2f}"
    )
    print(
        f"CLI:     pool {t_pool_cli:.3f} s   km on rows {t_km_cli:.3f} s   "
        f"ratio km/pool {t_km_cli / t_pool_cli:.2f}"
    )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
