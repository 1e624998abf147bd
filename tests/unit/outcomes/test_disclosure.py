"""Small-cell suppression (cartwatch.outcomes.disclosure): no count of 1–4 is shown, and no
hidden count can be worked out from what is shown.

The property is checked by brute force, independently of the integer programs the module
uses: every table of atoms in a box that reads exactly like the published output (shown
counts equal, "<5" counts 1–4, "suppressed" counts 0 or ≥5) is enumerated, and each hidden
count must take at least two values over them.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cartwatch.outcomes.disclosure import (
    COMPLEMENTARY_LABEL,
    PRIMARY_LABEL,
    RULE,
    THRESHOLD,
    Status,
    suppress,
)

BOX = 11  # atoms are enumerated in 0..BOX-1; generated values (0..5) stay well inside


def two_way(values: list[list[int]]) -> tuple[dict[str, int], dict[str, frozenset[str]]]:
    """A rows × columns table with its row, column and grand totals published."""
    atoms = {f"r{i}c{j}": v for i, row in enumerate(values) for j, v in enumerate(row)}
    published = {name: frozenset({name}) for name in atoms}
    n_rows, n_cols = len(values), len(values[0])
    for i in range(n_rows):
        published[f"row{i}"] = frozenset(f"r{i}c{j}" for j in range(n_cols))
    for j in range(n_cols):
        published[f"col{j}"] = frozenset(f"r{i}c{j}" for i in range(n_rows))
    published["total"] = frozenset(atoms)
    return atoms, published


def feasible_values(
    atoms: dict[str, int], published: dict[str, frozenset[str]], cells: dict[str, object]
) -> dict[str, set[int]]:
    """For each published count: the values it takes over every atom table in the box that
    reads like *cells* (brute force)."""
    names = list(atoms)
    grid = np.array(list(itertools.product(range(BOX), repeat=len(names))), dtype=np.int16)
    sums = {
        p: grid[:, [names.index(a) for a in members]].sum(axis=1)
        for p, members in published.items()
    }
    ok = np.ones(len(grid), dtype=bool)
    for p, shown in cells.items():
        if shown == PRIMARY_LABEL:
            ok &= (sums[p] >= 1) & (sums[p] < THRESHOLD)
        elif shown != COMPLEMENTARY_LABEL:
            ok &= sums[p] == shown
    return {p: set(np.unique(sums[p][ok]).tolist()) for p in published}


tables = st.integers(2, 3).flatmap(
    lambda rows: st.lists(
        st.lists(st.integers(0, 5), min_size=2, max_size=2), min_size=rows, max_size=rows
    )
)


@settings(max_examples=12, deadline=None)
@given(tables)
def test_no_hidden_count_can_be_worked_out(values: list[list[int]]) -> None:
    atoms, published = two_way(values)
    cells = suppress(atoms, published)
    shown = {name: cell.display for name, cell in cells.items()}
    for name, cell in cells.items():
        assert not (isinstance(cell.display, int) and 1 <= cell.display < THRESHOLD), name
        assert cell.value == sum(atoms[a] for a in published[name])
    possible = feasible_values(atoms, published, shown)
    for name, cell in cells.items():
        assert cell.value in possible[name]  # the truth reads like the output
        if cell.status is not Status.SHOWN:
            assert len(possible[name]) >= 2, f"{name} = {cell.value} recoverable from {shown}"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=2, max_size=3), st.integers(0, 6))
def test_a_derived_small_count_stays_hidden(parts: list[int], extra: int) -> None:
    """A count nobody prints but a reader can compute (a total minus its shown part) is
    protected too: here "rest" = total − shown parts."""
    atoms = {f"a{i}": v for i, v in enumerate(parts)} | {"rest": extra}
    published = {f"a{i}": frozenset({f"a{i}"}) for i in range(len(parts))}
    published["total"] = frozenset(atoms)
    cells = suppress(atoms, published, {"rest": frozenset({"rest"})})
    shown = {name: cell.display for name, cell in cells.items()}
    possible = feasible_values(atoms, {**published, "rest": frozenset({"rest"})}, shown)
    if 1 <= extra < THRESHOLD:
        assert len(possible["rest"]) >= 2, f"rest = {extra} recoverable from {shown}"


def test_boundaries_of_the_rule() -> None:
    atoms = {"a": 0, "b": 1, "c": 4, "d": 5, "e": 9, "f": 9}
    published = {k: frozenset({k}) for k in atoms}
    cells = suppress(atoms, published)  # no totals: nothing to protect against
    assert {k: c.display for k, c in cells.items()} == {
        "a": 0, "b": PRIMARY_LABEL, "c": PRIMARY_LABEL, "d": 5, "e": 9, "f": 9,
    }  # fmt: skip


def test_one_small_cell_and_its_total_hides_a_second_cell() -> None:
    atoms, published = two_way([[2, 7], [9, 8]])
    cells = suppress(atoms, published)
    hidden = {k for k, c in cells.items() if c.status is not Status.SHOWN}
    assert cells["r0c0"].display == PRIMARY_LABEL
    assert len(hidden) >= 3  # the 2, and enough others that no margin gives it away


def test_small_cells_under_a_small_total_are_not_all_1() -> None:
    """Four "<5" cells under a "<5" total would all read as 1: some read "suppressed"."""
    atoms, published = two_way([[1, 1], [1, 1]])
    cells = suppress(atoms, published)
    assert any(c.display == COMPLEMENTARY_LABEL for c in cells.values())
    assert not any(isinstance(c.display, int) for c in cells.values())


def test_the_rule_is_stated_with_its_threshold() -> None:
    assert "1–4" in RULE and PRIMARY_LABEL in RULE and COMPLEMENTARY_LABEL in RULE
