"""Shared fixtures of the hwsim tests.

round_fraction  the exact rounding oracle of the FP8 / MX unit tests: round-to-nearest-even of
                a ``fractions.Fraction``, written here from the format specifications and not
                from the code under test.
"""
from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import pytest

# (mantissa bits, smallest normal exponent, largest finite value) per rounding target, from
# OCP OFP8 rev 1.0 table 1 and IEEE 754 binary32.
ROUNDING_TARGETS = {
    "float8_e4m3fn": (3, -6, Fraction(448)),
    "float8_e5m2": (2, -14, Fraction(57344)),
    "float32": (23, -126, (2 - Fraction(1, 2 ** 23)) * Fraction(2) ** 127),
}


@functools.lru_cache(maxsize=None)
def _round_fraction(mag: Fraction, fmt: str):
    """mag >= 0 rounded to nearest-even in ``fmt`` (subnormals kept, exponent unbounded above),
    or None when the rounded value exceeds the format's largest finite value."""
    mbits, emin, largest = ROUNDING_TARGETS[fmt]
    if mag == 0:
        return mag
    e = mag.numerator.bit_length() - mag.denominator.bit_length()   # floor(log2) or one more
    if Fraction(2) ** e > mag:
        e -= 1
    ulp = Fraction(2) ** (max(e, emin) - mbits)
    rounded = round(mag / ulp) * ulp              # Python rounds a Fraction half to even
    return None if rounded > largest else rounded


@pytest.fixture(scope="session")
def round_fraction():
    """``round_fraction(mag, fmt)``: see :func:`_round_fraction`; fmt is one of
    ``ROUNDING_TARGETS`` (float8_e4m3fn, float8_e5m2, float32)."""
    return _round_fraction


GEMM_SEED = 20261207


@pytest.fixture
def rng(request):
    """A generator seeded with GEMM_SEED for each test (the bit-exact GEMM tests); the seed is
    printed, so a failure shows it. A test module may define its own ``rng``."""
    print(f"{request.node.nodeid}: seed {GEMM_SEED}")
    return np.random.default_rng(GEMM_SEED)
