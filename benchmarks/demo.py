"""End-to-end timing: synthetic cohort → centre CSV folder → ADaM → HTML report.

    .venv/bin/python benchmarks/demo.py [--n 1000] [--seed 1] [--out DIR] [--pdf]

Stages, each timed with ``time.perf_counter`` (wall) and ``time.process_time`` (CPU of this
process, which is steadier than wall time when other work shares the machine):

1. import — cartwatch with pandas, numpy, pyreadstat, matplotlib and jinja2 (a fresh
   ``cartwatch demo`` pays them too, so they are a stage rather than hidden in the first
   stage that happens to need them);
2. ``synthesize(n, seed)`` — n leukapheresed patients (random mode, TRANSCEND marginals);
3. ``write_centre_dir`` — the raw centre CSV folder (the issue asks for the files);
4. ``derive_adam`` — ADSL/ADRS/ADTTE/ADAE through the clinical engines, from the cohort in
   memory (not re-read from the CSV just written);
5. ``write_xpt`` ×4 — ADaM as SAS XPORT v5 (the issue asks for the files);
6. ``build_report`` — all tables and figures from the ADaM frames already in memory (the
   report is identical to one read back from the XPT files; ``cartwatch report`` does that);
7. ``render_html`` — the self-contained HTML, written to ``report.html`` (``--pdf`` also
   times WeasyPrint, outside the total: the target is the HTML report).

Target: under 10 s in total for 1,000 patients (issue 4). The numbers are printed, never
asserted: timings belong here, not in tests. The load average is printed before and after,
because the machine is shared and wall time depends on it; CPU time much less so.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
TARGET_S = 10.0
Row = tuple[str, float, float]


def _timed(name: str, fn: Callable[[], T], rows: list[Row]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    rows.append((name, time.perf_counter() - wall, time.process_time() - cpu))
    print(f"  {name:<28} {rows[-1][1]:7.2f} s wall {rows[-1][2]:7.2f} s CPU", flush=True)
    return result


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:  # not available on every platform
        return "n/a"
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--pdf", action="store_true", help="also time the PDF (not in total)")
    args = parser.parse_args(argv)
    out: Path = args.out or Path(tempfile.mkdtemp(prefix="cartwatch-bench-"))

    rows: list[Row] = []
    print(f"cartwatch demo benchmark: n = {args.n}, seed = {args.seed}, out = {out}")
    print(f"  load average: {_load()}")
    mods: dict[str, Any] = {}

    def imports() -> None:
        import jinja2  # noqa: F401  (render_html imports it on first use)

        import cartwatch.outcomes.plots  # noqa: F401  (matplotlib; build_report draws)
        from cartwatch.adam import derive, xpt
        from cartwatch.centre import loader
        from cartwatch.outcomes import report, report_render
        from cartwatch.synth import cohort

        mods.update(
            derive=derive,
            xpt=xpt,
            loader=loader,
            report=report,
            report_render=report_render,
            cohort=cohort,
        )

    _timed("import", imports, rows)
    gc.freeze()  # as `cartwatch demo` does: full GC passes stop rescanning the imported modules
    derive, loader, report, report_render, cohort = (
        mods[k] for k in ("derive", "loader", "report", "report_render", "cohort")
    )
    data = _timed(f"synth ({args.n} patients)", lambda: cohort.synthesize(args.n, args.seed), rows)
    _timed("write raw (centre CSV)", lambda: loader.write_centre_dir(data, out / "centre"), rows)
    adam = _timed("derive ADaM", lambda: derive.derive_adam(data), rows)

    _timed("write ADaM (XPT)", lambda: adam.write(out / "adam", csv=False, xpt=True), rows)
    frames = {spec.name: df for spec, df in adam.items()}
    rep = _timed(
        "build report (tables, figs)",
        lambda: report.build_report(frames, source_label=str(out / "adam")),
        rows,
    )

    def render() -> str:
        html: str = report_render.render_html(rep)
        (out / "report.html").write_text(html, encoding="utf-8")
        return html

    html = _timed("render HTML (+ write)", render, rows)
    total_wall = sum(r[1] for r in rows)
    total_cpu = sum(r[2] for r in rows)
    verdict = "met" if total_wall < TARGET_S else "NOT met"
    print(
        f"  {'total':<28} {total_wall:7.2f} s wall {total_cpu:7.2f} s CPU "
        f"(target < {TARGET_S:.0f} s wall: {verdict}; CPU {total_cpu / TARGET_S:.0%} of it)"
    )
    report_cpu = sum(r[2] for r in rows[-2:])
    print(f"  report build + HTML: {report_cpu:.2f} s CPU")
    print(f"  load average: {_load()}")
    if args.pdf:
        pdf = _timed("render PDF (extra)", lambda: report_render.render_pdf(rep, html), rows)
        (out / "report.pdf").write_bytes(pdf)

    print(f"report: {out / 'report.html'} ({len(html) / 1e6:.1f} MB)")
    sets = ", ".join(f"{s['name']} {s['n']}" for s in rep.meta["analysis_sets"])
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
