"""lowbit.hwsim.quant.sign_quant: binary (XNOR-Net alpha) and ternary (TWN) weights, checked against
row-by-row loops written from the papers' formulas."""
import ml_dtypes
import numpy as np
import pytest

from lowbit.hwsim.quant import QuantSpec, SCALE_FORMATS, dequantize, quantize
from lowbit.hwsim.quant.scales import round_up

SEED = 29


def weights(shape=(6, 48)):
    return np.random.default_rng(SEED).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("scale_format", ["float16", "float32"])
def test_binary_alpha_is_mean_abs_and_codes_are_signs(scale_format):
    w = weights()
    w[2, :5] = 0.0  # sign(0) = +1
    q = quantize(w, QuantSpec(format="binary", granularity="channel", scale_format=scale_format))
    for row, alpha, codes in zip(w, q.scales[:, 0], q.codes):
        mean_abs = np.abs(row.astype(np.float64)).mean()
        assert alpha == round_up(np.array([mean_abs]), scale_format)[0], f"seed {SEED}"
        assert codes.tolist() == [1 if v < 0 else 0 for v in row.tolist()]
    np.testing.assert_array_equal(dequantize(q), np.where(w < 0, -q.scales, q.scales))


def test_binary_groups_have_their_own_alpha():
    w = weights((2, 64))
    q = quantize(w, QuantSpec(format="binary", granularity="group", group_size=16))
    assert q.scales.shape == (2, 4)
    expected = np.abs(w.reshape(2, 4, 16).astype(np.float64)).mean(axis=-1)
    np.testing.assert_array_equal(q.scales, round_up(expected, "float32"))


def test_ternary_follows_twn():
    w = weights()
    q = quantize(w, QuantSpec(format="ternary", granularity="channel", scale_format="float16"))
    for row, alpha, codes in zip(w, q.scales[:, 0], q.codes):
        magnitude = np.abs(row.astype(np.float64))
        delta = 0.7 * magnitude.mean()
        above = magnitude > delta
        assert alpha == round_up(np.array([magnitude[above].mean()]), "float16")[0]
        expected = [(0b01 if v > 0 else 0b11) if a else 0b00 for v, a in zip(row.tolist(), above)]
        assert codes.tolist() == expected, f"seed {SEED}"
    t = np.where(q.codes == 0b11, -1.0, q.codes.astype(np.float64))
    np.testing.assert_array_equal(dequantize(q), (t * q.scales).astype(np.float32))


def test_ternary_element_at_exactly_delta_is_zero():
    # mean |x| = 1 -> delta = 0.7; 0.7 itself is not above it
    row = np.array([0.7, -0.7, 1.6, 0.0, 1.0, -1.0, 1.9, -1.1], np.float64)
    assert np.abs(row).mean() == 1.0
    q = quantize(row[None, :], QuantSpec(format="ternary", granularity="channel"))
    assert q.codes[0, :2].tolist() == [0, 0] and q.codes[0, 2] == 0b01


# The smallest positive value of each scale format, from ml_dtypes/numpy rather than from
# lowbit.hwsim.quant.scales (E8M0: 2^-127, code 0x00 of OCP MX v1.0).
SMALLEST_POSITIVE = {"float16": float(np.finfo(np.float16).smallest_subnormal),
                     "bfloat16": float(ml_dtypes.finfo(ml_dtypes.bfloat16).smallest_subnormal),
                     "float32": float(np.finfo(np.float32).smallest_subnormal),
                     "float8_e8m0fnu": 2.0 ** -127}


@pytest.mark.parametrize("scale_format", SCALE_FORMATS)
def test_binary_zero_row_gets_the_smallest_scale(scale_format):
    # binary has no zero: a pruned row dequantizes to +alpha, so alpha must be as small as the
    # scale format allows (an alpha of 1.0 would make every element off by 1).
    w = weights((2, 8))
    w[0] = 0.0
    q = quantize(w, QuantSpec(format="binary", granularity="channel", scale_format=scale_format))
    alpha = SMALLEST_POSITIVE[scale_format]
    assert q.scales[0, 0] == alpha and q.codes[0].tolist() == [0] * 8
    assert dequantize(q)[0].tolist() == [alpha] * 8
    assert q.scales[1, 0] >= np.abs(w[1].astype(np.float64)).mean()  # other rows unaffected


@pytest.mark.parametrize("scale_format", SCALE_FORMATS)
def test_ternary_zero_row_gets_alpha_one_and_zero_codes(scale_format):
    w = weights((2, 8))
    w[0] = 0.0
    q = quantize(w, QuantSpec(format="ternary", granularity="channel", scale_format=scale_format))
    assert q.scales[0, 0] == 1.0
    assert (dequantize(q)[0] == 0.0).all()
