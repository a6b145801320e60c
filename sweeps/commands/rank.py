"""`lowbit rank`: rank quantization schemes x PE kinds for a workload.

    lowbit rank --workload llama2-7b [--min-fidelity 0.99] [--out ranking.csv]
                [--lanes 16] [--array 256] [--batch 1] [--seq-len 128]
                [--schemes int8,int4-g128] [--pes lut,int_mac]

Evaluates every applicable (scheme, PE) pair with models.rank.evaluate_point, ranks them by the
stated scalar score (models.rank.RANK_WEIGHTS), marks the Pareto front, prints a table and writes
every column of every row to the CSV. Same inputs, same table.
"""
from __future__ import annotations

import csv
import math
import sys

HELP = "rank quantization schemes x PEs for a workload by fidelity, energy, latency, area"


def configure(parser) -> None:
    parser.add_argument("--workload", required=True, help="a models.workloads name")
    parser.add_argument("--min-fidelity", type=float, default=None,
                        help="keep rows with fidelity >= this (cosine or top-1, 0..1)")
    parser.add_argument("--out", default=None, help="CSV file to write the ranked rows to")
    parser.add_argument("--lanes", type=int, default=16, help="lanes per PE (default 16)")
    parser.add_argument("--array", type=int, default=256, help="number of PEs (default 256)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--schemes", default=None,
                        help="comma-separated hwsim.quant presets (default: all)")
    parser.add_argument("--pes", default=None, help="comma-separated PE kinds (default: all)")


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [item.strip() for item in text.split(",") if item.strip()]


def _format(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def print_table(rows: list[dict], columns, out=None) -> None:
    """A fixed-width table of ``rows`` on ``out`` (default: the current sys.stdout)."""
    out = sys.stdout if out is None else out
    cells = [[_format(row.get(column, "")) for column in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)), file=out)
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)), file=out)


def write_csv(rows: list[dict], path: str) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _check_names(argname: str, given: list[str] | None, allowed: list[str]) -> None:
    unknown = [name for name in given or () if name not in allowed]
    if unknown:
        raise ValueError(f"{argname} must name values among {', '.join(allowed)}; "
                         f"unknown: {', '.join(unknown)}")


def run(args) -> int:
    from hwsim import quant
    from models import rank, workloads
    from models.cost.cycles import PE_KINDS
    if args.workload not in workloads.names():
        raise ValueError(f"--workload must be one of {', '.join(workloads.names())}, "
                         f"got {args.workload!r}")
    schemes, pes = _split(args.schemes), _split(args.pes)
    _check_names("--schemes", schemes, quant.preset_names())
    _check_names("--pes", pes, list(PE_KINDS))
    rows = rank.evaluate_all(args.workload, args.lanes, args.array, batch=args.batch,
                             seq_len=args.seq_len, schemes=schemes, pes=pes)
    if not rows:
        raise ValueError("no (scheme, pe) pair in --schemes x --pes applies")
    table = rank.ranked_table(rows, args.min_fidelity)
    print(f"workload {args.workload}, batch {args.batch}, seq_len {args.seq_len}, "
          f"{args.array} PEs x {args.lanes} lanes at {rank.CLOCK_HZ / 1e9:g} GHz; score weights "
          f"{rank.RANK_WEIGHTS}; pareto over {', '.join(rank.PARETO_OBJECTIVES)}")
    if not table:
        print(f"no row reaches fidelity >= {args.min_fidelity}")
        return 1
    print_table(table, rank.TABLE_COLUMNS)
    print(f"score over: {table[0]['score_metrics']}")
    notes = sorted({row["area_note"] for row in table if math.isnan(row["area_m2"])})
    for note in notes:
        print(f"area: {note}")
    if args.out:
        write_csv(table, args.out)
        print(f"wrote {len(table)} rows to {args.out}")
    return 0
