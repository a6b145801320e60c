"""Memory traffic of quantized weights: bits per weight including scales and zero points.

For a weight matrix W[N, K] quantized along K (lowbit.hwsim.quant's axis), one scale is stored per
*scale group*: the whole tensor ("tensor"), one row of K ("channel"), ``group_size`` elements
("group") or an OCP MX block of 32 ("mx"). When group_size does not divide K (ResNet's stem has
K = 147) the last group of a row is shorter and still has its own scale, so a row holds
ceil(K / group_size) of them. Stored bits per weight:

    bits = element_bits + (scale_bits + zero_point_bits) * scales / (N * K)

with scale_bits the width of the scheme's scale format (float16/bfloat16 16, float32 32,
float8_e8m0fnu 8) and zero_point_bits = element_bits for asymmetric schemes (a zero point lies in
0..2^N-1, so it packs into N bits) and 0 for symmetric ones. Example: int4, group 128, fp16
scales, symmetric: 4 + 16/128 = 4.125 bits.
"""
from __future__ import annotations

import math

from lowbit.models.workloads import Gemm

SCALE_BITS = {"float16": 16, "bfloat16": 16, "float32": 32, "float8_e8m0fnu": 8}


def scale_count(granularity: str, group_size: int | None, K: int, N: int) -> int:
    """How many scales a W[N, K] stores: 1 per tensor, 1 per row of K, or ceil(K / group_size)
    per row for group and MX granularity."""
    if granularity == "tensor":
        return 1
    if granularity == "channel":
        return N
    if granularity in ("group", "mx"):
        return N * math.ceil(K / group_size)
    raise ValueError(f"granularity must be one of tensor, channel, group, mx, got {granularity!r}")


def bits_per_weight(spec, K: int, N: int) -> float:
    """Stored bits per weight of a W[N, K] quantized by ``spec`` (a lowbit.hwsim.quant QuantSpec)."""
    if spec.is_ieee:  # unscaled IEEE weights: just the element
        return float(spec.bits)
    if spec.scale_format not in SCALE_BITS:
        raise ValueError(f"scale_format must be one of {', '.join(SCALE_BITS)}, "
                         f"got {spec.scale_format!r}")
    zero_point_bits = 0 if spec.symmetric else spec.bits
    scales = scale_count(spec.granularity, spec.group_size, K, N)
    return spec.bits + (SCALE_BITS[spec.scale_format] + zero_point_bits) * scales / (N * K)


def bits_per_activation(spec, M: int, K: int) -> float:
    """Stored bits per input activation of an X[M, K] quantized by ``spec`` along K: the same
    rule as bits_per_weight with the M rows in place of the N rows (a per-token "channel" scale
    is one scale per row of K, an MX scale one per 32, a per-tensor scale one per M * K)."""
    return bits_per_weight(spec, K, M)


def weight_bits(spec, gemms: list[Gemm]) -> float:
    """Total stored bits of every weight of a workload."""
    return sum(bits_per_weight(spec, g.K, g.N) * g.K * g.N * g.count for g in gemms)
