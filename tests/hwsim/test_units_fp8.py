"""lowbit.hwsim.units.fp8: every FP8 pair exhaustively, seeded random and corner-case MACs.

Every result is checked against (a) the plain-Python reference lowbit.hwsim.units.reference_fp,
(b) an oracle written here: exact ``Fraction`` arithmetic on values decoded by ml_dtypes,
rounded by the ``round_fraction`` fixture (tests/hwsim/conftest.py),
(c) ml_dtypes / torch float8 conversions where their semantics coincide with ours.
The rounded units are tested for every (operand a, operand b, result) format triple.
Random tests print their seed on failure; rerun one with
``pytest tests/hwsim/test_units_fp8.py -k NAME``.
"""
from __future__ import annotations

import functools
import itertools
import math
import struct
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
import torch

from lowbit.hwsim import formats
from lowbit.hwsim.bench.units_fp8 import numpy_fp8_mac
from lowbit.hwsim.units import fp8, reference_fp
from lowbit.hwsim.units.fp8 import fp8_add, fp8_mac, fp8_mul, fp8_mul_exact

FP8 = ("float8_e4m3fn", "float8_e5m2")
FORMAT_PAIRS = [(fa, fb) for fa in FP8 for fb in FP8]
FORMAT_TRIPLES = list(itertools.product(FP8, repeat=3))     # (fmt_a, fmt_b, fmt_out)
CODES = np.arange(256)
A, B = np.meshgrid(CODES, CODES, indexing="ij")       # every (a, b) pair, a major
SEED = 20261123

CANONICAL_NAN = {"float8_e4m3fn": 0x7F, "float8_e5m2": 0x7E}
NAN = ("nan", 0, None)


# -- the oracle -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def decoded(fmt: str) -> list:
    """(kind, sign, magnitude) of every code, decoded by ml_dtypes."""
    values = CODES.astype(np.uint8).view(getattr(ml_dtypes, fmt)).astype(np.float64)
    return [NAN if np.isnan(v) else ("inf", int(v < 0), None) if np.isinf(v)
            else ("fin", int(np.signbit(v)), abs(Fraction(float(v)))) for v in values]


@functools.lru_cache(maxsize=None)
def code_of(fmt: str) -> dict:
    """(sign, magnitude) -> code for every finite code, decoded by ml_dtypes."""
    return {(s, m): code for code, (kind, s, m) in enumerate(decoded(fmt)) if kind == "fin"}


@functools.lru_cache(maxsize=None)
def largest_finite(fmt: str) -> Fraction:
    """The largest finite magnitude, decoded by ml_dtypes."""
    return max(m for _, m in code_of(fmt))


def exact_mul(x, y):
    sign = x[1] ^ y[1]
    if x[0] == "nan" or y[0] == "nan":
        return NAN
    if x[0] == "inf" or y[0] == "inf":
        if x[2] == 0 or y[2] == 0:            # inf * 0 (the inf's magnitude is None, not 0)
            return NAN
        return ("inf", sign, None)
    return ("fin", sign, x[2] * y[2])


def exact_add(x, y):
    if x[0] == "nan" or y[0] == "nan" or (x[0] == y[0] == "inf" and x[1] != y[1]):
        return NAN
    if x[0] == "inf" or y[0] == "inf":
        return x if x[0] == "inf" else y
    total = (-x[2] if x[1] else x[2]) + (-y[2] if y[1] else y[2])
    if total == 0:                            # IEEE: -0 only for (-0) + (-0)
        return ("fin", x[1] & y[1] if x[2] == y[2] == 0 else 0, Fraction(0))
    return ("fin", int(total < 0), abs(total))


def fp8_code(x, fmt: str, saturate: bool, round_fraction) -> int:
    """The code an OFP8 unit must return for the exact result x."""
    if x[0] == "nan":
        return CANONICAL_NAN[fmt]
    mag = None if x[0] == "inf" else round_fraction(x[2], fmt)
    if mag is not None:
        return code_of(fmt)[(x[1], mag)]
    if saturate:
        return code_of(fmt)[(x[1], largest_finite(fmt))]
    return CANONICAL_NAN[fmt] if fmt == "float8_e4m3fn" else (x[1] << 7) | 0x7C


def f32_bits(x, round_fraction) -> int:
    """float32 bits of an exactly representable (kind, sign, magnitude)."""
    if x[0] == "nan":
        return 0x7FC00000
    if x[0] == "inf":
        return (x[1] << 31) | 0x7F800000
    assert round_fraction(x[2], "float32") == x[2], "not a float32 value"
    return struct.unpack(">I", struct.pack(">f", math.copysign(float(x[2]), -x[1] or 1)))[0]


