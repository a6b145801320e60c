"""``lowbit rtl export NAME [--param k=v ...] --out DIR``: write a design's Verilog.

NAME is a design of :mod:`lowbit.rtl.registry`; each ``--param`` sets one field of its config (the
rest keep their defaults). The file is ``DIR/lowbit_NAME.v`` and is byte-for-byte the same for
the same design and config.
"""
from __future__ import annotations

HELP = "RTL utilities: 'lowbit rtl export NAME --param k=v --out DIR'"


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="rtl_command", metavar="ACTION", required=True)
    export = sub.add_parser("export", help="write a design's Verilog",
                            description="write a design's Verilog (deterministic)")
    export.add_argument("name", metavar="NAME", help="design name (see lowbit.rtl.registry)")
    export.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="set config field K to V (repeatable)")
    export.add_argument("--out", required=True, metavar="DIR", help="output directory")


def parse_params(items: list[str]) -> dict:
    """["k=v", ...] -> {k: v}; ValueError naming --param for anything else."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param must be K=V, got {item!r}")
        params[key] = value
    return params


def add_config_arguments(parser, verb: str) -> None:
    """--design NAME (repeatable) and --param K=V, as ``lowbit synth`` and ``lowbit verify``
    take them (``verb``: what the command does to a config)."""
    parser.add_argument("--design", action="append", default=[], metavar="NAME",
                        help=f"{verb} only this design (repeatable; default: every design)")
    parser.add_argument("--param", action="append", default=[], metavar="K=V",
                        help=f"{verb} the one config of the one --design whose field K is V "
                             f"(repeatable; the other fields keep their defaults) instead of "
                             f"its registered configs, as 'lowbit rtl export' takes them")


def selected_configs(designs: list[str], params: list[str]) -> list[tuple[str, object]]:
    """(design name, config) pairs: every registered config of ``designs`` (default: every
    design; a design named twice counts once), or with ``params`` the one config they set of
    the one design named. ValueError naming the argument otherwise."""
    from lowbit.rtl import registry
    names = list(dict.fromkeys(designs)) or registry.names()
    for name in names:
        registry.get(name)   # ValueError naming the known designs
    if not params:
        return [(name, config) for name in names for config in registry.get(name).configs]
    if len(dict.fromkeys(designs)) != 1:
        raise ValueError(f"--param needs exactly one --design NAME, got "
                         f"{len(dict.fromkeys(designs))}")
    return [(names[0], registry.get(names[0]).parse_params(parse_params(params)))]


def run(args) -> int:
    from lowbit.rtl import registry
    from lowbit.rtl.export import write_verilog

    design = registry.get(args.name)
    config = design.parse_params(parse_params(args.param))
    try:
        path = write_verilog(design.name, config, args.out)
    except OSError as error:   # a path that is not a writable directory is bad input
        raise ValueError(f"--out {args.out!r} is not a writable directory: "
                         f"{error.strerror or error}") from None
    print(path)
    return 0
