"""lowbit.hwsim.formats.floats against ml_dtypes, torch and the integer reference, bit for bit.

Rerun one case: pytest tests/hwsim/test_formats_floats.py -k "<test> and <format>"
"""
import math
import os

import ml_dtypes
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.formats import floats
from lowbit.hwsim.formats.reference import minifloat as reference

SEED = 20261123
NAMES = list(reference.LAYOUTS)
MINIFLOATS = [name for name in NAMES if name != "float8_e8m0fnu"]
WITHOUT_NAN = ["float6_e3m2fn", "float6_e2m3fn", "float4_e2m1fn"]

# Two ml_dtypes bugs that releases before 0.7.0 have (checked on 0.5.4 and 0.6.0) and 0.7.0 fixed:
# float64 input is rounded through float32 (double rounding), and float32 subnormals in
# (2^-127, 1.5 * 2^-127) go up to 2^-126 in float8_e8m0fnu although every one of them is nearer to
# 2^-127, which is what we and the exact reference give. Our behaviour is asserted against the
# reference whatever ml_dtypes is installed; the departure is asserted only where ml_dtypes has it.
ML_DTYPES_HAS_ROUNDING_BUGS = tuple(int(p) for p in ml_dtypes.__version__.split(".")[:2]) < (0, 7)
E8M0_ML_DTYPES_QUIRK = (2.0 ** -127, 1.5 * 2.0 ** -127)


# -- helpers ------------------------------------------------------------------------------------
def assert_codes_equal(got, expected, x, what):
    """Bit-for-bit: on mismatch name the case, the first inputs, expected vs got."""
    got, expected = np.asarray(got).ravel(), np.asarray(expected).ravel()
    bad = np.flatnonzero(got != expected)
    if bad.size:
        flat = x.ravel()
        bits = flat.view(_uint(flat))
        rows = [f"  x={float(flat[i])!r} ({x.dtype}, bits 0x{int(bits[i]):x}) "
                f"expected 0x{int(expected[i]):02x} got 0x{int(got[i]):02x}" for i in bad[:8]]
        test_id = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        pytest.fail(f"{what}: {bad.size} of {got.size} codes differ (seed {SEED})\n"
                    + "\n".join(rows) + f"\nrerun: pytest '{test_id}'")


def _uint(x):
    return np.uint32 if x.dtype == np.float32 else np.uint64


def reference_codes(name, x, saturate):
    return np.array([reference.encode(name, v, saturate) for v in x.ravel()], dtype=np.uint8)


def ml_dtypes_codes(name, x):
    with np.errstate(invalid="ignore"):  # ml_dtypes warns on NaN and overflow casts
        return x.astype(getattr(ml_dtypes, name)).view(np.uint8)


def finite_magnitudes(fmt):
    """Sorted distinct finite non-negative values of fmt (float64)."""
    values = fmt.values()
    return np.unique(np.abs(values[np.isfinite(values)]))


def structured_inputs(fmt, dtype):
    """Every value, every tie between neighbours and +-1 ulp (of dtype) around it, the tie
    beyond max, values beyond max, dtype subnormals, +-0, +-inf, NaN; both signs."""
    v = finite_magnitudes(fmt)
    if fmt.kind == "float":
        above_max = fmt.max + 2.0 ** (fmt.emax - fmt.mbits)  # next value with unbounded exponent
    else:
        above_max = 2.0 * fmt.max  # E8M0: 2^128
    ties = np.concatenate([(v[:-1] + v[1:]) / 2, [(fmt.max + above_max) / 2]])
    if fmt.kind == "float":
        ties = np.append(ties, v[1] / 2)  # between 0 and the smallest subnormal
    else:
        ties = np.append(ties, [0.75 * fmt.min_subnormal, 0.5 * fmt.min_subnormal])  # below min
    ties = ties.astype(dtype)
    info = np.finfo(dtype)
    tiny = info.smallest_subnormal
    beyond = np.array([2 * fmt.max, 4 * fmt.max, 1e30, info.max], dtype=np.float64)
    beyond = beyond[beyond <= info.max].astype(dtype)
    subnormals = np.array([tiny, 2 * tiny, 3 * tiny, info.smallest_normal / 2,
                           info.smallest_normal - tiny], dtype=dtype)
    magnitudes = np.concatenate([
        v.astype(dtype), ties, np.nextafter(ties, dtype(0)), np.nextafter(ties, dtype(np.inf)),
        beyond, subnormals, np.array([0.0, np.inf], dtype=dtype)])
    signed = np.concatenate([magnitudes, -magnitudes,
                             np.array([np.nan, np.copysign(np.nan, -1.0)], dtype=dtype)])
    return np.unique(signed.view(_uint(signed))).view(dtype)  # unique by bits: keeps -0 and +0


