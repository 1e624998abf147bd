"""Errors raised by the clinical engines for input that is well typed but clinically invalid."""

from __future__ import annotations

from collections.abc import Iterable


class ClinicalInputError(ValueError):
    """Input the engine refuses to guess about, with one (field path, problem) per issue.

    Paths follow the CLI contract: ``oxygen_flow_l_min``, ``ice_items.orientation``,
    ``[2].observed_at``.
    """

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems: list[tuple[str, str]] = list(problems)
        if not self.problems:
            raise ValueError("ClinicalInputError needs at least one problem")
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.problems))

    @classmethod
    def single(cls, path: str, message: str) -> ClinicalInputError:
        return cls([(path, message)])
