"""float32 -> float8_e4m3fn encode and decode: hwsim.formats against ml_dtypes, same run.

    python -m hwsim.bench.formats [--n 16777216] [--repeats 7] [--seed 0]

Times are the median of ``--repeats`` runs after one warm-up (which also compiles the Numba
kernels), on seeded normal float32 data scaled to span E4M3's range (overflow and subnormals
included). Ours runs twice: on one Numba thread and on all of them; ml_dtypes is single-threaded.
Ratios are ml_dtypes time / our time (above 1: we are faster). Both outputs are checked equal
before timing, so a ratio is never reported for a wrong result.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import ml_dtypes
import numba
import numpy as np

from hwsim import formats


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up: compiles on first use, faults the output pages in
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _check_equal(fmt, x: np.ndarray, codes_ml: np.ndarray) -> None:
    ours = fmt.encode(x)
    if not np.array_equal(ours, codes_ml.view(np.uint8)):
        raise SystemExit("encode differs from ml_dtypes: not timing a wrong result")
    if not np.array_equal(fmt.decode(ours).view(np.uint32),
                          codes_ml.astype(np.float32).view(np.uint32)):
        raise SystemExit("decode differs from ml_dtypes: not timing a wrong result")


def run(n: int, repeats: int, seed: int) -> None:
    fmt = formats.get("float8_e4m3fn")
    x = (np.random.default_rng(seed).standard_normal(n) * 64).astype(np.float32)
    codes_ml = x.astype(ml_dtypes.float8_e4m3fn)
    codes = fmt.encode(x)
    _check_equal(fmt, x, codes_ml)

    ml_encode = _median_seconds(lambda: x.astype(ml_dtypes.float8_e4m3fn), repeats)
    ml_decode = _median_seconds(lambda: codes_ml.astype(np.float32), repeats)
    all_threads = numba.config.NUMBA_NUM_THREADS
    print(f"float32 -> float8_e4m3fn, n = {n}, median of {repeats}; numpy {np.__version__}, "
          f"numba {numba.__version__}, ml_dtypes {ml_dtypes.__version__}, "
          f"python {platform.python_version()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'':18}{'ml_dtypes':>12}{'hwsim':>12}{'ratio':>8}")
    for threads in sorted({1, all_threads}):
        numba.set_num_threads(threads)
        encode = _median_seconds(lambda: fmt.encode(x), repeats)
        decode = _median_seconds(lambda: fmt.decode(codes), repeats)
        label = "1 thread" if threads == 1 else f"{threads} threads"
        for op, ml_time, our_time in (("encode", ml_encode, encode), ("decode", ml_decode, decode)):
            print(f"{op + ' ' + label:18}{ml_time * 1e3:10.3f}ms{our_time * 1e3:10.3f}ms"
                  f"{ml_time / our_time:7.1f}x")
    numba.set_num_threads(all_threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hwsim.bench.formats",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1 << 24, help="elements (default 16777216)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (default 7)")
    parser.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be >= 1, got {args.n}")
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    run(args.n, args.repeats, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
