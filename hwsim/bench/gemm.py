"""Benchmark of the bit-exact GEMM (lowbit.hwsim.gemm) beside numpy's float32 matmul.

    python -P -m lowbit.hwsim.bench.gemm [--m 512] [--repeats 3] [--threads 2]

Shapes: SmolLM2's decoder GEMMs (K x N: 576 x 1536 gate/up, 1536 x 576 down, padded to the
scheme's group size) for M tokens. Cases: int8 x int4 (int4-g128: the integer PE at 32-bit
wrap; 16-bit saturate, where no group's |a||w| bound reaches 2^15 on this data, so the exact
sums stand; 12-bit saturate, where most groups can clamp and are accumulated in order), int8 x
int8 per channel (32-bit wrap), FP8 x FP8 (fp8-e4m3: float32 accumulation, and Hopper-like 13
fraction bits truncated; fp8-e5m2 at 13 bits RNE, whose products span too many binades for
exact float64 sums: the TwoSum kernel). Each case times ``qtensor_gemm`` on codes already
quantized (the PE's work: sums, overflow, rounding, scales) and numpy's float32 ``x @ w.T`` on
the same shapes, median of ``--repeats`` after a warm-up call; prints G MAC/s of both, their
ratio, and the bit-exact call's CPU seconds (mean, all threads: on a loaded machine wall time
inflates, CPU time much less) beside its wall seconds, with the load average.
Threads: numba's ``--threads``; numpy's BLAS its own default (set OPENBLAS_NUM_THREADS before
the run to pin it; on the 2-core CI machine both use 2). Goals (issue 20): >= 5 G MAC/s
int8 x int4, >= 1 G MAC/s FP8 x FP8 on 2 cores. A timing on a loaded machine is a lower bound:
compare the ratio.
"""
from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np

from lowbit.hwsim import gemm, quant
from lowbit.hwsim.bench.table import format_table
from lowbit.hwsim.bench.timing import median_seconds

SHAPES = ((576, 1536), (1536, 576))     # (K, N) of SmolLM2's MLP GEMMs
CASES = (("int4-g128", gemm.PEArithmetic()),
         ("int4-g128", gemm.PEArithmetic(acc_bits=16, overflow="saturate")),
         ("int4-g128", gemm.PEArithmetic(acc_bits=12, overflow="saturate")),
         ("int8", gemm.PEArithmetic()),
         ("fp8-e4m3", gemm.PEArithmetic()),
         ("fp8-e4m3", gemm.PEArithmetic(acc_mbits=13, acc_rounding="rtz")),
         ("fp8-e5m2", gemm.PEArithmetic(acc_mbits=13)))


def _padded(K: int, scheme) -> int:
    group = scheme.weight_spec.group_size or 1
    return -(-K // group) * group


def run(m: int, repeats: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for name, arithmetic in CASES:
        scheme = quant.preset(name)
        for K, N in SHAPES:
            K = _padded(K, scheme)
            x = rng.standard_normal((m, K)).astype(np.float32)
            w = rng.standard_normal((N, K)).astype(np.float32)
            qa = quant.quantize(x, scheme.act_spec, axis=-1)
            qw = quant.quantize(w, scheme.weight_spec, axis=-1)
            x_hat, w_hat = quant.dequantize(qa), quant.dequantize(qw)
            macs = m * K * N
            def bit_exact():
                return gemm.qtensor_gemm(qa, qw, arithmetic)
            bit_exact()                      # warm-up: Numba's cache load, page faults
            cpu_start = time.process_time()
            exact = median_seconds(bit_exact, repeats, warmups=0)
            exact_cpu = (time.process_time() - cpu_start) / repeats
            numpy = median_seconds(lambda: x_hat @ w_hat.T, repeats)
            rows.append({"scheme": name, "arithmetic": arithmetic.label, "M x K x N":
                         f"{m} x {K} x {N}", "bit-exact G MAC/s": macs / exact / 1e9,
                         "numpy f32 G MAC/s": macs / numpy / 1e9, "ratio": numpy / exact,
                         "bit-exact wall s": exact, "bit-exact cpu s": exact_cpu})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=512, help="rows (tokens), default 512")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    for name in ("m", "repeats", "threads"):
        if getattr(args, name) < 1:
            raise SystemExit(f"--{name} must be >= 1, got {getattr(args, name)}")
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    load = os.getloadavg()[0]
    rows = run(args.m, args.repeats)
    print(f"numba threads {numba.get_num_threads()}, load average {load:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")
    print(format_table(rows, tuple(rows[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
