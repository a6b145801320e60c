"""``lowbit bench``: benchmark the CuPy low-bit kernels against torch peers on a CUDA GPU.

The same benchmark as ``python -m lowbit.kernels.bench`` (see that module for what is measured and how).
Without CuPy, a CUDA device or a CUDA build of torch it prints why and exits 1.
"""
from __future__ import annotations

HELP = "benchmark the CuPy low-bit kernels against torch peers (needs a CUDA GPU)"


def configure(parser) -> None:
    from lowbit.kernels.bench import configure as configure_bench   # numpy and stdlib only: cheap
    configure_bench(parser)


def run(args) -> int:
    from lowbit.kernels.bench import run as run_bench
    return run_bench(args)
