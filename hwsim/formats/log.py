"""Logarithmic (power-of-two) element formats: ``log2_3``, ``log2_4``, ``log2_5``, ``logsqrt2_4``.

Encoding: ``bits`` = 1 sign bit (the MSB) + a (bits-1)-bit exponent field f. With
fmax = 2^(bits-1) - 1:
  f = 0          zero (sign ignored; encode only ever writes code 0 for zero)
  f = 1 .. fmax  magnitude base^(f - fmax), so the largest magnitude is 1 for every format

  format      base  magnitudes                      max  smallest
  log2_3      2     2^-2 .. 2^0                     1    0.25
  log2_4      2     2^-6 .. 2^0                     1    2^-6
  log2_5      2     2^-14 .. 2^0                    1    2^-14
  logsqrt2_4  √2    2^-3, 2^-2.5, .. 2^0  (τ = 2)   1    2^-3

``logsqrt2_4`` takes PTQ4SAM's base 2^(1/τ) with τ = 2 (Lv et al., CVPR 2024). PTQ4SAM codes
unsigned post-softmax values and rounds in the log domain (a_q = floor(-τ·log2(a/s)), clamped);
these formats are signed and round in the linear domain (below), like the base-2 ones. Odd powers
of √2 are irrational: float32 cannot hold them, so ``logsqrt2_4`` decodes to float64 (correctly rounded);
the base-2 formats decode to float32, which holds their values exactly.

Rounding rule (encode): nearest magnitude in the LINEAR domain; a tie goes to the LARGER magnitude
(zero counts as the smallest level, so a value exactly halfway between 0 and the smallest magnitude
encodes to the smallest magnitude). Ties only happen for base 2, whose midpoints 1.5·2^k are
dyadic; for base √2 the midpoints between powers are irrational, so no float is ever a tie.
Decisions are exact for float32 and float64 inputs alike: each threshold is stored as the
smallest float64 at or above the exact midpoint, so ``|x| >= threshold`` iff ``|x| >= midpoint``.
Beyond the largest magnitude (and ±inf) encode saturates to ±max, whatever ``saturate`` says:
the format has no inf or NaN code. NaN raises ValueError naming ``x``.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numba
import numpy as np

from lowbit.hwsim.formats.base import PARALLEL_MIN_SIZE, Format, register


def _ge_a_plus_b_sqrt2(t: Fraction, a: Fraction, b: Fraction) -> bool:
    """Exactly: t >= a + b·√2 (b >= 0), by comparing squares instead of evaluating √2."""
    d = t - a
    if b == 0:
        return d >= 0
    return d > 0 and d * d >= 2 * b * b


def _smallest_float_at_or_above(a: Fraction, b: Fraction) -> float:
    """The smallest float64 t with t >= a + b·√2, found from an estimate by stepping ulps."""
    t = float(a) + float(b) * math.sqrt(2.0)
    while not _ge_a_plus_b_sqrt2(Fraction(t), a, b):
        t = math.nextafter(t, math.inf)
    while _ge_a_plus_b_sqrt2(Fraction(math.nextafter(t, -math.inf)), a, b):
        t = math.nextafter(t, -math.inf)
    return t


def _magnitude(exponent2: int, half_steps: bool) -> tuple[Fraction, Fraction]:
    """The magnitude base^k as (a, b) with value a + b·√2; exponent2 counts powers of the base."""
    if not half_steps:
        return Fraction(2) ** exponent2, Fraction(0)
    whole, odd = divmod(exponent2, 2)
    return (Fraction(0), Fraction(2) ** whole) if odd else (Fraction(2) ** whole, Fraction(0))


@numba.njit(cache=True)
def _encode_one(value, thresholds, sign_bit):
    # Level = how many thresholds |x| reaches; inf reaches all of them and saturates.
    level = np.searchsorted(thresholds, abs(np.float64(value)), side="right")
    code = np.uint8(level)
    if level > 0 and value < 0:
        code |= sign_bit
    return code


@numba.njit(cache=True)
def _encode_serial(x, thresholds, sign_bit):
    out = np.empty(x.size, dtype=np.uint8)
    for i in range(x.size):
        out[i] = _encode_one(x[i], thresholds, sign_bit)
    return out


@numba.njit(cache=True, parallel=True)
def _encode_parallel(x, thresholds, sign_bit):
    out = np.empty(x.size, dtype=np.uint8)
    for i in numba.prange(x.size):
        out[i] = _encode_one(x[i], thresholds, sign_bit)
    return out


class LogFormat(Format):
    """Sign + exponent-field power-of-base format (see the module docstring)."""

    def __init__(self, name: str, bits: int, half_steps: bool):
        self.half_steps = half_steps
        self.base = math.sqrt(2.0) if half_steps else 2.0
        self.field_max = (1 << (bits - 1)) - 1
        # exponents of the base for fields 1..fmax: -(fmax-1) .. 0
        self.exponents = np.arange(1 - self.field_max, 1)
        exact = [_magnitude(int(k), half_steps) for k in self.exponents]
        self._magnitudes = np.array([float(a) + float(b) * math.sqrt(2.0) for a, b in exact])
        levels = [(Fraction(0), Fraction(0))] + exact
        self.thresholds = np.array([
            _smallest_float_at_or_above((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2)
            for lo, hi in zip(levels[:-1], levels[1:])])
        smallest = float(self._magnitudes[0])
        super().__init__(name=name, bits=bits, kind="log", max=1.0, lowest=-1.0,
                         min_normal=smallest, min_subnormal=smallest,
                         has_inf=False, has_nan=False)

    def _encode(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        kernel = _encode_parallel if x.size >= PARALLEL_MIN_SIZE else _encode_serial
        codes = kernel(x.ravel(), self.thresholds, np.uint8(1 << (self.bits - 1)))
        return codes.reshape(x.shape)

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        field = codes & self.field_max
        negative = (codes >> (self.bits - 1)).astype(bool) & (field > 0)
        magnitude = np.concatenate(([0.0], self._magnitudes))[field]
        values = np.where(negative, -magnitude, magnitude)
        # float32 holds every power of two here but not the irrational half-powers of √2
        return values if self.half_steps else values.astype(np.float32)


register(LogFormat("log2_3", 3, half_steps=False))
register(LogFormat("log2_4", 4, half_steps=False))
register(LogFormat("log2_5", 5, half_steps=False))
register(LogFormat("logsqrt2_4", 4, half_steps=True))
