"""Template filters for the pages (formatting only)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def rate(value: Any) -> str:
    """``{"k": 3, "n": 10, "rate": 0.3, "ci": [lo, hi]}`` → "3/10 (30.0%; 95% CI 6.7–65.2)"."""
    if not isinstance(value, dict) or not value.get("n"):
        return "—"
    if value.get("rate") is None:  # a suppressed numerator or denominator: no rate
        return f"{value['k']}/{value['n']}"
    ci = value.get("ci") or [None, None]
    text = f"{value['k']}/{value['n']} ({100 * value['rate']:.1f}%"
    if ci[0] is not None:
        text += f"; 95% CI {100 * ci[0]:.1f}–{100 * ci[1]:.1f}"
    return text + ")"