def f32_value(bits: int):
    v = struct.unpack(">f", struct.pack(">I", int(bits)))[0]
    if math.isnan(v):
        return NAN
    if math.isinf(v):
        return ("inf", int(v < 0), None)
    return ("fin", int(math.copysign(1, v) < 0), abs(Fraction(v)))


def to_f32(x, round_fraction):
    """x rounded to float32: RNE, overflow to inf."""
    if x[0] != "fin":
        return x
    mag = round_fraction(x[2], "float32")
    return ("inf", x[1], None) if mag is None else ("fin", x[1], mag)


def oracle_mac(a_codes, b_codes, fmt_a, fmt_b, acc_bits, round_fraction) -> int:
    acc = f32_value(acc_bits)
    for a, b in zip(a_codes, b_codes):
        acc = to_f32(exact_add(acc, exact_mul(decoded(fmt_a)[a], decoded(fmt_b)[b])),
                     round_fraction)
    return f32_bits(acc, round_fraction)


# -- exhaustive: every pair ---------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def exact_results(op: str, fmt_a: str, fmt_b: str) -> list:
    combine = exact_mul if op == "mul" else exact_add
    da, db = decoded(fmt_a), decoded(fmt_b)
    return [combine(da[a], db[b]) for a, b in zip(A.ravel(), B.ravel())]


def reference_table(fn, *args, **kwargs) -> np.ndarray:
    return np.array([fn(a, b, *args, **kwargs)
                     for a, b in zip(A.ravel().tolist(), B.ravel().tolist())]).reshape(256, 256)


def assert_same(got, want, what: str):
    bad = np.argwhere(got != want)
    assert bad.size == 0, (f"{what}: {len(bad)} mismatches; first a=0x{bad[0][0]:02x} "
                           f"b=0x{bad[0][1]:02x}: want 0x{int(want[tuple(bad[0])]):x}, got "
                           f"0x{int(got[tuple(bad[0])]):x}")


def unit_name(op, fmt_a, fmt_b, fmt_out, saturate) -> str:
    return f"fp8_{op} {fmt_a} x {fmt_b} -> {fmt_out} saturate={saturate}"


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("op", ["mul", "add"])
@pytest.mark.parametrize("fmt_a, fmt_b, fmt_out", FORMAT_TRIPLES)
def test_rounded_ops_every_pair(fmt_a, fmt_b, fmt_out, op, saturate, round_fraction):
    unit = fp8_mul if op == "mul" else fp8_add
    got = unit(A, B, fmt_a, saturate, fmt_b=fmt_b, fmt_out=fmt_out)
    assert got.dtype == np.uint8 and got.shape == (256, 256)
    what = unit_name(op, fmt_a, fmt_b, fmt_out, saturate)
    ref = reference_table(getattr(reference_fp, f"fp8_{op}"), fmt_a, saturate, fmt_b=fmt_b,
                          fmt_out=fmt_out)
    assert_same(got, ref, what + " vs reference_fp")
    oracle = np.array([fp8_code(x, fmt_out, saturate, round_fraction)
                       for x in exact_results(op, fmt_a, fmt_b)])
    assert_same(got, oracle.reshape(256, 256), what + " vs Fraction")


@pytest.mark.parametrize("op", ["mul", "add"])
def test_rounded_ops_formats_default_to_fmt(op):
    """fmt_b and fmt_out each default to fmt (not to each other); positional calls unchanged."""
    unit = fp8_mul if op == "mul" else fp8_add
    for fmt, other in itertools.permutations(FP8):
        for saturate in (False, True):
            explicit = unit(A, B, fmt, saturate, fmt_b=fmt, fmt_out=fmt)
            assert_same(unit(A, B, fmt, saturate), explicit, f"fp8_{op} {fmt} defaults")
            assert_same(unit(A, B, fmt, saturate, fmt_b=other),
                        unit(A, B, fmt, saturate, fmt_b=other, fmt_out=fmt),
                        f"fp8_{op} {fmt} x {other}: fmt_out defaults to fmt")
            assert_same(unit(A, B, fmt, saturate, fmt_out=other),
                        unit(A, B, fmt, saturate, fmt_b=fmt, fmt_out=other),
                        f"fp8_{op} {fmt} -> {other}: fmt_b defaults to fmt")


