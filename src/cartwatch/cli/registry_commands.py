"""``cartwatch registry cibmtr``: parse, call ``cartwatch.web.commands.registry_cibmtr``,
print a short summary (patients, forms due, % complete, UNVERIFIED elements)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from cartwatch.cli.io import OUT_FLAGS, emit, fail
from cartwatch.cli.stats_commands import format_option
from cartwatch.schemas.dates import plausible_date_problem

registry = typer.Typer(
    help="Registry reporting: the CIBMTR cellular-therapy forms.", no_args_is_help=True
)


def _text(summary: dict[str, Any]) -> str:
    percent = summary["percent_complete"]
    complete = "n/a" if percent is None else f"{percent}%"
    lines = [
        f"centre {summary['centre']}, data cut {summary['as_of']}: {summary['patients']} "
        f"patients, {summary['patients_with_forms_due']} with forms due; "
        f"{summary['forms_due']} form instances due",
        f"{summary['present']} of {summary['required']} required elements present ({complete}); "
        f"{summary['missing']} missing; {summary['not_collected']} not collected by cartwatch",
        f"{summary['unverified_elements']} elements UNVERIFIED: check them against the current "
        "CIBMTR manual before submission",
        f"written to {summary['out']}",
    ]
    if summary["excluded"]:
        lines.append(f"left out (stored records fail the checks): {', '.join(summary['excluded'])}")
    return "\n".join(lines)


def _as_of(text: str | None, problems: list[str]) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"as_of: not a date (YYYY-MM-DD): {text!r}")
        return dt.date.today()
    problem = plausible_date_problem(day)
    if problem:
        problems.append(f"as_of: {problem}")
    return day


@registry.command("cibmtr")
def cibmtr(
    centre: Annotated[str | None, typer.Option("--centre", help="Centre code")] = None,
    out: Annotated[
        Path | None, typer.Option(*OUT_FLAGS, help="Output folder (new or empty)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Data cut YYYY-MM-DD (default today)")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty folder")] = False,
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "text",
) -> None:
    """Per patient, the CIBMTR 4000/4003/4006/4100/2900 elements with provenance, and a
    completeness report per patient and form (elements.csv, completeness.csv, manifest.json,
    README.txt)."""
    problems: list[str] = []
    out_fmt = format_option(fmt, problems)
    day = _as_of(as_of, problems)
    if centre is None:
        problems.append("centre: required (--centre CODE)")
    if out is None:
        problems.append("out: required (--out DIR)")
    if problems or centre is None or out is None:
        fail(problems)
    from cartwatch.web import commands

    commands.setup()
    try:
        summary = commands.registry_cibmtr(centre, str(out), day, force)
    except commands.CommandError as exc:
        fail([str(exc)])
    if out_fmt == "text":
        typer.echo(_text(summary))
    else:
        emit(summary, out_fmt)


def register(app: typer.Typer) -> None:
    """Add ``registry cibmtr`` to *app*."""
    app.add_typer(registry, name="registry")
