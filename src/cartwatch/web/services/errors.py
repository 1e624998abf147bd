"""Service-layer errors, mapped to HTTP status codes in one place (api/errors.py)."""

from __future__ import annotations


class Conflict(Exception):
    """The row changed since the client read it (optimistic lock): HTTP 409."""

    def __init__(self, current_version: int, sent_version: int | None) -> None:
        self.current_version = current_version
        self.sent_version = sent_version
        super().__init__(
            f"this record was changed by someone else (now version {current_version}, "
            f"you edited version {sent_version}); reload it and apply your change again"
        )


class ReasonRequired(Exception):
    """Editing or deleting a completed assessment needs a reason for change: HTTP 422."""


class Unavailable(Exception):
    """A feature whose engine is not installed in this build (e.g. ADaM derivation): 501."""


class NothingToReport(Exception):
    """The centre's data cannot make an outcomes report yet (e.g. nobody infused): 409."""
