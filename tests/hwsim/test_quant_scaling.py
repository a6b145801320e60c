"""lowbit.hwsim.quant.scaling: MX scales against the OCP MX v1.0 rule, scales covering their clip,
asymmetric zero points, scaled encode/decode, scale overflow."""
import math

import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.quant import QuantSpec, SCALE_FORMATS, dequantize, element_format_names, ieee, \
    quantize, scales
from lowbit.hwsim.quant.scaling import asymmetric_scales, mx_scales, symmetric_scales, zero_group_scale


def mx_block(amax, size=32):
    """A block whose largest magnitude is amax (placed at index 3, negative)."""
    x = np.linspace(0, amax / 2, size)
    x[3] = -amax
    return x.astype(np.float32)


# (element format, amax, expected scale) worked by hand:
#   shared_exp = floor(log2(amax)) - emax_elem, emax_elem = floor(log2(max)):
#   e4m3 max 448 -> 8; e5m2 57344 -> 15; e3m2 28 -> 4; e2m3 7.5 -> 2; e2m1 6 -> 2; int8 127 -> 6
MX_EXAMPLES = [
    ("float8_e4m3fn", 1.0, 2.0 ** -8),          # log2 1 = 0 -> 0 - 8
    ("float8_e4m3fn", 448.0, 1.0),              # floor(log2 448) = 8
    ("float8_e4m3fn", 511.0, 1.0),              # still 8: 511/1 saturates to 448
    ("float8_e4m3fn", 512.0, 2.0),
    ("float8_e5m2", 3.0, 2.0 ** -14),           # 1 - 15
    ("float6_e3m2fn", 0.3, 2.0 ** -6),          # floor(log2 0.3) = -2 -> -2 - 4
    ("float6_e2m3fn", 7.5, 1.0),                # 2 - 2
    ("float4_e2m1fn", 0.7, 2.0 ** -3),          # -1 - 2
    ("float4_e2m1fn", 6.0, 1.0),
    ("int8", 100.0, 1.0),                       # 6 - 6
    ("float4_e2m1fn", 2.0 ** -140, 2.0 ** -127),  # -140 - 2 = -142, clamped to -127
]


@pytest.mark.parametrize("fmt,amax,scale", MX_EXAMPLES)
def test_mx_scale_hand_examples(fmt, amax, scale):
    q = quantize(mx_block(amax), QuantSpec(format=fmt, granularity="mx"), axis=0)
    assert q.scales.tolist() == [scale]
    assert q.spec.scale_format == "float8_e8m0fnu"


def test_mx_elements_are_x_over_scale_encoded_saturating():
    x = np.array([0.0, 1.0, -3.0, 2.5, 0.1] + [0.0] * 27, np.float32)
    q = quantize(x, QuantSpec(format="float4_e2m1fn", granularity="mx"), axis=0)
    # amax 3 -> scale 2^(1-2) = 0.5; x/s = 0, 2, -6, 5 (tie -> 4, even), 0.2 (-> 0)
    assert q.scales.tolist() == [0.5]
    assert q.codes[:5].tolist() == [0b0000, 0b0100, 0b1111, 0b0110, 0b0000]
    assert dequantize(q)[:5].tolist() == [0.0, 1.0, -3.0, 2.0, 0.0]
    # e4m3: amax 511 -> scale 1, 511 saturates to 448 rather than becoming NaN
    q = quantize(mx_block(511.0), QuantSpec(format="float8_e4m3fn", granularity="mx"), axis=0)
    assert dequantize(q)[3] == -448.0


@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float8_e5m2", "float6_e3m2fn",
                                 "float6_e2m3fn", "float4_e2m1fn", "int8", "int4", "log2_4"])
def test_mx_scales_follow_the_rule_on_random_blocks(fmt):
    seed = 21
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((16, 8 * 32)) * np.exp2(rng.integers(-60, 60, (16, 1)))).astype(
        np.float32)
    q = quantize(x, QuantSpec(format=fmt, granularity="mx"), axis=-1)
    emax = math.floor(math.log2(formats.get(fmt).max))
    amax = np.abs(x.reshape(16, 8, 32)).max(axis=-1)
    expected = [[2.0 ** max(math.floor(math.log2(a)) - emax, -127) for a in row] for row in amax]
    assert q.scales.tolist() == expected, f"seed {seed}"
    # and every element is encode(x / 2^shared_exp), saturating
    scaled = x.astype(np.float64) / np.repeat(q.scales, 32, axis=-1)
    np.testing.assert_array_equal(q.codes, formats.get(fmt).encode(scaled, saturate=True))


