"""The one timer of the CPU benchmarks (lowbit.hwsim.bench.*, lowbit.hwsim.quant.bench)."""
from __future__ import annotations

import statistics
import time


CLOCKS = ("wall", "cpu")


def median_seconds(fn, repeats: int, warmups: int = 1, clock: str = "wall") -> float:
    """Median time of ``repeats`` calls of ``fn()``, after ``warmups`` untimed calls: the first
    call compiles Numba kernels and faults output pages in, which is not the steady state being
    measured. Pass ``warmups=0`` when the caller already made one. ``clock``: "wall"
    (time.perf_counter) or "cpu" (time.thread_time: the calling thread's CPU time, which other
    processes on a loaded machine do not inflate; only for single-threaded code)."""
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
    read = time.perf_counter if clock == "wall" else time.thread_time
    if repeats < 1 or warmups < 0:
        raise ValueError(f"repeats must be >= 1 and warmups >= 0, got repeats={repeats!r}, "
                         f"warmups={warmups!r}")
    for _ in range(warmups):
        fn()
    times = []
    for _ in range(repeats):
        start = read()
        fn()
        times.append(read() - start)
    return statistics.median(times)
