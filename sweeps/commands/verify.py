"""``lowbit verify``: run the cocotb RTL verification of every design config (or of the designs
named with --design) against the hwsim golden models and print a summary table.

Sample counts and seeds come from LOWBIT_RTL_VECTORS and LOWBIT_RTL_SEED (see
:mod:`lowbit.rtl.verify.runner`); --vectors overrides the former. Exit code 1 if any vector mismatched
or any config could not be verified (its row says why).
"""
from __future__ import annotations

import sys
import tempfile
import time

HELP = "run the cocotb RTL verification suite and print a summary table"

NUMBER_COLUMNS = ("vectors", "mismatches", "wall s", "vectors/s")


def configure(parser) -> None:
    parser.add_argument("--design", action="append", default=[], metavar="NAME",
                        help="verify only this design (repeatable; default: every design)")
    parser.add_argument("--vectors", type=int, default=None, metavar="N",
                        help="random vectors per config (default: $LOWBIT_RTL_VECTORS or 10000)")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="simulations run in parallel (default 2)")
    parser.add_argument("--build-dir", default=None, metavar="DIR",
                        help="keep builds here (default: a temporary directory)")


def run(args) -> int:
    from lowbit.rtl import registry
    from lowbit.rtl.table import column_widths, table_row
    from lowbit.rtl.verify.runner import verify_many

    names = list(dict.fromkeys(args.design)) or registry.names()   # a design named twice: once
    for name in names:
        registry.get(name)   # ValueError naming the known designs
    if args.vectors is not None and args.vectors < 1:
        raise ValueError(f"--vectors must be >= 1, got {args.vectors}")
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    jobs = [(name, config) for name in names for config in registry.get(name).configs]
    widths = column_widths(names)

    def row(*cells) -> str:
        return table_row(widths, 10, *cells)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lowbit-verify-") as tmp:
        futures = verify_many(jobs, args.build_dir or tmp, workers=args.workers,
                              vectors=args.vectors)
        print(row("design", "config", *NUMBER_COLUMNS))
        results, errors = [], []
        for (name, label), future in futures.items():
            try:
                result = future.result()
            except Exception as error:   # one broken config must not hide the others' verdicts
                errors.append(f"{name} [{label}]: {type(error).__name__}: {error}")
                print(row(name, label, *["-"] * len(NUMBER_COLUMNS))
                      + f"  failed: {type(error).__name__}: {error}", flush=True)
                continue
            results.append(result)
            print(row(result.design, result.config, result.vectors, result.mismatches,
                      f"{result.wall_s:.1f}", f"{result.vectors / result.wall_s:,.0f}"),
                  flush=True)
    _summary(results, errors, time.perf_counter() - start)
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(result.report(), file=sys.stderr)
    for error in errors:
        print(f"could not verify {error}", file=sys.stderr)
    return 1 if failed or errors else 0


def _summary(results: list, errors: list, elapsed: float) -> None:
    total = sum(r.vectors for r in results)
    failed = f", {len(errors)} failed to run" if errors else ""
    print(f"{len(results) + len(errors)} configs, {total:,} vectors, "
          f"{sum(r.mismatches for r in results)} mismatches{failed}, {elapsed:.1f} s wall "
          f"({total / elapsed:,.0f} vectors/s)")
