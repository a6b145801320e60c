"""lowbit.hwsim.quant.qtensor: quantize/dequantize contracts, error bounds (hypothesis), the codes
being the real codes, IEEE pass-through, and every ValueError path."""
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lowbit.hwsim import formats
from lowbit.hwsim.quant import MSE_CLIP_RATIOS, QTensor, QuantSpec, SCALE_FORMATS, calibrate, \
    dequantize, grouping, quantize
from lowbit.hwsim.quant.scales import representable

INT_FORMATS = [f"int{n}" for n in range(2, 9)]
GRANULARITIES = ["tensor", "channel", "group"]


def by_hand(q):
    """(decode(code) - z) * s per element in float64 (exact), scales repeated along the axis."""
    values = q.spec.element_format.decode(q.codes).astype(np.float64)
    repeat = q.shape[q.axis] // q.scales.shape[q.axis]
    s = np.broadcast_to(np.repeat(q.scales.astype(np.float64), repeat, axis=q.axis), q.shape)
    if q.zero_points is not None:
        values -= np.repeat(q.zero_points, repeat, axis=q.axis)
    return values * s, s


@st.composite
def tensors_and_specs(draw, formats_, symmetric=True, calibration="minmax"):
    rows = draw(st.integers(1, 4))
    group = draw(st.sampled_from([1, 2, 4, 8]))
    cols = group * draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(rows, cols), (cols, rows)]))
    axis = -1 if shape == (rows, cols) else 0
    elements = st.floats(-1e4, 1e4, width=32) | st.sampled_from([0.0, 1e-40])
    x = draw(hnp.arrays(np.float32, shape, elements=elements))
    granularity = draw(st.sampled_from(GRANULARITIES))
    spec = QuantSpec(format=draw(st.sampled_from(formats_)), granularity=granularity,
                     group_size=group if granularity == "group" else None,
                     scale_format=draw(st.sampled_from(SCALE_FORMATS)),
                     symmetric=symmetric, calibration=calibration,
                     percentile=draw(st.floats(50, 100)))
    return x, spec, axis


def check_contract(x, q):
    """Shapes, dtypes, exact scales, and x_hat = float32 of the exact (q - z) * s."""
    assert q.codes.shape == x.shape and q.codes.dtype == np.uint8
    assert q.scales.dtype == np.float32
    assert representable(q.scales, q.spec.scale_format).all()
    exact, s = by_hand(q)
    x_hat = dequantize(q)
    assert x_hat.dtype == np.float32
    np.testing.assert_array_equal(x_hat, exact.astype(np.float32))
    return exact, s


def assert_within_half_scale(x, exact, s):
    """|x - (q - z) s| <= s / 2 exactly (Fractions: no rounding in the check itself)."""
    for xi, ei, si in zip(x.ravel().tolist(), exact.ravel().tolist(), s.ravel().tolist()):
        assert abs(Fraction(xi) - Fraction(ei)) <= Fraction(si) / 2, (xi, ei, si)


@settings(max_examples=200, deadline=None)
@given(tensors_and_specs(INT_FORMATS))
def test_symmetric_int_error_at_most_half_a_scale(case):
    x, spec, axis = case
    q = quantize(x, spec, axis=axis)
    assert q.zero_points is None
    exact, s = check_contract(x, q)
    assert_within_half_scale(x, exact, s)  # minmax: every x is inside the clip range


@settings(max_examples=200, deadline=None)
@given(tensors_and_specs(INT_FORMATS, symmetric=False))
def test_asymmetric_int_error_at_most_half_a_scale(case):
    x, spec, axis = case
    q = quantize(x, spec, axis=axis)
    top = (1 << spec.element_format.bits) - 1
    assert q.zero_points.dtype == np.uint8 and q.zero_points.shape == q.scales.shape
    assert int(q.zero_points.max()) <= top and int(q.codes.max()) <= top
    exact, s = check_contract(x, q)
    assert_within_half_scale(x, exact, s)


