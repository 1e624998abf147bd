"""Small-cell suppression of published counts, with complementary suppression.

The rule (stated on every page and document that shows suppressed counts, see ``RULE``):

* **primary** — a count of 1 to 4 patients is never shown; it reads ``"<5"``. Zero is shown
  (it identifies nobody) and so is every count of 5 or more.
* **complementary** — a count that is not shown must not be computable from the counts that
  are shown: if a total and all but one of its parts are visible, the hidden part is their
  difference. So further counts are hidden (they read ``"suppressed"``) until every hidden
  count has at least two values consistent with everything shown, including what the labels
  themselves reveal: a ``"<5"`` is 1–4. A ``"suppressed"`` count may be any number, 1–4
  included: when even the range of a ``"<5"`` gives a count away (four ``"<5"`` cells under
  a ``"<5"`` total are all 1), that count reads ``"suppressed"`` instead.

The published numbers are described as sums of *atoms*: disjoint counts that are never shown
themselves (for the network table: the patients of one centre in one CRS × ICANS category).
A published count is the sum of a set of atoms; a *derived* count is one a reader can work out
from shown counts without it being printed (e.g. infused minus CRS any grade = infused
patients without CRS). A derived count of 1–4 must stay uncomputable as well.

Whether a hidden count is still computable is decided exactly, by integer programming
(``scipy.optimize.milp``): its minimum and maximum over every table of non-negative integer
atoms that agrees with what is shown. Equal bounds = disclosed. This is the method of the
statistical-disclosure-control literature ("attacker" bounds; Hundepool et al., *Statistical
Disclosure Control*, Wiley 2012, §5.3), applied to a whole table at once.

Pure: no Django, no pandas. The network page's pooled PFS/OS counts reuse it. A federated
share file (``interop.federated``) is not suppressed by it: it holds per-time counts for
exact pooling and has its own opt-in ``--min-cell`` refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

#: Counts from 1 to THRESHOLD - 1 are never shown.
THRESHOLD = 5
PRIMARY_LABEL = f"<{THRESHOLD}"
COMPLEMENTARY_LABEL = "suppressed"
RULE = (
    f"Counts of 1–{THRESHOLD - 1} patients are shown as “{PRIMARY_LABEL}”; further counts are "
    f"“{COMPLEMENTARY_LABEL}” (any value) so that no hidden count can be worked out from the "
    "totals and the other counts shown (complementary suppression). Zero is shown. A rate is "
    "shown only when both its numerator and its denominator are."
)


class Status(StrEnum):
    SHOWN = "shown"
    PRIMARY = "primary"  # 1..THRESHOLD-1: reads PRIMARY_LABEL
    COMPLEMENTARY = "complementary"  # hidden to protect another: reads COMPLEMENTARY_LABEL


@dataclass(frozen=True)
class Cell:
    value: int
    status: Status

    @property
    def display(self) -> int | str:
        """What a reader sees: the count, ``"<5"`` or ``"suppressed"``."""
        if self.status is Status.SHOWN:
            return self.value
        return PRIMARY_LABEL if self.status is Status.PRIMARY else COMPLEMENTARY_LABEL


def is_small(value: int) -> bool:
    return 1 <= value < THRESHOLD


class _Table:
    """The atoms, the published and derived counts, and the integer programs over them."""

    def __init__(
        self,
        atoms: Mapping[str, int],
        published: Mapping[str, frozenset[str]],
        derived: Mapping[str, frozenset[str]],
    ) -> None:
        self.atom_names = list(atoms)
        self.atom_index = {a: i for i, a in enumerate(self.atom_names)}
        self.counts = {**published, **derived}
        for name, members in self.counts.items():
            unknown = members - atoms.keys()
            if unknown:
                raise ValueError(f"count {name!r} sums unknown atoms {sorted(unknown)}")
        self.published = list(published)
        self.value = {n: sum(atoms[a] for a in ms) for n, ms in self.counts.items()}
        # A box for every atom, so a hidden count's maximum is finite. Bounding the atoms
        # only shrinks what a reader could consider possible, so it can only make the check
        # stricter.
        self.big = 2 * sum(atoms.values()) + 4 * THRESHOLD

    def row(self, name: str) -> np.ndarray:
        vector = np.zeros(len(self.atom_names))
        for atom in self.counts[name]:
            vector[self.atom_index[atom]] = 1.0
        return vector

    def bounds(self, target: str, status: Mapping[str, Status]) -> tuple[float, float]:
        """(min, max) of *target* over every atom table that reads like *status* says."""
        rows = [self.row(n) for n in self.published if status[n] is not Status.COMPLEMENTARY]
        low = [
            self.value[n] if status[n] is Status.SHOWN else 1
            for n in self.published
            if status[n] is not Status.COMPLEMENTARY
        ]
        high = [
            self.value[n] if status[n] is Status.SHOWN else THRESHOLD - 1
            for n in self.published
            if status[n] is not Status.COMPLEMENTARY
        ]
        constraints = [LinearConstraint(np.vstack(rows), low, high)] if rows else []
        n_atoms = len(self.atom_names)
        out: list[float] = []
        for sign in (1.0, -1.0):
            result = milp(
                sign * self.row(target),
                integrality=np.ones(n_atoms),
                bounds=Bounds(np.zeros(n_atoms), np.full(n_atoms, self.big)),
                constraints=constraints,
            )
            if result.status != 0 or result.fun is None:  # pragma: no cover - always feasible
                raise RuntimeError(f"disclosure check failed: {result.message}")
            out.append(sign * float(result.fun))
        return out[0], out[1]

    def disclosed(self, target: str, status: Mapping[str, Status]) -> bool:
        low, high = self.bounds(target, status)
        return round(high) - round(low) < 1


def _at_risk(table: _Table, status: Mapping[str, Status]) -> str | None:
    """The first count that must stay hidden but can be worked out, or None."""
    protect = [n for n in table.published if status[n] is not Status.SHOWN]
    protect += [n for n in table.counts if n not in status and is_small(table.value[n])]
    for name in protect:
        if table.disclosed(name, status):
            return name
    return None


def suppress(
    atoms: Mapping[str, int],
    published: Mapping[str, frozenset[str]],
    derived: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, Cell]:
    """Apply the rule (module docstring) to the *published* counts (name → set of atoms).

    *derived*: counts a reader can compute but that are not printed; a derived count of 1–4
    is protected like a printed one. Returns a :class:`Cell` for every published count.
    Complementary cells are chosen greedily (least information lost first): the smallest
    non-zero shown count whose hiding makes the exposed count uncomputable, else the smallest
    shown count, and the check repeats; a "<5" becomes "suppressed" only when no shown count
    is left to hide.
    """
    table = _Table(atoms, published, derived or {})
    status: dict[str, Status] = {
        n: Status.PRIMARY if is_small(table.value[n]) else Status.SHOWN for n in table.published
    }
    while (exposed := _at_risk(table, status)) is not None:
        # Hide a shown count (smallest non-zero first: least information lost), else turn a
        # "<5" into "suppressed" (its range 1–4 can itself give a count away: four "<5"
        # cells under a "<5" total are all 1).
        candidates = sorted(
            (n for n in table.published if status[n] is not Status.COMPLEMENTARY),
            key=lambda n: (status[n] is Status.PRIMARY, table.value[n] == 0, table.value[n], n),
        )
        choice = next(
            (
                n
                for n in candidates
                if not table.disclosed(exposed, {**status, n: Status.COMPLEMENTARY})
            ),
            candidates[0] if candidates else None,
        )
        if choice is None:  # pragma: no cover - nothing shown bounds any count
            raise RuntimeError(f"count {exposed!r} stays computable with every count hidden")
        status[choice] = Status.COMPLEMENTARY
    return {n: Cell(table.value[n], status[n]) for n in table.published}
