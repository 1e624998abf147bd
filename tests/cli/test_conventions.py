"""The command line as people expect it (issue 11, item 7): ``--version``, ``-o`` for every
output option, ``--help`` without Python type tags, and ``createuser`` asking again after a
rejected password or, without a terminal, saying how to pass one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from cartwatch import __version__
from cartwatch.cli.app import app
from cartwatch.cli.io import OUT_FLAGS

runner = CliRunner()


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[Any]:
    yield path, command
    if hasattr(command, "commands"):  # a group
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_version() -> None:
    done = runner.invoke(app, ["--version"])
    assert done.exit_code == 0
    assert done.output.strip() == f"cartwatch {__version__}"


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "cartwatch" for p, _ in COMMANDS]
)
def test_help_has_no_python_type_tags(path: tuple[str, ...], command: Any) -> None:
    done = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert done.exit_code == 0, done.output
    for tag in ("<bool>", "<str>", "<int>", "<float>", "<path>", "{"):
        assert tag not in done.output, (path, tag)
    usage = next(line for line in done.output.splitlines() if "Usage:" in line)
    assert usage == usage.replace(
        usage.split("[OPTIONS]")[-1], usage.split("[OPTIONS]")[-1].upper()
    )


def test_every_output_option_takes_minus_o_and_out() -> None:
    outputs = [
        (path, param.opts)
        for path, command in COMMANDS
        for param in command.params
        if isinstance(param, TyperOption) and {"--out", "--output"} & set(param.opts)
    ]
    assert len(outputs) >= 5  # synth, adam derive, grade * --csv, report, demo
    for path, opts in outputs:
        assert set(OUT_FLAGS) <= set(opts), (path, opts)


def test_a_rejected_password_is_asked_again(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from cartwatch.cli import passwords

    answers = iter(["short", "short", "differs-1-long-enough", "differs-2-long-enough",
                    "a-good-long-password-9", "a-good-long-password-9"])  # fmt: skip
    monkeypatch.setattr(passwords.getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setattr(passwords.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(passwords.sys.stderr, "isatty", lambda: True, raising=False)

    class Rejected(Exception):
        pass

    def check(password: str) -> None:
        if len(password) < 12:
            raise Rejected("password rejected: too short")

    assert passwords.ask_password(check, Rejected) == "a-good-long-password-9"
    err = capsys.readouterr().err
    assert "password rejected: too short; please try again" in err
    assert "the two entries differ; please try again" in err


def test_without_a_terminal_the_prompt_says_how_to_pass_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cartwatch.cli import passwords

    monkeypatch.setattr(passwords.sys.stdin, "isatty", lambda: False, raising=False)
    with pytest.raises(passwords.PasswordUnavailable) as caught:
        passwords.ask_password(lambda pw: None, ValueError)
    assert "CARTWATCH_PASSWORD" in str(caught.value)
    assert "--password-file" in str(caught.value)
