"""``cartwatch synth`` (synthetic centre data) and ``cartwatch centre validate`` (check a folder).

Parse, call, print: the cohort model is :mod:`cartwatch.synth.cohort`, the format and its
checks :mod:`cartwatch.centre.loader`. Bad options exit 2 with ``field: problem`` lines on
stderr and nothing on stdout (DEVELOPERS.md "CLI wiring").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cartwatch.cli.io import OUT_FLAGS, fail

if TYPE_CHECKING:
    from cartwatch.centre.loader import CentreData

centre_app = typer.Typer(
    name="centre",
    help="Centre data folders (CSV format, docs/centre-data-format.md).",
    no_args_is_help=True,
)


def _int_option(name: str, text: str | None, minimum: int, problems: list[str]) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        problems.append(f"{name}: must be an integer, got {text!r}")
        return None
    if value < minimum:
        problems.append(f"{name}: must be ≥{minimum}, got {value}")
        return None
    return value


def _summary(data: CentreData) -> str:
    infused = sum(1 for c in data.cell_therapy if c.infusion_date is not None)
    return (
        f"{len(data.patients)} patients ({infused} infused), "
        f"{len(data.crs_observations)} CRS and {len(data.icans_observations)} neurotoxicity "
        f"observations, {len(data.labs)} labs, {len(data.response_assessments)} assessments"
    )


def synth(
    output: Annotated[Path, typer.Option(*OUT_FLAGS, help="folder to write (RAW)")],
    n: Annotated[str | None, typer.Option("--n", help="leukapheresed patients (≥1)")] = None,
    seed: Annotated[str, typer.Option("--seed", help="random seed (≥0)")] = "0",
    published: Annotated[
        bool,
        typer.Option(
            "--published",
            help="the TRANSCEND CLL 004 primary analysis counts exactly (ignores --n)",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="overwrite a non-empty folder")] = False,
) -> None:
    """Write a synthetic centre data folder calibrated to TRANSCEND CLL 004."""
    problems: list[str] = []
    n_value = _int_option("n", n, 1, problems)
    seed_value = _int_option("seed", seed, 0, problems)
    if n is None and not published:
        problems.append("n: required unless --published")
    if output.exists() and not output.is_dir():
        problems.append(f"output: {output} exists and is not a folder")
    elif output.is_dir() and any(output.iterdir()) and not force:
        problems.append(f"output: {output} is not empty (use --force to overwrite)")
    if problems or seed_value is None:
        fail(problems)
    started = time.perf_counter()
    # Imported here: pandas and the cohort model cost seconds that other commands need not pay.
    from cartwatch.centre.loader import write_centre_dir
    from cartwatch.synth.cohort import synthesize

    data = synthesize(n_value or 0, seed_value, published=published)
    write_centre_dir(data, output)
    mode = "published" if published else f"n={n_value}"
    elapsed = time.perf_counter() - started
    typer.echo(f"synth ({mode}, seed={seed_value}): {_summary(data)} → {output} [{elapsed:.1f} s]")


@centre_app.command("validate")
def validate(
    folder: Annotated[Path, typer.Argument(help="centre data folder (RAW)")],
) -> None:
    """Check every file, row and cross-file rule; list every problem as file:row:field."""
    from cartwatch.centre.loader import CentreDataError, load_centre_dir

    try:
        data = load_centre_dir(folder)
    except CentreDataError as exc:
        fail([str(p) for p in exc.problems])
    typer.echo(f"valid: {_summary(data)}")


def register(app: typer.Typer) -> None:
    """Add ``synth`` and the ``centre`` sub-app to *app*."""
    app.command("synth")(synth)
    app.add_typer(centre_app, name="centre")
