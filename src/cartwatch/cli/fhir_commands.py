"""``cartwatch fhir import|export``: parse, call ``cartwatch.web.commands``, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cartwatch.cli.io import OUT_FLAGS, emit, fail
from cartwatch.cli.stats_commands import format_option

fhir = typer.Typer(
    help="FHIR R4: import a Bundle into a centre; export a centre's journeys as a Bundle.",
    no_args_is_help=True,
)


def _text(report: dict[str, Any]) -> str:
    stored = report["stored"]
    lines = [
        f"centre {report['centre']}: {report['resources']} resources read; "
        f"{stored['crs_drafts']} draft CRS assessment(s), {stored['labs']} lab record(s), "
        f"{stored['conditions_checked']} diagnosis check(s); "
        f"{report['already_imported']} already imported",
    ]
    if stored["crs_drafts"]:
        lines.append(report["note"])
    for r in report["records"]:
        grade = r.get("grade", r.get("grades"))
        lines.append(f"  {r['kind']} {r['patient_id']} {r['observed_at']}: grade {grade}")
    journey = report.get("journey")
    if journey is not None:
        stored = ", ".join(f"{n} {k}" for k, n in journey["records"].items()) or "nothing"
        lines.append(
            f"cartwatch journey records stored: {stored}; {journey['patients_created']} "
            f"patient(s) created; {journey['verified_now_complete']} verified record(s) now "
            "complete (verification is this centre's act); "
            f"{journey['adverse_events_checked']} adverse event(s) checked"
        )
        differences = journey["grade_differences"]
        lines.append(f"differences from the exported results ({len(differences)}):")
        lines += [
            f"  {d['record']} {d['field']}: exported {d['exported']!r}, stored {d['stored']!r}"
            for d in differences
        ]
    if report["unmapped"]:
        lines.append(f"not imported ({len(report['unmapped'])}):")
        lines += [f"  entry[{u['entry']}] {u['id']}: {u['reason']}" for u in report["unmapped"]]
    return "\n".join(lines)


def _require_who(centre: str | None, user: str | None, role: str, problems: list[str]) -> None:
    """--centre and --user are required by both commands (the audit names the user)."""
    if centre is None:
        problems.append("centre: required (--centre CODE)")
    if user is None:
        problems.append(f"user: required (--user NAME, {role})")


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
    _require_who(centre, user, "who enters the records", problems)
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


def _export_text(report: dict[str, Any]) -> str:
    types = ", ".join(f"{n} {t}" for t, n in report["resource_types"].items())
    view = " (research view: pseudonymised)" if report["pseudonymised"] else ""
    lines = [
        f"centre {report['centre']}: {report['patients']} patient(s), {report['resources']} "
        f"resources{view} → {report['out']} ({report['bytes']:,} bytes)",
        f"  {types}",
    ]
    if report["excluded"]:
        lines.append(f"left out (a stored record fails the checks): {len(report['excluded'])}")
        lines += [f"  {line}" for line in report["excluded"]]
    return "\n".join(lines)


@fhir.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option(*OUT_FLAGS, help="Where to write the Bundle (JSON)")
    ] = None,
    centre: Annotated[str | None, typer.Option("--centre", help="Centre code")] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="The user exporting (audit; export permission)")
    ] = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help="Only this patient (pseudonym)")
    ] = None,
    pseudonymise: Annotated[
        bool,
        typer.Option(
            "--pseudonymise",
            help="Research view: consenting patients only, free text blanked, names coded",
        ),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "json",
) -> None:
    """The centre's CAR-T journeys as a FHIR R4 collection Bundle (validated, audited)."""
    problems: list[str] = []
    out_fmt = format_option(fmt, problems)
    _require_who(centre, user, "who exports", problems)
    if out is None:
        problems.append("out: required (-o/--out BUNDLE.json)")
    elif not out.parent.is_dir():
        problems.append(f"out: folder {out.parent} does not exist")
    elif out.is_dir():
        problems.append(f"out: {out} is a folder; give a file name")
    if problems or centre is None or user is None or out is None:
        fail(problems)
    from cartwatch.web import commands

    commands.setup()
    try:
        report = commands.fhir_export(
            centre, user, str(out), patient_id=patient, pseudonymise=pseudonymise
        )
    except commands.CommandError as exc:
        fail([str(exc)])
    if out_fmt == "text":
        typer.echo(_export_text(report))
    else:
        emit(report, out_fmt)


def register(app: typer.Typer) -> None:
    """Add ``fhir import`` and ``fhir export`` to *app*."""
    app.add_typer(fhir, name="fhir")
