"""The one timer of the CPU benchmarks (lowbit.hwsim.bench.*, lowbit.hwsim.quant.bench)."""
from __future__ import annotations

import statistics
import time


def median_seconds(fn, repeats: int, warmups: int = 1) -> float:
    """Median wall time of ``repeats`` calls of ``fn()`` (time.perf_counter), after ``warmups``
    untimed calls: the first call compiles Numba kernels and faults output pages in, which is
    not the steady state being measured. Pass ``warmups=0`` when the caller already made one."""
    if repeats < 1 or warmups < 0:
        raise ValueError(f"repeats must be >= 1 and warmups >= 0, got repeats={repeats!r}, "
                         f"warmups={warmups!r}")
    for _ in range(warmups):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
