"""``lowbit verify``: run the cocotb RTL verification of every design config (or of the designs
named with --design, or of the one config --design NAME --param K=V ... sets) against the hwsim
golden models and print a summary table.

Sample counts and seeds come from LOWBIT_RTL_VECTORS and LOWBIT_RTL_SEED (see
:mod:`lowbit.rtl.verify.runner`); --vectors overrides the former. Exit code 1 if any vector mismatched
or any config could not be verified (its row says why).
"""
from __future__ import annotations

import sys
import tempfile
import time

HELP = "run the cocotb RTL verification suite and print a summary table"

COLUMNS = ("design", "config", "vectors", "mismatches", "wall s", "vectors/s", "verdict")


def configure(parser) -> None:
    from lowbit.sweeps.commands.rtl_export import add_config_arguments
    add_config_arguments(parser, "verify")
    parser.add_argument("--vectors", type=int, default=None, metavar="N",
                        help="random vectors per config (default: $LOWBIT_RTL_VECTORS or 10000)")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="simulations run in parallel (default 2)")
    parser.add_argument("--build-dir", default=None, metavar="DIR",
                        help="keep builds here (default: a temporary directory)")


def run(args) -> int:
    from lowbit.hwsim.bench.table import format_table
    from lowbit.rtl.verify.runner import verify_many
    from lowbit.sweeps.commands.rtl_export import selected_configs

    jobs = selected_configs(args.design, args.param)
    if args.vectors is not None and args.vectors < 1:
        raise ValueError(f"--vectors must be >= 1, got {args.vectors}")
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lowbit-verify-") as tmp:
        futures = verify_many(jobs, args.build_dir or tmp, workers=args.workers,
                              vectors=args.vectors)
        results, errors, rows = [], [], []
        for (name, label), future in futures.items():
            try:
                result = future.result()
            except Exception as error:   # one broken config must not hide the others' verdicts
                errors.append(f"{name} [{label}]: {type(error).__name__}: {error}")
                rows.append({"design": name, "config": label,
                             "verdict": f"failed: {type(error).__name__}: {error}"})
            else:
                results.append(result)
                rows.append(_row(result))
            _progress(len(rows), len(futures), rows[-1])
    print(format_table(rows, COLUMNS))
    _summary(results, errors, time.perf_counter() - start)
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(result.report(), file=sys.stderr)
    for error in errors:
        print(f"could not verify {error}", file=sys.stderr)
    return 1 if failed or errors else 0


def _row(result) -> dict:
    return {"design": result.design, "config": result.config, "vectors": result.vectors,
            "mismatches": result.mismatches, "wall s": round(result.wall_s, 1),
            "vectors/s": round(result.vectors / result.wall_s),
            "verdict": "ok" if result.ok else "MISMATCH"}


def _progress(done: int, total: int, row: dict) -> None:
    """One line per finished config on stderr, so a long run shows it is moving; the table
    goes to stdout once every config has its verdict."""
    print(f"lowbit verify: [{done}/{total}] {row['design']} {row['config']}: {row['verdict']}",
          file=sys.stderr, flush=True)


def _summary(results: list, errors: list, elapsed: float) -> None:
    total = sum(r.vectors for r in results)
    failed = f", {len(errors)} failed to run" if errors else ""
    print(f"{len(results) + len(errors)} configs, {total:,} vectors, "
          f"{sum(r.mismatches for r in results)} mismatches{failed}, {elapsed:.1f} s wall "
          f"({total / elapsed:,.0f} vectors/s)")
