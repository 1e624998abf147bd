"""The contract's JSON commands: ``grade crs|icans|cytopenia``, ``assess response``,
``eligibility``, ``schedule`` (cli-contract.md). Parse, call, print: no clinical logic here.

An object is one observation; an array (``grade`` commands only) is a time-ordered series of
one episode, each item validated with its ``[i]`` prefix. ``grade`` commands also grade a
whole CSV file (``--csv IN.csv -o OUT.csv``, see :mod:`cartwatch.batch.csv_grading`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from json import dumps
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from pydantic import BaseModel, ValidationError

from cartwatch.cli.io import (
    OUT_FLAGS,
    InputProblems,
    OutputFormat,
    emit,
    fail,
    input_errors,
    read_json,
)
from cartwatch.clinical.crs import grade_crs, grade_crs_episode
from cartwatch.clinical.cytopenia import grade_cytopenia, grade_cytopenia_series
from cartwatch.clinical.eligibility import check_eligibility
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.icans import grade_icans, grade_icans_episode
from cartwatch.clinical.iwcll import ResponseRequest
from cartwatch.clinical.schedule import ScheduleRequest, post_infusion_schedule
from cartwatch.schemas.crs import CrsObservationIn
from cartwatch.schemas.cytopenia import CytopeniaObservationIn
from cartwatch.schemas.eligibility import EligibilityIn
from cartwatch.schemas.errors import ROOT_PATH, problems_from
from cartwatch.schemas.icans import IcansObservationIn
from cartwatch.schemas.response import ResponseAssessmentIn
from cartwatch.schemas.schedule import ScheduleIn

if TYPE_CHECKING:
    from cartwatch.batch.csv_grading import GradeKind


class Result(Protocol):
    def to_dict(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class JsonCommand:
    """One contract command: its input model and the clinical function(s) it calls."""

    model: type[BaseModel]
    one: Callable[[Any], Result]  # domain input → result
    series: Callable[[Sequence[Any]], Result] | None = None  # array input → episode result


def _validate(model: type[BaseModel], value: object, prefix: str = "") -> Any:
    """*value* validated by *model* as JSON and converted with ``to_domain()``."""
    # Validate in JSON mode (dates from strings, strict types as the schemas declare them):
    # the document came from JSON and re-encoding it is exact.
    try:
        return model.model_validate_json(dumps(value)).to_domain()  # type: ignore[attr-defined]
    except (ValidationError, ClinicalInputError) as exc:
        raise InputProblems(problems_from(exc, prefix, model=model)) from None


def _validate_series(model: type[BaseModel], items: list[object]) -> list[Any]:
    if not items:
        raise InputProblems([f"{ROOT_PATH}: empty array (a series needs at least one item)"])
    domain: list[Any] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        try:
            domain.append(_validate(model, item, f"[{i}]"))
        except InputProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputProblems(problems)
    return domain


def run_json(command: JsonCommand, source: str, fmt: OutputFormat) -> None:
    """Read, validate, call, print; input problems take the exit-2 path."""
    with input_errors(command.model):
        document = read_json(source)
        if command.series is not None and isinstance(document, list):
            result = command.series(_validate_series(command.model, document))
        else:
            result = command.one(_validate(command.model, document))
    emit(result.to_dict(), fmt)


# --- options ------------------------------------------------------------------------------

SourceArg = Annotated[
    str,
    typer.Argument(
        metavar="FILE", help="JSON input file, or - to read standard input.", show_default=False
    ),
]
FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", help="json (the contract output) or text (a readable summary)."),
]


def _json_command(app: typer.Typer, name: str, command: JsonCommand, help_text: str) -> None:
    def handler(source: SourceArg, fmt: FormatOpt = OutputFormat.JSON) -> None:
        run_json(command, source, fmt)

    handler.__doc__ = help_text
    app.command(name)(handler)


BATCH_HELP = (
    "Batch mode: --csv IN.csv -o OUT.csv grades every row. Columns are the contract fields "
    "(nested objects as dotted columns, e.g. ice_items.orientation, lln.neutrophils_10e9_l), "
    "plus an optional 'id' column passed through; any other column is an error. Lists are "
    "';'-separated, booleans true/false, an empty cell means the field is absent. Rows are "
    "graded independently (no episodes). OUT has the input columns plus the result columns "
    "(crs: grade, reasons; icans: grade, instrument, reasons; cytopenia: "
    "grades.<term>, reasons). A row that fails validation is NOT written to OUT: it is "
    "listed on stderr as 'row N: field: problem' (row 1 = first data row after the header, "
    "blank lines skipped), the valid rows are still graded, and the exit status is 2."
)


def _grade_command(app: typer.Typer, kind: GradeKind, command: JsonCommand, help_text: str) -> None:
    def handler(
        source: Annotated[
            str | None,
            typer.Argument(
                metavar="FILE",
                help="JSON input file (object or time-ordered array), or - for standard input.",
                show_default=False,
            ),
        ] = None,
        fmt: FormatOpt = OutputFormat.JSON,
        csv_in: Annotated[
            str | None,
            typer.Option("--csv", metavar="IN.csv", help="Grade every row of a CSV file."),
        ] = None,
        out: Annotated[
            str | None,
            typer.Option(*OUT_FLAGS, metavar="OUT.csv", help="Where --csv writes grades."),
        ] = None,
    ) -> None:
        if csv_in is None:
            if out is not None:
                raise typer.BadParameter("only with --csv", param_hint="-o/--output")
            if source is None:
                raise typer.BadParameter(
                    "give a JSON file, - for standard input, or --csv IN.csv -o OUT.csv",
                    param_hint="FILE",
                )
            run_json(command, source, fmt)
            return
        if source is not None:
            raise typer.BadParameter("give either FILE or --csv, not both", param_hint="FILE")
        if out is None:
            raise typer.BadParameter("--csv needs -o OUT.csv", param_hint="-o/--output")
        if fmt is not OutputFormat.JSON:
            raise typer.BadParameter("applies to JSON input only", param_hint="--format")
        run_batch(kind, csv_in, out)

    handler.__doc__ = f"{help_text}\n\n{BATCH_HELP}"
    app.command(kind)(handler)


def _row_ranges(rows: Sequence[int]) -> str:
    """``[3, 4, 5, 9]`` → ``3-5, 9``."""
    spans: list[list[int]] = []
    for row in rows:
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def run_batch(kind: GradeKind, in_path: str, out_path: str) -> None:
    """Grade a CSV file; row problems on stderr, exit 2 if any row failed, stdout empty."""
    # Imported here: numpy/pandas cost the JSON commands start-up time they do not need.
    from cartwatch.batch.csv_format import CsvFileError
    from cartwatch.batch.csv_grading import grade_csv

    try:
        with progress_bar(in_path) as advance:
            report = grade_csv(kind, in_path, out_path, advance)
    except CsvFileError as exc:
        fail(exc.problems)
    for problem in report.problems:
        typer.echo(str(problem), err=True)
    if report.problems:
        failed = report.failed_rows
        typer.echo(
            f"{len(failed)} of {report.rows} rows failed and were not written "
            f"(rows {_row_ranges(failed)}); {report.graded} rows graded into {out_path}",
            err=True,
        )
        raise typer.Exit(code=2)
    typer.echo(f"{report.graded} rows graded into {out_path}", err=True)


def _schedule(request: ScheduleRequest) -> Result:
    return post_infusion_schedule(request.product, request.infusion_date)


def _response(request: ResponseRequest) -> Result:
    return request.assess()


def register(app: typer.Typer) -> None:
    """Add ``grade``, ``assess``, ``eligibility`` and ``schedule`` to *app*."""
    grade = typer.Typer(name="grade", help="Grade CRS, ICANS or cytopenia.", no_args_is_help=True)
    _grade_command(
        grade,
        "crs",
        JsonCommand(CrsObservationIn, grade_crs, grade_crs_episode),
        "ASTCT 2019 CRS grade of an observation (an array: the episode, with peak and timing).",
    )
    _grade_command(
        grade,
        "icans",
        JsonCommand(IcansObservationIn, grade_icans, grade_icans_episode),
        "ASTCT 2019 ICANS grade (ICE or CAPD) of an observation (an array: the episode).",
    )
    _grade_command(
        grade,
        "cytopenia",
        JsonCommand(CytopeniaObservationIn, grade_cytopenia, grade_cytopenia_series),
        "CTCAE v5.0 neutrophil, platelet and anaemia grades of a blood count "
        "(an array: the series with the worst grade per term).",
    )
    app.add_typer(grade)

    assess = typer.Typer(name="assess", help="Assess disease response.", no_args_is_help=True)
    _json_command(
        assess,
        "response",
        JsonCommand(ResponseAssessmentIn, _response),
        "iwCLL 2018 response of an assessment against baseline (and nadir), with MRD status.",
    )
    app.add_typer(assess)

    _json_command(
        app,
        "eligibility",
        JsonCommand(EligibilityIn, check_eligibility),
        "Label eligibility (liso-cel, versioned US label) for one patient.",
    )
    _json_command(
        app,
        "schedule",
        JsonCommand(ScheduleIn, _schedule),
        "Post-infusion obligations from the label version in force on the infusion date.",
    )


# --- the rich progress bar for CSV batches ------------------------------------------------


def _count_lines(path: str) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


@contextmanager
def progress_bar(path: str) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr when it is a terminal and ``CI`` is unset, else None."""
    if os.environ.get("CI") or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    try:
        total = max(_count_lines(path) - 1, 0)
    except OSError:
        total = 0
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("grading", total=total or None)
        yield lambda n: progress.advance(task, n)


__all__ = ["JsonCommand", "fail", "register", "run_json"]