def _ml_dtypes_result(op, fmt_a, fmt_b, fmt_out, saturate):
    """ml_dtypes' answer: the exact float64 result, cast to float32 and then to fmt_out (its
    cast is non-saturating, so saturation is a clip first: clip then round == round then clip).
    Also returns where that agrees with our contract: only where the float32 cast is exact,
    because ml_dtypes rounds float64 through float32 (double rounding)."""
    dtype = getattr(ml_dtypes, fmt_out)
    va, vb = (CODES.astype(np.uint8).view(getattr(ml_dtypes, fmt)).astype(np.float64)
              for fmt in (fmt_a, fmt_b))
    with np.errstate(invalid="ignore", over="ignore"):
        exact = np.multiply.outer(va, vb) if op == "mul" else np.add.outer(va, vb)
        if saturate:
            top = float(ml_dtypes.finfo(dtype).max)
            exact = np.clip(exact, -top, top)
        as_f32 = exact.astype(np.float32)
    comparable = (as_f32.astype(np.float64) == exact) | np.isnan(exact) | np.isinf(exact)
    return as_f32.astype(dtype).view(np.uint8), comparable


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("op", ["mul", "add"])
@pytest.mark.parametrize("fmt_a, fmt_b, fmt_out", FORMAT_TRIPLES)
def test_rounded_ops_agree_with_ml_dtypes(fmt_a, fmt_b, fmt_out, op, saturate):
    got = (fp8_mul if op == "mul" else fp8_add)(A, B, fmt_a, saturate, fmt_b=fmt_b,
                                                fmt_out=fmt_out)
    want, comparable = _ml_dtypes_result(op, fmt_a, fmt_b, fmt_out, saturate)
    dtype = getattr(ml_dtypes, fmt_out)
    both_nan = np.isnan(got.view(dtype).astype(np.float32)) & \
        np.isnan(want.view(dtype).astype(np.float32))   # ml_dtypes keeps NaN signs; we do not
    assert_same(np.where(both_nan | ~comparable, 0, got), np.where(both_nan | ~comparable, 0, want),
                unit_name(op, fmt_a, fmt_b, fmt_out, saturate) + " vs ml_dtypes")
    # All products and all E4M3 + E4M3 sums are float32 values; only some sums with an E5M2
    # operand are not (their exact values span up to 25 or 32 bits).
    assert comparable.all() or (op == "add" and "float8_e5m2" in (fmt_a, fmt_b))
    assert comparable.mean() > 0.85


@pytest.mark.parametrize("op", ["mul", "add"])
@pytest.mark.parametrize("fmt_out, saturate", [("float8_e4m3fn", True), ("float8_e5m2", False)])
@pytest.mark.parametrize("fmt_a, fmt_b", FORMAT_PAIRS)
def test_rounded_ops_agree_with_torch(fmt_a, fmt_b, fmt_out, saturate, op):
    """torch's float32 -> float8_e4m3fn cast saturates (inf and overflow -> +-448) and its
    float8_e5m2 cast does not: those are the two modes torch shares with us. Compared where the
    exact result is a float32 (torch rounds float64 through float32 too)."""
    _, comparable = _ml_dtypes_result(op, fmt_a, fmt_b, fmt_out, saturate)
    va, vb = (torch.from_numpy(CODES.astype(np.uint8)).view(getattr(torch, fmt)).double()
              for fmt in (fmt_a, fmt_b))
    exact = va[:, None] * vb if op == "mul" else va[:, None] + vb
    want = exact.float().to(getattr(torch, fmt_out)).view(torch.uint8).numpy()
    got = (fp8_mul if op == "mul" else fp8_add)(A, B, fmt_a, saturate, fmt_b=fmt_b,
                                                fmt_out=fmt_out)
    nan = CODES.astype(np.uint8).view(getattr(ml_dtypes, fmt_out)).astype(np.float32)
    both_nan = np.isnan(nan[got]) & np.isnan(nan[want])
    skip = both_nan | ~comparable
    assert_same(np.where(skip, 0, got), np.where(skip, 0, want),
                unit_name(op, fmt_a, fmt_b, fmt_out, saturate) + " vs torch")


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("fmt_a, fmt_b, fmt_out", FORMAT_TRIPLES)
def test_rounded_ops_equal_formats_encode_of_exact_result(fmt_a, fmt_b, fmt_out, saturate):
    """The units and lowbit.hwsim.formats share one OFP8 rounding: fp8_mul is fmt_out's encode of
    the exact float32 product, fp8_add its encode of the float64 sum (exact: <= 33 bits).
    NaN results are compared as NaN only: encode keeps NaN signs, the units do not."""
    f = formats.get(fmt_out)
    with np.errstate(invalid="ignore"):
        exact_sum = formats.get(fmt_a).values()[A] + formats.get(fmt_b).values()[B]
    exact_product = fp8_mul_exact(A, B, fmt_a, fmt_b).view(np.float32)
    for op, unit, exact in (("mul", fp8_mul, exact_product), ("add", fp8_add, exact_sum)):
        got = unit(A, B, fmt_a, saturate, fmt_b=fmt_b, fmt_out=fmt_out)
        want = f.encode(exact, saturate)
        nan = np.isnan(f.decode(want))
        what = unit_name(op, fmt_a, fmt_b, fmt_out, saturate)
        assert (np.isnan(f.decode(got)) == nan).all(), f"{what}: NaN positions differ"
        assert_same(np.where(nan, 0, got), np.where(nan, 0, want),
                    what + " vs lowbit.hwsim.formats encode")


