"""The registry and the argument checks every format shares."""
import numpy as np
import pytest

from lowbit.hwsim import formats

EXPECTED = {"float8_e4m3fn", "float8_e5m2", "float6_e3m2fn", "float6_e2m3fn", "float4_e2m1fn",
            "float8_e8m0fnu", "log2_3", "log2_4", "log2_5", "logsqrt2_4", "binary", "ternary",
            *(f"int{b}" for b in range(1, 9)), *(f"uint{b}" for b in range(1, 9))}


def test_every_format_is_registered():
    assert EXPECTED <= set(formats.names())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown format 'int9'; known formats: .*int8"):
        formats.get("int9")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_uniform_attributes(name):
    fmt = formats.get(name)
    assert fmt.name == name and 1 <= fmt.bits <= 8
    values = fmt.values()
    assert values.dtype == np.float64 and values.shape == (1 << fmt.bits,)
    finite = values[np.isfinite(values)]
    assert finite.max() == fmt.max and finite.min() == fmt.lowest
    assert fmt.min_subnormal <= fmt.min_normal
    assert fmt.has_inf == bool(np.isinf(values).any())
    if fmt.kind != "ternary":  # ternary lists its one invalid pattern as NaN
        assert fmt.has_nan == bool(np.isnan(values).any())


def test_wrong_dtypes_are_rejected():
    fmt = formats.get("int4")
    with pytest.raises(ValueError, match="x must be a float32 or float64 array, got dtype int64"):
        fmt.encode(np.arange(4))
    with pytest.raises(ValueError, match="codes must be an integer array of int4 codes"):
        fmt.decode(np.array([0.5]))
    with pytest.raises(ValueError, match=r"codes must hold int4 codes in 0..15, got values in 0..16"):
        fmt.decode(np.array([0, 16]))


def test_saturate_must_be_a_bool():
    with pytest.raises(ValueError, match="saturate must be True or False, got 'no'"):
        formats.get("float8_e4m3fn").encode(np.array([1e9]), saturate="no")


def test_non_numeric_x_names_the_argument():
    with pytest.raises(ValueError, match="x must be float32 or float64 values"):
        formats.get("int4").encode(["a"])


@pytest.mark.parametrize("name", [n for n in sorted(EXPECTED) if not formats.get(n).has_nan])
def test_formats_without_nan_refuse_nan(name):
    with pytest.raises(ValueError, match=f"x must not contain NaN: {name} has no NaN code"):
        formats.get(name).encode(np.array([0.0, np.nan]))
