"""Shared pieces of the ADaM derivation: subject identifiers, dates, day counting, text.

Kept apart from ``derive.py`` so that ``adsl``/``adrs``/``adtte``/``adae`` can import them
without a cycle. Conventions are documented once, in :mod:`cartwatch.adam.derive`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

NaT = pd.NaT

#: Superscript runs become a caret and the digits, the ASCII way of writing a power that
#: reads as a unit: "×10⁹/L" → "x10^9/L", "10⁻⁴" → "10^-4", "cm²" → "cm^2" (NFKD would give
#: "x109/L", a different number).
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")

#: Unicode the clinical engines use in reasons, spelled in ASCII (XPT v5 is ASCII, and the
#: CSV holds the same text so both files agree). "×" has no ASCII sign: "x".
_ASCII = {
    "≥": ">=",
    "≤": "<=",
    "×": "x",
    "→": "->",
    "−": "-",
    "–": "-",
    "—": "-",
    "…": "...",
    "°": " deg ",
    "µ": "u",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
}
_ASCII_TABLE = str.maketrans(_ASCII)


@functools.lru_cache(maxsize=1 << 16)
def ascii_text(text: str) -> str:
    """*text* in ASCII, whole, with runs of white space as one space.

    Powers keep their meaning ("×10⁹/L" → "x10^9/L"). Nothing is cut: text over the 200-byte
    XPT v5 limit is written in continuation variables (:mod:`cartwatch.adam.long_text`).

    Cached: the engines repeat the same reason texts across thousands of records (a 1,000-
    patient cohort has ~12,000 reason texts but ~3,700 distinct ones), and the result
    depends on the text alone. Bounded, so a long-running web process cannot grow it forever.
    """
    out = text
    if not out.isascii():
        if _SUPERSCRIPT_RUN.search(out):
            out = _SUPERSCRIPT_RUN.sub(lambda m: "^" + m.group().translate(_SUPERSCRIPT), out)
        # Same result as ``out.translate(_ASCII_TABLE)`` (every replacement is ASCII, so the
        # replacements cannot feed each other), but ``str.replace`` of the few symbols present
        # is far cheaper than ``translate``'s per-character dict lookups on long reasons.
        for symbol, plain in _ASCII.items():
            if symbol in out:
                out = out.replace(symbol, plain)
        if not out.isascii():
            # Anything else: NFKD splits accents off letters, then drop what stays non-ASCII.
            out = unicodedata.normalize("NFKD", out).translate(_ASCII_TABLE)
            out = out.encode("ascii", "ignore").decode("ascii")
    return " ".join(out.split())


def join_reasons(reasons: tuple[str, ...] | list[str]) -> str:
    return ascii_text("; ".join(reasons))


def yn(flag: pd.Series) -> pd.Series:
    """Boolean → "Y"/"N" (ADaM Y/N flags)."""
    return pd.Series(np.where(flag.fillna(False).astype(bool), "Y", "N"), index=flag.index)


def y_blank(flag: pd.Series) -> pd.Series:
    """Boolean → "Y"/"" (ADaM population-style flags that are Y or null, e.g. DTHFL)."""
    return pd.Series(np.where(flag.fillna(False).astype(bool), "Y", ""), index=flag.index)


def ynu(values: pd.Series) -> pd.Series:
    """Nullable boolean → "Y"/"N"/"" (blank = unknown/not tested)."""
    return values.map(lambda v: "" if v is None or v is pd.NA else ("Y" if v else "N")).astype(
        object
    )


def as_day(value: dt.date | dt.datetime | None) -> pd.Timestamp:
    """A date or local date-time as a midnight ``Timestamp`` (NaT for None)."""
    if value is None:
        return NaT  # type: ignore[return-value]  # NaT is the Timestamp missing value
    if isinstance(value, dt.datetime):
        value = value.date()
    return _midnight(value)


@functools.lru_cache(maxsize=1 << 14)
def _midnight(day: dt.date) -> pd.Timestamp:
    # Building a Timestamp costs microseconds and records share few distinct days (a cohort
    # spans a few years); Timestamps are immutable, so sharing one per day is safe.
    return pd.Timestamp(day)


def study_day(when: pd.Series, ref: pd.Series) -> pd.Series:
    """ADaM relative day (ADaMIG ``--DY``): ref day = day 1, the day before = day -1."""
    diff = (when - ref).dt.days.astype("float64")
    return diff.where(diff < 0, diff + 1)


def days_after(when: pd.Series, ref: pd.Series) -> pd.Series:
    """Elapsed days (ref day = day 0): how TRANSCEND reports onset after infusion."""
    return (when - ref).dt.days.astype("float64")


@dataclass(frozen=True)
class Subjects:
    """Identifiers and anchor dates of every patient, indexed by centre ``patient_id``."""

    table: pd.DataFrame  # STUDYID USUBJID SUBJID SITEID TRTSDT (datetime64) INFUSED (bool)

    def ids(self, patient_ids: pd.Series) -> pd.DataFrame:
        """STUDYID/USUBJID/SUBJID/SITEID for *patient_ids*, in their order."""
        cols = ["STUDYID", "USUBJID", "SUBJID", "SITEID"]
        return self.table.loc[patient_ids.to_numpy(), cols].reset_index(drop=True)

    def trtsdt(self, patient_ids: pd.Series) -> pd.Series:
        return pd.Series(
            self.table.loc[patient_ids.to_numpy(), "TRTSDT"].to_numpy(), dtype="datetime64[ns]"
        )

    def infusion(self) -> Mapping[str, pd.Timestamp]:
        infused = self.table[self.table["INFUSED"]]
        return dict(zip(infused.index, infused["TRTSDT"], strict=True))