@pytest.mark.parametrize("fmt_a, fmt_b", FORMAT_PAIRS)
def test_mul_exact_every_pair(fmt_a, fmt_b, round_fraction):
    got = fp8_mul_exact(A, B, fmt_a, fmt_b)
    assert got.dtype == np.uint32
    ref = reference_table(reference_fp.fp8_mul_exact, fmt_a, fmt_b)
    assert_same(got, ref, f"fp8_mul_exact {fmt_a} x {fmt_b} vs reference_fp")
    # f32_bits asserts that every product is a float32 value: the docstring's exactness claim.
    oracle = np.array([f32_bits(x, round_fraction) for x in exact_results("mul", fmt_a, fmt_b)])
    assert_same(got, oracle.reshape(256, 256), f"fp8_mul_exact {fmt_a} x {fmt_b} vs Fraction")
    # ml_dtypes and torch: the float32 product of the decoded values (exact, so no rounding).
    va = CODES.astype(np.uint8).view(getattr(ml_dtypes, fmt_a)).astype(np.float32)
    vb = CODES.astype(np.uint8).view(getattr(ml_dtypes, fmt_b)).astype(np.float32)
    with np.errstate(invalid="ignore"):
        theirs = np.multiply.outer(va, vb)
    ta = torch.from_numpy(CODES.astype(np.uint8)).view(getattr(torch, fmt_a)).float()
    tb = torch.from_numpy(CODES.astype(np.uint8)).view(getattr(torch, fmt_b)).float()
    for name, other in (("ml_dtypes", theirs), ("torch", torch.outer(ta, tb).numpy())):
        nan = np.isnan(other)
        assert (nan == np.isnan(got.view(np.float32))).all(), f"NaN positions differ from {name}"
        assert_same(np.where(nan, 0, got), np.where(nan, 0, other.view(np.uint32)),
                    f"fp8_mul_exact {fmt_a} x {fmt_b} vs {name}")


def test_rounded_ops_hand_checked():
    """Rounding and overflow edges spelled out (E4M3 0x38 = 1.0; E5M2 0x3C = 1.0)."""
    e4, e5 = "float8_e4m3fn", "float8_e5m2"
    # 448 + 16 = 464: midpoint of 448 (S.1111.110) and 480 (NaN code): even -> 448.
    assert fp8_add(0x7E, 0x58, e4, False) == 0x7E            # 0x58 = 16
    assert fp8_add(0x7E, 0x59, e4, False) == 0x7F            # 448 + 18 > 464: overflow -> NaN
    assert fp8_add(0xFE, 0xD9, e4, False) == 0x7F            # canonical NaN, whatever the sign
    assert fp8_add(0xFF, 0x38, e4, False) == 0x7F
    assert fp8_add(0xFE, 0xD9, e4, True) == 0xFE             # saturate -> -448
    # E5M2: 57344 + 4096 = 61440, midpoint of 57344 (mantissa 11, odd) and 65536: up -> inf.
    assert fp8_add(0x7B, 0x6C, e5, False) == 0x7C            # 0x6C = 4096
    assert fp8_add(0x7B, 0x6C, e5, True) == 0x7B
    assert fp8_add(0x7B, 0x68, e5, False) == 0x7B            # + 2048: below the midpoint
    assert fp8_mul(0x7C, 0x3C, e5, True) == 0x7B             # inf * 1 saturates to max
    assert fp8_mul(0x7C, 0x00, e5, True) == 0x7E             # inf * 0 = NaN in both modes
    assert fp8_add(0x7C, 0xFC, e5, True) == 0x7E             # inf - inf = NaN
    assert fp8_add(0x80, 0x80, e4, False) == 0x80            # -0 + -0 = -0
    assert fp8_add(0x80, 0x00, e4, False) == 0x00            # -0 + +0 = +0
    assert fp8_add(0x38, 0xB8, e4, False) == 0x00            # 1 + -1 = +0
    assert fp8_mul(0x01, 0x81, e4, False) == 0x80            # 2^-9 * -2^-9 underflows to -0
    assert fp8_mul(0x08, 0x30, e4, False) == 0x04            # 2^-6 * 0.5 = subnormal 2^-7
    assert fp8_mul_exact(0x01, 0x01, e5, e5) == 0x2F800000   # 2^-32, a normal float32
    assert fp8_mul_exact(0x7E, 0x7E, e4, e4) == 0x48440000   # 448^2 = 200704


