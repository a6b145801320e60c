"""binary and ternary: every code, every special input, vs the reference."""
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.formats.binary import TernaryFormat
from lowbit.hwsim.formats.reference.binary import (decode_binary, decode_ternary, encode_binary,
                                            encode_ternary)

def specials(dtype) -> np.ndarray:
    """Signed zeros, ±1, the ternary threshold 0.5 and its neighbours in ``dtype``, tiny, ±inf."""
    half = dtype(0.5)
    near_half = [np.nextafter(half, dtype(1)), np.nextafter(half, dtype(0))]
    tiny = np.nextafter(dtype(0), dtype(1))
    base = np.array([0.0, 1.0, 0.5, *near_half, tiny, 3.0, np.inf], dtype=dtype)
    return np.concatenate([base, -base])


def test_binary_codes_and_values():
    fmt = formats.get("binary")
    assert fmt.values().tolist() == [decode_binary(0), decode_binary(1)] == [1, -1]
    for dtype in (np.float32, np.float64):
        x = specials(dtype)
        assert fmt.encode(x).tolist() == [encode_binary(float(v)) for v in x]
    assert fmt.encode(np.array([0.0, -0.0])).tolist() == [0, 0]  # sign(0) = +1


@pytest.mark.parametrize("threshold", [0.5, 0.0, 0.7, 2.0])
def test_ternary_encode_matches_reference(threshold):
    fmt = formats.get("ternary") if threshold == 0.5 else TernaryFormat(threshold, name="t")
    random = np.random.default_rng(1).normal(0, 1, 5000)
    for dtype in (np.float32, np.float64):
        xs = np.concatenate([specials(dtype), random.astype(dtype)])
        assert fmt.encode(xs).tolist() == [encode_ternary(float(v), threshold) for v in xs]


def test_ternary_codes_and_the_invalid_pattern():
    fmt = formats.get("ternary")
    assert [decode_ternary(c) for c in (0, 1, 3)] == fmt.decode(np.array([0, 1, 3])).tolist()
    np.testing.assert_array_equal(fmt.values(), [0, 1, np.nan, -1])
    with pytest.raises(ValueError, match="0b10 is not one"):
        fmt.decode(np.array([2]))


@pytest.mark.parametrize("name", ["binary", "ternary"])
def test_nan_is_rejected(name):
    with pytest.raises(ValueError, match="NaN"):
        formats.get(name).encode(np.array([np.nan]))


def test_ternary_threshold_validated():
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0"):
        TernaryFormat(-1.0)
