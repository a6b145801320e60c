"""lowbit.hwsim.units.bitserial: exact dots and cycle counts; >= 100,000 random dots."""
import itertools

import numpy as np
import pytest

from lowbit.hwsim.units.bitserial import bitserial_cycles, bitserial_dot, bitserial_dot_reference
from lowbit.hwsim.units.integer import decode_int_codes

SEED = 5150
# (w_bits, bits_per_cycle, rows, n): 102,400 random dot products in all.
CASES = [(w, k, 6400, 48) for w, k in itertools.product(range(1, 9), (1, 2))]


def exact_dot(act, codes, w_bits):
    return (act.astype(np.int64) * decode_int_codes(codes, w_bits)).sum(-1)


@pytest.mark.parametrize("w_bits,bits_per_cycle,rows,n", CASES)
def test_random_dots_equal_the_exact_integer_dot(w_bits, bits_per_cycle, rows, n):
    seed = [SEED, w_bits, bits_per_cycle]
    rng = np.random.default_rng(seed)
    act = rng.integers(-128, 128, (rows, n))
    codes = rng.integers(0, 1 << w_bits, (rows, n))
    got, cycles = bitserial_dot(act, codes, w_bits=w_bits, bits_per_cycle=bits_per_cycle)
    assert cycles == -(-w_bits // bits_per_cycle)
    expected = exact_dot(act, codes, w_bits)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"seed {seed} row {bad[0] if bad.size else None}"
    for r in range(0, rows, rows // 32):
        ref = bitserial_dot_reference(act[r], codes[r], w_bits=w_bits,
                                      bits_per_cycle=bits_per_cycle)
        assert ref == (expected[r], cycles), f"reference: seed {seed} row {r}"


@pytest.mark.parametrize("w_bits,bits_per_cycle,cycles", [
    (1, 1, 1), (8, 1, 8), (1, 2, 1), (2, 2, 1), (3, 2, 2), (7, 2, 4), (8, 2, 4)])
def test_cycles_formula(w_bits, bits_per_cycle, cycles):
    assert bitserial_cycles(w_bits, bits_per_cycle) == cycles
    _, got = bitserial_dot([1], [0], w_bits=w_bits, bits_per_cycle=bits_per_cycle)
    assert got == cycles


@pytest.mark.parametrize("bits_per_cycle", [1, 2])
def test_every_int8_activation_times_every_weight_code(bits_per_cycle):
    """Exhaustive per lane: 256 activations x 2^w codes for every w_bits, vs Python integers."""
    for w_bits in range(1, 9):
        acts, codes = np.meshgrid(np.arange(-128, 128), np.arange(1 << w_bits), indexing="ij")
        got, _ = bitserial_dot(acts.reshape(-1, 1), codes.reshape(-1, 1), w_bits=w_bits,
                               bits_per_cycle=bits_per_cycle)
        expected = [a * (c - (c >> (w_bits - 1) << w_bits))
                    for a, c in zip(acts.ravel().tolist(), codes.ravel().tolist())]
        assert got.tolist() == expected, (w_bits, bits_per_cycle)


@pytest.mark.parametrize("bits_per_cycle", [1, 2])
def test_corners(bits_per_cycle):
    n = 512
    for w_bits in (1, 3, 8):
        most_negative = 1 << (w_bits - 1)
        for act, codes in [(np.full(n, -128), np.full(n, most_negative)),
                           (np.resize([127, -128], n), np.resize([most_negative, 1], n)),
                           (np.full(n, 127), np.full(n, (1 << w_bits) - 1))]:
            got, _ = bitserial_dot(act, codes, w_bits=w_bits, bits_per_cycle=bits_per_cycle)
            assert got == exact_dot(act, codes, w_bits), (w_bits, act[:2], codes[:2])


@pytest.mark.parametrize("kwargs,match", [
    (dict(bits_per_cycle=3), r"bits_per_cycle must be an integer in 1\.\.2, got 3"),
    (dict(w_codes=[256]), r"w_codes must hold 8-bit codes in 0\.\.255"),
    (dict(w_codes=[1, 2]), "act and w_codes must have the same shape"),
    (dict(act=[-129]), r"act must hold int8 values"),
    (dict(w_bits=9), r"w_bits must be an integer in 1\.\.8, got 9"),
])
def test_bad_input_raises_naming_the_argument(kwargs, match):
    args = dict(act=[1], w_codes=[1], w_bits=8) | kwargs
    with pytest.raises(ValueError, match=match):
        bitserial_dot(**args)
