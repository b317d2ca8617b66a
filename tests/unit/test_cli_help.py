"""``relance … --help`` works for every command and subcommand (an unescaped ``%`` in a help
string made argparse crash on ``relance law penalties --help``)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from relance.cli.main import _parser


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(_parser()))


def test_every_command_is_walked():
    assert ("law", "penalties") in COMMANDS and ("rates", "add") in COMMANDS and len(COMMANDS) > 20


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "relance")
def test_help_of_every_command(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args([*path, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: relance")
    if path == ("law", "penalties"):
        assert "taux contractuel annuel en % (défaut" in out
