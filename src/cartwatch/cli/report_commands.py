"""``cartwatch report`` and ``cartwatch demo``: parse, call ``cartwatch.outcomes.report``, write.

* ``report ADAM_DIR --format html|json|text|pdf [-o FILE] [--conf-type log-log|log|plain]``
  reads an ADaM folder (XPT/CSV) and writes the report; without ``-o`` it prints to stdout
  (not for PDF, which is binary). With ``-o`` the path written is printed.
* ``demo [--out DIR] [--format html|json|text|pdf] [--seed N]``: the TRANSCEND-calibrated
  synthetic cohort in published mode → centre CSV folder → ADaM (XPT) → report (built from
  the ADaM frames in memory, the XPT files are written for the user), then the report path
  and the headline figures with exact counts.

Bad input (missing folder, unreadable or incomplete ADaM, unknown option value): exit 2,
nothing on stdout, ``field: problem`` lines on stderr (cli-contract.md conventions).
A progress display appears only when stderr is a terminal, so pipes and tests see clean output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Protocol

import typer

from cartwatch.cli.io import OUT_FLAGS, fail

FORMATS = ("html", "json", "text", "pdf")
CONF_TYPES = ("log-log", "log", "plain")
SUFFIX = {"html": ".html", "json": ".json", "text": ".txt", "pdf": ".pdf"}


class _Step(Protocol):
    def __call__(self, description: str) -> None: ...


@contextmanager
def _progress() -> Iterator[_Step]:
    """Rich spinner on a TTY (stderr); a no-op otherwise."""
    if not sys.stderr.isatty():
        yield lambda description: None
        return
    from rich.console import Console

    with Console(stderr=True).status("cartwatch") as status:
        yield lambda description: status.update(description)


def _check_options(fmt: str, conf_type: str, problems: list[str]) -> None:
    if fmt not in FORMATS:
        problems.append(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if conf_type not in CONF_TYPES:
        problems.append(f"conf_type: must be one of {', '.join(CONF_TYPES)}, got {conf_type!r}")


def _render(report: object, fmt: str) -> str | bytes:
    from cartwatch.outcomes.report import Report
    from cartwatch.outcomes.report_render import (
        render_html,
        render_json,
        render_pdf,
        render_text,
    )

    assert isinstance(report, Report)
    if fmt == "pdf":
        return render_pdf(report)
    renderer = {"html": render_html, "json": render_json, "text": render_text}[fmt]
    return renderer(report)


def _write(content: str | bytes, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        output.write_bytes(content)
    else:
        output.write_text(content, encoding="utf-8")


def report(
    adam_dir: Annotated[Path, typer.Argument(help="Folder of ADaM datasets (*.xpt or *.csv)")],
    fmt: Annotated[str, typer.Option("--format", help="html, json, text or pdf")] = "html",
    output: Annotated[Path | None, typer.Option(*OUT_FLAGS, help="File to write")] = None,
    conf_type: Annotated[
        str, typer.Option("--conf-type", help="KM CI transform: log-log, log or plain")
    ] = "log-log",
) -> None:
    """Outcomes report (analysis sets, baseline, efficacy, DOR/PFS/OS, safety, subgroups)."""
    from cartwatch.outcomes.report import ReportInputError, build_report

    problems: list[str] = []
    _check_options(fmt, conf_type, problems)
    if not adam_dir.is_dir():
        problems.append(f"adam_dir: not a folder: {adam_dir}")
    if fmt == "pdf" and output is None:
        problems.append("output: required for --format pdf (-o FILE); PDF is not printed")
    if problems:
        fail(problems)
    with _progress() as step:
        step("reading ADaM and computing the report")
        try:
            built = build_report(adam_dir, conf_type=conf_type, source_label=str(adam_dir))
        except ReportInputError as exc:
            fail(exc.problems)
        step(f"rendering {fmt}")
        content = _render(built, fmt)
        if output is not None:
            _write(content, output)
    if output is None:
        assert isinstance(content, str)
        typer.echo(content, nl=False)
    else:
        typer.echo(str(output))


# --------------------------------------------------------------------------- demo


def _pct_whole(values: Mapping[str, object]) -> str:
    """Whole-percent form as the trial tables print it (85%, 9%), half away from zero."""
    k, n = values.get("k"), values.get("n")
    if not (isinstance(k, int) and isinstance(n, int) and n):
        return "—"
    return f"{int(100 * k / n + 0.5)}%"


def headline_lines(headline: Mapping[str, Mapping[str, object]]) -> list[str]:
    """Exact counts, 1-decimal percentages (and CIs), plus the whole-percent published form."""
    lines: list[str] = []
    eff = [("CR/CRi", "cr_cri"), ("ORR", "orr")]
    saf = [
        ("CRS, any grade", "crs_any"),
        ("CRS, grade ≥3", "crs_grade_ge_3"),
        ("Neurotoxicity, any grade", "neurotox_any"),
        ("Neurotoxicity, grade ≥3", "neurotox_grade_ge_3"),
    ]
    for group in (eff, saf):
        lines.append(f"{headline[group[0][1]]['population']}:")
        for label, key in group:
            h = headline[key]
            text = f"  {label:<25} {h['k']}/{h['n']} = {h['percent']:.1f}%"
            ci = h.get("ci_percent")
            if isinstance(ci, list):
                text += f" (95% CI {ci[0]:.1f}–{ci[1]:.1f})"
            else:
                text += f" ({_pct_whole(h)})"
            lines.append(text)
    return lines


def demo(
    out: Annotated[
        Path, typer.Option(*OUT_FLAGS, help="Folder for centre data, ADaM, report")
    ] = Path("cartwatch-demo"),
    fmt: Annotated[str, typer.Option("--format", help="html, json, text or pdf")] = "html",
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the synthetic cohort")] = 1,
) -> None:
    """Synthetic TRANSCEND-calibrated cohort (published mode) → ADaM → report, in one go."""
    problems: list[str] = []
    _check_options(fmt, "log-log", problems)
    if seed < 0:
        problems.append(f"seed: must be ≥0, got {seed}")
    if out.exists() and not out.is_dir():
        problems.append(f"out: exists and is not a folder: {out}")
    if problems:
        fail(problems)
    import gc

    from cartwatch.adam.derive import derive_adam
    from cartwatch.centre.loader import write_centre_dir
    from cartwatch.outcomes.report import build_report
    from cartwatch.synth.cohort import synthesize

    # One-shot command: move the imported modules out of the cyclic GC's generations so its
    # full collections stop rescanning them (~0.1-0.3 s of the report build otherwise).
    gc.freeze()
    with _progress() as step:
        step("synthesising the published-mode cohort")
        data = synthesize(0, seed, published=True)
        step("writing the centre CSV folder")
        write_centre_dir(data, out / "centre")
        step("deriving ADaM (ADSL, ADRS, ADTTE, ADAE)")
        adam = derive_adam(data)
        adam.write(out / "adam", csv=False, xpt=True)
        step("building the report")
        # From the frames in memory: the same report as reading the XPT files just written
        # back (checked on the published and a 1,000-patient cohort), without the re-read.
        built = build_report(
            {spec.name: df for spec, df in adam.items()},
            source_label=f"{out / 'adam'} (synthetic, published mode)",
        )
        path = out / f"report{SUFFIX[fmt]}"
        _write(_render(built, fmt), path)
    typer.echo(f"Report: {path.resolve()}")
    for line in headline_lines(built.headline):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``demo`` to *app*."""
    app.command("report")(report)
    app.command("demo")(demo)