def calibrated_range(xg, spec):
    """Per group (lo, hi) the calibrator chose, checked against its documented rule: percentile
    clips at numpy's percentiles, mse at one ratio of MSE_CLIP_RATIOS times the minmax range."""
    x = xg.astype(np.float64)
    if spec.symmetric:
        hi = calibrate.symmetric_clip(xg, spec)
        lo = -hi
        lo_0, hi_0 = -np.abs(x).max(axis=-1), np.abs(x).max(axis=-1)
        if spec.calibration == "percentile":
            np.testing.assert_array_equal(hi, np.percentile(np.abs(x), spec.percentile, axis=-1))
    else:
        lo, hi = calibrate.asymmetric_range(xg, spec)
        lo_0, hi_0 = np.minimum(x.min(axis=-1), 0), np.maximum(x.max(axis=-1), 0)
        if spec.calibration == "percentile":
            np.testing.assert_array_equal(
                lo, np.minimum(np.percentile(x, 100 - spec.percentile, axis=-1), 0))
            np.testing.assert_array_equal(
                hi, np.maximum(np.percentile(x, spec.percentile, axis=-1), 0))
    if spec.calibration == "mse":
        ratios = np.array(MSE_CLIP_RATIOS)[:, None, None]
        assert ((lo == ratios * lo_0) & (hi == ratios * hi_0)).any(axis=0).all()
    return lo, hi


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("calibration", ["percentile", "mse"])
@settings(max_examples=50, deadline=None)  # mse quantizes each example 42 times
@given(data=st.data())
def test_clipping_calibrators_keep_the_error_within_half_a_scale_inside_the_clip(
        calibration, symmetric, data):
    """Elements inside the calibrated range [lo, hi] of their group are off by at most s/2;
    those outside saturate (percentile and mse clip on purpose)."""
    x, spec, axis = data.draw(tensors_and_specs(INT_FORMATS, symmetric, calibration))
    q = quantize(x, spec, axis=axis)
    exact, s = check_contract(x, q)
    layout = grouping(x.shape, spec, axis)
    xg = layout.to_groups(x)
    lo, hi = calibrated_range(xg, spec)
    inside = layout.from_groups((xg >= lo[..., None]) & (xg <= hi[..., None]))
    assert_within_half_scale(x[inside], exact[inside], s[inside])


@pytest.mark.parametrize("scale_format", SCALE_FORMATS)
def test_logsqrt2_dequantize_converts_the_float64_product_once(scale_format):
    """x_hat = float32(values()[code] * s) from the float64 level: never from a level rounded to
    float32 first (that differs for the odd powers of √2 unless s is a power of two)."""
    seed = 8
    x = np.random.default_rng(seed).standard_normal((16, 64)) * 3
    spec = QuantSpec(format="logsqrt2_4", granularity="group", group_size=16,
                     scale_format=scale_format)
    q = quantize(x, spec)
    levels = formats.get("logsqrt2_4").values()[q.codes]
    s = np.repeat(q.scales.astype(np.float64), 16, axis=-1)
    expected = (levels * s).astype(np.float32)
    np.testing.assert_array_equal(dequantize(q), expected, err_msg=f"seed {seed}")
    through_float32 = (levels.astype(np.float32).astype(np.float64) * s).astype(np.float32)
    assert (through_float32 != expected).any() == (scale_format != "float8_e8m0fnu")


FLOAT_AND_LOG = ["float8_e4m3fn", "float8_e5m2", "float6_e3m2fn", "float6_e2m3fn",
                 "float4_e2m1fn", "log2_3", "log2_4", "log2_5"]


@settings(max_examples=150, deadline=None)
@given(tensors_and_specs(FLOAT_AND_LOG))
def test_float_and_log_codes_are_the_nearest_grid_point(case):
    """x_hat is a grid point s * v nearest to x, checked exactly against its two neighbours on
    the sorted grid (distance to a sorted grid is unimodal, so that settles "nearest")."""
    x, spec, axis = case
    q = quantize(x, spec, axis=axis)
    exact, s = check_contract(x, q)
    values = spec.element_format.values()
    grid = np.unique(values[np.isfinite(values)])
    chosen = np.searchsorted(grid, spec.element_format.decode(q.codes).astype(np.float64))
    for xi, ei, si, k in zip(x.ravel().tolist(), exact.ravel().tolist(), s.ravel().tolist(),
                             chosen.ravel().tolist()):
        error = abs(Fraction(xi) - Fraction(ei))
        for neighbour in grid[max(k - 1, 0):k + 2].tolist():
            assert error <= abs(Fraction(xi) - Fraction(si) * Fraction(neighbour)), (xi, ei, si)


