"""The ``cartwatch`` command: builds the Typer app from the command modules."""

from __future__ import annotations

import typer

from cartwatch.cli import (
    adam_commands,
    clinical_commands,
    report_commands,
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

for module in (
    clinical_commands,
    stats_commands,
    synth_commands,
    adam_commands,
    report_commands,
    web_commands,
):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
