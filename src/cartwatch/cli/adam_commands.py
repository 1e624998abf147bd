"""``cartwatch adam derive`` and ``cartwatch adam read``: CDISC ADaM from and for other tools.

Parse, call, print: the derivation is :mod:`cartwatch.adam.derive`, the files
:mod:`cartwatch.adam.xpt`. Invalid centre data exits 2 with every problem as
``file:row:field: message`` on stderr, and nothing is written (DEVELOPERS.md "CLI wiring").
"""

from __future__ import annotations

import datetime as dt
import json
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cartwatch.cli.io import OUT_FLAGS, OutputFormat, fail
from cartwatch.clinical.errors import ClinicalInputError

if TYPE_CHECKING:
    from rich.console import Console

adam_app = typer.Typer(
    name="adam",
    help="CDISC ADaM: derive ADSL/ADRS/ADTTE/ADAE from centre data; read ADaM XPT/CSV.",
    no_args_is_help=True,
)


def _cutoff(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail([f"data_cutoff: must be a date YYYY-MM-DD, got {text!r}"])


@adam_app.command("derive")
def derive(
    raw: Annotated[Path, typer.Argument(help="centre data folder (RAW)")],
    output: Annotated[Path, typer.Option(*OUT_FLAGS, help="folder for the datasets")],
    xpt: Annotated[bool, typer.Option("--xpt", help="also write SAS XPORT v5 files")] = False,
    data_cutoff: Annotated[
        str | None,
        typer.Option("--data-cutoff", help="YYYY-MM-DD; default: latest date in the data"),
    ] = None,
) -> None:
    """Derive ADSL, ADRS, ADTTE and ADAE (CSV with .meta.json labels; --xpt adds XPT v5)."""
    # Imported here: pandas and pyreadstat cost seconds that other commands need not pay.
    from rich.console import Console

    from cartwatch.adam.derive import derive_adam
    from cartwatch.centre.loader import CentreDataError, load_centre_dir

    cutoff = _cutoff(data_cutoff)
    if output.exists() and not output.is_dir():
        fail([f"output: {output} exists and is not a folder"])
    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        with _status(console, "reading centre data"):
            data = load_centre_dir(raw)
        with _status(console, "deriving ADaM"):
            datasets = derive_adam(data, cutoff)
    except CentreDataError as exc:
        fail([str(p) for p in exc.problems])
    except ClinicalInputError as exc:
        fail([f"{path}: {message}" for path, message in exc.problems])
    datasets.write(output, xpt=xpt)
    sizes = ", ".join(f"{spec.name} {len(df)}" for spec, df in datasets.items())
    elapsed = time.perf_counter() - started
    typer.echo(
        f"adam derive (cut-off {datasets.data_cutoff.isoformat()}): {sizes} records "
        f"→ {output}{' (CSV + XPT v5)' if xpt else ' (CSV)'} [{elapsed:.1f} s]"
    )


def _status(console: Console, text: str) -> AbstractContextManager[object]:
    """A Rich spinner on an interactive terminal only (never in pipes, files or CI logs)."""
    return console.status(text, spinner="dots") if console.is_terminal else nullcontext()


@adam_app.command("read")
def read(
    folder: Annotated[Path, typer.Argument(help="folder of ADaM .xpt/.csv files")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="json or text")
    ] = OutputFormat.TEXT,
) -> None:
    """Read ADaM XPT/CSV made by any tool and summarise the datasets found."""
    from cartwatch.adam.xpt import AdamReadError, read_adam_dir

    try:
        found = read_adam_dir(folder)
    except AdamReadError as exc:
        fail(exc.problems)
    summary = [
        {
            "name": name,
            "file": Path(ds.meta.source).name,
            "label": ds.meta.label,
            "rows": len(ds.data),
            "variables": [str(c) for c in ds.data.columns],
            "labelled_variables": sum(1 for v in ds.meta.labels.values() if v),
        }
        for name, ds in sorted(found.items())
    ]
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps({"folder": str(folder), "datasets": summary}, indent=2))
        return
    for name, ds in sorted(found.items()):
        label = f" ({ds.meta.label})" if ds.meta.label else ""
        typer.echo(
            f"{name}{label}: {len(ds.data)} rows, {len(ds.data.columns)} variables "
            f"[{Path(ds.meta.source).name}]"
        )


def register(app: typer.Typer) -> None:
    """Add the ``adam`` sub-app (``derive``, ``read``) to *app*."""
    app.add_typer(adam_app, name="adam")
