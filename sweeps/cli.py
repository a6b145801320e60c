"""The lowbit command line: co-design low-bit arithmetic in hardware and GPU kernels.

Each subcommand is a module in ``lowbit.sweeps.commands`` exposing ``configure(parser)`` (adds its
arguments), ``run(args) -> int`` (the exit code) and ``HELP`` (its one-line help).
Modules are imported only when their command runs, so ``lowbit formats`` never loads torch.

Exit codes: 0 ok, 1 the work failed (e.g. a verification mismatch), 2 bad usage. A
``ValueError`` escaping a command is bad input by contract (it names the argument), so it
is reported on one line with exit code 2; set LOWBIT_TRACEBACK=1 to see the traceback instead.
A reader that closes the pipe early (``lowbit formats float8_e4m3fn | head``) ends the command
quietly with 128 + SIGPIPE, the status a shell reports for a tool killed by a closed pipe.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import re
import signal
import sys

# name on the command line -> module in lowbit.sweeps.commands
COMMANDS = {
    "sweep": "sweep",
    "rank": "rank",
    "compare": "compare",
    "verify": "verify",
    "synth": "synth",
    "bench": "bench",
    "formats": "formats",
    "rtl": "rtl_export",
    "fidelity": "fidelity",
    "search": "search",
}

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lowbit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version",
                        version=f"lowbit {importlib.metadata.version('lowbit')}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = _command_module(module_name, name)
        cmd = sub.add_parser(name, help=module.HELP, description=plain_text(module.__doc__),
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.set_defaults(_module=module_name, _parser=cmd)
        module.configure(cmd)
    return parser


_ROLE = re.compile(r":[a-z]+:`([^`]+)`")   # :mod:`x` -> x
_LITERAL = re.compile(r"``?([^`]+)``?")     # ``x`` or `x` -> x


def plain_text(docstring: str | None) -> str | None:
    """A command module's docstring as a terminal shows it: the reStructuredText roles and
    literal quotes that document it for Sphinx would show raw in --help, so they go."""
    if docstring is None:
        return None
    return _LITERAL.sub(r"\1", _ROLE.sub(r"\1", docstring)).replace("::\n", ":\n").strip()


def _command_module(module_name: str, command: str):
    try:
        return importlib.import_module(f"lowbit.sweeps.commands.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"lowbit.sweeps.commands.{module_name}":
            return _Missing(command)
        raise


class _Missing:
    """Stands in for a command whose module is not part of this build."""

    HELP = "not available in this build"

    def __init__(self, command: str):
        self.command = command

    def configure(self, parser) -> None:
        parser.add_argument("rest", nargs=argparse.REMAINDER)

    def run(self, args) -> int:
        print(f"lowbit {self.command}: not available in this build", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:   # the subcommand's usage, not the top level's, says what it takes
        args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
    module = _command_module(args._module, args.command)
    try:
        code = int(module.run(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe often shows only at this flush
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except ValueError as exc:
        if os.environ.get("LOWBIT_TRACEBACK"):
            raise
        print(f"lowbit {args.command}: error: {exc} (LOWBIT_TRACEBACK=1 shows where)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lowbit {args.command}: interrupted", file=sys.stderr)
        return 130


def _closed_pipe() -> int:
    # The recipe of the Python docs (signal module, "Note on SIGPIPE"): point stdout at devnull
    # so that the interpreter's own flush at exit does not raise a second BrokenPipeError.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
