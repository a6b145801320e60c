"""lowbit.hwsim.quant.ieee: float16/bfloat16/float32 rounding, checked against a nearest-value search
over every finite code (the reference) and against ml_dtypes / numpy on float32 input."""
import ml_dtypes
import numpy as np
import pytest

from lowbit.hwsim.quant import ieee

BITS_DTYPE = {"float16": np.uint16, "bfloat16": np.uint16, "float32": np.uint32}
VALUE_DTYPE = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16}


def positive_finite_codes(name):
    """Every positive finite code of a 16-bit format, ascending, and its float64 value."""
    codes = np.arange(0, 0x7F80 if name == "bfloat16" else 0x7C00, dtype=np.uint16)
    return codes, codes.view(VALUE_DTYPE[name]).astype(np.float64)


def reference_round(x, name):
    """Nearest-even by search: the code whose value is nearest to |x|, the even code on a tie."""
    codes, values = positive_finite_codes(name)
    magnitude = np.abs(x)
    hi = np.clip(np.searchsorted(values, magnitude), 1, len(values) - 1)
    lo = hi - 1
    # Neighbouring values lie within a factor 2 (or one is 0): the differences are exact.
    d_lo, d_hi = magnitude - values[lo], values[hi] - magnitude
    pick_hi = (d_hi < d_lo) | ((d_hi == d_lo) & (codes[hi] % 2 == 0))
    result = np.where(pick_hi, codes[hi], codes[lo]).astype(np.uint16)
    return result | np.where(np.signbit(x), np.uint16(0x8000), np.uint16(0))


def ties_and_neighbours(name):
    """Every midpoint between neighbouring codes (float64, exact) and the float64 on each side."""
    _, values = positive_finite_codes(name)
    mid = (values[:-1] + values[1:]) / 2
    points = np.concatenate([values, mid, np.nextafter(mid, 0), np.nextafter(mid, np.inf)])
    return np.concatenate([points, -points])


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_float64_rounds_once_to_nearest_even(name):
    x = ties_and_neighbours(name)
    np.testing.assert_array_equal(ieee.encode(x, name), reference_round(x, name))


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_float32_agrees_with_ml_dtypes(name):
    seed = 11
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(200_000) * np.exp2(rng.uniform(-30, 30, 200_000))).astype(np.float32)
    x = np.concatenate([x, ties_and_neighbours(name).astype(np.float32)])
    x = x[np.abs(x) < 60000]  # keep float16 finite; overflow is checked below
    expected = x.astype(VALUE_DTYPE[name]).view(np.uint16)
    np.testing.assert_array_equal(ieee.encode(x, name), expected, err_msg=f"seed {seed}")


def test_float32_from_float64_is_numpy_cast():
    x = np.random.default_rng(5).standard_normal(10_000) * 1e-3
    np.testing.assert_array_equal(ieee.encode(x, "float32"), x.astype(np.float32).view(np.uint32))


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32"])
def test_decode_inverts_encode_on_every_value(name):
    if name == "float32":
        codes = np.random.default_rng(2).integers(0, 0x7F800000, 100_000).astype(np.uint32)
    else:
        codes = positive_finite_codes(name)[0]
    values = ieee.decode(codes, name)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(ieee.encode(values, name), codes)


def test_overflow_goes_to_inf():
    assert ieee.decode(ieee.encode(np.array([65520.0, -70000.0]), "float16"), "float16").tolist() \
        == [np.inf, -np.inf]  # 65520 is the tie above max 65504: even -> inf
    assert np.isinf(ieee.round_to(np.array([3.4e38]), "bfloat16")).all()


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32"])
def test_round_up_is_the_smallest_value_at_or_above(name):
    seed = 8
    rng = np.random.default_rng(seed)
    x = np.exp2(rng.uniform(-20, 15, 50_000))
    x = np.concatenate([x, ieee.round_to(x, name).astype(np.float64)])  # exact values stay
    up = ieee.round_up(x, name)
    bits = ieee.encode(up.astype(np.float64), name)
    below = ieee.decode(bits - bits.dtype.type(1), name).astype(np.float64)
    assert (up >= x).all() and (below < x).all(), f"seed {seed}"


def test_round_up_beyond_max_is_inf_and_below_min_is_min_subnormal():
    assert ieee.round_up(np.array([65504.5]), "float16").tolist() == [np.inf]
    assert ieee.round_up(np.array([1e-30]), "float16").tolist() == [2.0 ** -24]
    assert ieee.round_up(np.array([1e-300]), "bfloat16").tolist() == [2.0 ** -133]


def test_unknown_name():
    with pytest.raises(ValueError, match=r"name must be one of \('float16', 'bfloat16', "
                                         r"'float32'\), got 'float8'"):
        ieee.encode(np.zeros(1), "float8")
