"""The ``cartwatch`` command: builds the Typer app from the command modules."""

from __future__ import annotations

from typing import Annotated

import typer

from cartwatch import __version__
from cartwatch.cli import (
    adam_commands,
    clinical_commands,
    federated_commands,
    fhir_commands,
    help_format,
    registry_commands,
    report_commands,
    research_commands,
    start_command,
    stats_commands,
    synth_commands,
    web_commands,
)

app = typer.Typer(
    name="cartwatch",
    help="CAR-T centre software: label eligibility, ASTCT grading, iwCLL response, outcomes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


help_format.install()


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cartwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """CAR-T centre software: label eligibility, ASTCT grading, iwCLL response, outcomes."""


for module in (
    clinical_commands,
    stats_commands,
    federated_commands,
    fhir_commands,
    registry_commands,
    synth_commands,
    adam_commands,
    report_commands,
    research_commands,
    web_commands,
    start_command,
):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
