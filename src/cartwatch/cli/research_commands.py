"""``cartwatch design``, ``cartwatch simulate`` and ``cartwatch fit``: the research commands.

Parse, call, print (research-contract.md): each reads one JSON document (a path or ``-``),
validates it with the closed models of :mod:`cartwatch.research.inputs` and prints the
result of :mod:`cartwatch.research`. Bad input exits 2 with ``field.path: problem`` lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cartwatch.cli.io import OUT_FLAGS, OutputFormat, emit, fail, input_errors, read_json
from cartwatch.cli.stats_commands import (
    EventOption,
    EventValueOption,
    GroupOption,
    TimeOption,
    survival_columns,
)

SOURCE_HELP = "JSON document (a path, or - for stdin)"
Source = Annotated[str, typer.Argument(help=SOURCE_HELP, metavar="FILE")]
Format = Annotated[OutputFormat, typer.Option("--format", help="json or text")]


def _parse(model: Any, source: str) -> Any:
    from cartwatch.research.inputs import parse

    with input_errors(model):
        return parse(model, read_json(source))
    raise AssertionError("unreachable")  # input_errors exits on a problem


PlotPath = Annotated[Path | None, typer.Option("--plot", help="write a figure (PNG)")]


def design_single_arm(
    source: Source, plot: PlotPath = None, fmt: Format = OutputFormat.JSON
) -> None:
    """Exact single-stage or Simon two-stage (optimal and minimax) design on a rate."""
    from cartwatch.research.inputs import SingleArmIn
    from cartwatch.research.single_arm import exact_design, simon_designs

    spec = _parse(SingleArmIn, source)
    build = exact_design if spec.design == "exact" else simon_designs
    design = build(spec.p0, spec.p1, spec.alpha, spec.power, spec.n_max)
    result = design.to_dict()
    if plot is not None and design.feasible:
        import numpy as np

        from cartwatch.research.plots import operating_characteristics, save_png
        from cartwatch.research.single_arm import rejection_curves

        rates = np.linspace(0.0, 1.0, 201)
        curves = rejection_curves(design, rates)
        fig = operating_characteristics(
            curves, rates, p0=spec.p0, p1=spec.p1, alpha=spec.alpha, power=spec.power
        )
        result["plot"] = str(save_png(fig, plot))
    emit(result, fmt)


def design_survival(source: Source, fmt: Format = OutputFormat.JSON) -> None:
    """Two-arm log-rank events and subjects (Schoenfeld or Freedman), as rpact."""
    from cartwatch.research.inputs import SurvivalDesignIn
    from cartwatch.research.survival_design import survival_design

    spec = _parse(SurvivalDesignIn, source)
    emit(survival_design(**spec.model_dump()).to_dict(), fmt)


def simulate_survival(source: Source, fmt: Format = OutputFormat.JSON) -> None:
    """Power of log-rank, RMST and milestone tests for two arms with cure fractions."""
    from cartwatch.research.inputs import SimulateSurvivalIn
    from cartwatch.research.simulate import simulate_survival as run

    spec = _parse(SimulateSurvivalIn, source)
    emit(run(spec).to_dict(), fmt)


def simulate_sweep(
    source: Source,
    out: Annotated[
        Path | None,
        typer.Option(*OUT_FLAGS, help="folder for sweep.csv, sweep.json and sweep_power.png"),
    ] = None,
    serial: Annotated[
        bool, typer.Option("--serial", help="run the cells here one by one, without Dask")
    ] = False,
    fmt: Format = OutputFormat.JSON,
) -> None:
    """Operating characteristics over a design grid on dask.distributed (progress on stderr)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from cartwatch.research.inputs import SweepIn
    from cartwatch.research.sweep import SweepError, build_sweep, run_sweep

    spec = _parse(SweepIn, source)
    with input_errors(SweepIn):
        sweep = build_sweep(spec)
    if out is not None and out.exists() and not out.is_dir():
        fail([f"out: {out} exists and is not a folder"])
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("sweep cells", total=len(sweep.documents))
        try:
            result = run_sweep(sweep, serial=serial, done=lambda: bar.advance(task))
        except SweepError as exc:
            fail([str(exc)])
    if out is not None:
        result["files"] = _write_sweep(result, out)
    emit(result, fmt)


