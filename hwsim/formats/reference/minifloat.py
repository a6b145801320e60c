"""Plain-Python integer reference for the minifloat formats of ``lowbit.hwsim.formats.floats``.

Slow and independent of the fast path on purpose: it takes its layouts from its own table
(below, from the OCP OFP8 rev 1.0 and OCP MX v1.0 specifications), decodes with integer
significands and ``math.ldexp``, and encodes with exact rational arithmetic on the input's
value (``fractions.Fraction``): round half to even at the spacing of the value's binade, then
look the rounded value up among the decoded codes. No numpy, no float tricks.

Contract (the same as ``lowbit.hwsim.formats.floats``; the tests hold both to it):
  sign-magnitude formats: round to nearest, ties to even, with an unbounded exponent range
    above; then a result beyond max, or ±inf, overflows: to ±max if ``saturate`` (always for
    the formats without inf/NaN), else to NaN ("fn") or ±inf ("ieee"). NaN keeps its sign and
    is written as the NaN with the top mantissa bit set; formats without NaN raise ValueError.
  float8_e8m0fnu: the nearest power of two 2^e, ties (1.5 * 2^e) up, clamped below to 2^-127;
    e > 127 or +inf overflows to NaN 0xFF (max 0xFE if ``saturate``); zero, negative and NaN
    give NaN 0xFF.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Layout:
    """ebits/mbits: field widths; bias: exponent bias; specials: which codes are not numbers:
    "ieee" (all-ones exponent: inf if the mantissa is 0, else NaN), "fn" (only the all-ones
    magnitude is NaN), "finite" (none), "e8m0" (unsigned exponent only, 0xFF is NaN)."""

    ebits: int
    mbits: int
    bias: int
    specials: str


# name: Layout(exponent bits, mantissa bits, bias, specials) -- OCP OFP8 rev 1.0 (E4M3, E5M2),
# OCP MX v1.0 section 5 (FP6 E3M2 / E2M3, FP4 E2M1, E8M0).
LAYOUTS = {
    "float8_e4m3fn": Layout(4, 3, 7, "fn"),
    "float8_e5m2": Layout(5, 2, 15, "ieee"),
    "float6_e3m2fn": Layout(3, 2, 3, "finite"),
    "float6_e2m3fn": Layout(2, 3, 1, "finite"),
    "float4_e2m1fn": Layout(2, 1, 1, "finite"),
    "float8_e8m0fnu": Layout(8, 0, 127, "e8m0"),
}


def layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"name must be one of {sorted(LAYOUTS)}, got {name!r}") from None


# -- decode -------------------------------------------------------------------------------------
def decode(name: str, code: int) -> float:
    """The value of ``code`` as a Python float (exact: every value fits a float64)."""
    lay = layout(name)
    if lay.specials == "e8m0":
        return math.nan if code == 0xFF else math.ldexp(1, code - lay.bias)
    sign = -1.0 if (code >> (lay.ebits + lay.mbits)) & 1 else 1.0
    exp = (code >> lay.mbits) & ((1 << lay.ebits) - 1)
    mant = code & ((1 << lay.mbits) - 1)
    exp_all_ones = exp == (1 << lay.ebits) - 1
    if lay.specials == "ieee" and exp_all_ones:
        return math.copysign(math.inf if mant == 0 else math.nan, sign)
    if lay.specials == "fn" and exp_all_ones and mant == (1 << lay.mbits) - 1:
        return math.copysign(math.nan, sign)
    if exp == 0:
        return math.copysign(math.ldexp(mant, 1 - lay.bias - lay.mbits), sign)
    return math.copysign(math.ldexp((1 << lay.mbits) | mant, exp - lay.bias - lay.mbits), sign)


@functools.cache
def _magnitude_codes(name: str) -> dict[Fraction, int]:
    """Every finite non-negative value of a sign-magnitude format -> its code."""
    lay = layout(name)
    table = {}
    for code in range(1 << (lay.ebits + lay.mbits)):
        value = decode(name, code)
        if math.isfinite(value):
            table[Fraction(value)] = code
    return table


@functools.cache
def _max_value(name: str) -> Fraction:
    return max(_magnitude_codes(name))


# -- encode -------------------------------------------------------------------------------------
def encode(name: str, x: float, saturate: bool) -> int:
    """The code of the Python float ``x`` (a float32 or float64 value) under the contract above."""
    lay = layout(name)
    x = float(x)
    if lay.specials == "e8m0":
        return _encode_e8m0(x, saturate)
    sign_bit = (1 << (lay.ebits + lay.mbits)) if math.copysign(1.0, x) < 0 else 0
    if math.isnan(x):
        if lay.specials == "finite":
            raise ValueError(f"x must not be NaN: {name} has no NaN code")
        return sign_bit | _nan_magnitude(lay)
    if math.isinf(x):
        return sign_bit | _overflow_magnitude(name, saturate)
    return sign_bit | _round_magnitude(name, Fraction(abs(x)), saturate)


def _round_magnitude(name: str, value: Fraction, saturate: bool) -> int:
    lay = layout(name)
    emin = 1 - lay.bias
    exponent = max(floor_log2(value), emin) if value else emin
    spacing = Fraction(2) ** (exponent - lay.mbits)
    rounded = round(value / spacing) * spacing  # Fraction's round() is half to even
    if rounded > _max_value(name):
        return _overflow_magnitude(name, saturate)
    return _magnitude_codes(name)[rounded]


def _overflow_magnitude(name: str, saturate: bool) -> int:
    lay = layout(name)
    if saturate or lay.specials == "finite":
        return _magnitude_codes(name)[_max_value(name)]
    if lay.specials == "ieee":
        return ((1 << lay.ebits) - 1) << lay.mbits  # inf
    return _nan_magnitude(lay)


def _nan_magnitude(lay: Layout) -> int:
    top_mantissa_bit = 1 << (lay.mbits - 1)
    if lay.specials == "ieee":
        return (((1 << lay.ebits) - 1) << lay.mbits) | top_mantissa_bit
    return (1 << (lay.ebits + lay.mbits)) - 1  # "fn": the only NaN


def _encode_e8m0(x: float, saturate: bool) -> int:
    if math.isnan(x) or x <= 0:
        return 0xFF
    if math.isinf(x):
        return 0xFE if saturate else 0xFF
    value = Fraction(x)
    exponent = floor_log2(value)
    if value >= Fraction(3, 2) * Fraction(2) ** exponent:
        exponent += 1
    if exponent > 127:
        return 0xFE if saturate else 0xFF
    return max(exponent, -127) + 127


def floor_log2(value: Fraction) -> int:
    """floor(log2(value)) for a positive Fraction, exactly."""
    if value <= 0:
        raise ValueError(f"value must be positive, got {value}")
    # p / q with p in [2^(a-1), 2^a) and q in [2^(b-1), 2^b) lies in (2^(a-b-1), 2^(a-b+1)).
    guess = value.numerator.bit_length() - value.denominator.bit_length()
    return guess if Fraction(2) ** guess <= value else guess - 1
