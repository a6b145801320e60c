"""lowbit.hwsim.units.integer: exhaustive products, accumulator policies, random dots, bad input."""
import itertools

import numpy as np
import pytest

from lowbit.hwsim.units.integer import (int_dot, int_dot_reference, int_mac, int_mac_reference,
                                 int_range, wrap)

SEED = 20261123


def all_pairs(a_bits, a_signed, b_bits, b_signed):
    """Every (a, b) pair of the two operand ranges, as two flat int64 arrays."""
    a = np.arange(*np.add(int_range(a_bits, a_signed), (0, 1)))
    b = np.arange(*np.add(int_range(b_bits, b_signed), (0, 1)))
    aa, bb = np.meshgrid(a, b, indexing="ij")
    return aa.ravel(), bb.ravel()


@pytest.mark.parametrize("a_bits,b_bits", [(4, 4), (8, 4)])
def test_int4_and_int8_by_int4_every_product_vs_python_integers(a_bits, b_bits):
    a, b = all_pairs(a_bits, True, b_bits, True)
    got = int_dot(a[:, None], b[:, None], a_bits=a_bits, b_bits=b_bits)
    expected = [int(x) * int(y) for x, y in zip(a.tolist(), b.tolist())]
    assert got.tolist() == expected
    # The scalar MAC, pair by pair, from a nonzero accumulator.
    assert [int_mac(-5, x, y, a_bits=a_bits, b_bits=b_bits) for x, y in
            zip(a.tolist(), b.tolist())] == [p - 5 for p in expected]


@pytest.mark.parametrize("a_signed,b_signed", list(itertools.product([True, False], repeat=2)))
def test_every_width_and_signedness_every_product(a_signed, b_signed):
    for a_bits, b_bits in itertools.product(range(1, 9), repeat=2):
        a, b = all_pairs(a_bits, a_signed, b_bits, b_signed)
        got = int_dot(a[:, None], b[:, None], a_bits=a_bits, b_bits=b_bits,
                      a_signed=a_signed, b_signed=b_signed, acc_bits=64)
        assert np.array_equal(got, a * b), (a_bits, a_signed, b_bits, b_signed)


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_int4_mac_into_8_bit_accumulator_every_pair_and_start(overflow):
    """Every INT4 x INT4 pair from every 8-bit accumulator value: 65,536 MACs vs the reference."""
    pairs = list(zip(*(x.tolist() for x in all_pairs(4, True, 4, True))))
    for acc in range(-128, 128):
        got = [int_mac(acc, x, y, a_bits=4, b_bits=4, acc_bits=8, overflow=overflow)
               for x, y in pairs]
        expected = [int_mac_reference(acc, x, y, acc_bits=8, overflow=overflow) for x, y in pairs]
        assert got == expected, f"acc {acc}"


@pytest.mark.parametrize("overflow,acc_bits", [("wrap", 12), ("saturate", 12), ("wrap", 32),
                                               ("saturate", 16)])
def test_random_dots_vs_reference(overflow, acc_bits):
    rng = np.random.default_rng(SEED)
    a = rng.integers(-128, 128, (2000, 57))
    b = rng.integers(0, 16, (2000, 57))
    got = int_dot(a, b, a_bits=8, b_bits=4, b_signed=False, acc_bits=acc_bits, overflow=overflow)
    for i in range(0, 2000, 7):
        expected = int_dot_reference(a[i].tolist(), b[i].tolist(), acc_bits=acc_bits,
                                     overflow=overflow)
        assert got[i] == expected, f"seed {SEED} row {i}: expected {expected}, got {got[i]}"
    if overflow == "wrap":
        exact = (a * b).sum(-1)
        assert got.tolist() == [wrap(int(v), acc_bits) for v in exact]


def test_saturation_is_applied_after_every_addition_in_order():
    # 100 + 100 clamps to 127, then -100 gives 27; a clamp only at the end would give 100.
    assert int_dot([100, 100, -100], [1, 1, 1], a_bits=8, b_bits=2, acc_bits=8,
                   overflow="saturate") == 27
    assert int_dot([-100, -100, 100], [1, 1, 1], a_bits=8, b_bits=2, acc_bits=8,
                   overflow="saturate") == -28
    assert int_dot([100, 100, -100], [1, 1, 1], a_bits=8, b_bits=2, acc_bits=8) == 100


