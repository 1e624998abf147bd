"""What free text may contain, for every text field of the CLI, the centre format and the web
app (names, notes, hospital numbers, reasons for change).

Refused, with a message saying which character and where:

* control characters — C0 (U+0000–U+001F, e.g. NUL, BEL, ESC), DEL (U+007F) and C1
  (U+0080–U+009F, e.g. U+0085 NEL). Tab and line breaks only where *multiline* says so.
  A control character in a clinical note is a damaged file or a paste accident, never meant;
  ESC sequences can repaint a terminal that prints the value.
* bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) — they
  reorder how a value reads on screen ("Trojan Source", CVE-2021-42574), so a lot number or
  an agent name could display as something it is not.
* zero-width and invisible characters (U+200B–U+200D, U+2060, U+FEFF, U+00AD) — two values
  that look the same would differ, and a search would miss one of them.
* lone surrogates (U+D800–U+DFFF) — not characters; no database or file can store them.
"""

from __future__ import annotations

import unicodedata

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_LINE_BREAKS = frozenset("\t\n\r")


def _problem(char: str, multiline: bool) -> str | None:
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        if multiline and char in _LINE_BREAKS:
            return None
        return "a control character"
    if char in _BIDI:
        return "a bidirectional-text control (it changes how the text reads on screen)"
    if char in _INVISIBLE:
        return "an invisible (zero-width) character"
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate (not a character)"
    return None


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why *value* cannot be stored as text, or None. Names the first offending character."""
    for index, char in enumerate(value):
        problem = _problem(char, multiline)
        if problem is not None:
            name = unicodedata.name(char, "") if problem != "a lone surrogate" else ""
            label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
            return f"contains {problem}, {label}, at character {index + 1}"
    return None


def checked_text(value: str, *, multiline: bool = False) -> str:
    """*value* unchanged, or ValueError naming the offending character (a pydantic
    AfterValidator turns it into the field's problem)."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValueError(problem)
    return value


def single_line(value: str) -> str:
    return checked_text(value)


def multi_line(value: str) -> str:
    return checked_text(value, multiline=True)
