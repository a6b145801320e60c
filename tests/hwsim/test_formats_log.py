"""log2_3/4/5 and logsqrt2_4: exhaustive decode, encode vs the interval-arithmetic reference."""
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.formats.reference.log import decode_log, encode_log

LOG_FORMATS = [("log2_3", 3, False), ("log2_4", 4, False), ("log2_5", 5, False),
               ("logsqrt2_4", 4, True)]


def neighbours(values: np.ndarray) -> list[np.ndarray]:
    """values and the float64 and float32 neighbours on both sides."""
    out = [values, np.nextafter(values, np.inf), np.nextafter(values, -np.inf)]
    as32 = values.astype(np.float32)
    out += [as32.astype(np.float64), np.nextafter(as32, np.float32(np.inf)).astype(np.float64),
            np.nextafter(as32, np.float32(-np.inf)).astype(np.float64)]
    return out


def structured_inputs(fmt) -> np.ndarray:
    levels = np.unique(np.abs(fmt.values()))
    midpoints = (levels[:-1] + levels[1:]) / 2  # exact for base 2, near-exact for base √2
    points = np.concatenate(neighbours(np.concatenate([levels, midpoints, fmt.thresholds])))
    specials = np.array([0.0, -0.0, 1.5, 3.0, 1e30, np.inf, 5e-324, 1e-30])
    return np.concatenate([points, -points, specials, -specials])


@pytest.mark.parametrize("name,bits,half", LOG_FORMATS)
def test_decode_every_code_matches_reference(name, bits, half):
    fmt = formats.get(name)
    expected = [decode_log(code, bits, half) for code in range(1 << bits)]
    assert fmt.values().tolist() == expected
    decoded = fmt.decode(np.arange(1 << bits))
    # float64 where float32 cannot hold the values (the irrational half-powers of √2)
    assert decoded.dtype == (np.float64 if half else np.float32)
    np.testing.assert_array_equal(decoded, np.array(expected, dtype=decoded.dtype))


@pytest.mark.parametrize("name,bits,half", LOG_FORMATS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_matches_reference(name, bits, half, dtype):
    fmt = formats.get(name)
    rng = np.random.default_rng(bits + 10 * half)
    random = rng.uniform(-1, 1, 3000) * 2.0 ** rng.uniform(-18, 2, 3000)
    x = np.concatenate([structured_inputs(fmt), random]).astype(dtype)
    expected = np.array([encode_log(float(v), bits, half) for v in x])
    got = fmt.encode(x)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"{name}: x={x[bad[0]]!r} expected {expected[bad[0]]:#x} got {got[bad[0]]:#x}"


def frexp_oracle(fmt, x: np.ndarray) -> np.ndarray:
    """Base-2 log codes by a route independent of the thresholds: |x| = m·2^e with m in
    [0.5, 1) lies between 2^(e-1) and 2^e, whose midpoint is 0.75·2^e (ties go up)."""
    field_max = fmt.field_max
    magnitude = np.abs(x.astype(np.float64))
    m, e = np.frexp(magnitude)
    nearest_exponent = np.where(m >= 0.75, e, e - 1)
    below_smallest = magnitude < 2.0 ** (1 - field_max)
    field = np.where(below_smallest, magnitude >= 2.0 ** -field_max,
                     np.minimum(nearest_exponent + field_max, field_max)).astype(np.int64)
    negative = (x < 0) & (field > 0)
    return field | (negative.astype(np.int64) << (fmt.bits - 1))


@pytest.mark.parametrize("name", ["log2_3", "log2_4", "log2_5"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_a_million_random_like_frexp_oracle(name, dtype):
    fmt = formats.get(name)
    rng = np.random.default_rng(7 + fmt.bits)
    x = (rng.uniform(-1, 1, 1 << 20) * 2.0 ** rng.uniform(-20, 3, 1 << 20)).astype(dtype)
    expected = frexp_oracle(fmt, x)
    bad = np.flatnonzero(fmt.encode(x) != expected)
    assert bad.size == 0, f"{name}: x={x[bad[0]]!r} expected {expected[bad[0]]:#x}"


def test_ties_go_to_the_larger_magnitude():
    log2_4 = formats.get("log2_4")
    x = np.array([0.75, -0.75, 1.5 * 2.0 ** -3, 2.0 ** -7, -(2.0 ** -7), 2.0 ** -7 * 0.9999])
    assert log2_4.decode(log2_4.encode(x)).tolist() == [1, -1, 0.25, 2 ** -6, -(2 ** -6), 0]


def test_one_code_for_zero_and_saturation():
    for name in ("log2_3", "log2_4", "log2_5", "logsqrt2_4"):
        fmt = formats.get(name)
        assert fmt.encode(np.array([0.0, -0.0, -1e-30])).tolist() == [0, 0, 0]
        top = fmt.encode(np.array([np.inf, -np.inf, 7.0, -7.0]))
        assert fmt.decode(top).tolist() == [1, -1, 1, -1]


def test_logsqrt2_steps_are_half_powers_of_two():
    fmt = formats.get("logsqrt2_4")
    magnitudes = fmt.values()[1:8]
    # odd half-powers are irrational, so compare the float64 values to 1 ulp, not bitwise
    np.testing.assert_allclose(magnitudes, 2.0 ** (np.arange(-6, 1) / 2), rtol=2.3e-16, atol=0)


def test_nan_is_rejected():
    with pytest.raises(ValueError, match="x must not contain NaN: log2_4"):
        formats.get("log2_4").encode(np.array([np.nan]))