def test_mixed_rounded_ops_hand_checked():
    """Mixed-format edges (E4M3 0x38 = 1.0, 0x7E = 448; E5M2 0x3C = 1.0, 0x7B = 57344)."""
    e4, e5 = "float8_e4m3fn", "float8_e5m2"
    # 448 * 57344 overflows E5M2: inf, or max when saturating.
    assert fp8_mul(0x7E, 0x7B, e4, False, fmt_b=e5, fmt_out=e5) == 0x7C
    assert fp8_mul(0x7E, 0xFB, e4, True, fmt_b=e5, fmt_out=e5) == 0xFB
    # 448^2 = 200704 is an E4M3 x E4M3 product that only E5M2 could hold, and it cannot.
    assert fp8_mul(0x7E, 0x7E, e4, False, fmt_out=e5) == 0x7C
    # An E5M2 inf times E4M3 1.0 into E4M3: no inf there, so NaN, or -max when saturating.
    assert fp8_mul(0x38, 0xFC, e4, False, fmt_b=e5) == 0x7F
    assert fp8_mul(0x38, 0xFC, e4, True, fmt_b=e5) == 0xFE
    # E5M2 values below E4M3's smallest subnormal 2^-9: 2^-10 is the tie with 0 (even: 0),
    # 1.25 * 2^-10 rounds up, 2^-16 underflows to a zero that keeps its sign.
    assert fp8_mul(0x38, 0x14, e4, False, fmt_b=e5) == 0x00
    assert fp8_mul(0x38, 0x15, e4, False, fmt_b=e5) == 0x01
    assert fp8_mul(0xB8, 0x01, e4, False, fmt_b=e5) == 0x80
    assert fp8_mul(0x01, 0x01, e4, False, fmt_b=e5, fmt_out=e5) == 0x00   # 2^-25 -> +0
    assert fp8_add(0x00, 0x81, e4, False, fmt_b=e5) == 0x80   # +0 + -2^-16 -> -0 in E4M3
    # E4M3 448 + E5M2 16 (0x4C) = 464: in E4M3 the midpoint of 448 and 480 (even: 448); in
    # E5M2 below 480, the midpoint of 448 (0x5F) and 512.
    assert fp8_add(0x7E, 0x4C, e4, False, fmt_b=e5) == 0x7E
    assert fp8_add(0x7E, 0x4C, e4, False, fmt_b=e5, fmt_out=e5) == 0x5F
    assert fp8_add(0x3C, 0x38, e5, False, fmt_b=e4, fmt_out=e4) == 0x40   # 1 + 1 = 2
    assert fp8_add(0x7C, 0x7E, e5, False, fmt_b=e4, fmt_out=e4) == 0x7F   # inf + 448 -> NaN
    assert fp8_add(0x7C, 0x7E, e5, True, fmt_b=e4, fmt_out=e4) == 0x7E    # ... or max


# -- MAC ----------------------------------------------------------------------------------------
def _finite_codes(rng, fmt, shape, keep_special=0.1):
    """Uniform codes, each NaN/inf code kept with probability ``keep_special`` and otherwise
    replaced by a random finite one (uniform codes would make most long E5M2 dots NaN)."""
    codes = rng.integers(0, 256, shape)
    values = CODES.astype(np.uint8).view(getattr(ml_dtypes, fmt)).astype(np.float32)
    finite = np.flatnonzero(np.isfinite(values))
    replace = ~np.isfinite(values[codes]) & (rng.random(shape) > keep_special)
    codes[replace] = rng.choice(finite, replace.sum())
    return codes


def _random_acc_bits(rng, rows):
    """float32 bits: +0 for a quarter, else random sign and mantissa, exponent 2^-50 .. 2^50,
    and a few subnormals."""
    bits = (rng.integers(0, 2, rows) << 31) | (rng.integers(77, 177, rows) << 23) \
        | rng.integers(0, 1 << 23, rows)
    bits[rng.random(rows) < 0.25] = 0
    subnormal = rng.random(rows) < 0.02
    bits[subnormal] = rng.integers(1, 1 << 23, subnormal.sum())
    return bits.astype(np.uint32)


