"""The ``lowbit`` command line.

Each subcommand is a module in ``lowbit.sweeps.commands`` exposing ``configure(parser)`` (adds its
arguments) and ``run(args) -> int`` (the exit code); its one-line help is in ``_HELP`` below.
Modules are imported only when their command runs, so ``lowbit formats`` never loads torch.

Exit codes: 0 ok, 1 the work failed (e.g. a verification mismatch), 2 bad usage. A
``ValueError`` escaping a command is bad input by contract (it names the argument), so it
is reported on one line with exit code 2; set LOWBIT_TRACEBACK=1 to see the traceback instead.
"""
from __future__ import annotations

import argparse
import importlib
import os
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
}

_HELP = {
    "sweep": "explore a design space and report which schemes win (default: built-in sweep)",
    "rank": "rank quantization schemes x PEs for a workload by fidelity, energy, latency, area",
    "compare": "set the GPU roofline predictions beside the recorded GPU benchmark results",
    "verify": "run the cocotb RTL verification suite and print a summary table",
    "synth": "synthesize every RTL design config with yosys and write gate/transistor counts",
    "bench": "benchmark the CuPy low-bit kernels against torch peers (needs a CUDA GPU)",
    "formats": "print a number format's table of codes and values",
    "rtl": "RTL utilities: 'lowbit rtl export NAME --param k=v --out DIR'",
    "fidelity": "measure a causal LM's perplexity ratio, next-token KL and top-1 per scheme x method",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lowbit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        cmd = sub.add_parser(name, help=_HELP[name], description=_HELP[name])
        cmd.set_defaults(_module=module_name)
        _command_module(module_name, name).configure(cmd)
    return parser


def _command_module(module_name: str, command: str):
    try:
        return importlib.import_module(f"lowbit.sweeps.commands.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"lowbit.sweeps.commands.{module_name}":
            return _Missing(command)
        raise


class _Missing:
    """Stands in for a command whose module is not part of this build."""

    def __init__(self, command: str):
        self.command = command

    def configure(self, parser) -> None:
        parser.add_argument("rest", nargs=argparse.REMAINDER)

    def run(self, args) -> int:
        print(f"lowbit {self.command}: not available in this build", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    module = _command_module(args._module, args.command)
    try:
        return int(module.run(args) or 0)
    except ValueError as exc:
        if os.environ.get("LOWBIT_TRACEBACK"):
            raise
        print(f"lowbit {args.command}: error: {exc} (LOWBIT_TRACEBACK=1 shows where)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lowbit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
