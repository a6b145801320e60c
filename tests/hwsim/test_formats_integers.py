"""int1..int8 and uint1..uint8: exhaustive decode, encode vs the exact-rational reference."""
import ml_dtypes
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.formats.reference.integer import decode_int, encode_int

INT_FORMATS = [(f"{'' if signed else 'u'}int{bits}", bits, signed)
               for bits in range(1, 9) for signed in (True, False)]
ML_DTYPES_INTS = ["int1", "int2", "int4", "uint1", "uint2", "uint4"]


def structured_inputs(fmt, dtype) -> np.ndarray:
    """Every integer in range and beyond, the ties between them and ±1 ulp (of ``dtype``)
    around each tie."""
    integers = np.arange(fmt.lowest - 3, fmt.max + 4).astype(dtype)
    ties = integers + dtype(0.5)
    around = [np.nextafter(ties, dtype(np.inf)), np.nextafter(ties, dtype(-np.inf))]
    tiny = np.nextafter(dtype(0), dtype(1))
    specials = np.array([0.0, -0.0, np.inf, -np.inf, 1e30, -1e30, tiny, -tiny], dtype=dtype)
    return np.concatenate([integers, ties, *around, specials])


def random_inputs(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.uniform(-300, 300, n), rng.normal(0, 3, n),
                           rng.uniform(-1, 1, n) * 2.0 ** rng.integers(-30, 10, n)])


@pytest.mark.parametrize("name,bits,signed", INT_FORMATS)
def test_decode_every_code_matches_reference(name, bits, signed):
    fmt = formats.get(name)
    expected = [decode_int(code, bits, signed) for code in range(1 << bits)]
    assert fmt.values().tolist() == expected
    assert fmt.decode(np.arange(1 << bits)).dtype == np.float32


@pytest.mark.parametrize("name", ML_DTYPES_INTS)
def test_decode_every_code_matches_ml_dtypes(name):
    fmt = formats.get(name)
    codes = np.arange(fmt.n_codes, dtype=np.uint8)
    ml = codes.view(getattr(ml_dtypes, name)).astype(np.float64)
    np.testing.assert_array_equal(fmt.values(), ml)


@pytest.mark.parametrize("name,bits,signed", INT_FORMATS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_matches_reference(name, bits, signed, dtype):
    fmt = formats.get(name)
    seed = bits * 2 + signed
    x = np.concatenate([structured_inputs(fmt, dtype), random_inputs(seed, 2000).astype(dtype)])
    expected = [encode_int(float(v), bits, signed) for v in x]
    got = fmt.encode(x)
    assert got.dtype == np.uint8
    bad = np.flatnonzero(got != np.array(expected))
    assert bad.size == 0, (f"{name} seed {seed}: x={x[bad[0]]!r} expected {expected[bad[0]]:#x} "
                           f"got {got[bad[0]]:#x}")


@pytest.mark.parametrize("name,bits,signed", [f for f in INT_FORMATS if f[1] in (2, 4, 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_a_million_random_like_python_round(name, bits, signed, dtype):
    """Python's round() of a float is exact round-half-to-even: an independent oracle fast
    enough for a million inputs."""
    fmt = formats.get(name)
    seed = 100 + bits * 2 + signed
    x = random_inputs(seed, 350_000).astype(dtype)
    assert x.size >= 1_000_000
    lowest, highest, mask = int(fmt.lowest), int(fmt.max), fmt.n_codes - 1
    expected = np.array([min(max(round(v), lowest), highest) & mask for v in x.tolist()])
    bad = np.flatnonzero(fmt.encode(x) != expected)
    assert bad.size == 0, f"{name} seed {seed}: x={x[bad[0]]!r} expected {expected[bad[0]]:#x}"


def test_float64_is_rounded_once_not_through_float32():
    # 2.5 + 2^-40 rounds up to 3; rounding to float32 first would give the tie 2.5 and then 2.
    x = np.array([2.5 + 2.0 ** -40, -(2.5 + 2.0 ** -40)])
    assert np.float32(x[0]) == 2.5
    assert formats.get("int8").decode(formats.get("int8").encode(x)).tolist() == [3.0, -3.0]


def test_encode_ties_to_even_and_saturates():
    int4 = formats.get("int4")
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 7.5, 8.0, -8.5, -100, np.inf, -np.inf], np.float32)
    assert int4.decode(int4.encode(x)).tolist() == [0, 2, 2, 0, -2, 7, 7, -8, -8, 7, -8]
    uint2 = formats.get("uint2")
    assert uint2.decode(uint2.encode(np.array([-1.0, 3.6]))).tolist() == [0, 3]


def test_encode_keeps_shape_and_ignores_saturate_flag():
    int3 = formats.get("int3")
    x = np.linspace(-6, 6, 24).reshape(2, 3, 4)
    assert int3.encode(x, saturate=False).shape == (2, 3, 4)
    np.testing.assert_array_equal(int3.encode(x, saturate=True), int3.encode(x, saturate=False))


def test_nan_is_rejected():
    with pytest.raises(ValueError, match="x must not contain NaN: int4"):
        formats.get("int4").encode(np.array([1.0, np.nan]))
