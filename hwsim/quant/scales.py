"""Scale formats: which formats a scale may be stored in, and how a scale is rounded to one.

Scale formats: "float16", "bfloat16", "float32" (IEEE) and "float8_e8m0fnu" (a power of two
2^-127 .. 2^127, the OCP MX shared scale; usable with any granularity, required for "mx").

Rounding rule: a scale computed from a clipping range is rounded UP (toward +inf) to the next
value of its scale format. Rounding up never shrinks the range the codes cover, so nothing inside
the calibrated clipping range saturates and the bound |x - q*s| <= s/2 holds for every x in it
(rounding to nearest could shrink s by half an ulp of the scale format, clipping the largest
element, and by up to 50 % for a float16 subnormal scale). The price: the grid is at most one
ulp of the scale format coarser than the exact amax / max.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.quant import ieee

MX_SCALE_FORMAT = "float8_e8m0fnu"
SCALE_FORMATS = ieee.IEEE_FORMATS + (MX_SCALE_FORMAT,)

# float8_e8m0fnu holds 2^E for E in -127 .. 127.
E8M0_MIN_EXP = -127
E8M0_MAX_EXP = 127

# The scale of an all-zero group for an element format with a zero code: every code is then 0,
# so x_hat = 0 whatever the scale, and 1.0 is exact in every scale format and safe to divide by on
# any hardware (a tiny scale could flush to zero on a GPU). binary has no zero code: see
# ``scaling.zero_group_scale``, which gives it SMALLEST_SCALE instead.
ZERO_GROUP_SCALE = 1.0

# The smallest positive value of each scale format: for the IEEE formats their smallest
# subnormal, 2^(1 - bias - mantissa bits) (float16: 1 - 15 - 10; bfloat16: 1 - 127 - 7;
# float32: 1 - 127 - 23); for float8_e8m0fnu 2^-127 (OCP MX v1.0, code 0x00).
SMALLEST_SCALE = {"float16": 2.0 ** -24, "bfloat16": 2.0 ** -133, "float32": 2.0 ** -149,
                  MX_SCALE_FORMAT: 2.0 ** E8M0_MIN_EXP}


def check_scale_format(name, argname: str) -> str:
    if name not in SCALE_FORMATS:
        raise ValueError(f"{argname} must be one of {SCALE_FORMATS}, got {name!r}")
    return name


def round_up(s: np.ndarray, scale_format: str) -> np.ndarray:
    """Positive finite float64 scales rounded up to ``scale_format``, as float32 (exact).

    +inf where a scale exceeds the format's largest value; the caller reports it.
    """
    if scale_format == MX_SCALE_FORMAT:
        return power_of_two(np.maximum(ceil_log2(s), E8M0_MIN_EXP))
    return ieee.round_up(s, scale_format)


def ceil_log2(s: np.ndarray) -> np.ndarray:
    """ceil(log2(s)) for positive finite s, exactly (from the float's exponent, no log)."""
    mantissa, exponent = np.frexp(s)  # s = mantissa * 2^exponent, mantissa in [0.5, 1)
    return np.where(mantissa == 0.5, exponent - 1, exponent).astype(np.int64)


def floor_log2(s: np.ndarray) -> np.ndarray:
    """floor(log2(s)) for positive finite s, exactly."""
    _, exponent = np.frexp(s)
    return (exponent - 1).astype(np.int64)


def power_of_two(exponent: np.ndarray) -> np.ndarray:
    """2^exponent as float32; +inf above 2^127 (beyond float8_e8m0fnu and float32)."""
    exponent = np.asarray(exponent, dtype=np.int64)
    finite = exponent <= E8M0_MAX_EXP
    powers = np.ldexp(1.0, np.where(finite, exponent, 0)).astype(np.float32)
    return np.where(finite, powers, np.float32(np.inf))


def representable(scales: np.ndarray, scale_format: str) -> np.ndarray:
    """Boolean mask: which float32 ``scales`` are finite, positive values of ``scale_format``."""
    scales = np.asarray(scales, dtype=np.float32)
    positive = np.isfinite(scales) & (scales > 0)
    safe = np.where(positive, scales, np.float32(1)).astype(np.float64)
    if scale_format == MX_SCALE_FORMAT:
        exponent = floor_log2(safe)
        exact = (np.ldexp(1.0, exponent) == safe) & (exponent >= E8M0_MIN_EXP)
    else:
        exact = ieee.round_to(safe, scale_format) == safe
    return positive & exact