def _write_sweep(result: dict[str, Any], out: Path) -> list[str]:
    import csv

    from cartwatch.cli.io import to_json
    from cartwatch.research.plots import power_curve, save_png
    from cartwatch.research.sweep import table_rows

    out.mkdir(parents=True, exist_ok=True)
    rows = table_rows(result)
    with open(out / "sweep.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "sweep.json").write_text(to_json(result) + "\n", encoding="utf-8")
    save_png(power_curve(result), out / "sweep_power.png")
    return [str(out / name) for name in ("sweep.csv", "sweep.json", "sweep_power.png")]


def fit_cure(
    file: Annotated[Path, typer.Argument(help="CSV (one row per subject) or ADaM ADTTE")],
    time: TimeOption = None,
    event: EventOption = None,
    event_value: EventValueOption = None,
    group: GroupOption = None,
    latency: Annotated[str, typer.Option("--latency", help="weibull|exponential|lognormal")] = (
        "weibull"
    ),
    param: Annotated[
        str | None,
        typer.Option("--param", help="ADaM ADTTE: PARAMCD to fit (time AVAL, event CNSR = 0)"),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="write the KM with the fitted curve (PNG)")
    ] = None,
    fmt: Format = OutputFormat.JSON,
) -> None:
    """Mixture cure model (cure fraction, CI, AIC vs no cure, KM plateau) per group."""
    from cartwatch.research.cure import fit_cure as fit
    from cartwatch.research.inputs import LATENCIES

    problems: list[str] = []
    if latency not in LATENCIES:
        problems.append(f"latency: must be one of {', '.join(LATENCIES)}, got {latency!r}")
    frame = _survival_frame(file, time, event, event_value, group, param, problems)
    if problems or frame is None:
        fail(problems)
    fits = []
    with input_errors():
        for label, t, e in frame.groups:
            fits.append(fit(t, e, latency, group=label))  # type: ignore[arg-type]
    result: dict[str, Any] = {
        "groups": [f.to_dict() for f in fits],
        "time_unit": frame.unit,
        "method": f"mixture cure model, {latency} latency, maximum likelihood",
        "source": frame.source,
    }
    if plot is not None:
        from cartwatch.research.cure_report import cure_figure
        from cartwatch.research.plots import save_png

        title = f"{frame.source}: Kaplan–Meier and {latency} mixture cure fit"
        save_png(cure_figure(frame.groups, fits, title=title, unit=frame.unit), plot)
        result["plot"] = str(plot)
    if fmt == OutputFormat.TEXT:
        from cartwatch.research.cure_report import cure_text

        typer.echo(cure_text(result))
        return
    emit(result, fmt)


def _survival_frame(
    file: Path,
    time: str | None,
    event: str | None,
    event_value: str | None,
    group: str | None,
    param: str | None,
    problems: list[str],
) -> Any:
    from cartwatch.research.cure_report import SurvivalFrame, adtte_frame, csv_frame

    if param is not None:
        with input_errors():
            return adtte_frame(file, param, group)
    columns = survival_columns(
        file,
        time,
        event,
        event_value,
        group,
        problems,
        alternative=", or --param for an ADaM ADTTE",
    )
    if columns is None:
        return None
    frame: SurvivalFrame = csv_frame(
        columns.time.to_numpy(), columns.event.to_numpy(), columns.labels, file.name
    )
    return frame


def register(app: typer.Typer) -> None:
    """Add ``design``, ``simulate`` and ``fit`` to *app*."""
    design = typer.Typer(
        name="design", help="Trial designs (research-contract.md).", no_args_is_help=True
    )
    design.command("single-arm")(design_single_arm)
    design.command("survival")(design_survival)
    app.add_typer(design)
    simulate = typer.Typer(
        name="simulate", help="Simulated operating characteristics.", no_args_is_help=True
    )
    simulate.command("survival")(simulate_survival)
    simulate.command("sweep")(simulate_sweep)
    app.add_typer(simulate)
    fit = typer.Typer(name="fit", help="Model fits (research-contract.md).", no_args_is_help=True)
    fit.command("cure")(fit_cure)
    app.add_typer(fit)


__all__ = ["register"]
