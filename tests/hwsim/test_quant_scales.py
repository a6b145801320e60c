"""lowbit.hwsim.quant.scales: scale formats, rounding scales up, exact log2, representability."""
import math

import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.quant import scales


def test_e8m0_round_up_to_powers_of_two():
    s = np.array([1.0, 1.0000001, 0.75, 0.5, 3.0, 2.0 ** -130, 2.0 ** 127, 2.0 ** 127 * 1.01])
    expected = [1.0, 2.0, 1.0, 0.5, 4.0, 2.0 ** -127, 2.0 ** 127, np.inf]
    assert scales.round_up(s, "float8_e8m0fnu").tolist() == expected


def test_e8m0_scales_are_e8m0_codes():
    e8m0 = formats.get("float8_e8m0fnu")
    wanted = np.exp2(np.random.default_rng(4).uniform(-120, 120, 1000))
    s = scales.round_up(wanted, "float8_e8m0fnu")
    codes = e8m0.encode(s)
    np.testing.assert_array_equal(e8m0.decode(codes), s)


def test_ieee_round_up_delegates():
    assert scales.round_up(np.array([1.0 + 2.0 ** -12]), "float16").tolist() == [1.0 + 2.0 ** -10]


def test_exact_log2_against_python():
    rng = np.random.default_rng(9)
    s = np.concatenate([np.exp2(rng.uniform(-140, 127, 5000)), np.exp2(np.arange(-149, 128.0))])
    assert scales.floor_log2(s).tolist() == [math.floor(math.log2(v)) for v in s]
    # ceil from the exponent, not from a rounded log2 (which is wrong just above a power of two)
    assert scales.ceil_log2(s).tolist() == [
        e if v == 2.0 ** e else e + 1 for v, e in ((v, math.frexp(v)[1] - 1) for v in s)]


def test_power_of_two_saturates_to_inf_above_127():
    assert scales.power_of_two(np.array([-127, 0, 127, 128])).tolist() == \
        [2.0 ** -127, 1.0, 2.0 ** 127, np.inf]


@pytest.mark.parametrize("scale_format,good,bad", [
    ("float16", [1.0, 2.0 ** -24, 65504.0, 0.1005859375], [0.1, 70000.0, 2.0 ** -25]),
    ("bfloat16", [1.0, 2.0 ** -133, 3.0e38 // 2 ** 120 * 2 ** 120], [1.0 + 2.0 ** -8]),
    ("float32", [0.1, 1e-45], []),
    ("float8_e8m0fnu", [2.0 ** -127, 1.0, 2.0 ** 127], [3.0, 0.75]),
])
def test_representable(scale_format, good, bad):
    always_bad = [0.0, -1.0, np.inf, np.nan]
    mask = scales.representable(np.array(good + bad + always_bad, np.float32), scale_format)
    assert mask.tolist() == [True] * len(good) + [False] * (len(bad) + len(always_bad))


def test_zero_group_scale_is_one():
    assert scales.ZERO_GROUP_SCALE == 1.0


@pytest.mark.parametrize("scale_format", scales.SCALE_FORMATS)
def test_smallest_scale_is_the_smallest_positive_value(scale_format):
    smallest = scales.SMALLEST_SCALE[scale_format]
    assert scales.representable(np.array([smallest], np.float32), scale_format).all()
    # Rounding the tiniest positive float64 up lands on it, and nothing positive lies below it.
    tiniest = np.array([np.finfo(np.float64).smallest_subnormal])
    assert scales.round_up(tiniest, scale_format).tolist() == [smallest]
    below = np.float32(smallest) / np.float32(2)  # 0 for float32, else a float32 below
    assert not scales.representable(np.array([below], np.float32), scale_format).any()


def test_check_scale_format():
    assert scales.check_scale_format("bfloat16", "scale_format") == "bfloat16"
    with pytest.raises(ValueError, match=r"scale_format must be one of \('float16', 'bfloat16', "
                                         r"'float32', 'float8_e8m0fnu'\), got 'int8'"):
        scales.check_scale_format("int8", "scale_format")
