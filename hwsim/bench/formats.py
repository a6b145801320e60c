"""float32 -> every float format, encode and decode: lowbit.hwsim.formats against ml_dtypes and
against a plain cast, same run.

    python -m lowbit.hwsim.bench.formats [--n 16777216] [--repeats 7] [--seed 0] [--clock wall|cpu]

Times are the median of ``--repeats`` runs after one warm-up (which also compiles the Numba
kernels), on seeded normal float32 data with σ = 64: E4M3's normal range, about 2e-4 of the
elements subnormal (|x| < 2^-6), none beyond the largest finite 448 (7σ); the narrower FP6 and
FP4 formats saturate its tails. Ours runs twice: on one Numba thread and on all of them;
ml_dtypes and the casts are single-threaded. Every float format is timed (kind "float" and the
MX scale float8_e8m0fnu).
Columns: ratio = ml_dtypes time / our time (above 1: we are faster); cast = the time of a plain
numpy cast of the same array (``x.astype(np.uint8)`` for encode, ``codes.astype(np.float32)``
for decode: the memory-bound floor of a one-byte elementwise conversion), and "of cast" = cast
time / our time, the share of that floor we reach. Every output is checked equal to ml_dtypes'
before any timing, so a speed is never reported for a wrong result (exit status 1 instead).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys

import ml_dtypes
import numba
import numpy as np

from lowbit.hwsim import formats
from lowbit.hwsim.bench.timing import CLOCKS, median_seconds


def mismatch(fmt, x: np.ndarray, codes_ml: np.ndarray) -> str | None:
    """Which of our encode / decode differs bit for bit from ml_dtypes' on ``x``, or None."""
    ours = fmt.encode(x)
    if not np.array_equal(ours, codes_ml.view(np.uint8)):
        return "encode"
    if not np.array_equal(fmt.decode(ours).view(np.uint32),
                          codes_ml.astype(np.float32).view(np.uint32)):
        return "decode"
    return None


def bench_input(n: int, seed: int) -> np.ndarray:
    """Seeded normal float32 data, σ = 64 (see the module docstring for what it covers)."""
    return (np.random.default_rng(seed).standard_normal(n) * 64).astype(np.float32)


def float_format_names() -> list[str]:
    """Every registered float format: kind "float" and the MX scale."""
    return [name for name in formats.names() if formats.get(name).kind in ("float", "scale")]


def run(n: int, repeats: int, seed: int, out=None, clock: str = "wall") -> int:
    """Print the timing table to ``out`` (default stdout); return 1, timing nothing, if any
    format's result differs from ml_dtypes'. ``clock``: see lowbit.hwsim.bench.timing (the
    CPU clock times the calling thread only: meaningful for the one-thread lines)."""
    out = out or sys.stdout
    x = bench_input(n, seed)
    names = float_format_names()
    for name in names:
        wrong = mismatch(formats.get(name), x, x.astype(getattr(ml_dtypes, name)))
        if wrong:
            print(f"{name} {wrong} differs from ml_dtypes (n={n}, seed={seed}): not timing a "
                  f"wrong result", file=sys.stderr)
            return 1
    codes = x.astype(np.uint8)
    casts = {"encode": median_seconds(lambda: x.astype(np.uint8), repeats, clock=clock),
             "decode": median_seconds(lambda: codes.astype(np.float32), repeats, clock=clock)}
    all_threads = numba.config.NUMBA_NUM_THREADS
    print(f"float32 -> float formats, n = {n}, median of {repeats}; numpy {np.__version__}, "
          f"numba {numba.__version__}, ml_dtypes {ml_dtypes.__version__}, "
          f"python {platform.python_version()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, {clock} clock", file=out)
    print(f"{'':34}{'ml_dtypes':>12}{'hwsim':>12}{'ratio':>8}{'cast':>12}{'of cast':>9}",
          file=out)
    for name in names:
        for line in _format_lines(formats.get(name), x, repeats, casts, all_threads, clock):
            print(line, file=out)
    numba.set_num_threads(all_threads)
    return 0


def _format_lines(fmt, x: np.ndarray, repeats: int, casts: dict, all_threads: int,
                  clock: str) -> list[str]:
    """One line per operation and thread count for ``fmt``."""
    ml_dtype = getattr(ml_dtypes, fmt.name)
    codes_ml = x.astype(ml_dtype)
    codes = fmt.encode(x)
    ml_times = {"encode": median_seconds(lambda: x.astype(ml_dtype), repeats, clock=clock),
                "decode": median_seconds(lambda: codes_ml.astype(np.float32), repeats,
                                         clock=clock)}
    lines = []
    for threads in sorted({1, all_threads}):
        numba.set_num_threads(threads)
        ours = {"encode": median_seconds(lambda: fmt.encode(x), repeats, clock=clock),
                "decode": median_seconds(lambda: fmt.decode(codes), repeats, clock=clock)}
        label = "1 thread" if threads == 1 else f"{threads} threads"
        for op in ("encode", "decode"):
            lines.append(f"{fmt.name + ' ' + op + ' ' + label:34}{ml_times[op] * 1e3:10.3f}ms"
                         f"{ours[op] * 1e3:10.3f}ms{ml_times[op] / ours[op]:7.1f}x"
                         f"{casts[op] * 1e3:10.3f}ms{casts[op] / ours[op]:8.0%}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lowbit.hwsim.bench.formats",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1 << 24, help="elements (default 16777216)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (default 7)")
    parser.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="wall time, or the calling thread's CPU time (on a loaded machine; "
                             "run with NUMBA_NUM_THREADS=1 so that every line is one thread) "
                             "(default: wall)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be >= 1, got {args.n}")
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    return run(args.n, args.repeats, args.seed, clock=args.clock)


if __name__ == "__main__":
    sys.exit(main())
