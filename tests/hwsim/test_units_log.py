"""lowbit.hwsim.units.log: every log code x every int8 activation (log2_3/4/5 vs exact rationals,
logsqrt2_4 vs Python integers and its √2 error bound checked with Fractions), random dots,
overflow, bad input."""
from fractions import Fraction

import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.units.log import (SQRT2_ERROR_BOUND, log2_fmax, log_dot, log_dot_reference,
                             log_product, log_product_reference, log_unit_bits)

SEED = 7331
ALL_FORMATS = ["log2_3", "log2_4", "log2_5", "logsqrt2_4"]


def every_pair(bits: int):
    """Every code of a ``bits``-bit format x every int8 activation, as flat int64 arrays."""
    codes, acts = np.meshgrid(np.arange(1 << bits), np.arange(-128, 128), indexing="ij")
    return codes.ravel(), acts.ravel()


@pytest.mark.parametrize("name", ["log2_3", "log2_4", "log2_5"])
def test_log2_every_code_times_every_int8_activation(name):
    """Against exact rationals: act * (the registered format's value) / 2^-U."""
    bits = formats.get(name).bits
    codes, acts = every_pair(bits)
    got = log_dot(acts[:, None], codes[:, None], weight_format=name)
    unit = Fraction(1, 2 ** log_unit_bits(name))
    assert log_unit_bits(name) == log2_fmax(bits) - 1
    values = formats.get(name).values()  # float64, exact powers of two
    expected = [Fraction(int(a)) * Fraction(float(values[c])) / unit
                for c, a in zip(codes.tolist(), acts.tolist())]
    assert all(e.denominator == 1 for e in expected)  # never rounded: all products are integers
    assert got.tolist() == [int(e) for e in expected]
    assert got.tolist() == [log_product_reference(a, c, name)
                            for c, a in zip(codes.tolist(), acts.tolist())]


def test_logsqrt2_every_code_times_every_int8_activation_vs_python_integers():
    codes, acts = every_pair(4)
    got = log_dot(acts[:, None], codes[:, None], weight_format="logsqrt2_4")
    # The contract's table, written out: units of 2^-10; odd fields 2^((f-1)/2) * 128, even
    # fields 2^((f-2)/2) * 181; the sign bit negates, f = 0 is zero.
    magnitudes = [0, 128, 181, 256, 362, 512, 724, 1024]
    expected = [a * magnitudes[c & 7] * (-1 if c >> 3 else 1)
                for c, a in zip(codes.tolist(), acts.tolist())]
    assert got.tolist() == expected
    assert expected == [log_product_reference(a, c, "logsqrt2_4")
                        for c, a in zip(codes.tolist(), acts.tolist())]
    assert [log_product(a, c, weight_format="logsqrt2_4") for c, a in
            zip(codes[::37].tolist(), acts[::37].tolist())] == expected[::37]


def true_product_squared(act: int, code: int) -> Fraction:
    """(act * the exact logsqrt2_4 value of ``code``)^2 in units of 2^-10: the value
    act * 2^((f-7)/2) is irrational for even f, its square is rational."""
    field = code & 7
    return Fraction(0) if field == 0 else Fraction(act * act) * Fraction(2) ** (field - 7 + 20)


def test_logsqrt2_error_bound_every_product_with_fractions():
    """Even powers of √2 are exact; odd powers are below the true magnitude by a relative error
    under SQRT2_ERROR_BOUND (and above SQRT2_ERROR_BOUND - 1e-8: the bound is tight)."""
    eps, slack = SQRT2_ERROR_BOUND, Fraction(1, 10 ** 8)
    values = formats.get("logsqrt2_4").values()
    codes, acts = every_pair(4)
    got = log_dot(acts[:, None], codes[:, None], weight_format="logsqrt2_4")
    for code, act, product in zip(codes.tolist(), acts.tolist(), got.tolist()):
        field, negative = code & 7, code >> 3
        true_sq = true_product_squared(act, code)
        if field % 2 == 1 or act == 0 or field == 0:  # rational: compare exactly
            exact = Fraction(act) * Fraction(float(values[code])) * 2 ** 10
            assert product == exact, (code, act)
            continue
        # Same sign as the true product, and (1 - eps)|true| < |got| < (1 - eps + slack)|true|
        # compared squared (all terms positive), so no √2 is evaluated.
        assert (product < 0) == ((act < 0) != bool(negative)), (code, act)
        assert (1 - eps) ** 2 * true_sq < product * product, (code, act)
        assert product * product < (1 - eps + slack) ** 2 * true_sq, (code, act)