MAC_LENGTHS = (1, 2, 3, 8, 16, 31, 64)        # 4 format pairs x 7 lengths x 3572 rows = 100,016


def test_mac_random_100k(round_fraction):
    """100,016 seeded random dot products against the numpy baseline and the reference;
    the first 60 rows of each group also against the Fraction oracle."""
    rng = np.random.default_rng(SEED)
    rows = 3572
    for fmt_a, fmt_b in FORMAT_PAIRS:
        for n in MAC_LENGTHS:
            a = _finite_codes(rng, fmt_a, (rows, n))
            b = _finite_codes(rng, fmt_b, (rows, n))
            acc = _random_acc_bits(rng, rows)
            got = fp8_mac(a, b, fmt_a, fmt_b, acc.view(np.float32))
            what = f"fp8_mac {fmt_a} x {fmt_b} n={n} seed={SEED}"
            baseline = numpy_fp8_mac(a, b, fmt_a, fmt_b, acc.view(np.float32))
            _assert_rows(got, baseline, a, b, acc, what + " vs numpy")
            ref = np.array([reference_fp.fp8_mac(x, y, fmt_a, fmt_b, c)
                            for x, y, c in zip(a.tolist(), b.tolist(), acc.tolist())])
            _assert_rows(got, ref, a, b, acc, what + " vs reference_fp")
            oracle = np.array([oracle_mac(x, y, fmt_a, fmt_b, c, round_fraction)
                               for x, y, c in zip(a[:60].tolist(), b[:60].tolist(),
                                                  acc[:60].tolist())])
            _assert_rows(got[:60], oracle, a, b, acc, what + " vs Fraction")


def _assert_rows(got, want, a, b, acc, what):
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{what}: {bad.size} rows differ; row {bad[0]}: a={a[bad[0]].tolist()}"
                           f" b={b[bad[0]].tolist()} acc=0x{int(acc[bad[0]]):08x}: want "
                           f"0x{int(want[bad[0]]):08x}, got 0x{int(got[bad[0]]):08x}")


def _f32(x: float) -> int:
    return int(np.float32(x).view(np.uint32))


E4, E5 = "float8_e4m3fn", "float8_e5m2"
MAC_CORNERS = [
    # (name, a codes, b codes, fmt_a, fmt_b, acc bits, expected bits or None)
    ("all max e4m3", [0x7E] * 64, [0x7E] * 64, E4, E4, 0, _f32(64 * 448.0 ** 2)),
    ("all max e5m2, rounding every step", [0x7B] * 1000, [0x7B] * 1000, E5, E5, 0, None),
    ("all -max e5m2 x max e4m3", [0xFB] * 500, [0x7E] * 500, E5, E4, 0, None),
    ("alternating signs cancel to +0", [0x7E] * 64, [0x38, 0xB8] * 32, E4, E4, 0, 0),
    ("absorption: big + tiny - big = +0", [0x7B, 0x01, 0xFB], [0x7B, 0x01, 0x7B], E5, E5, 0, 0),
    ("tie 2^24 + 1 -> 2^24 (even)", [0x38], [0x38], E4, E4, _f32(2.0 ** 24), _f32(2.0 ** 24)),
    ("tie 2^24 + 3 -> 2^24 + 4", [0x38], [0x44], E4, E4, _f32(2.0 ** 24), _f32(2.0 ** 24 + 4)),
    # |product| < 2^32 is far below half an ulp of FLT_MAX (2^103): a finite accumulator
    # cannot overflow, it stays at the edge.
    ("edge: FLT_MAX + max products stays FLT_MAX", [0x7B] * 8, [0x7B] * 8, E5, E5,
     0x7F7FFFFF, 0x7F7FFFFF),
    ("overflowed acc: +inf + finite = +inf", [0xFB] * 4, [0x7B] * 4, E5, E5, 0x7F800000,
     0x7F800000),
    ("inf product", [0x38, 0x7C, 0x38], [0x3C, 0x3C, 0xBC], E5, E5, 0, 0x7F800000),
    ("inf - inf = NaN", [0x7C, 0xFC], [0x3C, 0x3C], E5, E5, 0, 0x7FC00000),
    ("+inf acc + -inf product = NaN", [0xFC], [0x38], E5, E4, 0x7F800000, 0x7FC00000),
    ("inf * 0 = NaN", [0x38, 0x7C], [0x38, 0x00], E5, E4, 0, 0x7FC00000),
    ("e4m3 NaN operand", [0x38, 0xFF, 0x38], [0x38, 0x38, 0x38], E4, E4, 0, 0x7FC00000),
    ("e5m2 NaN operand", [0x7D], [0x00], E5, E5, 0, 0x7FC00000),
    ("NaN acc (negative, payload) -> canonical", [0x38], [0x38], E4, E4, 0xFFC00123, 0x7FC00000),
    ("subnormal acc kept through +0 products", [0x00] * 4, [0x38] * 4, E4, E4, 1, 1),
    ("negative subnormal acc kept", [0x00], [0x38], E4, E4, 0x80000003, 0x80000003),
    ("subnormal acc absorbed by 2^-32", [0x01], [0x01], E5, E5, 1, 0x2F800000),
    ("largest subnormal + product", [0x01], [0x01], E4, E4, 0x007FFFFF, None),
    ("-0 acc + -0 product = -0", [0x80], [0x38], E4, E4, 0x80000000, 0x80000000),
    ("-0 acc + +0 product = +0", [0x00], [0x38], E4, E4, 0x80000000, 0),
    ("+0 acc + -0 product = +0", [0x80], [0x38], E4, E4, 0, 0),
    ("empty dot product returns acc", [], [], E4, E5, _f32(-2.5), _f32(-2.5)),
]