def test_mx_zero_block_gets_scale_one():
    x = np.zeros(64, np.float32)
    x[40] = 1.0
    q = quantize(x, QuantSpec(format="float8_e4m3fn", granularity="mx"), axis=0)
    assert q.scales.tolist() == [1.0, 2.0 ** -8]
    assert (q.codes[:32] == 0).all()


def test_mx_scale_beyond_e8m0_raises():
    spec = QuantSpec(format="int2", granularity="mx")  # emax 0: amax 2^200 needs 2^200
    with pytest.raises(ValueError, match="beyond the largest float8_e8m0fnu value"):
        mx_scales(np.array([[2.0 ** 200]]), spec)


@pytest.mark.parametrize("scale_format", SCALE_FORMATS)
@pytest.mark.parametrize("fmt", ["int2", "int4", "int8", "float8_e4m3fn", "float6_e2m3fn",
                                 "float4_e2m1fn", "float8_e5m2", "log2_4"])
def test_symmetric_scale_is_the_smallest_covering_value(fmt, scale_format):
    """s * max >= clip exactly, and the scale-format value just below s does not cover."""
    seed = 5
    rng = np.random.default_rng(seed)
    clip = np.exp2(rng.uniform(-10, 10, 4000)).reshape(40, 100)  # float64, as percentile gives
    spec = QuantSpec(format=fmt, granularity="channel", scale_format=scale_format)
    top = formats.get(fmt).max
    s = symmetric_scales(clip, spec).astype(np.float64)
    assert (s * top >= clip).all(), f"seed {seed}"
    assert (previous_value(s, scale_format) * top < clip).all(), f"seed {seed}"


def previous_value(s, scale_format):
    """The next smaller positive value of the scale format (s assumed normal there)."""
    if scale_format == "float8_e8m0fnu":
        return s / 2
    if scale_format == "float32":
        return np.nextafter(s.astype(np.float32), np.float32(0)).astype(np.float64)
    if scale_format == "float16":
        return np.nextafter(s.astype(np.float16), np.float16(0)).astype(np.float64)
    bits = (s.astype(np.float32).view(np.uint32) >> 16) - 1  # bfloat16
    return (bits << 16).astype(np.uint32).view(np.float32).astype(np.float64)


def test_zero_clip_gets_scale_one():
    spec = QuantSpec(format="int4", granularity="channel", scale_format="float16")
    assert symmetric_scales(np.array([[0.0], [7.0]]), spec).tolist() == [[1.0], [1.0]]
    s, z = asymmetric_scales(np.array([0.0]), np.array([0.0]),
                             QuantSpec(format="int4", symmetric=False))
    assert (s.tolist(), z.tolist()) == ([1.0], [0])


@pytest.mark.parametrize("scale_format", SCALE_FORMATS)
def test_zero_group_scale_is_one_except_for_binary(scale_format):
    # binary ({-1, +1}) is the one element format without a zero code.
    for name in element_format_names():
        if name in ieee.IEEE_FORMATS:
            continue
        spec = QuantSpec(format=name, scale_format=scale_format)
        expected = scales.SMALLEST_SCALE[scale_format] if name == "binary" else 1.0
        assert zero_group_scale(spec) == expected, name


def test_asymmetric_hand_example():
    spec = QuantSpec(format="int4", symmetric=False, scale_format="float16")
    s, z = asymmetric_scales(np.array([-1.0, -2.0, 0.0]), np.array([3.0, 0.0, 1.5]), spec)
    # (3 - -1)/15 = 0.2666.. -> float16 up 0.2668457; z = rint(1/0.2668457) = rint(3.747) = 4
    # 2/15 -> 0.13342285, z = rint(14.99) = 15;  1.5/15 = 0.1 -> 0.10003662, z = 0
    assert s.tolist() == [0.2668457031250, 0.13342285156250, 0.10003662109375]
    assert z.dtype == np.uint8 and z.tolist() == [4, 15, 0]


def test_scale_beyond_scale_format_raises():
    spec = QuantSpec(format="int4", granularity="channel", scale_format="float16")
    with pytest.raises(ValueError, match=r"x needs a scale of about 142857, beyond the largest "
                                         r"float16 value; use a wider scale_format"):
        quantize(np.array([[1e6, 0.0]], np.float32), spec)