def random_float32(fmt, n):
    """n seeded float32: 3/4 with exponents spread over the format's range padded by 4 binades
    (where rounding and overflow happen), 1/4 uniform bit patterns (the whole float32 range)."""
    rng = np.random.default_rng(SEED)
    near = (n * 3) // 4
    # clipped to float32's normal exponents: the uniform quarter covers its subnormals
    exponents = rng.integers(max(math.floor(math.log2(fmt.min_subnormal)) - 4, -126),
                             min(math.floor(math.log2(fmt.max)) + 4, 128), near)
    mantissas = rng.integers(0, 1 << 23, near, dtype=np.uint32)
    bits = ((exponents + 127).astype(np.uint32) << 23) | mantissas
    bits |= rng.integers(0, 2, near, dtype=np.uint32) << 31
    anywhere = rng.integers(0, 1 << 32, n - near, dtype=np.uint64).astype(np.uint32)
    return np.concatenate([bits, anywhere]).view(np.float32)


def random_float64(fmt, n):
    """n seeded float64 with exponents over the format's range padded by 4 binades."""
    rng = np.random.default_rng(SEED + 1)
    exponents = rng.integers(math.floor(math.log2(fmt.min_subnormal)) - 4,
                             math.floor(math.log2(fmt.max)) + 4, n)
    mantissas = rng.integers(0, 1 << 52, n, dtype=np.uint64)
    bits = ((exponents + 1023).astype(np.uint64) << np.uint64(52)) | mantissas
    bits |= rng.integers(0, 2, n, dtype=np.uint64) << np.uint64(63)
    return bits.view(np.float64)


def without_nan_if_needed(name, x):
    return x[~np.isnan(x)] if name in WITHOUT_NAN else x


def split_e8m0_quirk(name, x, ours, ml):
    """Check the E8M0 divergence of ml_dtypes < 0.7; return the mask of the inputs left to compare
    (all of them where the installed ml_dtypes has no such bug)."""
    keep = np.ones(x.shape, dtype=bool)
    if name == "float8_e8m0fnu" and ML_DTYPES_HAS_ROUNDING_BUGS:
        quirk = (x > E8M0_ML_DTYPES_QUIRK[0]) & (x < E8M0_ML_DTYPES_QUIRK[1])
        assert (ml[quirk] == 0x01).all() and (ours[quirk] == 0x00).all()
        keep = ~quirk
    return keep


# -- layout -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_layout_matches_spec_table_and_ml_dtypes(name):
    fmt = formats.get(name)
    lay = reference.LAYOUTS[name]
    info = ml_dtypes.finfo(getattr(ml_dtypes, name))
    assert (fmt.ebits, fmt.mbits, fmt.bias) == (lay.ebits, lay.mbits, lay.bias)
    assert fmt.bits == info.bits
    assert fmt.kind == ("scale" if name == "float8_e8m0fnu" else "float")
    assert (fmt.max, fmt.min_normal, fmt.min_subnormal) == (
        float(info.max), float(info.smallest_normal), float(info.smallest_subnormal))
    assert fmt.lowest == float(info.min)
    assert fmt.max == 2.0 ** fmt.emax * (2 - 2.0 ** -fmt.mbits * (2 if lay.specials == "fn" else 1))
    assert fmt.min_normal == 2.0 ** fmt.emin
    assert fmt.has_inf == (lay.specials == "ieee")
    assert fmt.has_nan == (lay.specials in ("ieee", "fn", "e8m0"))


# -- decode -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_decode_every_code_like_ml_dtypes_and_reference(name):
    fmt = formats.get(name)
    codes = np.arange(fmt.n_codes, dtype=np.uint8)
    ours = fmt.decode(codes)
    assert ours.dtype == np.float32
    ml = codes.view(getattr(ml_dtypes, name)).astype(np.float32)
    np.testing.assert_array_equal(ours.view(np.uint32), ml.view(np.uint32),
                                  err_msg=f"{name} decode vs ml_dtypes: float32 bits by code")
    ref = np.array([reference.decode(name, int(c)) for c in codes])
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    assert np.array_equal(np.signbit(ours), np.signbit(ref))
    finite = ~np.isnan(ref)
    assert np.array_equal(ours[finite].astype(np.float64), ref[finite])
    assert np.array_equal(fmt.values(), ours.astype(np.float64), equal_nan=True)


