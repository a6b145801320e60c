"""Plain-Python reference for the integer formats, on exact rationals (used by the tests)."""
from __future__ import annotations

import math
from fractions import Fraction


def round_half_even(value: Fraction) -> int:
    """Nearest integer to an exact rational, ties to the even integer."""
    floor = value.numerator // value.denominator
    rest = value - floor
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1):
        return floor + 1
    return floor


def encode_int(x: float, bits: int, signed: bool) -> int:
    if math.isnan(x):
        raise ValueError("NaN has no integer code")
    lowest = -(1 << (bits - 1)) if signed else 0
    highest = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    if math.isinf(x):
        value = highest if x > 0 else lowest
    else:
        value = min(max(round_half_even(Fraction(x)), lowest), highest)
    return value & ((1 << bits) - 1)


def decode_int(code: int, bits: int, signed: bool) -> int:
    if signed and code >> (bits - 1):
        return code - (1 << bits)
    return code
