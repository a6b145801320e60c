"""hwsim.units.log: every log2 code x every int8 activation, random dots, overflow, bad input."""
from fractions import Fraction

import numpy as np
import pytest

from hwsim import formats
from hwsim.units.log import (log2_fmax, log_dot, log_dot_reference, log_product,
                             log_product_reference)

SEED = 7331


@pytest.mark.parametrize("w_bits", [3, 4, 5])
def test_every_code_times_every_int8_activation(w_bits):
    """Against exact rationals: act * (the registered log2_b format's value) / 2^-(fmax-1)."""
    codes, acts = np.meshgrid(np.arange(1 << w_bits), np.arange(-128, 128), indexing="ij")
    got = log_dot(acts.ravel()[:, None], codes.ravel()[:, None], w_bits=w_bits)
    unit = Fraction(1, 2 ** (log2_fmax(w_bits) - 1))
    values = formats.get(f"log2_{w_bits}").values()  # float64, exact powers of two
    expected = [Fraction(int(a)) * Fraction(float(values[c])) / unit
                for c, a in zip(codes.ravel().tolist(), acts.ravel().tolist())]
    assert all(e.denominator == 1 for e in expected)  # never rounded: all products are integers
    assert got.tolist() == [int(e) for e in expected]
    assert got.tolist() == [log_product_reference(a, c, w_bits)
                            for c, a in zip(codes.ravel().tolist(), acts.ravel().tolist())]


def test_scalar_product_is_a_shift_and_negate():
    # log2_4: fmax = 7, code 0b1011 = -(2^(3-7)) = -1/16; 100 * -1/16 in units of 2^-6 = -400.
    assert log_product(100, 0b1011, w_bits=4) == -(100 << 2) == -400
    assert log_product(-128, 0b0111, w_bits=4) == -128 << 6
    assert log_product(5, 0b1000, w_bits=4) == 0  # f = 0 is zero, whatever the sign bit


@pytest.mark.parametrize("w_bits,overflow,acc_bits", [(3, "wrap", 10), (4, "saturate", 16),
                                                      (5, "wrap", 24), (5, "saturate", 20)])
def test_random_dots_vs_reference(w_bits, overflow, acc_bits):
    rng = np.random.default_rng(SEED)
    act = rng.integers(-128, 128, (1500, 40))
    codes = rng.integers(0, 1 << w_bits, (1500, 40))
    got = log_dot(act, codes, w_bits=w_bits, acc_bits=acc_bits, overflow=overflow)
    for i in range(0, 1500, 3):
        expected = log_dot_reference(act[i], codes[i], w_bits=w_bits, acc_bits=acc_bits,
                                     overflow=overflow)
        assert got[i] == expected, f"seed {SEED} w_bits {w_bits} row {i}"


def test_all_max_and_alternating_signs():
    n = 64
    # -128 x -1 (code: sign bit + fmax) is the largest product, 2^7 * 2^(fmax - 1).
    for w_bits in (3, 4, 5):
        fmax = log2_fmax(w_bits)
        minus_one = (1 << (w_bits - 1)) | fmax
        assert log_dot(np.full(n, -128), np.full(n, minus_one), w_bits=w_bits, acc_bits=64) \
            == n * (128 << (fmax - 1))
        alternating = np.tile([minus_one, fmax], n // 2)
        assert log_dot(np.full(n, 127), alternating, w_bits=w_bits) == 0


def test_overflow_error_checks_the_worst_case_exactly():
    # int8 x log2_5: |product| <= 2^7 * 2^14 = 2^21; 4 products reach 2^23 > 2^23 - 1, the
    # largest 24-bit value, so they need 25 bits.
    zeros = np.zeros(4, int)
    assert log_dot(zeros, zeros, w_bits=5, acc_bits=25, overflow="error") == 0
    with pytest.raises(ValueError, match=r"acc_bits=24 cannot hold.*acc_bits >= 25"):
        log_dot(zeros, zeros, w_bits=5, acc_bits=24, overflow="error")
    # Wrap and saturate right at the edge of a 24-bit accumulator: 4 * 2^21 = 2^23.
    act, codes = np.full(4, -128), np.full(4, 0b11111)
    assert log_dot(act, codes, w_bits=5, acc_bits=24) == -(1 << 23)
    assert log_dot(act, codes, w_bits=5, acc_bits=24, overflow="saturate") == (1 << 23) - 1


@pytest.mark.parametrize("kwargs,match", [
    (dict(w_bits=6), r"w_bits must be an integer in 3\.\.5, got 6"),
    (dict(codes=[16]), r"codes must hold log2_4 codes in 0\.\.15, got values in 16\.\.16"),
    (dict(act=[128]), r"act must hold int8 values in -128\.\.127"),
    (dict(act=[1, 2]), "act and codes must have the same shape"),
    (dict(act_bits=9), r"act_bits must be an integer in 1\.\.8"),
    (dict(overflow="round"), "overflow must be one of"),
    (dict(acc_bits=1), r"acc_bits must be an integer in 2\.\.64"),
])
def test_bad_input_raises_naming_the_argument(kwargs, match):
    args = dict(act=[1], codes=[3], w_bits=4) | kwargs
    with pytest.raises(ValueError, match=match):
        log_dot(**args)
