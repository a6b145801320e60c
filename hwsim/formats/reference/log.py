"""Plain-Python reference for the log formats (used by the tests).

Written independently of lowbit.hwsim.formats.log: √2 is bracketed by a 300-bit rational interval
from math.isqrt, and every decision must come out the same at both ends of the interval.
"""
from __future__ import annotations

import math
from fractions import Fraction

_PRECISION = 300
SQRT2_LOW = Fraction(math.isqrt(2 << (2 * _PRECISION)), 1 << _PRECISION)
SQRT2_HIGH = SQRT2_LOW + Fraction(1, 1 << _PRECISION)


def magnitude_bounds(bits: int, half_steps: bool, field: int) -> tuple[Fraction, Fraction]:
    """Lower and upper bound of the magnitude of exponent field ``field`` (0 is zero)."""
    if field == 0:
        return Fraction(0), Fraction(0)
    k = field - ((1 << (bits - 1)) - 1)
    if not half_steps:
        return Fraction(2) ** k, Fraction(2) ** k
    whole, odd = divmod(k, 2)
    scale = Fraction(2) ** whole
    return (scale * SQRT2_LOW, scale * SQRT2_HIGH) if odd else (scale, scale)


def encode_log(x: float, bits: int, half_steps: bool) -> int:
    """Nearest magnitude in the linear domain, ties to the larger magnitude, saturating."""
    if math.isnan(x):
        raise ValueError("NaN has no log code")
    field_max = (1 << (bits - 1)) - 1
    magnitude = None if math.isinf(x) else abs(Fraction(x))
    level = 0
    for field in range(1, field_max + 1):
        below_low, below_high = magnitude_bounds(bits, half_steps, field - 1)
        low, high = magnitude_bounds(bits, half_steps, field)
        midpoint_low, midpoint_high = (below_low + low) / 2, (below_high + high) / 2
        if magnitude is None or magnitude >= midpoint_high:
            level = field
        elif magnitude < midpoint_low:
            break
        else:
            raise AssertionError(f"{x!r} is within 2^-{_PRECISION} of a midpoint")
    negative = x < 0
    return level | (1 << (bits - 1)) if (level and negative) else level


def decode_log(code: int, bits: int, half_steps: bool) -> float:
    """The value of a code, correctly rounded to float64."""
    field = code & ((1 << (bits - 1)) - 1)
    low, high = magnitude_bounds(bits, half_steps, field)
    value = float(low)
    assert value == float(high), "√2 interval too wide to round"
    return -value if (code >> (bits - 1)) and field else value