# -- encode, float32, against ml_dtypes -----------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_encode_structured_float32_like_ml_dtypes(name):
    fmt = formats.get(name)
    x = without_nan_if_needed(name, structured_inputs(fmt, np.float32))
    ours, ml = fmt.encode(x, saturate=False), ml_dtypes_codes(name, x)
    keep = split_e8m0_quirk(name, x, ours, ml)
    assert_codes_equal(ours[keep], ml[keep], x[keep], f"{name} encode(saturate=False) vs ml_dtypes")


@pytest.mark.parametrize("name", NAMES)
def test_encode_random_float32_like_ml_dtypes(name):
    fmt = formats.get(name)
    x = without_nan_if_needed(name, random_float32(fmt, 1 << 20))
    assert x.size >= 1_000_000
    ours, ml = fmt.encode(x, saturate=False), ml_dtypes_codes(name, x)
    keep = split_e8m0_quirk(name, x, ours, ml)
    assert_codes_equal(ours[keep], ml[keep], x[keep], f"{name} encode(saturate=False) vs ml_dtypes")


@pytest.mark.parametrize("name", MINIFLOATS)
def test_encode_random_float32_saturating_like_ml_dtypes_plus_ocp_overflow(name):
    """saturate=True on the same million inputs: ml_dtypes' code, except that a finite or
    infinite input whose code came out inf or NaN (overflow) becomes ±max (OCP OFP8 SAT)."""
    fmt = formats.get(name)
    x = without_nan_if_needed(name, random_float32(fmt, 1 << 20))
    x = np.concatenate([x, np.array([np.inf, -np.inf, 1e30, -1e30], np.float32)])
    ml = ml_dtypes_codes(name, x)
    values = fmt.values()
    overflowed = ~np.isnan(x) & ~np.isfinite(values[ml])
    max_code, neg_max_code = np.flatnonzero(values == fmt.max)[0], np.flatnonzero(values == -fmt.max)[0]
    expected = np.where(overflowed, np.where(np.signbit(x), neg_max_code, max_code), ml)
    assert_codes_equal(fmt.encode(x, saturate=True), expected, x,
                       f"{name} encode(saturate=True) vs ml_dtypes + OCP overflow")


def test_e8m0_quirk_interval_is_nearest_to_min():
    # Exact math says 2^-127 (code 0); ml_dtypes < 0.7 gave 2^-126 (code 1), 0.7 agrees with us.
    x = np.array([1.0001, 1.25, 1.4999], dtype=np.float64) * 2.0 ** -127
    x32 = x.astype(np.float32)
    fmt = formats.get("float8_e8m0fnu")
    assert list(fmt.encode(x32)) == [0, 0, 0]
    assert list(reference_codes("float8_e8m0fnu", x32, False)) == [0, 0, 0]
    assert list(ml_dtypes_codes("float8_e8m0fnu", x32)) == ([1, 1, 1] if ML_DTYPES_HAS_ROUNDING_BUGS
                                                            else [0, 0, 0])


# -- encode against the reference (saturating and not, float32 and float64) ----------------------
@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_encode_structured_like_reference(name, dtype, saturate):
    fmt = formats.get(name)
    x = without_nan_if_needed(name, structured_inputs(fmt, dtype))
    assert_codes_equal(fmt.encode(x, saturate=saturate), reference_codes(name, x, saturate), x,
                       f"{name} encode(saturate={saturate}) vs reference")


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_encode_random_sample_like_reference(name, saturate):
    fmt = formats.get(name)
    sample = np.random.default_rng(SEED + 2).choice(1 << 20, 3000, replace=False)
    for x in (random_float32(fmt, 1 << 20)[sample], random_float64(fmt, 3000)):
        x = without_nan_if_needed(name, x)
        assert_codes_equal(fmt.encode(x, saturate=saturate), reference_codes(name, x, saturate),
                           x, f"{name} encode(saturate={saturate}) vs reference")


