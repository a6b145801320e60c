"""lowbit.sweeps.cli: each command's help is its own module's HELP, declared once."""
from __future__ import annotations

import importlib

from lowbit.sweeps import cli


def test_each_command_takes_its_help_from_its_module():
    parser = cli.build_parser()
    (commands,) = [action for action in parser._actions if action.dest == "command"]
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    for name, module_name in cli.COMMANDS.items():
        module = importlib.import_module(f"lowbit.sweeps.commands.{module_name}")
        assert helps[name] == module.HELP, name
        assert commands.choices[name].description == module.HELP, name
    assert not hasattr(cli, "_HELP")