@pytest.mark.parametrize("fmt", ["int4", "float8_e4m3fn", "logsqrt2_4", "float4_e2m1fn"])
def test_codes_are_the_format_encode_of_x_over_s(fmt):
    seed = 3
    x = np.random.default_rng(seed).standard_normal((8, 64)).astype(np.float32)
    spec = QuantSpec(format=fmt, granularity="group", group_size=16, scale_format="float16")
    q = quantize(x, spec)
    _, s = by_hand(q)
    expected = formats.get(fmt).encode(x.astype(np.float64) / s, saturate=True)
    np.testing.assert_array_equal(q.codes, expected, err_msg=f"seed {seed}")
    np.testing.assert_array_equal(
        dequantize(q), (formats.get(fmt).decode(q.codes).astype(np.float64) * s).astype(np.float32))


def test_symmetric_int_hand_example():
    x = np.array([[0.7, -0.35, 0.1, 0.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    q = quantize(x, QuantSpec(format="int4", granularity="channel", scale_format="float16"))
    # 0.7 / 7 = 0.1 -> float16 up 0.0999755859375 is below, so 0.10003662109375
    assert q.scales.tolist() == [[0.10003662109375], [1.0]]
    # 0.7/s = 6.998 -> 7; -0.35/s = -3.4987 -> -3 (0xD); 0.1/s = 0.9996 -> 1
    assert q.codes.tolist() == [[7, 0xD, 1, 0], [0, 0, 0, 0]]


def test_float64_input_quantizes_like_the_same_float32_values():
    x = np.random.default_rng(1).standard_normal((4, 32)).astype(np.float32)
    spec = QuantSpec(format="int8", granularity="group", group_size=8)
    a, b = quantize(x, spec), quantize(x.astype(np.float64), spec)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.scales, b.scales)


def test_lists_are_accepted_as_float64():
    q = quantize([[1.0, -2.0]], QuantSpec(format="int8"))
    assert q.shape == (1, 2) and q.scales.shape == (1, 1)


def test_tensor_granularity_has_one_scale_of_all_ones_shape():
    q = quantize(np.ones((2, 3, 4), np.float32), QuantSpec(format="int8"), axis=1)
    assert q.scales.shape == (1, 1, 1) and q.axis == 1


@pytest.mark.parametrize("name,dtype", [("float16", np.float16),
                                        ("bfloat16", ml_dtypes.bfloat16),
                                        ("float32", np.float32)])
def test_ieee_spec_rounds_once_without_scale(name, dtype):
    x = (np.random.default_rng(6).standard_normal((5, 7)) * 100).astype(np.float32)
    q = quantize(x, QuantSpec(format=name))
    bits = np.uint32 if name == "float32" else np.uint16
    np.testing.assert_array_equal(q.codes, x.astype(dtype).view(bits))
    assert q.scales.tolist() == [[1.0]] and q.zero_points is None
    np.testing.assert_array_equal(dequantize(q), x.astype(dtype).astype(np.float32))


def test_ieee_overflow_raises():
    with pytest.raises(ValueError, match=r"x has values beyond the largest float16 value"):
        quantize(np.array([7e4], np.float32), QuantSpec(format="float16"))


@pytest.mark.parametrize("spec", [QuantSpec(format="float8_e4m3fn", granularity="mx"),
                                  QuantSpec(format="int8", granularity="channel"),
                                  QuantSpec(format="int4", symmetric=False),
                                  QuantSpec(format="binary", granularity="channel")],
                         ids=lambda spec: f"{spec.format}-{spec.granularity}")
# just above the largest float32 too: it would round to it in float32, but the rule is |x| <= max
@pytest.mark.parametrize("peak", [1e39, -1e300,
                                  float(np.finfo(np.float32).max) * (1 + 2**-40)])
def test_float64_beyond_the_float32_range_is_refused(spec, peak):
    x = np.full((1, 32), 1.0)
    x[0, 5] = peak
    with pytest.raises(ValueError, match=r"x must lie within the float32 range, "
                                         r"\|x\| <= 3\.4028235e\+38 .*got max \|x\| = "):
        quantize(x, spec)


def test_the_largest_float32_itself_is_accepted_in_float64():
    largest = float(np.finfo(np.float32).max)
    q = quantize(np.full((1, 32), -largest), QuantSpec(format="float8_e4m3fn", granularity="mx"))
    assert np.isfinite(dequantize(q)).all()


@pytest.mark.parametrize("x,message", [
    (np.array([1, 2]), r"x must be a float32 or float64 array, got dtype int64"),
    (np.array([1.0, np.nan]), r"x must be finite"),
    (np.array([np.inf], np.float32), r"x must be finite"),
    (np.zeros((0, 4), np.float32), r"x must be a non-empty array with at least 1 dimension"),
    (np.array(1.0), r"x must be a non-empty array with at least 1 dimension, got shape \(\)"),
])
def test_bad_x(x, message):
    with pytest.raises(ValueError, match=message):
        quantize(x, QuantSpec(format="int8"))


def test_bad_spec_and_axis():
    with pytest.raises(ValueError, match=r"spec must be a QuantSpec \(e.g. Scheme.weight_spec\), "
                                         r"got str"):
        quantize(np.ones(4, np.float32), "int8")
    with pytest.raises(ValueError, match=r"axis must be an int in -1..0"):
        quantize(np.ones(4, np.float32), QuantSpec(format="int8"), axis=1)
    with pytest.raises(ValueError, match=r"group_size 3 \(group\) must divide the length 4"):
        quantize(np.ones(4, np.float32),
                 QuantSpec(format="int8", granularity="group", group_size=3))
    with pytest.raises(ValueError, match=r"q must be a QTensor, got ndarray"):
        dequantize(np.ones(4))


def valid_parts():
    spec = QuantSpec(format="int4", granularity="group", group_size=2, scale_format="float16",
                     symmetric=False)
    q = quantize(np.arange(8, dtype=np.float32).reshape(2, 4), spec)
    return dict(codes=q.codes, scales=q.scales, zero_points=q.zero_points, spec=spec,
                shape=(2, 4), axis=-1)


def test_qtensor_from_valid_parts_normalizes_axis():
    assert QTensor(**valid_parts()).axis == 1


@pytest.mark.parametrize("change,message", [
    (dict(spec="int4"), r"spec must be a QuantSpec, got str"),
    (dict(codes=np.zeros((2, 3), np.uint8)), r"codes must be an ndarray of shape \(2, 4\)"),
    (dict(codes=np.zeros((2, 4), np.float32)), r"codes must be an integer array of uint4 codes"),
    (dict(codes=np.full((2, 4), 16, np.uint8)), r"codes must hold uint4 codes in 0..15"),
    (dict(scales=np.ones((2, 2), np.float64)), r"scales must be a float32 ndarray of shape"),
    (dict(scales=np.ones((2, 1), np.float32)), r"scales must be a float32 ndarray of shape "
                                               r"\(2, 2\)"),
    (dict(scales=np.zeros((2, 2), np.float32)), r"scales must be finite, positive values of "
                                                r"scale_format float16"),
    (dict(scales=np.full((2, 2), np.inf, np.float32)), r"scales must be finite, positive"),
    (dict(scales=np.full((2, 2), 0.1, np.float32)), r"scales must be finite, positive values"),
    (dict(zero_points=None), r"zero_points must be a uint8 ndarray of shape \(2, 2\)"),
    (dict(zero_points=np.full((2, 2), 16, np.uint8)), r"zero_points must be in 0..15, got max 16"),
    (dict(axis=2), r"axis must be an int in -2..1"),
])
def test_qtensor_validation(change, message):
    parts = valid_parts()
    parts.update(change)
    with pytest.raises(ValueError, match=message):
        QTensor(**parts)


def test_qtensor_symmetric_rejects_zero_points_and_ieee_rejects_other_scales():
    q = quantize(np.ones((2, 4), np.float32), QuantSpec(format="int8"))
    with pytest.raises(ValueError, match="zero_points must be None for a symmetric spec"):
        QTensor(q.codes, q.scales, np.zeros((1, 1), np.uint8), q.spec, q.shape)
    h = quantize(np.ones(3, np.float32), QuantSpec(format="float16"))
    with pytest.raises(ValueError, match=r"scales must be 1.0 for the unscaled format float16"):
        QTensor(h.codes, np.full((1,), 2.0, np.float32), None, h.spec, h.shape)
    with pytest.raises(ValueError, match=r"codes must have dtype uint16 for float16, got uint32"):
        QTensor(h.codes.astype(np.uint32), h.scales, None, h.spec, h.shape)
