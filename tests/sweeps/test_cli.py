"""lowbit.sweeps.cli: each command's help is its own module's HELP, declared once."""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata

import pytest

from lowbit.sweeps import cli


def test_each_command_takes_its_help_from_its_module():
    parser = cli.build_parser()
    (commands,) = [action for action in parser._actions if action.dest == "command"]
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    for name, module_name in cli.COMMANDS.items():
        module = importlib.import_module(f"lowbit.sweeps.commands.{module_name}")
        assert helps[name] == module.HELP, name
        assert commands.choices[name].description == cli.plain_text(module.__doc__), name
    assert not hasattr(cli, "_HELP")


def _parsers(parser, path=("lowbit",)):
    """(command path, parser) of the top level and of every subcommand, depth first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_option_of_every_command_has_help():
    missing = [(" ".join(path), action.option_strings or action.dest)
               for path, parser in _parsers(cli.build_parser()) for action in parser._actions
               if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert missing == []


def test_help_shows_no_restructuredtext_markup(capsys):
    for path, _ in _parsers(cli.build_parser()):
        with pytest.raises(SystemExit) as info:
            cli.main([*path[1:], "--help"])
        assert info.value.code == 0
        text = capsys.readouterr().out
        assert "``" not in text and ":mod:" not in text and "`" not in text, path


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"lowbit {importlib.metadata.version('lowbit')}\n"


def test_an_unknown_option_of_a_command_prints_that_commands_usage(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["verify", "--bogus", "x=1"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: lowbit verify [-h]")
    assert "lowbit verify: error: unrecognized arguments: --bogus x=1" in err
