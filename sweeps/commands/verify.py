"""``lowbit verify``: run the cocotb RTL verification of every design config (or of the designs
named with --design) against the hwsim golden models and print a summary table.

Sample counts and seeds come from LOWBIT_RTL_VECTORS and LOWBIT_RTL_SEED (see
:mod:`rtl.verify.runner`); --vectors overrides the former. Exit code 1 if any vector mismatched.
"""
from __future__ import annotations

import sys
import tempfile
import time


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
    from rtl import registry
    from rtl.verify.runner import verify_many

    names = args.design or registry.names()
    for name in names:
        registry.get(name)   # ValueError naming the known designs
    if args.vectors is not None and args.vectors < 1:
        raise ValueError(f"--vectors must be >= 1, got {args.vectors}")
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    jobs = [(name, config) for name in names for config in registry.get(name).configs]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lowbit-verify-") as tmp:
        futures = verify_many(jobs, args.build_dir or tmp, workers=args.workers,
                              vectors=args.vectors)
        print(_row("design", "config", "vectors", "mismatches", "wall s", "vectors/s"))
        results = []
        for future in futures.values():
            result = future.result()
            results.append(result)
            print(_row(result.design, result.config, result.vectors, result.mismatches,
                       f"{result.wall_s:.1f}", f"{result.vectors / result.wall_s:,.0f}"),
                  flush=True)
    total = sum(r.vectors for r in results)
    elapsed = time.perf_counter() - start
    print(f"{len(results)} configs, {total:,} vectors, "
          f"{sum(r.mismatches for r in results)} mismatches, {elapsed:.1f} s wall "
          f"({total / elapsed:,.0f} vectors/s)")
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(result.report(), file=sys.stderr)
    return 1 if failed else 0


def _row(*cells) -> str:
    design, config, *numbers = (str(c) for c in cells)
    return f"{design:<14} {config:<58} " + " ".join(f"{n:>10}" for n in numbers)
