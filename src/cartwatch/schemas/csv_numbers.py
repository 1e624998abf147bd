"""Number cells of CSV files and number inputs of the web forms: plain decimal numbers only.

Python's ``float()`` and ``int()`` read more than a CSV number: ``float("3_9")`` is 39.0
(digit grouping) and ``float("٣٩")`` is 39.0 (Arabic-Indic digits), so a junk temperature
cell would become a 39 °C fever and ``1_0`` a 10 L/min flow. Both CSV readers (the centre
data format and the batch grader) and the web forms (``web/ui/forms.py``, after reading a
decimal comma as a point) use these patterns first; a cell that does not match is not a
number and is reported on its field.
"""

from __future__ import annotations

import re

__all__ = ["PLAIN_INTEGER", "PLAIN_NUMBER"]

#: An optional sign and ASCII digits: ``12``, ``-3``, ``+0``.
PLAIN_INTEGER = re.compile(r"[+-]?[0-9]+")
#: An optional sign, ASCII digits with an optional decimal point, an optional exponent:
#: ``38.5``, ``+38.5``, ``38.``, ``.5``, ``3.85e1``.
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
