"""``cartwatch fhir import``: parse, call ``cartwatch.web.commands.fhir_import``, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cartwatch.cli.io import emit, fail
from cartwatch.cli.stats_commands import format_option

fhir = typer.Typer(help="FHIR R4: import an EHR Bundle into a centre.", no_args_is_help=True)


def _text(report: dict[str, Any]) -> str:
    stored = report["stored"]
    lines = [
        f"centre {report['centre']}: {report['resources']} resources read; "
        f"{stored['crs_drafts']} draft CRS assessment(s), {stored['labs']} lab record(s), "
        f"{stored['conditions_checked']} diagnosis check(s); "
        f"{report['already_imported']} already imported",
        report["note"],
    ]
    for r in report["records"]:
        grade = r.get("grade", r.get("grades"))
        lines.append(f"  {r['kind']} {r['patient_id']} {r['observed_at']}: grade {grade}")
    if report["unmapped"]:
        lines.append(f"not imported ({len(report['unmapped'])}):")
        lines += [f"  entry[{u['entry']}] {u['id']}: {u['reason']}" for u in report["unmapped"]]
    return "\n".join(lines)


@fhir.command("import")
def import_(
    bundle: Annotated[Path, typer.Argument(help="FHIR R4 Bundle (JSON)")],
    centre: Annotated[str | None, typer.Option("--centre", help="Centre code")] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="The user entering the records (audit)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "json",
) -> None:
    """Vitals and drugs → draft daily CRS assessments; labs → lab records; report the rest."""
    problems: list[str] = []
    out_fmt = format_option(fmt, problems)
    if centre is None:
        problems.append("centre: required (--centre CODE)")
    if user is None:
        problems.append("user: required (--user NAME, who enters the records)")
    if not bundle.is_file():
        problems.append(f"{bundle}: file not found")
    if problems or centre is None or user is None:
        fail(problems)
    from cartwatch.web import commands

    commands.setup()
    from cartwatch.web.services.fhir_import import BundleRefused

    try:
        report = commands.fhir_import(str(bundle), centre, user)
    except commands.CommandError as exc:
        fail([str(exc)])
    except BundleRefused as exc:
        fail([f"{bundle}: {p}" for p in exc.problems])
    if out_fmt == "text":
        typer.echo(_text(report))
    else:
        emit(report, out_fmt)


def register(app: typer.Typer) -> None:
    """Add ``fhir import`` to *app*."""
    app.add_typer(fhir, name="fhir")
