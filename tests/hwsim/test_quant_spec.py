"""lowbit.hwsim.quant.spec: QuantSpec normalization and every ValueError path."""
import dataclasses

import pytest

from lowbit.hwsim.quant import QuantSpec, element_format_names


def test_element_formats_are_the_signed_ones_plus_ieee():
    names = element_format_names()
    for name in ("int2", "int4", "int8", "float8_e4m3fn", "float4_e2m1fn", "log2_4",
                 "logsqrt2_4", "binary", "ternary", "float16", "bfloat16", "float32"):
        assert name in names
    for name in ("int1", "uint4", "float8_e8m0fnu"):
        assert name not in names


def test_defaults_resolved():
    spec = QuantSpec(format="int4")
    assert (spec.granularity, spec.group_size, spec.scale_format, spec.symmetric,
            spec.calibration, spec.percentile) == ("tensor", None, "float32", True, "minmax", 99.99)
    mx = QuantSpec(format="float8_e4m3fn", granularity="mx")
    assert (mx.group_size, mx.scale_format) == (32, "float8_e8m0fnu")


def test_ieee_spec_is_unscaled_whatever_was_asked():
    spec = QuantSpec(format="bfloat16", granularity="group", group_size=64, scale_format="float16",
                     calibration="mse")
    assert (spec.granularity, spec.group_size, spec.scale_format, spec.calibration) == \
        ("tensor", None, "float32", "minmax")
    assert spec.is_ieee and spec.bits == 16
    with pytest.raises(ValueError, match="has no registry format"):
        spec.element_format


def test_element_format_of_asymmetric_int_is_uint():
    assert QuantSpec(format="int3", symmetric=False).element_format.name == "uint3"
    assert QuantSpec(format="int3").element_format.name == "int3"
    assert QuantSpec(format="int3", symmetric=False).bits == 3


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        QuantSpec(format="int8").format = "int4"


def test_fields_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        QuantSpec("int4")
    with pytest.raises(TypeError, match="positional"):
        QuantSpec("int4", "group", 64, "float16")
    spec = QuantSpec(format="int4", granularity="group", group_size=64)
    assert dataclasses.replace(spec, group_size=32).group_size == 32


@pytest.mark.parametrize("kwargs,message", [
    (dict(format="int9"), r"format must be one of .*int8.*; got 'int9'"),
    (dict(format="uint4"), r"format must be one of .*; got 'uint4'"),
    (dict(format="int1"), r"format must be one of .*; got 'int1'"),
    (dict(format="float8_e8m0fnu"), r"format must be one of .*; got 'float8_e8m0fnu'"),
    (dict(format=4), r"format must be one of .*; got 4"),
    (dict(format="int4", granularity="row"),
     r"granularity must be one of tensor, channel, group, mx; got 'row'"),
    (dict(format="int4", granularity="group"),
     r"group_size must be a positive int for granularity 'group', got None"),
    (dict(format="int4", granularity="group", group_size=0), r"group_size must be a positive int"),
    (dict(format="int4", granularity="group", group_size=True), r"group_size must be a positive"),
    (dict(format="int4", granularity="group", group_size=8.0), r"group_size must be a positive"),
    (dict(format="int4", granularity="channel", group_size=128),
     r"group_size must be None for granularity 'channel', got 128"),
    (dict(format="float4_e2m1fn", granularity="mx", group_size=16),
     r"group_size must be None or 32 for granularity 'mx'"),
    (dict(format="int4", scale_format="float64"),
     r"scale_format must be one of \('float16', 'bfloat16', 'float32', 'float8_e8m0fnu'\)"),
    (dict(format="float4_e2m1fn", granularity="mx", scale_format="float16"),
     r"scale_format must be 'float8_e8m0fnu' \(or None\) for granularity 'mx'"),
    (dict(format="int4", symmetric=0), r"symmetric must be True or False, got 0"),
    (dict(format="float8_e4m3fn", symmetric=False),
     r"symmetric=False needs an int format \(int2..int8\); format 'float8_e4m3fn' is float"),
    (dict(format="float16", symmetric=False), r"symmetric=False needs an int format; .*IEEE"),
    (dict(format="int4", granularity="mx", symmetric=False),
     r"symmetric must be True with granularity 'mx'"),
    (dict(format="int4", calibration="kl"),
     r"calibration must be one of minmax, percentile, mse; got 'kl'"),
    (dict(format="float8_e4m3fn", granularity="mx", calibration="mse"),
     r"calibration must be 'minmax' with granularity 'mx' \(OCP MX fixes the scale from amax\), "
     r"got 'mse'"),
    (dict(format="binary", calibration="percentile"),
     r"calibration must be 'minmax' for binary \(alpha is the XNOR-Net / TWN formula\)"),
    (dict(format="ternary", granularity="mx"),
     r"granularity 'mx' needs a float, int or log element format, got format 'ternary'"),
    (dict(format="int4", percentile=49), r"percentile must be a number in \[50, 100\], got 49"),
    (dict(format="int4", percentile=100.5), r"percentile must be a number in \[50, 100\]"),
    (dict(format="int4", percentile="99"), r"percentile must be a number in \[50, 100\]"),
])
def test_bad_fields(kwargs, message):
    with pytest.raises(ValueError, match=message):
        QuantSpec(**kwargs)
