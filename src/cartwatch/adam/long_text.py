"""Text over 200 bytes in ADaM files: continuation variables (ATOXREAS, ATOXREA1, …).

The convention and why are in :mod:`cartwatch.adam.metadata` ("Long text"). In memory a
``continued`` variable holds the whole text; :func:`split_long_text` makes the on-disk form
(the same for CSV and XPT, so both files agree) and :func:`join_long_text` undoes it when a
dataset is read back. ``join(split(text)) == text`` for every text (tested as a property).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from cartwatch.adam.metadata import (
    XPT_V5_CHAR_MAX,
    DatasetSpec,
    VariableSpec,
    continuation,
    continuation_name,
)


def split_segments(text: str, limit: int = XPT_V5_CHAR_MAX) -> list[str]:
    """*text* as segments of at most *limit* characters whose concatenation is *text*.

    Each cut is made before the last space within the limit, so a segment never ends in a
    space (XPT drops trailing blanks) and the next one starts with it (leading blanks are
    kept); a run of spaces moves whole to the next segment. A word longer than the limit is
    cut inside the word.
    """
    segments: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind(" ", 1, limit + 1)
        while cut > 0 and rest[cut - 1] == " ":
            cut -= 1
        if cut <= 0:
            # No space to cut before (one long word, or only leading spaces): cut at the limit,
            # stepping back over spaces so that the segment does not end in one.
            cut = limit
            while cut > 1 and rest[cut - 1] == " ":
                cut -= 1
        segments.append(rest[:cut])
        rest = rest[cut:]
    segments.append(rest)
    return segments


def split_long_text(df: pd.DataFrame, spec: DatasetSpec) -> tuple[pd.DataFrame, DatasetSpec]:
    """*df* and *spec* with every ``continued`` variable split into ≤200-byte segments.

    The continuation variables follow their variable, as many as the longest value needs;
    a dataset whose values all fit is returned unchanged.
    """
    columns: dict[str, pd.Series] = {}
    variables: list[VariableSpec] = []
    for v in spec.variables:
        col = df[v.name]
        if not v.continued or not len(col) or col.str.len().max() <= XPT_V5_CHAR_MAX:
            columns[v.name] = col
            variables.append(v)
            continue
        parts = [split_segments(str(text)) for text in col]
        width = max(len(p) for p in parts)
        for i in range(width):
            var = v if i == 0 else continuation(v, i)
            columns[var.name] = pd.Series(
                [p[i] if i < len(p) else "" for p in parts], index=df.index, dtype=object
            )
            variables.append(var)
    if len(variables) == len(spec.variables):
        return df, spec
    return pd.DataFrame(columns, index=df.index), replace(spec, variables=tuple(variables))


def join_long_text(df: pd.DataFrame, spec: DatasetSpec | None) -> pd.DataFrame:
    """*df* with the continuation variables of *spec*'s ``continued`` variables joined back
    into them and dropped (a dataset read from a file). Unknown datasets are unchanged."""
    if spec is None:
        return df
    for v in spec.variables:
        if not v.continued or v.name not in df.columns:
            continue
        names = []
        i = 1
        while (name := continuation_name(v.name, i)) in df.columns:
            names.append(name)
            i += 1
        if not names:
            continue
        whole = df[v.name].astype(str)
        for name in names:
            whole = whole + df[name].astype(str)
        df = df.drop(columns=names)
        df[v.name] = whole.astype(object)
    return df