# -- float64: rounded once, as ml_dtypes >= 0.7 does and earlier releases did not ---------------------
@pytest.mark.parametrize("name", NAMES)
def test_float64_rounds_once_where_ml_dtypes_double_rounds(name):
    """Just off a tie, float32 rounding lands on the tie and the tie then breaks the other way.
    Ours equals the exact rounding of the input itself. ml_dtypes < 0.7's float64 astype equals
    the exact rounding of the float32-rounded input (double rounding), so the two differ there;
    ml_dtypes >= 0.7 rounds once and must then agree with ours on every probe."""
    fmt = formats.get(name)
    v = finite_magnitudes(fmt)
    ties = (v[:-1] + v[1:]) / 2
    off = ties * 2.0 ** -30  # below half a float32 ulp of the tie: float32 rounds onto the tie
    x = np.concatenate([ties + off, ties - off, np.nextafter(ties, 0), np.nextafter(ties, np.inf)])
    x = np.concatenate([x, -x])
    ours = fmt.encode(x)
    assert_codes_equal(ours, reference_codes(name, x, False), x, f"{name} float64 vs reference")
    ml = ml_dtypes_codes(name, x)
    if not ML_DTYPES_HAS_ROUNDING_BUGS:
        assert_codes_equal(ml, ours, x, f"{name} ml_dtypes {ml_dtypes.__version__} float64 vs ours")
        return
    assert_codes_equal(ml, reference_codes(name, x.astype(np.float32), False), x,
                       f"{name} ml_dtypes float64 astype vs reference on float32(x)")
    assert (ours != ml).any(), "no double-rounding case found: the probe set is wrong"


# -- torch ----------------------------------------------------------------------------------------
def test_torch_e4m3fn_saturates_like_ours():
    import torch
    fmt = formats.get("float8_e4m3fn")
    x = np.concatenate([structured_inputs(fmt, np.float32), random_float32(fmt, 1 << 20)])
    theirs = torch.from_numpy(x).to(torch.float8_e4m3fn).view(torch.uint8).numpy()
    assert_codes_equal(fmt.encode(x, saturate=True), theirs, x, "float8_e4m3fn saturate vs torch")


def test_torch_e5m2_does_not_saturate_like_ours_but_for_nan_payload():
    import torch
    fmt = formats.get("float8_e5m2")
    x = np.concatenate([structured_inputs(fmt, np.float32), random_float32(fmt, 1 << 20)])
    theirs = torch.from_numpy(x).to(torch.float8_e5m2).view(torch.uint8).numpy()
    ours = fmt.encode(x, saturate=False)
    nan = np.isnan(x)
    assert nan.any()
    assert_codes_equal(ours[~nan], theirs[~nan], x[~nan], "float8_e5m2 vs torch")
    # torch writes NaN as 0x7F / 0xFF, we (and ml_dtypes) as 0x7E / 0xFE: both NaN, same sign.
    assert set(theirs[nan] & 0x7F) == {0x7F} and set(ours[nan] & 0x7F) == {0x7E}
    assert np.array_equal(theirs[nan] >> 7, ours[nan] >> 7)


# -- special-value policies -----------------------------------------------------------------------
@pytest.mark.parametrize("name", WITHOUT_NAN)
def test_formats_without_nan_reject_nan_and_always_saturate(name):
    fmt = formats.get(name)
    sign = 1 << (fmt.bits - 1)
    max_code = int(np.flatnonzero(fmt.values() == fmt.max)[0])
    for dtype in (np.float32, np.float64):
        with pytest.raises(ValueError, match=r"^x must not contain NaN"):
            fmt.encode(np.array([1.0, np.nan], dtype=dtype))
        for saturate in (False, True):
            x = np.array([np.inf, -np.inf, 2 * fmt.max, -1e30], dtype=dtype)
            assert list(fmt.encode(x, saturate=saturate)) == [max_code, sign | max_code,
                                                              max_code, sign | max_code]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fp8_overflow_and_nan_codes(dtype):
    e4m3, e5m2 = formats.get("float8_e4m3fn"), formats.get("float8_e5m2")
    x = np.array([np.inf, -np.inf, 464.0, -465.0, np.nan, np.copysign(np.nan, -1)], dtype=dtype)
    assert list(e4m3.encode(x, saturate=False)) == [0x7F, 0xFF, 0x7E, 0xFF, 0x7F, 0xFF]
    assert list(e4m3.encode(x, saturate=True)) == [0x7E, 0xFE, 0x7E, 0xFE, 0x7F, 0xFF]
    y = np.array([np.inf, -np.inf, 61440.0, -61439.0, np.nan, np.copysign(np.nan, -1)], dtype=dtype)
    assert list(e5m2.encode(y, saturate=False)) == [0x7C, 0xFC, 0x7C, 0xFB, 0x7E, 0xFE]
    assert list(e5m2.encode(y, saturate=True)) == [0x7B, 0xFB, 0x7B, 0xFB, 0x7E, 0xFE]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_e8m0_policies(dtype):
    fmt = formats.get("float8_e8m0fnu")
    no_code = np.array([0.0, -0.0, -1.0, -np.inf, np.nan, np.copysign(np.nan, -1)], dtype=dtype)
    ties = np.array([1.5, 3.0, 0.75, 1.4999999], dtype=dtype)
    for saturate in (False, True):
        assert set(fmt.encode(no_code, saturate=saturate)) == {0xFF}
        assert list(fmt.encode(ties, saturate=saturate)) == [0x80, 0x81, 0x7F, 0x7F]
    big = np.array([np.inf, 1.5 * 2.0 ** 127], dtype=dtype)
    assert list(fmt.encode(big, saturate=False)) == [0xFF, 0xFF]
    assert list(fmt.encode(big, saturate=True)) == [0xFE, 0xFE]
    if dtype == np.float64:
        assert list(fmt.encode(np.array([1e300, 1e-300]), saturate=False)) == [0xFF, 0x00]


