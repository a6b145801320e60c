"""lowbit.hwsim.units.binary: XNOR-popcount and binary-weight dots, >= 100,000 random dots each."""
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.units.binary import (binary_weight_dot, binary_weight_dot_reference,
                                binary_weight_sums, binary_weight_sums_reference, pack_codes,
                                pack_signs, unpack_signs_reference, xnor_dot, xnor_dot_reference)

SEED = 424242
# (n, rows): lengths around word boundaries; 100,480 dot products in all.
SHAPES = [(1, 20000), (63, 20000), (64, 20000), (65, 20000), (200, 10000), (1000, 10000),
          (4096, 480)]


def random_signs(rng, shape):
    return rng.choice(np.array([-1, 1], dtype=np.int8), shape)


def test_packing_follows_the_binary_format_and_unpacks():
    rng = np.random.default_rng(SEED)
    signs = random_signs(rng, (3, 130))
    codes = formats.get("binary").encode(signs.astype(np.float64))  # code 0: +1, code 1: -1
    words = pack_signs(signs)
    assert np.array_equal(words, pack_codes(codes))
    assert words.shape == (3, 3) and words.dtype == np.uint64
    assert all(unpack_signs_reference(words[r], 130) == signs[r].tolist() for r in range(3))
    assert int(words[0, 2]) >> 2 == 0  # tail bits are zero


@pytest.mark.parametrize("n,rows", SHAPES)
def test_xnor_random_dots(n, rows):
    rng = np.random.default_rng([SEED, n])
    a, b = random_signs(rng, (rows, n)), random_signs(rng, (rows, n))
    a_words, b_words = pack_signs(a), pack_signs(b)
    # Garbage in the tail must not matter: fill every padding bit with random bits.
    used = n % 64
    if used:
        garbage = rng.integers(0, 1 << 63, (rows, 2), dtype=np.uint64) << np.uint64(used)
        a_words[:, -1] |= garbage[:, 0]
        b_words[:, -1] |= garbage[:, 1]
    got = xnor_dot(a_words, b_words, n)
    expected = (a.astype(np.int64) * b).sum(-1)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"seed [{SEED}, {n}] row {bad[:1]}: expected {expected[bad[:1]]}, " \
                          f"got {got[bad[:1]]}"
    for r in range(0, rows, max(1, rows // 50)):
        assert xnor_dot_reference(a_words[r], b_words[r], n) == got[r], \
            f"seed [{SEED}, {n}] row {r}"


@pytest.mark.parametrize("n", [1, 64, 100, 4096])
def test_xnor_corners(n):
    plus, minus = np.ones(n, np.int8), -np.ones(n, np.int8)
    alternating = np.resize(np.array([1, -1], np.int8), n)
    assert xnor_dot(pack_signs(plus), pack_signs(plus), n) == n
    assert xnor_dot(pack_signs(minus), pack_signs(minus), n) == n
    assert xnor_dot(pack_signs(plus), pack_signs(minus), n) == -n
    assert xnor_dot(pack_signs(alternating), pack_signs(plus), n) == n % 2


@pytest.mark.parametrize("n,rows,group_size", [(64, 40000, 16), (128, 30000, 128),
                                               (96, 20000, 32), (1000, 10000, 40)])
def test_binary_weight_random_dots(n, rows, group_size):
    rng = np.random.default_rng([SEED, n, group_size])
    act = rng.integers(-128, 128, (rows, n))
    signs = random_signs(rng, (rows, n))
    alpha = rng.random(n // group_size).astype(np.float32)
    w_words = pack_signs(signs)
    sums = binary_weight_sums(act, w_words, group_size=group_size)
    expected = (act * signs).reshape(rows, -1, group_size).sum(-1)
    assert np.array_equal(sums, expected), f"seed [{SEED}, {n}, {group_size}]"
    dots = binary_weight_dot(act, w_words, alpha, group_size=group_size)
    for r in range(0, rows, rows // 100):
        assert sums[r].tolist() == binary_weight_sums_reference(act[r], w_words[r], group_size)
        expected_dot = binary_weight_dot_reference(act[r], w_words[r], alpha, group_size)
        assert dots[r].tobytes() == np.float64(expected_dot).tobytes(), \
            f"seed [{SEED}, {n}, {group_size}] row {r}"


def test_binary_weight_corners():
    n = 256
    for act_value in (127, -128):
        act = np.full(n, act_value)
        assert binary_weight_sums(act, pack_signs(np.ones(n)), group_size=n).tolist() \
            == [n * act_value]
        assert binary_weight_sums(act, pack_signs(-np.ones(n)), group_size=n).tolist() \
            == [-n * act_value]
    alternating = np.resize([1, -1], n)
    assert binary_weight_sums(np.full(n, 5), pack_signs(alternating), group_size=2).tolist() \
        == [0] * (n // 2)
    # Per-row alpha and the sequential float64 order: 1e16 + 1 - 1e16 is 0, not 1.
    act = np.array([[1, 1, 1]])
    got = binary_weight_dot(act, pack_signs(np.ones((1, 3))), np.array([[1e16, 1.0, -1e16]]),
                            group_size=1)
    assert got.tolist() == [0.0]


@pytest.mark.parametrize("call,match", [
    (lambda: xnor_dot(np.zeros(2, np.uint64), np.zeros(2, np.uint64), 200),
     r"a_words must have ceil\(n/64\) = 4 words"),
    (lambda: xnor_dot(np.zeros(1, np.uint64), np.zeros((2, 1), np.uint64), 5),
     "a_words and b_words must have the same shape"),
    (lambda: xnor_dot(np.zeros(1, np.int64), np.zeros(1, np.uint64), 5),
     "a_words must be a uint64"),
    (lambda: xnor_dot(np.zeros(1, np.uint64), np.zeros(1, np.uint64), 0), "n must be a positive"),
    (lambda: pack_signs([1, 0, -1]), "x must hold only -1 and"),
    (lambda: pack_codes([2]), "codes must be an integer array of binary codes"),
    (lambda: binary_weight_sums(np.zeros(10, int), np.zeros(1, np.uint64), group_size=3),
     "group_size must be a positive integer dividing n = 10, got 3"),
    (lambda: binary_weight_sums(np.zeros(4, int), np.zeros(1, np.uint64), group_size=2,
                                act_bits=2), None),
    (lambda: binary_weight_sums(np.full(4, 2), np.zeros(1, np.uint64), group_size=2,
                                act_bits=2), r"act must hold int2 values in -2\.\.1"),
    (lambda: binary_weight_dot(np.zeros(4, int), np.zeros(1, np.uint64), [1.0], group_size=2),
     r"alpha must have shape \(2,\) \(one scale per group\), got \(1,\)"),
    (lambda: binary_weight_dot(np.zeros((3, 4), int), np.zeros((3, 1), np.uint64), [1.0],
                               group_size=2), r"alpha must have shape \(2,\) or \(3, 2\)"),
])
def test_bad_input_raises_naming_the_argument(call, match):
    if match is None:  # the valid neighbour of the case below
        call()
        return
    with pytest.raises(ValueError, match=match):
        call()
