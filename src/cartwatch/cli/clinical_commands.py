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
from typing import Annotated, Any, Protocol

import typer
from pydantic import BaseModel, ValidationError

from cartwatch.cli.io import (
    InputProblems,
    OutputFormat,
    emit,
    fail,
    input_errors,
    read_json,
)
from cartwatch.clinical.eligibility import check_eligibility
from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.schedule import post_infusion_schedule
from cartwatch.schemas.eligibility import EligibilityIn
from cartwatch.schemas.errors import ROOT_PATH, problems_from
from cartwatch.schemas.schedule import ScheduleIn


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


def _schedule(request: Any) -> Result:
    return post_infusion_schedule(request.product, request.infusion_date)


def register(app: typer.Typer) -> None:
    """Add ``grade``, ``assess``, ``eligibility`` and ``schedule`` to *app*."""
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
