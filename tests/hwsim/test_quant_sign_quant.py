"""hwsim.quant.sign_quant: binary (XNOR-Net alpha) and ternary (TWN) weights, checked against
row-by-row loops written from the papers' formulas."""
import numpy as np
import pytest

from hwsim.quant import QuantSpec, dequantize, quantize
from hwsim.quant.scales import round_up

SEED = 29


def weights(shape=(6, 48)):
    return np.random.default_rng(SEED).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("scale_format", ["float16", "float32"])
def test_binary_alpha_is_mean_abs_and_codes_are_signs(scale_format):
    w = weights()
    w[2, :5] = 0.0  # sign(0) = +1
    q = quantize(w, QuantSpec("binary", granularity="channel", scale_format=scale_format))
    for row, alpha, codes in zip(w, q.scales[:, 0], q.codes):
        mean_abs = np.abs(row.astype(np.float64)).mean()
        assert alpha == round_up(np.array([mean_abs]), scale_format)[0], f"seed {SEED}"
        assert codes.tolist() == [1 if v < 0 else 0 for v in row.tolist()]
    np.testing.assert_array_equal(dequantize(q), np.where(w < 0, -q.scales, q.scales))


def test_binary_groups_have_their_own_alpha():
    w = weights((2, 64))
    q = quantize(w, QuantSpec("binary", granularity="group", group_size=16))
    assert q.scales.shape == (2, 4)
    expected = np.abs(w.reshape(2, 4, 16).astype(np.float64)).mean(axis=-1)
    np.testing.assert_array_equal(q.scales, round_up(expected, "float32"))


def test_ternary_follows_twn():
    w = weights()
    q = quantize(w, QuantSpec("ternary", granularity="channel", scale_format="float16"))
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
    q = quantize(row[None, :], QuantSpec("ternary", granularity="channel"))
    assert q.codes[0, :2].tolist() == [0, 0] and q.codes[0, 2] == 0b01


@pytest.mark.parametrize("fmt,x_hat", [("binary", 1.0), ("ternary", 0.0)])
def test_zero_rows_get_alpha_one(fmt, x_hat):
    w = weights((2, 8))
    w[0] = 0.0
    q = quantize(w, QuantSpec(fmt, granularity="channel"))
    assert q.scales[0, 0] == 1.0
    assert (dequantize(q)[0] == x_hat).all()