@pytest.mark.parametrize("name, a, b, fmt_a, fmt_b, acc_bits, expected", MAC_CORNERS,
                         ids=[c[0] for c in MAC_CORNERS])
def test_mac_corner_cases(name, a, b, fmt_a, fmt_b, acc_bits, expected, round_fraction):
    acc = np.uint32(acc_bits).view(np.float32)
    got = int(fp8_mac(np.array(a, dtype=np.uint8), np.array(b, dtype=np.uint8), fmt_a, fmt_b,
                      acc))
    assert got == reference_fp.fp8_mac(a, b, fmt_a, fmt_b, acc_bits), name
    assert got == oracle_mac(a, b, fmt_a, fmt_b, acc_bits, round_fraction), name
    if expected is not None:
        assert got == expected, f"{name}: want 0x{expected:08x}, got 0x{got:08x}"


def test_mac_shapes_and_acc_broadcast():
    a = np.full((2, 3, 5), 0x38, np.uint8)                     # ones
    got = fp8_mac(a, a, E4, E4, acc=np.array([0.5, -1.0, 2.0], np.float32))
    assert got.shape == (2, 3) and got.dtype == np.uint32
    assert (got.view(np.float32) == np.array([[5.5, 4.0, 7.0]] * 2, np.float32)).all()
    assert isinstance(fp8_mac(a[0, 0], a[0, 0], E4, E4), np.uint32)   # 1-D: a numpy scalar
    assert fp8_mac(a[0, 0], a[0, 0], E4, E4, acc=0.25).view(np.float32) == 5.25


def test_float64_sum_then_float32_is_rne_for_two_float32():
    """The fp8_mac docstring's claim: for two float32 addends, rounding the float64 sum to
    float32 equals rounding the exact sum once (53 >= 2*24 + 1). Checked on random pairs whose
    exponents differ by 0..40, so many sums are inexact in float64 too."""
    rng = np.random.default_rng(SEED)
    n = 20000
    x_bits = (rng.integers(0, 2, n) << 31) | (rng.integers(1, 254, n) << 23) \
        | rng.integers(0, 1 << 23, n)
    gap = rng.integers(0, 41, n)
    y_exp = np.clip(((x_bits >> 23) & 0xFF) - gap, 0, 254)
    y_bits = (rng.integers(0, 2, n) << 31) | (y_exp << 23) | rng.integers(0, 1 << 23, n)
    x = x_bits.astype(np.uint32).view(np.float32)
    y = y_bits.astype(np.uint32).view(np.float32)
    with np.errstate(over="ignore"):
        via_f64 = (x.astype(np.float64) + y).astype(np.float32).view(np.uint32)
    exact = [reference_fp.f32_add(int(xb), reference_fp.decode_f32(int(yb)))
             for xb, yb in zip(x_bits, y_bits)]
    assert (via_f64 == np.array(exact, dtype=np.uint32)).all(), f"seed {SEED}"


