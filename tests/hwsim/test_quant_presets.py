"""lowbit.hwsim.quant.presets: the binding names, their schemes, descriptions, unknown names."""
import numpy as np
import pytest

from lowbit.hwsim.quant import Scheme, dequantize, preset, preset_description, preset_names, quantize

REQUIRED = ["int8", "int4-pc", "int4-g128", "int2-g64", "fp8-e4m3", "fp8-e5m2", "mxfp8", "mxfp6",
            "mxfp4", "log2_4", "binary", "ternary"]


def test_required_names_present():
    assert set(REQUIRED) <= set(preset_names())


@pytest.mark.parametrize("name,weight,act,granularity,group_size,label", [
    ("int8", "int8", "int8", "channel", None, "w8c-a8c"),
    ("int4-pc", "int4", "int8", "channel", None, "w4c-a8c"),
    ("int4-g128", "int4", "int8", "group", 128, "w4g128-a8c"),
    ("int2-g64", "int2", "int8", "group", 64, "w2g64z-a8c"),
    ("fp8-e4m3", "float8_e4m3fn", "float8_e4m3fn", "channel", None, "we4m3c-ae4m3"),
    ("fp8-e5m2", "float8_e5m2", "float8_e5m2", "channel", None, "we5m2c-ae5m2"),
    ("mxfp8", "float8_e4m3fn", "float8_e4m3fn", "mx", 32, "we4m3mx-ae4m3mx"),
    ("mxfp6", "float6_e2m3fn", "float6_e2m3fn", "mx", 32, "we2m3mx-ae2m3mx"),
    ("mxfp4", "float4_e2m1fn", "float4_e2m1fn", "mx", 32, "we2m1mx-ae2m1mx"),
    ("log2_4", "log2_4", "int8", "channel", None, "wlog2_4c-a8c"),
    ("binary", "binary", "int8", "channel", None, "wbinc-a8c"),
    ("ternary", "ternary", "int8", "channel", None, "wternc-a8c"),
    ("int4-g128-a16", "int4", "float16", "group", 128, "w4g128-a16"),
    ("fp16", "float16", "float16", "tensor", None, "w16-a16"),
    ("w4a16-g128-gptq", "int4", "float16", "group", 128, "w4g128z-a16-gptq"),
    ("w3a16-g128-awq", "int3", "float16", "group", 128, "w3g128z-a16-awq"),
    ("w2a16-g64", "int2", "float16", "group", 64, "w2g64z-a16"),
    ("w8a8-smoothquant", "int8", "int8", "channel", None, "w8c-a8c-smoothquant"),
    ("w4a4-rotation", "int4", "int4", "channel", None, "w4c-a4c-rotation"),
    ("w8a8-kv4", "int8", "int8", "channel", None, "w8c-a8c-kv4"),
])
def test_preset_schemes(name, weight, act, granularity, group_size, label):
    scheme = preset(name)
    assert isinstance(scheme, Scheme)
    assert (scheme.weight, scheme.act, scheme.granularity, scheme.group_size, scheme.label) == \
        (weight, act, granularity, group_size, label)
    if name.startswith("mx"):
        assert scheme.act_granularity == "mx" and scheme.scale_format == "float8_e8m0fnu"
    elif act.startswith("int"):
        assert scheme.act_granularity == "channel"  # per token: one scale per row along K
    elif act.startswith("float8"):
        assert scheme.act_granularity == "tensor"


def test_int4_g128_uses_float16_scales():
    assert preset("int4-g128").weight_spec.scale_format == "float16"


def test_every_preset_quantizes_a_weight_and_an_activation():
    w = np.random.default_rng(0).standard_normal((8, 256)).astype(np.float32)
    for name in preset_names():
        scheme = preset(name)
        for spec in (scheme.weight_spec, scheme.act_spec):
            x_hat = dequantize(quantize(w, spec, axis=-1))
            assert x_hat.shape == w.shape and np.isfinite(x_hat).all(), name


def test_labels_are_unique_and_descriptions_one_line():
    labels = [preset(name).label for name in preset_names()]
    assert len(set(labels)) == len(labels)
    for name in preset_names():
        description = preset_description(name)
        assert description and "\n" not in description


@pytest.mark.parametrize("name", ["int3", "", None, "INT8"])
def test_unknown_preset_lists_them(name):
    with pytest.raises(ValueError, match=r"name must be one of the presets fp16, int8, int4-pc, "):
        preset(name)
    with pytest.raises(ValueError, match=r"name must be one of the presets"):
        preset_description(name)
