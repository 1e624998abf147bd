"""``--help`` written the way command-line help usually is (issue 11, item 7).

Typer prints the Python type of every parameter in angle brackets: ``--force <bool>`` for a
flag that takes no value, ``--host <str>``, and a required argument as ``{FILE}`` in the
usage line. Here: a flag shows no type, a value shows its metavar or TEXT / INTEGER / FLOAT
/ PATH, choices show as ``[json|text]``, an argument shows only its name (``FILE``, or
``[FILE]`` when optional). Typer has no setting for this, so :func:`install` replaces the
two display methods; tests/cli/test_conventions.py pins the result for every command.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperOption

_TYPE_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH"}


def _help_type(param: TyperOption | TyperArgument, ctx: Any) -> str | None:
    """The type column of one parameter in the help (None: nothing)."""
    if isinstance(param, TyperArgument):
        return None  # the argument's name (its metavar) already says what it is
    if param.is_flag or param.count:
        return None
    if param.metavar is not None:
        return param.metavar
    label = param.display_type(ctx).strip("<>")
    if "|" in label:
        return f"[{label}]"
    return _TYPE_WORDS.get(label, label.upper())


def _argument_name(param: TyperArgument) -> str:
    """An argument's metavar, else its name in capitals (``FILE``, not ``file``)."""
    return param.metavar or (param.name or "").upper()


def _usage_name(param: TyperArgument) -> str:
    name = _argument_name(param) + ("..." if param.nargs != 1 else "")
    return name if param.required else f"[{name}]"


def install() -> None:
    TyperOption.display_type_rich = _help_type  # type: ignore[assignment,method-assign]
    TyperArgument.display_type_rich = _help_type  # type: ignore[assignment,method-assign]
    TyperArgument.display_name_raw = property(_argument_name)  # type: ignore[assignment,method-assign]
    TyperArgument._usage_display_name = _usage_name  # type: ignore[assignment,method-assign]
