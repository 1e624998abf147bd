"""End-to-end timing: synthetic cohort → centre CSV folder → ADaM → HTML report.

    .venv/bin/python benchmarks/demo.py [--n 1000] [--seed 1] [--out DIR] [--pdf]

Stages, each timed with ``time.perf_counter`` (wall) and ``time.process_time`` (CPU of this
process, which is steadier than wall time when other work shares the machine):

1. ``synthesize(n, seed)`` — n leukapheresed patients (random mode, TRANSCEND marginals);
2. ``write_centre_dir`` — the raw centre CSV folder;
3. ``derive_adam`` — ADSL/ADRS/ADTTE/ADAE through the clinical engines;
4. ``write_xpt`` ×4 — ADaM as SAS XPORT v5;
5. ``build_report`` — read the ADaM folder back, all tables and figures;
6. ``render_html`` — the self-contained HTML file (and ``--pdf``: WeasyPrint, not in the
   total, since the target is the HTML report).

Target: under 10 s in total for 1,000 patients (issue 4). The numbers are printed, never
asserted: timings belong here, not in tests. The headline figures are printed as well.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
TARGET_S = 10.0


def _timed(name: str, fn: Callable[[], T], rows: list[tuple[str, float, float]]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    rows.append((name, time.perf_counter() - wall, time.process_time() - cpu))
    print(f"  {name:<34} {rows[-1][1]:7.2f} s wall {rows[-1][2]:7.2f} s CPU", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--pdf", action="store_true", help="also time the PDF (not in total)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="cartwatch-bench-"))

    rows: list[tuple[str, float, float]] = []
    print(f"cartwatch demo benchmark: n = {args.n}, seed = {args.seed}, out = {out}")

    # Imports are a stage of their own: a fresh `cartwatch demo` pays them too.
    def imports() -> None:
        global synthesize, write_centre_dir, derive_adam, write_xpt, report_mod
        from cartwatch.adam.derive import derive_adam
        from cartwatch.adam.xpt import write_xpt
        from cartwatch.centre.loader import write_centre_dir
        from cartwatch.outcomes import report as report_mod
        from cartwatch.synth.cohort import synthesize

    _timed("import", imports, rows)
    data = _timed(f"synthesize({args.n})", lambda: synthesize(args.n, args.seed), rows)
    _timed("write centre CSV folder", lambda: write_centre_dir(data, out / "centre"), rows)
    adam = _timed("derive ADaM", lambda: derive_adam(data), rows)

    def write_adam() -> None:
        (out / "adam").mkdir(parents=True, exist_ok=True)
        for spec, df in adam.items():
            write_xpt(
                df,
                out / "adam" / f"{spec.name.lower()}.xpt",
                spec.name,
                spec.labels(),
                dataset_label=spec.label,
            )

    _timed("write ADaM XPT", write_adam, rows)
    rep = _timed(
        "build report (read ADaM, tables, figs)",
        lambda: report_mod.build_report(out / "adam"),
        rows,
    )
    html = _timed("render HTML", lambda: report_mod.render_html(rep), rows)
    (out / "report.html").write_text(html, encoding="utf-8")
    total_wall = sum(r[1] for r in rows)
    total_cpu = sum(r[2] for r in rows)
    print(
        f"  {'total':<34} {total_wall:7.2f} s wall {total_cpu:7.2f} s CPU "
        f"(target < {TARGET_S:.0f} s: {'met' if total_wall < TARGET_S else 'NOT met'} on wall)"
    )
    if args.pdf:
        pdf = _timed("render PDF (extra)", lambda: report_mod.render_pdf(rep, html), rows)
        (out / "report.pdf").write_bytes(pdf)

    print(f"report: {out / 'report.html'} ({len(html) / 1e6:.1f} MB)")
    sets = ", ".join(f"{s['name']} {s['n']}" for s in rep.meta["analysis_sets"])  # type: ignore[attr-defined]
    print(f"analysis sets: {sets}")
    for key, h in rep.headline.items():
        ci = h.get("ci_percent")
        ci_text = f" (95% CI {ci[0]:.1f}–{ci[1]:.1f})" if isinstance(ci, list) else ""
        print(f"  {key:<22} {h['k']}/{h['n']} = {h['percent']:.1f}%{ci_text}")
    tte = rep.table("time_to_event")
    for paramcd in ("PFS", "OS", "DOR"):
        with contextlib.suppress(KeyError):  # a parameter absent from ADTTE
            print(f"  median {paramcd:<15} {tte.row(paramcd).cells[2].text} months")
    return 0


if __name__ == "__main__":
    sys.exit(main())