def test_logsqrt2_largest_int8_error_is_under_ten_units():
    # act = -128, f = 6 (2^-0.5): true 128 * 2^-0.5 * 2^10 = 92681.9..; got 128 * 181 * 4 = 92672.
    got = log_product(-128, 0b0110, weight_format="logsqrt2_4")
    assert got == -92672
    true_sq = true_product_squared(-128, 0b0110)
    assert (92672 + Fraction(99, 10)) ** 2 < true_sq < (92672 + Fraction(991, 100)) ** 2


def dot_error_within_bound(got: int, act, codes) -> bool:
    """|got - true dot| <= eps * Σ|true product| exactly, where the true dot and the bound are
    x + y·√2 with rational x, y (even fields contribute to x, odd powers of √2 to y)."""
    x_true = y_true = x_abs = y_abs = Fraction(0)
    for a, c in zip(act.tolist(), codes.tolist()):
        field, sign = c & 7, -1 if c >> 3 else 1
        if field == 0:
            continue
        if field % 2:   # a * 2^((f-7)/2) * 2^10, rational
            term = Fraction(sign * a) * Fraction(2) ** ((field - 7) // 2 + 10)
            x_true, x_abs = x_true + term, x_abs + abs(term)
        else:           # a * 2^((f-8)/2) * 2^10 * √2
            term = Fraction(sign * a) * Fraction(2) ** ((field - 8) // 2 + 10)
            y_true, y_abs = y_true + term, y_abs + abs(term)
    # bound - |got - true| >= 0 for both signs of (got - true): two checks of x + y·√2 >= 0
    eps = SQRT2_ERROR_BOUND
    return all(nonnegative(eps * x_abs + s * (got - x_true), eps * y_abs - s * y_true)
               for s in (1, -1))


def nonnegative(x: Fraction, y: Fraction) -> bool:
    """Exactly: x + y·√2 >= 0."""
    if x >= 0 and y >= 0:
        return True
    if x <= 0 and y <= 0:
        return x == 0 and y == 0
    return x * x >= 2 * y * y if x > 0 else 2 * y * y >= x * x


def test_logsqrt2_random_dots_obey_the_stated_bound():
    rng = np.random.default_rng(SEED)
    act = rng.integers(-128, 128, (200, 64))
    codes = rng.integers(0, 16, (200, 64))
    got = log_dot(act, codes, weight_format="logsqrt2_4", acc_bits=64)
    for i in range(200):
        assert dot_error_within_bound(int(got[i]), act[i], codes[i]), f"seed {SEED} row {i}"
    # The check can fail: a dot 1000 units off (the bound here is a few hundred) is rejected.
    assert not dot_error_within_bound(int(got[0]) + 1000, act[0], codes[0])


def test_nonnegative_helper():
    assert nonnegative(Fraction(3), Fraction(-2))       # 3 - 2.83
    assert not nonnegative(Fraction(2), Fraction(-2))   # 2 - 2.83
    assert nonnegative(Fraction(-1), Fraction(1))       # -1 + 1.41
    assert not nonnegative(Fraction(-2), Fraction(1))


def test_scalar_product_is_a_shift_and_negate():
    # log2_4: fmax = 7, code 0b1011 = -(2^(3-7)) = -1/16; 100 * -1/16 in units of 2^-6 = -400.
    assert log_product(100, 0b1011, weight_format="log2_4") == -(100 << 2) == -400
    assert log_product(-128, 0b0111, weight_format="log2_4") == -128 << 6
    assert log_product(5, 0b1000, weight_format="log2_4") == 0  # f = 0: zero, either sign
    # logsqrt2_4, units of 2^-10: code 0b0100 = 2^-1.5 ≈ 181 / 2^8: 3 * 181 << 1.
    assert log_product(3, 0b0100, weight_format="logsqrt2_4") == 3 * 181 * 2
    assert log_product(3, 0b1101, weight_format="logsqrt2_4") == -(3 << 9)  # -2^-1


@pytest.mark.parametrize("name,overflow,acc_bits", [
    ("log2_3", "wrap", 10), ("log2_4", "saturate", 16), ("log2_5", "wrap", 24),
    ("log2_5", "saturate", 20), ("logsqrt2_4", "wrap", 18), ("logsqrt2_4", "saturate", 19)])
def test_random_dots_vs_reference(name, overflow, acc_bits):
    rng = np.random.default_rng(SEED)
    act = rng.integers(-128, 128, (1500, 40))
    codes = rng.integers(0, formats.get(name).n_codes, (1500, 40))
    got = log_dot(act, codes, weight_format=name, acc_bits=acc_bits, overflow=overflow)
    for i in range(0, 1500, 3):
        expected = log_dot_reference(act[i], codes[i], weight_format=name, acc_bits=acc_bits,
                                     overflow=overflow)
        assert got[i] == expected, f"seed {SEED} {name} row {i}"


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_all_max_and_alternating_signs(name):
    n, bits = 64, formats.get(name).bits
    # -128 x -1 (code: sign bit + fmax) is the largest product, 2^7 * 2^U.
    fmax = log2_fmax(bits)
    minus_one = (1 << (bits - 1)) | fmax
    assert log_dot(np.full(n, -128), np.full(n, minus_one), weight_format=name, acc_bits=64) \
        == n * (128 << log_unit_bits(name))
    alternating = np.tile([minus_one, fmax], n // 2)
    assert log_dot(np.full(n, 127), alternating, weight_format=name) == 0


def test_overflow_error_checks_the_worst_case_exactly():
    # int8 x log2_5: |product| <= 2^7 * 2^14 = 2^21; 4 products reach 2^23 > 2^23 - 1, the
    # largest 24-bit value, so they need 25 bits.
    zeros = np.zeros(4, int)
    assert log_dot(zeros, zeros, weight_format="log2_5", acc_bits=25, overflow="error") == 0
    with pytest.raises(ValueError, match=r"acc_bits=24 cannot hold.*acc_bits >= 25"):
        log_dot(zeros, zeros, weight_format="log2_5", acc_bits=24, overflow="error")
    # int8 x logsqrt2_4: |product| <= 2^7 * 2^10 = 2^17; 2 products reach 2^18: 20 bits.
    assert log_dot(zeros[:2], zeros[:2], weight_format="logsqrt2_4", acc_bits=20,
                   overflow="error") == 0
    with pytest.raises(ValueError, match=r"acc_bits=19 cannot hold.*acc_bits >= 20"):
        log_dot(zeros[:2], zeros[:2], weight_format="logsqrt2_4", acc_bits=19, overflow="error")
    # Wrap and saturate right at the edge of a 24-bit accumulator: 4 * 2^21 = 2^23.
    act, codes = np.full(4, -128), np.full(4, 0b11111)
    assert log_dot(act, codes, weight_format="log2_5", acc_bits=24) == -(1 << 23)
    assert log_dot(act, codes, weight_format="log2_5", acc_bits=24,
                   overflow="saturate") == (1 << 23) - 1
    # logsqrt2_4 at the edge of a 19-bit accumulator: 2 * (-128 * -1024) = 2^18.
    act, codes = np.full(2, -128), np.full(2, 0b1111)
    assert log_dot(act, codes, weight_format="logsqrt2_4", acc_bits=19) == -(1 << 18)
    assert log_dot(act, codes, weight_format="logsqrt2_4", acc_bits=19,
                   overflow="saturate") == (1 << 18) - 1


@pytest.mark.parametrize("kwargs,match", [
    (dict(weight_format="log2_6"), r"weight_format must be one of \('log2_3', 'log2_4', "
                                   r"'log2_5', 'logsqrt2_4'\), got 'log2_6'"),
    (dict(weight_format="int4"), r"weight_format must be one of .*got 'int4'"),
    (dict(codes=[16]), r"codes must hold log2_4 codes in 0\.\.15, got values in 16\.\.16"),
    (dict(codes=[16], weight_format="logsqrt2_4"), r"codes must hold logsqrt2_4 codes in 0\.\.15"),
    (dict(act=[128]), r"act must hold int8 values in -128\.\.127"),
    (dict(act=[1, 2]), "act and codes must have the same shape"),
    (dict(act_bits=9), r"act_bits must be an integer in 1\.\.8"),
    (dict(overflow="round"), "overflow must be one of"),
    (dict(acc_bits=1), r"acc_bits must be an integer in 2\.\.64"),
])
def test_bad_input_raises_naming_the_argument(kwargs, match):
    args = dict(act=[1], codes=[3], weight_format="log2_4") | kwargs
    with pytest.raises(ValueError, match=match):
        log_dot(**args)


def test_the_format_must_be_named():
    """The old ``w_bits=4`` form silently meant log2_4; the format is now a required name."""
    with pytest.raises(TypeError):
        log_dot([1], [3], w_bits=4)
    with pytest.raises(TypeError):
        log_dot([1], [3])