def test_all_max_and_alternating_signs():
    n = 1000
    most_negative = np.full(n, -128)
    assert int_dot(most_negative, most_negative, a_bits=8, b_bits=8) == n * 16384
    alternating = np.tile([127, -128], n // 2)
    assert int_dot(alternating, alternating, a_bits=8, b_bits=8) == n // 2 * (127**2 + 128**2)
    assert int_dot(alternating, np.ones(n, int), a_bits=8, b_bits=2) == -(n // 2)
    uint = np.full(n, 255)
    assert int_dot(uint, uint, a_bits=8, b_bits=8, a_signed=False, b_signed=False) == n * 65025


def test_64_bit_wrap_and_63_bit_saturate_edges():
    top, bottom = (1 << 63) - 1, -(1 << 63)
    assert int_mac(top, 1, 1, a_bits=2, b_bits=2, acc_bits=64) == bottom
    assert int_mac(bottom, -1, 1, a_bits=2, b_bits=2, acc_bits=64) == top
    top, bottom = (1 << 62) - 1, -(1 << 62)
    assert int_mac(top, -128, -128, a_bits=8, b_bits=8, acc_bits=63, overflow="saturate") == top
    assert int_mac(bottom, -128, 127, a_bits=8, b_bits=8, acc_bits=63,
                   overflow="saturate") == bottom
    assert int_dot(np.full(4, -128), np.full(4, -128), a_bits=8, b_bits=8, acc_bits=63,
                   overflow="saturate") == 4 * 16384


def test_overflow_error_checks_the_worst_case_exactly():
    # int8 x int8: products in -16256 .. 16384; two of them need 17 bits (32768 > 2^15 - 1).
    a = np.zeros(2, int)
    assert int_dot(a, a, a_bits=8, b_bits=8, acc_bits=17, overflow="error") == 0
    with pytest.raises(ValueError, match=r"acc_bits=16 cannot hold the worst-case sum of 2 "
                                         r"products \(-32512\.\.32768\).*acc_bits >= 17"):
        int_dot(a, a, a_bits=8, b_bits=8, acc_bits=16, overflow="error")
    assert int_mac(32000, 7, 109, a_bits=4, b_bits=8, acc_bits=16, overflow="error") == 32763
    with pytest.raises(ValueError, match="acc_bits=16 cannot hold acc"):
        int_mac(32000, 7, 110, a_bits=4, b_bits=8, acc_bits=16, overflow="error")


@pytest.mark.parametrize("kwargs,match", [
    (dict(a=[1, 2], b=[1]), "a and b must have the same shape"),
    (dict(a=[8], b=[1]), r"a must hold int4 values in -8\.\.7, got values in 8\.\.8"),
    (dict(a=[1], b=[-1], b_signed=False), r"b must hold uint4 values in 0\.\.15"),
    (dict(a=[1.0], b=[1]), "a must be an integer array"),
    (dict(a=[1], b=[1], a_bits=9), r"a_bits must be an integer in 1\.\.8, got 9"),
    (dict(a=[1], b=[1], b_bits=0), r"b_bits must be an integer in 1\.\.8, got 0"),
    (dict(a=[1], b=[1], acc_bits=65), r"acc_bits must be an integer in 2\.\.64, got 65"),
    (dict(a=[1], b=[1], acc_bits=64, overflow="saturate"),
     r"acc_bits must be an integer in 2\.\.63 for overflow='saturate', got 64"),
    (dict(a=[1], b=[1], overflow="clip"), r"overflow must be one of \('wrap', 'saturate', "
                                          r"'error'\), got 'clip'"),
])
def test_bad_input_raises_naming_the_argument(kwargs, match):
    args = dict(a_bits=4, b_bits=4) | kwargs
    with pytest.raises(ValueError, match=match):
        int_dot(**args)


@pytest.mark.parametrize("flag", ["a_signed", "b_signed"])
@pytest.mark.parametrize("value", ["yes", 1, 0, None, "False"])
def test_signedness_must_be_a_bool(flag, value):
    """A truthy or falsy non-bool would silently pick a signedness: both entry points refuse."""
    message = rf"{flag} must be True or False, got {value!r}"
    with pytest.raises(ValueError, match=message):
        int_dot([1], [1], a_bits=4, b_bits=4, **{flag: value})
    with pytest.raises(ValueError, match=message):
        int_mac(0, 1, 1, a_bits=4, b_bits=4, **{flag: value})
    # numpy booleans are booleans
    assert int_dot([3], [-1], a_bits=4, b_bits=4, **{flag: np.bool_(True)}) == -3


def test_wrap_python_integers():
    assert [wrap(v, 4) for v in (-9, -8, 7, 8, 15, 16, 1 << 70)] == [7, -8, 7, -8, -1, 0, 0]


def test_bad_scalar_mac_input():
    with pytest.raises(ValueError, match=r"acc must be an integer in -128\.\.127"):
        int_mac(128, 1, 1, a_bits=4, b_bits=4, acc_bits=8)
    with pytest.raises(ValueError, match=r"a must hold int4 values"):
        int_mac(0, -9, 1, a_bits=4, b_bits=4)
