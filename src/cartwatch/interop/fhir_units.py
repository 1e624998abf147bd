"""UCUM unit conversion for the FHIR import, by ``ucumvert`` (UCUM grammar → pint).

Only quantities coded in UCUM (``valueQuantity.system = http://unitsofmeasure.org``) are
converted, and only into the unit cartwatch stores for that code (``fhir_codes``): a unit of
another dimension (a percentage for an absolute count, say) is refused with the reason, never
guessed. Conversions are affine (°F → °C has an offset), so each (from, to) pair is asked of
pint once and cached as ``value · factor + offset``. The result is rounded to
``DECIMALS`` places: far below any clinical precision, and it removes floating-point residue
that could put a value on the wrong side of a threshold (100.4 °F must be 38.0 °C, not
37.999999999999).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

UCUM_SYSTEM: Final = "http://unitsofmeasure.org"
DECIMALS: Final = 6


class UnitProblem(ValueError):
    """A unit that is not UCUM, not parseable, or not convertible to the stored unit."""


@cache
def _registry() -> Any:
    from ucumvert import PintUcumRegistry  # ~3 s to build: once per process, on first use

    return PintUcumRegistry()


@cache
def _affine(source: str, target: str) -> tuple[float, float]:
    registry = _registry()
    try:
        from_unit = registry.from_ucum(source).units
        to_unit = registry.from_ucum(target).units
    except Exception as exc:  # ucumvert raises lark/pint errors of many kinds
        raise UnitProblem(f"{source!r} is not a UCUM unit cartwatch can read ({exc})") from None
    try:
        zero = registry.Quantity(0.0, from_unit).to(to_unit).magnitude
        one = registry.Quantity(1.0, from_unit).to(to_unit).magnitude
    except Exception:  # pint DimensionalityError and offset-unit errors
        raise UnitProblem(f"{source!r} cannot be converted to {target!r}") from None
    return float(one - zero), float(zero)


def _check_known(unit: str) -> None:
    if not unit.strip():
        raise UnitProblem("no unit code")


def convert(value: float, source: str, target: str) -> float:
    """*value* in UCUM unit *source*, in UCUM unit *target*."""
    if source == target:
        return value
    _check_known(source)
    factor, offset = _affine(source, target)
    return round(value * factor + offset, DECIMALS)
