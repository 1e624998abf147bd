"""Command module (being built): registers its commands on the cartwatch Typer app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to *app*."""
