"""Benchmark cases for the FP8 and MX units: Numba kernels against numpy-vectorized baselines.

``cases(n, seed)`` returns one dict per unit, {"unit", "macs", "numba", "numpy"}: "numba" and
"numpy" are zero-argument callables returning the same uint32 float32 bit patterns, "macs" the
multiply-accumulates one call performs. The runner :mod:`lowbit.hwsim.bench.units` times them all;
``python -m lowbit.hwsim.bench.units_fp8 [--n N] [--seed S] [--repeats R]`` times these cases alone,
with the same runner.

The numpy baselines are vectorized across the dot products of a batch (numpy has no sequential
float32 reduction along a row: ``np.sum`` is pairwise, so it would not give the same bits).
"""
from __future__ import annotations

import math
import sys

import numpy as np

from lowbit.hwsim import formats
from lowbit.hwsim.units import fp8, mx
from lowbit.hwsim.units.fp8 import float32_bits

FP8_MAC_LENGTH = 256          # elements per FP8 dot product
MX_BLOCKS = 8                 # blocks of 32 per MX dot product


def numpy_fp8_mac(a_codes, b_codes, fmt_a: str, fmt_b: str, acc=0.0) -> np.ndarray:
    """The contract of :func:`lowbit.hwsim.units.fp8.fp8_mac` for 2-D code arrays, in numpy.

    Codes are decoded by :mod:`lowbit.hwsim.formats` (not by the units), the float32 product of two
    values is exact (see fp8_mul_exact), and each column is added to the float32 accumulators
    of all rows at once, in index order.
    """
    total = np.broadcast_to(np.float32(acc), a_codes.shape[:-1]).copy()
    with np.errstate(invalid="ignore", over="ignore"):
        products = (formats.get(fmt_a).values().astype(np.float32)[a_codes]
                    * formats.get(fmt_b).values().astype(np.float32)[b_codes])
        for column in products.T:
            total += column
    return float32_bits(total, total.shape)


def numpy_mx_dot(a_codes, a_scales, b_codes, b_scales, fmt_a: str, fmt_b: str) -> np.ndarray:
    """The contract of :func:`lowbit.hwsim.units.mx.mx_dot` (acc = +0.0) for 2-D arrays, in numpy.

    Only for element formats without inf whose exact block sums fit 53 bits (every pair not
    involving float8_e5m2): the block sum is an exact int64 in units of 2^(lsb_a + lsb_b),
    exact in float64, scaled exactly by ldexp, and rounded once by the float64 -> float32 cast.
    """
    if "float8_e5m2" in (fmt_a, fmt_b):
        raise ValueError("fmt_a and fmt_b must not be float8_e5m2 for the numpy MX baseline "
                         "(its block sums need up to 70 bits)")
    fixed, nan, lsb = [], [], 0
    for codes, fmt in ((a_codes, fmt_a), (b_codes, fmt_b)):
        f = formats.get(fmt)
        unit = math.frexp(f.min_subnormal)[1] - 1          # min_subnormal = 2^unit
        values = f.values()                                 # decoded by lowbit.hwsim.formats
        fixed.append(np.nan_to_num(np.ldexp(values, -unit)).astype(np.int64)[codes])
        nan.append(np.isnan(values)[codes])
        lsb += unit
    rows, n = a_codes.shape
    blocks = (fixed[0] * fixed[1]).reshape(rows, n // 32, 32).sum(axis=2)
    exponent = lsb + a_scales.astype(np.int64) + b_scales.astype(np.int64) - 254
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.ldexp(blocks.astype(np.float64), exponent).astype(np.float32)
        is_nan = (nan[0] | nan[1]).reshape(rows, n // 32, 32).any(axis=2)
        values[is_nan | (a_scales == 0xFF) | (b_scales == 0xFF)] = np.nan
        total = np.zeros(rows, np.float32)
        for column in values.T:
            total += column
    return float32_bits(total, total.shape)


def _codes(rng, shape, fmt: str) -> np.ndarray:
    return rng.integers(0, formats.get(fmt).n_codes, shape, dtype=np.uint8)


def cases(n: int, seed: int) -> list[dict]:
    """Benchmark cases of about ``n`` MACs per call (whole dot products, at least one)."""
    rng = np.random.default_rng(seed)
    out = []
    for fmt_a, fmt_b in (("float8_e4m3fn", "float8_e4m3fn"), ("float8_e5m2", "float8_e4m3fn")):
        rows = max(1, n // FP8_MAC_LENGTH)
        a = _codes(rng, (rows, FP8_MAC_LENGTH), fmt_a)
        b = _codes(rng, (rows, FP8_MAC_LENGTH), fmt_b)
        out.append({"unit": f"fp8_mac {fmt_a} x {fmt_b}, n={FP8_MAC_LENGTH}",
                    "macs": a.size,
                    "numba": lambda a=a, b=b, fa=fmt_a, fb=fmt_b: fp8.fp8_mac(a, b, fa, fb),
                    "numpy": lambda a=a, b=b, fa=fmt_a, fb=fmt_b: numpy_fp8_mac(a, b, fa, fb)})
    for fmt in ("float8_e4m3fn", "float4_e2m1fn"):
        length = 32 * MX_BLOCKS
        rows = max(1, n // length)
        a, b = _codes(rng, (rows, length), fmt), _codes(rng, (rows, length), fmt)
        sa = rng.integers(120, 135, (rows, MX_BLOCKS), dtype=np.uint8)
        sb = rng.integers(120, 135, (rows, MX_BLOCKS), dtype=np.uint8)
        out.append({"unit": f"mx_dot {fmt} x {fmt}, n={length}",
                    "macs": a.size,
                    "numba": lambda a=a, b=b, sa=sa, sb=sb, f=fmt: mx.mx_dot(a, sa, b, sb, f, f),
                    "numpy": lambda a=a, b=b, sa=sa, sb=sb, f=fmt: numpy_mx_dot(a, sa, b, sb, f,
                                                                                f)})
    return out


if __name__ == "__main__":
    from lowbit.hwsim.bench.units import main
    sys.exit(main(prog="python -m lowbit.hwsim.bench.units_fp8", collect=cases))
