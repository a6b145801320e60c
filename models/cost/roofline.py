"""GPU roofline: a kernel's time predicted from the bytes it moves and the operations it does.

    t = t_launch + max(bytes / bandwidth, ops / peak[op_class])

for Y[M, N] = X[M, K] @ W[N, K]^T with ops = 2 M N K and bytes = the weight bytes the kernel
reads (codes + scales + zero points, as recorded) + activations M K act_bytes + outputs
M N out_bytes. Every parameter is *measured* in the same benchmark run (kernels/results/, schema
in its README), none is taken from a datasheet:
  bandwidth   the run's device-to-device copy bandwidth (``copy_gbps``, bytes read + written)
  peak        per operation class, the highest throughput (``tops``) a vendor peer reached in the
              run: cuBLAS fp16 for fp16 math, torch._int_mm for int8, torch._scaled_mm for fp8;
              binary (no peer) uses the best of our a1w1 rows
  t_launch    the median over the run's ok rows of the time spent beyond the roof,
              median(measured - max(bytes / bandwidth, ops / peak)), floored at 0: the fixed
              cost of a launch and its tail, which dominates at M = 1 on small shapes. This one
              constant is fitted on the run it then predicts (the median is the additive
              constant that minimizes the absolute error); the rest is measured separately.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

# kernels.bench KernelSpec.family -> operation class (the math the kernel's inner loop does).
FAMILY_CLASS = {"fp16": "fp16", "weight_only": "fp16", "int4pack": "fp16", "int8": "int8",
                "int_mm": "int8", "fp8_scaled": "fp8", "a1w1": "binary", "bitplane": "int8",
                "lut": "int8"}
ACT_BYTES = {"fp16": 2.0, "int8": 1.0, "fp8": 1.0, "binary": 1 / 8}
OUT_BYTES = {"fp16": 2.0, "int8": 4.0, "fp8": 2.0, "binary": 4.0}
# operation class -> the kernel whose measured throughput is its peak
PEAK_KERNEL = {"fp16": "cublas_fp16", "int8": "torch_int_mm", "fp8": "torch_scaled_mm_fp8",
               "binary": "a1w1"}


def _check_class(op_class: str) -> None:
    if op_class not in ACT_BYTES:
        raise ValueError(f"op_class must be one of {', '.join(ACT_BYTES)}, got {op_class!r}")


def kernel_bytes(op_class: str, M: int, K: int, N: int, weight_bytes: float) -> float:
    """Bytes a GEMM kernel must move at least once: weights, activations, outputs."""
    _check_class(op_class)
    return weight_bytes + M * K * ACT_BYTES[op_class] + M * N * OUT_BYTES[op_class]


@dataclass(frozen=True)
class Roofline:
    """Measured roofline parameters of one device (SI units)."""
    bandwidth_bytes_per_s: float
    peak_ops_per_s: dict
    launch_s: float

    def predict(self, op_class: str, M: int, K: int, N: int, weight_bytes: float) -> float:
        """Predicted kernel time in seconds. ValueError for a class with no measured peak."""
        _check_class(op_class)
        peak = self.peak_ops_per_s.get(op_class, math.nan)
        if not peak > 0:
            raise ValueError(f"op_class {op_class!r} has no measured peak in this run "
                             f"(measured: {', '.join(sorted(self.peak_ops_per_s)) or 'none'})")
        memory = kernel_bytes(op_class, M, K, N, weight_bytes) / self.bandwidth_bytes_per_s
        return self.launch_s + max(memory, 2.0 * M * N * K / peak)


def fit(rows: list[dict]) -> Roofline:
    """The roofline of one run from its benchmark rows (dicts with the CSV columns, numbers
    already parsed). ValueError when the run has no ok row or no copy bandwidth."""
    ok = [row for row in rows if row["status"] == "ok"]
    if not ok:
        raise ValueError("rows hold no 'ok' measurement to fit a roofline to")
    bandwidths = sorted(row["copy_gbps"] for row in ok if row["copy_gbps"] > 0)
    if not bandwidths:
        raise ValueError("rows hold no positive copy_gbps (the measured bandwidth)")
    peaks = {}
    for op_class, kernel in PEAK_KERNEL.items():
        tops = [row["tops"] for row in ok if row["kernel"] == kernel and row["tops"] > 0]
        if tops:
            peaks[op_class] = max(tops) * 1e12
    roof = Roofline(bandwidth_bytes_per_s=bandwidths[len(bandwidths) // 2] * 1e9,
                    peak_ops_per_s=peaks, launch_s=0.0)
    from kernels.bench import KERNELS
    beyond = [row["median_us"] * 1e-6 - roof.predict(FAMILY_CLASS[KERNELS[row["kernel"]].family],
                                                     int(row["m"]), int(row["k"]), int(row["n"]),
                                                     row["weight_bytes"])
              for row in ok if row["kernel"] in KERNELS
              and FAMILY_CLASS[KERNELS[row["kernel"]].family] in peaks]
    return Roofline(bandwidth_bytes_per_s=roof.bandwidth_bytes_per_s, peak_ops_per_s=peaks,
                    launch_s=max(0.0, statistics.median(beyond)) if beyond else 0.0)
