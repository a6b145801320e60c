"""lowbit.hwsim.quant.scheme: Scheme validation (field names with act_ prefixes), defaults, specs,
labels, and quantize_act."""
import dataclasses

import numpy as np
import pytest

from lowbit.hwsim.quant import QuantSpec, Scheme, dequantize, quantize, quantize_act


def test_issue_example():
    scheme = Scheme(weight="int4", act="float8_e4m3fn", granularity="group", group_size=128,
                    scale_format="float16", symmetric=True, calibration="minmax")
    assert scheme.weight_spec == QuantSpec(format="int4", granularity="group", group_size=128,
                                           scale_format="float16")
    assert scheme.act_spec == QuantSpec(format="float8_e4m3fn", scale_format="float32")
    w = np.random.default_rng(0).standard_normal((4, 256)).astype(np.float32)
    q = quantize(w, scheme.weight_spec, axis=-1)
    assert q.scales.shape == (4, 2)
    assert scheme.label == "w4g128-ae4m3"


def test_defaults_are_resolved_into_the_fields():
    scheme = Scheme(weight="int8", act="int8")
    assert (scheme.granularity, scheme.scale_format, scheme.act_granularity,
            scheme.act_scale_format) == ("channel", "float16", "tensor", "float32")
    mx = Scheme(weight="float4_e2m1fn", act="float8_e4m3fn", granularity="mx",
                act_granularity="mx")
    assert (mx.group_size, mx.scale_format, mx.act_group_size, mx.act_scale_format) == \
        (32, "float8_e8m0fnu", 32, "float8_e8m0fnu")


def test_ieee_sides_are_unscaled():
    scheme = Scheme(weight="int4", act="bfloat16", granularity="group", group_size=32)
    assert scheme.act_spec.is_ieee and scheme.label == "w4g32-abf16"
    x = np.array([[1.00390625, 3.0]], np.float32)  # 1 + 2^-8 is a bfloat16 tie -> 1.0
    assert dequantize(quantize_act(x, scheme)).tolist() == [[1.0, 3.0]]


def test_frozen_and_hashable():
    scheme = Scheme(weight="int8", act="int8")
    with pytest.raises(dataclasses.FrozenInstanceError):
        scheme.weight = "int4"
    assert scheme == Scheme(weight="int8", act="int8", scale_format="float16")
    assert len({scheme, Scheme(weight="int8", act="int8")}) == 1


def test_fields_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        Scheme("int4", "int8")
    with pytest.raises(TypeError, match="positional"):
        Scheme("int4", act="int8")


def test_dataclasses_replace_revalidates():
    # lowbit.models.evaluator changes a preset's group size with dataclasses.replace
    scheme = Scheme(weight="int4", act="int8", granularity="group", group_size=128)
    assert dataclasses.replace(scheme, group_size=64).label == "w4g64-a8"
    with pytest.raises(ValueError, match="group_size must be a positive int"):
        dataclasses.replace(scheme, group_size=0)


@pytest.mark.parametrize("kwargs,label", [
    (dict(weight="int8", act="int8"), "w8c-a8"),
    (dict(weight="int8", act="int8", granularity="tensor"), "w8-a8"),
    (dict(weight="int2", act="int8", granularity="group", group_size=64, symmetric=False),
     "w2g64z-a8"),
    (dict(weight="int4", act="int8", scale_format="bfloat16", calibration="mse"),
     "w4csbf16mse-a8"),
    (dict(weight="int4", act="int8", calibration="percentile", percentile=99.9,
          act_calibration="percentile", act_granularity="channel"), "w4cp99.9-a8cp99.9"),
    (dict(weight="int4", act="int8", act_symmetric=False, act_scale_format="float16"),
     "w4c-a8zs16"),
    (dict(weight="log2_4", act="int8"), "wlog2_4c-a8"),
    (dict(weight="binary", act="float16"), "wbinc-a16"),
    (dict(weight="ternary", act="float32"), "wternc-a32"),
    (dict(weight="float6_e3m2fn", act="float8_e5m2", granularity="mx", act_granularity="mx"),
     "we3m2mx-ae5m2mx"),
    (dict(weight="int4", act="int8", granularity="group", group_size=32,
          scale_format="float8_e8m0fnu"), "w4g32se8m0-a8"),
    (dict(weight="float16", act="float16"), "w16-a16"),
])
def test_labels(kwargs, label):
    assert Scheme(**kwargs).label == label


@pytest.mark.parametrize("kwargs,message", [
    (dict(weight="int9", act="int8"), r"weight must be one of .*; got 'int9'"),
    (dict(weight="int4", act="uint8"), r"act must be one of .*; got 'uint8'"),
    (dict(weight="int4", act="int8", granularity="block"), r"^granularity must be one of"),
    (dict(weight="int4", act="int8", act_granularity="block"), r"^act_granularity must be one of"),
    (dict(weight="int4", act="int8", granularity="group"),
     r"^group_size must be a positive int for granularity 'group', got None"),
    (dict(weight="int4", act="int8", act_granularity="group", act_group_size=-4),
     r"^act_group_size must be a positive int"),
    (dict(weight="int4", act="int8", act_group_size=8),
     r"^act_group_size must be None for granularity 'tensor'"),
    (dict(weight="int4", act="int8", scale_format="fp16"), r"^scale_format must be one of"),
    (dict(weight="int4", act="float8_e4m3fn", act_granularity="mx", act_scale_format="float32"),
     r"^act_scale_format must be 'float8_e8m0fnu' \(or None\) for act_granularity 'mx'"),
    (dict(weight="float8_e4m3fn", act="int8", symmetric=False),
     r"^symmetric=False needs an int format .*weight 'float8_e4m3fn' is float"),
    (dict(weight="int4", act="float8_e4m3fn", act_symmetric=False),
     r"^act_symmetric=False needs an int format .*act 'float8_e4m3fn' is float"),
    (dict(weight="int4", act="int8", calibration="entropy"), r"^calibration must be one of"),
    (dict(weight="int4", act="int8", act_calibration="entropy"),
     r"^act_calibration must be one of minmax, percentile, mse"),
    (dict(weight="ternary", act="int8", calibration="mse"), r"^calibration must be 'minmax'"),
    (dict(weight="int4", act="int8", percentile=101), r"^percentile must be a number in"),
])
def test_bad_fields_name_the_scheme_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Scheme(**kwargs)


def test_quantize_act_is_dynamic_per_call():
    scheme = Scheme(weight="int8", act="int8")
    x = np.random.default_rng(2).standard_normal((3, 16)).astype(np.float32)
    q1, q2 = quantize_act(x, scheme), quantize_act(2 * x, scheme)
    assert q1.scales.shape == (1, 1) and q2.scales[0, 0] > q1.scales[0, 0]
    np.testing.assert_array_equal(q1.codes, quantize(x, scheme.act_spec).codes)
    with pytest.raises(ValueError, match="scheme must be a Scheme, got QuantSpec"):
        quantize_act(x, scheme.act_spec)
