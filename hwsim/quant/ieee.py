"""The IEEE formats quant rounds to: float16, bfloat16 and float32.

They are not element formats of the registry (not low-bit), but quant needs them twice: scales
are stored in one of them, and activations of weight-only schemes (W4A16) stay in one of them.

  name      bits  exponent  mantissa  max              smallest positive (subnormal)
  float16   16    5         10        65504            2^-24
  bfloat16  16    8         7         ~3.3895e38       2^-133
  float32   32    8         23        ~3.4028e38       2^-149

Rounding is to nearest, ties to even, done once from the input's own precision (a float64 is
never rounded through float32 first, DESIGN.md "convert once"). Codes are the raw bit patterns
(uint16 for float16/bfloat16, uint32 for float32); every value of the three fits float32.
"""
from __future__ import annotations

import numpy as np

IEEE_FORMATS = ("float16", "bfloat16", "float32")
# name -> (bits, mantissa bits), the table above
FIELDS = {"float16": (16, 10), "bfloat16": (16, 7), "float32": (32, 23)}

# name -> (numpy dtype holding the value exactly, unsigned dtype of its bit pattern)
_STORAGE = {
    "float16": (np.float16, np.uint16),
    "float32": (np.float32, np.uint32),
}


def check_name(name, argname: str) -> str:
    if name not in IEEE_FORMATS:
        raise ValueError(f"{argname} must be one of {IEEE_FORMATS}, got {name!r}")
    return name


def encode(x: np.ndarray, name: str) -> np.ndarray:
    """Bit patterns of float32/float64 ``x`` rounded to nearest-even in format ``name``.

    Overflow gives ±inf, as IEEE rounding does; callers that need finite results check.
    """
    check_name(name, "name")
    if name == "bfloat16":
        return _bfloat16_bits(x)
    # numpy converts float64 -> float16 directly (npy_double_to_half), not through float32.
    value_dtype, bits_dtype = _STORAGE[name]
    with np.errstate(over="ignore"):  # overflow to inf is the documented result
        return x.astype(value_dtype).view(bits_dtype)


def decode(bits: np.ndarray, name: str) -> np.ndarray:
    """Values (float32, exact) of the bit patterns ``bits`` of format ``name``."""
    check_name(name, "name")
    if name == "bfloat16":
        return (bits.astype(np.uint32) << 16).view(np.float32)
    value_dtype, bits_dtype = _STORAGE[name]
    return bits.astype(bits_dtype).view(value_dtype).astype(np.float32)


def round_to(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` rounded once to format ``name``, as float32."""
    return decode(encode(x, name), name)


def round_up(x: np.ndarray, name: str) -> np.ndarray:
    """The smallest value of format ``name`` that is >= x, for positive finite float64 ``x``.

    Returns float32; +inf where x exceeds the format's largest finite value.
    """
    bits = encode(x, name)
    below = decode(bits, name).astype(np.float64) < x
    # For a positive pattern, pattern + 1 is the next value up (max finite + 1 is +inf).
    bits = np.where(below, bits + bits.dtype.type(1), bits)
    return decode(bits, name)


def _bfloat16_bits(x: np.ndarray) -> np.ndarray:
    x32 = _round_to_odd_float32(x) if x.dtype == np.float64 else x.astype(np.float32)
    b = x32.view(np.uint32)
    # Round to nearest even on the 16 dropped bits; a carry into the exponent is the right
    # answer (the largest values round up to inf).
    rounded = b + (np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1)))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def _round_to_odd_float32(x: np.ndarray) -> np.ndarray:
    """float64 -> float32 rounding to odd: truncate, then set the last bit if inexact.

    Rounding to odd with 16 spare bits and then to nearest-even in bfloat16 equals a single
    rounding of x to bfloat16 (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums:
    proved algorithms using rounding to odd", IEEE TC 2008).
    """
    with np.errstate(over="ignore"):  # beyond float32: inf, truncated back to max below
        nearest = x.astype(np.float32)
    away = np.abs(nearest.astype(np.float64)) > np.abs(x)
    truncated = np.where(away, np.nextafter(nearest, np.float32(0)), nearest)
    inexact = truncated.astype(np.float64) != x
    return (truncated.view(np.uint32) | inexact.astype(np.uint32)).view(np.float32)
