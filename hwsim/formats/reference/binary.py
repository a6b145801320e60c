"""Plain-Python reference for the binary and ternary formats (used by the tests)."""
from __future__ import annotations

import math


def encode_binary(x: float) -> int:
    if math.isnan(x):
        raise ValueError("NaN has no binary code")
    return 1 if x < 0 else 0


def decode_binary(code: int) -> int:
    return -1 if code else 1


def encode_ternary(x: float, threshold: float) -> int:
    if math.isnan(x):
        raise ValueError("NaN has no ternary code")
    if x > threshold:
        return 0b01
    if x < -threshold:
        return 0b11
    return 0b00


def decode_ternary(code: int) -> int:
    return {0b00: 0, 0b01: 1, 0b11: -1}[code]