# -- bad input ----------------------------------------------------------------------------------
BAD_INPUTS = [
    ("fmt_a", lambda: fp8_mul_exact(1, 2, "float8_e4m3", E4)),
    ("fmt_b", lambda: fp8_mul_exact(1, 2, E4, "float6_e3m2fn")),
    ("fmt", lambda: fp8_mul(1, 2, "int8", True)),
    ("fmt", lambda: fp8_add(1, 2, None, True)),
    ("fmt_b", lambda: fp8_mul(1, 2, E4, True, fmt_b="float8_e4m3")),
    ("fmt_out", lambda: fp8_add(1, 2, E4, True, fmt_b=E5, fmt_out="float16")),
    ("saturate", lambda: fp8_mul(1, 2, E4, "yes")),
    ("saturate", lambda: fp8_add(1, 2, E4, 1)),
    ("a must hold", lambda: fp8_mul(256, 2, E4, True)),
    ("b must hold", lambda: fp8_add(1, -1, E5, False)),
    ("a must be an integer array", lambda: fp8_mul_exact(1.0, 2, E4, E4)),
    ("broadcast", lambda: fp8_mul(np.zeros(3, int), np.zeros(4, int), E4, True)),
    ("same shape", lambda: fp8_mac(np.zeros(3, int), np.zeros(4, int), E4, E4)),
    ("same shape", lambda: fp8_mac(5, 5, E4, E4)),
    ("a_codes must hold", lambda: fp8_mac(np.array([300]), np.array([1]), E4, E4)),
    ("b_codes must be an integer array", lambda: fp8_mac(np.array([1]), np.array([1.5]), E4, E4)),
    ("acc must hold float32", lambda: fp8_mac(np.array([1]), np.array([1]), E4, E4, acc=0.1)),
    ("acc must broadcast", lambda: fp8_mac(np.ones((2, 3), int), np.ones((2, 3), int), E4, E4,
                                           acc=np.zeros(3, np.float32))),
    ("acc must be a float32", lambda: fp8_mac(np.array([1]), np.array([1]), E4, E4,
                                              acc=np.array(1, np.int32))),
]


@pytest.mark.parametrize("match, call", BAD_INPUTS, ids=[f"{i}-{m}" for i, (m, _) in
                                                        enumerate(BAD_INPUTS)])
def test_bad_input_raises_value_error(match, call):
    with pytest.raises(ValueError, match=match):
        call()


def test_reference_rejects_bad_input():
    with pytest.raises(ValueError, match="fmt"):
        reference_fp.fp8_mul(1, 2, "float8_e4m3", True)
    with pytest.raises(ValueError, match="fmt_out"):
        reference_fp.fp8_add(1, 2, E4, True, fmt_out="int8")
    with pytest.raises(ValueError, match="a_codes and b_codes"):
        reference_fp.fp8_mac([1, 2], [1], E4, E4)


def test_decode_table_matches_ml_dtypes():
    """The units' own bit-field decoding equals ml_dtypes for every code of every format."""
    for fid, fmt in enumerate(fp8.ELEMENT_FORMATS):
        cls, neg, sig, k = fp8.decode_table(fid)
        size = 1 << (8 if fmt.startswith("float8") else int(fmt[5]))
        theirs = np.arange(size, dtype=np.uint8).view(getattr(ml_dtypes, fmt)).astype(np.float64)
        ours = np.where(neg == 1, -1.0, 1.0)[:size] * np.ldexp(sig[:size].astype(float), k[:size])
        assert (np.isnan(theirs) == (cls[:size] == fp8.NAN)).all(), fmt
        assert (np.isinf(theirs) == (cls[:size] == fp8.INF)).all(), fmt
        finite = cls[:size] == fp8.FINITE
        assert (ours[finite] == theirs[finite]).all(), fmt
        assert (np.signbit(ours[finite]) == np.signbit(theirs[finite])).all(), fmt


def test_decoding_table_read_off_the_formats_is_the_ocp_tables():
    """The decoding table the units derive from lowbit.hwsim.formats equals OCP OFP8 rev 1.0
    table 1 and OCP MX v1.0 table 1, typed here once by hand."""
    ocp = {  # bits, mbits, bias, max magnitude code, inf code, first NaN code, canonical NaN
        "float8_e4m3fn": [8, 3, 7, 0x7E, -1, 0x7F, 0x7F],
        "float8_e5m2": [8, 2, 15, 0x7B, 0x7C, 0x7D, 0x7E],
        "float6_e3m2fn": [6, 2, 3, 0x1F, -1, 0x40, -1],
        "float6_e2m3fn": [6, 3, 1, 0x1F, -1, 0x40, -1],
        "float4_e2m1fn": [4, 1, 1, 0x07, -1, 0x10, -1],
    }
    assert fp8.ELEMENT_FORMATS == tuple(ocp)
    assert fp8.FP8_FORMATS == ("float8_e4m3fn", "float8_e5m2")
    assert {name: fp8._TABLE[fid].tolist() for fid, name in enumerate(fp8.ELEMENT_FORMATS)} == ocp