def test_float64_subnormals_and_tiny_values_round_to_signed_zero():
    fmt = formats.get("float8_e4m3fn")
    tiny = np.finfo(np.float64).smallest_subnormal
    half_min_subnormal = 2.0 ** -10  # the tie between 0 and 2^-9: to even, 0
    x = np.array([tiny, -tiny, half_min_subnormal, -half_min_subnormal,
                  np.nextafter(half_min_subnormal, 1)])
    assert list(fmt.encode(x)) == [0x00, 0x80, 0x00, 0x80, 0x01]


# -- API: shapes, threads, bad input ---------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_parallel_path_equals_serial_path(name):
    fmt = formats.get(name)
    x = without_nan_if_needed(name, random_float32(fmt, floats.PARALLEL_MIN_SIZE * 2))
    whole = fmt.encode(x)  # one call over the threshold: the parallel kernel
    pieces = np.concatenate([fmt.encode(part) for part in np.array_split(x, 64)])
    assert_codes_equal(whole, pieces, x, f"{name} parallel vs serial encode")
    assert np.array_equal(fmt.decode(whole).view(np.uint32),
                          np.concatenate([fmt.decode(p) for p in np.array_split(whole, 64)])
                          .view(np.uint32))


@pytest.mark.parametrize("name", ["float6_e3m2fn", "float6_e2m3fn", "float4_e2m1fn"])
@pytest.mark.parametrize("where", [0, floats.PARALLEL_MIN_SIZE - 1, -1])
def test_one_nan_anywhere_in_a_parallel_sized_float32_array_is_refused(name, where):
    """The float32 kernels find NaN on their own pass, chunk by chunk in parallel."""
    x = np.ones(floats.PARALLEL_MIN_SIZE + 12345, np.float32)
    x[where] = np.nan
    with pytest.raises(ValueError, match=rf"^x must not contain NaN: {name} has no NaN code"):
        formats.get(name).encode(x)


def test_shapes_and_layouts_are_kept():
    fmt = formats.get("float8_e4m3fn")
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    codes = fmt.encode(x)
    assert codes.shape == (2, 3, 4) and codes.dtype == np.uint8
    assert fmt.decode(codes).shape == (2, 3, 4)
    strided = x[:, ::2, ::-1]
    assert np.array_equal(fmt.encode(strided), codes[:, ::2, ::-1])
    assert fmt.encode(3.0).shape == () and int(fmt.encode(3.0)) == 0x44
    assert fmt.encode([1.0, -2.0]).tolist() == [0x38, 0xC0]


def test_bad_input_names_the_argument():
    fmt = formats.get("float6_e2m3fn")
    with pytest.raises(ValueError, match="^x must be a float32 or float64 array"):
        fmt.encode(np.array([1, 2], dtype=np.int32))
    with pytest.raises(ValueError, match="^codes must hold float6_e2m3fn codes in 0..63"):
        fmt.decode(np.array([64], dtype=np.uint8))
    with pytest.raises(ValueError, match="^specials must be one of"):
        floats.Minifloat(name="x", ebits=4, mbits=3, bias=7, specials="fnuz")
    with pytest.raises(ValueError, match="^name must be one of"):
        reference.encode("float8_e4m3fnuz", 1.0, False)
