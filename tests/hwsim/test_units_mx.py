"""lowbit.hwsim.units.mx: seeded random and corner-case MX dot products.

Every result is checked against the plain-Python reference lowbit.hwsim.units.reference_fp, an oracle
written here (exact ``Fraction`` arithmetic on values decoded by ml_dtypes, rounded by the
``round_fraction`` fixture of tests/hwsim/conftest.py), and, for format
pairs whose block sums fit 53 bits, the numpy baseline of lowbit.hwsim.bench.units_fp8. Random tests
print their seed on failure; rerun one with
``pytest tests/hwsim/test_units_mx.py -k NAME``.
"""
from __future__ import annotations

import functools
import math
import struct
import types
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from numba.core.registry import CPUDispatcher

from lowbit.hwsim.bench.units_fp8 import numpy_mx_dot
from lowbit.hwsim.units import fp8, mx, reference_fp
from lowbit.hwsim.units.mx import mx_dot

ELEMENTS = ("float8_e4m3fn", "float8_e5m2", "float6_e3m2fn", "float6_e2m3fn", "float4_e2m1fn")
BITS = {"float8_e4m3fn": 8, "float8_e5m2": 8, "float6_e3m2fn": 6, "float6_e2m3fn": 6,
        "float4_e2m1fn": 4}
SEED = 20261124
NAN_BITS = 0x7FC00000


# -- the oracle -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def element_values(fmt: str) -> list:
    """Every code's value decoded by ml_dtypes: a Fraction, or the float nan / +-inf."""
    codes = np.arange(1 << BITS[fmt], dtype=np.uint8)
    values = codes.view(getattr(ml_dtypes, fmt)).astype(np.float64)
    return [float(v) if not np.isfinite(v) else Fraction(float(v)) for v in values]


def block_oracle(a, sa, b, sb, fmt_a, fmt_b, round_fraction) -> float:
    """The block value B_j as a Python float (float32-representable), computed from Fractions."""
    products = []
    for x, y in zip((element_values(fmt_a)[c] for c in a), (element_values(fmt_b)[c] for c in b)):
        if isinstance(x, float) or isinstance(y, float):
            products.append(float(x) * float(y))        # IEEE float rules: inf*0, NaN
        else:
            products.append(x * y)
    if sa == 0xFF or sb == 0xFF or any(isinstance(p, float) and math.isnan(p) for p in products):
        return math.nan
    infs = {p for p in products if isinstance(p, float)}
    if infs:
        return math.nan if len(infs) == 2 else infs.pop()
    exact = sum(products, Fraction(0)) * Fraction(2) ** (sa + sb - 254)
    if exact == 0:
        return 0.0                                      # an exact zero block is +0
    mag = round_fraction(abs(exact), "float32")
    return math.copysign(math.inf if mag is None else float(mag), exact)


def add_f32(acc: float, x: float, round_fraction) -> float:
    """float32 RNE of acc + x for float32-representable floats, from the exact sum."""
    if math.isnan(acc) or math.isnan(x) or math.isinf(acc) or math.isinf(x):
        return acc + x                                  # IEEE inf/NaN rules, exact
    total = Fraction(acc) + Fraction(x)
    if total == 0:                                      # -0 only for (-0) + (-0)
        return -0.0 if math.copysign(1, acc) < 0 and math.copysign(1, x) < 0 else 0.0
    mag = round_fraction(abs(total), "float32")
    return math.copysign(math.inf if mag is None else float(mag), total)


def oracle_dot(a, sa, b, sb, fmt_a, fmt_b, round_fraction, acc_bits=0) -> int:
    acc = struct.unpack(">f", struct.pack(">I", acc_bits))[0]
    for j in range(len(sa)):
        blk = slice(32 * j, 32 * j + 32)
        block = block_oracle(a[blk], sa[j], b[blk], sb[j], fmt_a, fmt_b, round_fraction)
        acc = add_f32(acc, block, round_fraction)
    return NAN_BITS if math.isnan(acc) else struct.unpack(">I", struct.pack(">f", acc))[0]


# -- random -------------------------------------------------------------------------------------
def _codes(rng, fmt, shape, keep_special=0.1):
    """Uniform codes; an FP8 NaN/inf code is kept with probability keep_special, otherwise
    replaced by a random finite code (so that most blocks stay finite)."""
    codes = rng.integers(0, 1 << BITS[fmt], shape)
    values = np.array([float(v) for v in element_values(fmt)])
    finite = np.flatnonzero(np.isfinite(values))
    replace = ~np.isfinite(values[codes]) & (rng.random(shape) > keep_special)
    codes[replace] = rng.choice(finite, replace.sum())
    return codes


def _scales(rng, shape):
    """E8M0 codes: mostly 2^-17 .. 2^17, and 5% anywhere in 0..255 (overflow to inf,
    underflow to subnormals and zero, NaN scales)."""
    scales = rng.integers(110, 145, shape)
    wild = rng.random(shape) < 0.05
    scales[wild] = rng.integers(0, 256, wild.sum())
    return scales


ROWS = 1334                 # 25 format pairs x 3 block counts x 1334 rows = 100,050 dots
ORACLE_ROWS = 16


@pytest.mark.parametrize("fmt_a", ELEMENTS)
def test_mx_dot_random_100k(fmt_a, round_fraction):
    """100,050 seeded random MX dot products (20,010 per fmt_a) against the reference; the
    numpy baseline where it applies; the first rows of each group against the oracle."""
    rng = np.random.default_rng([SEED, ELEMENTS.index(fmt_a)])
    for fmt_b in ELEMENTS:
        for blocks in (1, 2, 4):
            a = _codes(rng, fmt_a, (ROWS, 32 * blocks))
            b = _codes(rng, fmt_b, (ROWS, 32 * blocks))
            sa, sb = _scales(rng, (ROWS, blocks)), _scales(rng, (ROWS, blocks))
            got = mx_dot(a, sa, b, sb, fmt_a, fmt_b)
            what = f"mx_dot {fmt_a} x {fmt_b} blocks={blocks} seed=[{SEED}, " \
                   f"{ELEMENTS.index(fmt_a)}]"
            rows = list(zip(a.tolist(), sa.tolist(), b.tolist(), sb.tolist()))
            ref = [reference_fp.mx_dot(x, s, y, t, fmt_a, fmt_b) for x, s, y, t in rows]
            _assert_rows(got, ref, rows, what + " vs reference_fp")
            oracle = [oracle_dot(x, s, y, t, fmt_a, fmt_b, round_fraction)
                      for x, s, y, t in rows[:ORACLE_ROWS]]
            _assert_rows(got[:ORACLE_ROWS], oracle, rows, what + " vs Fraction")
            if "float8_e5m2" not in (fmt_a, fmt_b):
                _assert_rows(got, numpy_mx_dot(a, sa, b, sb, fmt_a, fmt_b), rows,
                             what + " vs numpy")


def _assert_rows(got, want, rows, what):
    bad = np.flatnonzero(got != np.asarray(want, dtype=np.uint32))
    assert bad.size == 0, (f"{what}: {bad.size} rows differ; row {bad[0]} "
                           f"(a, a_scales, b, b_scales) = {rows[bad[0]]}: want "
                           f"0x{int(want[bad[0]]):08x}, got 0x{int(got[bad[0]]):08x}")


# -- corner cases -------------------------------------------------------------------------------
E4, E5, E2M1 = "float8_e4m3fn", "float8_e5m2", "float4_e2m1fn"


def _f32(x: float) -> int:
    return int(np.float32(x).view(np.uint32))


def _operands(blocks):
    """a and b codes from one list of (a, b) code pairs per block, each zero-padded to 32
    elements (code 0 is +0 in every format)."""
    a, b = [], []
    for pairs in blocks:
        pad = [(0, 0)] * (32 - len(pairs))
        a += [p[0] for p in pairs + pad]
        b += [p[1] for p in pairs + pad]
    return a, b


MAX_E5M2_SQ = 57344.0 ** 2
CORNERS = [
    # (name, blocks of (a, b) code pairs, a_scales, b_scales, fmt_a, fmt_b, expected bits|None)
    ("all max e4m3", [[(0x7E, 0x7E)] * 32], [127], [127], E4, E4, _f32(32 * 448.0 ** 2)),
    ("all max, max scales -> +inf", [[(0x7E, 0x7E)] * 32], [254], [254], E4, E4, 0x7F800000),
    ("all -max, max scales -> -inf", [[(0xFE, 0x7E)] * 32], [254], [254], E4, E4, 0xFF800000),
    ("alternating signs -> +0", [[(0x7E, 0x38), (0x7E, 0xB8)] * 16], [127], [127], E4, E4, 0),
    ("exact block: max^2 - max^2 + 2^-32 (sequential float32 would give 0)",
     [[(0x7B, 0x7B), (0xFB, 0x7B), (0x01, 0x01)]], [127], [127], E5, E5, 0x2F800000),
    ("72-bit block, negative: -max^2 + 2^-32 rounds to -max^2",
     [[(0xFB, 0x7B), (0x01, 0x01)]], [127], [127], E5, E5, _f32(-MAX_E5M2_SQ)),
    ("tie: 64 + 2^-18 -> 64 (even)", [[(0x50, 0x50), (0x01, 0x01)]], [127], [127], E4, E4,
     _f32(64.0)),
    ("tie: 64 + 3*2^-18 -> 64 + 2^-16", [[(0x50, 0x50), (0x01, 0x01), (0x01, 0x02)]], [127],
     [127], E4, E4, _f32(64.0 + 2.0 ** -16)),
    ("subnormal block: 0.25 * 2^-140", [[(0x1, 0x1)]], [0], [114], E2M1, E2M1, 0x80),
    ("underflow to +0", [[(0x1, 0x1)]], [0], [0], E2M1, E2M1, 0),
    ("block underflows to -0; +0 acc + -0 = +0", [[(0x9, 0x1)]], [0], [0], E2M1, E2M1, 0),
    ("NaN scale on an all-zero block", [[]], [0xFF], [127], E4, E2M1, NAN_BITS),
    ("NaN scale in the second block", [[(0x38, 0x38)] * 32] * 2, [127, 127], [127, 0xFF], E4, E4,
     NAN_BITS),
    ("NaN element", [[(0x7F, 0x38)]], [127], [127], E4, E4, NAN_BITS),
    ("inf * 0", [[(0x7C, 0x00)]], [127], [127], E5, E4, NAN_BITS),
    ("+inf and -inf in one block", [[(0x7C, 0x38), (0xFC, 0x38)]], [127], [127], E5, E4,
     NAN_BITS),
    ("-inf block", [[(0xFC, 0x38), (0x3C, 0x38)]], [127], [127], E5, E4, 0xFF800000),
    ("+inf block then -inf block", [[(0x7C, 0x38)], [(0xFC, 0x38)]], [127, 127], [127, 127], E5,
     E4, NAN_BITS),
    ("blocks accumulate in float32: 448^2 * 2^14 + 1 absorbs the 1",
     [[(0x7E, 0x7E)], [(0x38, 0x38)]], [134, 127], [134, 127], E4, E4, _f32(448.0 ** 2 * 2 ** 14)),
    ("no blocks", [], [], [], E4, E4, 0),
]


@pytest.mark.parametrize("name, blocks, sa, sb, fmt_a, fmt_b, expected", CORNERS,
                         ids=[c[0] for c in CORNERS])
def test_mx_dot_corner_cases(name, blocks, sa, sb, fmt_a, fmt_b, expected, round_fraction):
    a, b = _operands(blocks)
    got = int(mx_dot(np.array(a, np.uint8), np.array(sa, np.uint8), np.array(b, np.uint8),
                     np.array(sb, np.uint8), fmt_a, fmt_b))
    assert got == reference_fp.mx_dot(a, sa, b, sb, fmt_a, fmt_b), name
    assert got == oracle_dot(a, sa, b, sb, fmt_a, fmt_b, round_fraction), name
    if expected is not None:
        assert got == expected, f"{name}: want 0x{expected:08x}, got 0x{got:08x}"


def test_mx_dot_shapes_and_acc():
    a = np.full((2, 3, 64), 0x2, np.uint8)                  # e2m1 code 2 = 1.0
    s = np.full((2, 3, 2), 127, np.uint8)
    got = mx_dot(a, s, a, s, E2M1, E2M1, acc=np.array([0.5, -1.0, 2.0], np.float32))
    assert got.shape == (2, 3) and got.dtype == np.uint32
    assert (got.view(np.float32) == np.array([[64.5, 63.0, 66.0]] * 2, np.float32)).all()
    one = mx_dot(a[0, 0], s[0, 0], a[0, 0], s[0, 0], E2M1, E2M1, acc=-0.5)
    assert isinstance(one, np.uint32) and one.view(np.float32) == 63.5
    assert int(one) == reference_fp.mx_dot(a[0, 0].tolist(), s[0, 0].tolist(), a[0, 0].tolist(),
                                           s[0, 0].tolist(), E2M1, E2M1, _f32(-0.5))
    # A block that underflows keeps its sign: -0 block + -0 acc = -0.
    tiny, zero_scale = np.array([0x9] + [0] * 31, np.uint8), np.zeros(1, np.uint8)
    assert mx_dot(tiny, zero_scale, tiny ^ 0x8, zero_scale, E2M1, E2M1, acc=-0.0) == 0x80000000


# -- bad input ----------------------------------------------------------------------------------
Z32, S1 = np.zeros(32, np.uint8), np.full(1, 127, np.uint8)
BAD_INPUTS = [
    ("fmt_a", lambda: mx_dot(Z32, S1, Z32, S1, "float8_e8m0fnu", E4)),
    ("fmt_b", lambda: mx_dot(Z32, S1, Z32, S1, E4, "mxfp4")),
    ("a_codes must hold float4_e2m1fn codes in 0..15",
     lambda: mx_dot(np.full(32, 16), S1, Z32, S1, E2M1, E4)),
    ("b_codes must hold float6_e3m2fn codes in 0..63",
     lambda: mx_dot(Z32, S1, np.full(32, 64), S1, E4, "float6_e3m2fn")),
    ("a_codes must be an integer array", lambda: mx_dot(Z32.astype(float), S1, Z32, S1, E4, E4)),
    ("same shape", lambda: mx_dot(Z32, S1, np.zeros(64, int), S1, E4, E4)),
    ("multiple of 32", lambda: mx_dot(Z32[:31], S1, Z32[:31], S1, E4, E4)),
    ("a_scales must have shape", lambda: mx_dot(Z32, np.full(2, 127), Z32, S1, E4, E4)),
    ("b_scales must hold float8_e8m0fnu codes", lambda: mx_dot(Z32, S1, Z32, [256], E4, E4)),
    ("b_scales must be an integer array", lambda: mx_dot(Z32, S1, Z32, [1.0], E4, E4)),
    ("acc must hold float32", lambda: mx_dot(Z32, S1, Z32, S1, E4, E4, acc=1e-50)),
]


@pytest.mark.parametrize("match, call", BAD_INPUTS, ids=[f"{i}-{m}" for i, (m, _) in
                                                        enumerate(BAD_INPUTS)])
def test_bad_input_raises_value_error(match, call):
    with pytest.raises(ValueError, match=match):
        call()


def test_reference_and_baseline_reject_bad_input():
    with pytest.raises(ValueError, match="fmt_b"):
        reference_fp.mx_dot([0] * 32, [127], [0] * 32, [127], E4, "int4")
    with pytest.raises(ValueError, match="32 elements per scale"):
        reference_fp.mx_dot([0] * 31, [127], [0] * 31, [127], E4, E4)
    with pytest.raises(ValueError, match="float8_e5m2"):
        numpy_mx_dot(np.zeros((1, 32), int), np.zeros((1, 1), int), np.zeros((1, 32), int),
                     np.zeros((1, 1), int), E5, E4)


def _called_kernels(kernel) -> list:
    """The njit functions a kernel's code names: globals, and attributes of global modules."""
    names = kernel.py_func.__code__.co_names
    scope = kernel.py_func.__globals__
    modules = [scope[n] for n in names if isinstance(scope.get(n), types.ModuleType)]
    found = [scope.get(n) for n in names] + [getattr(m, n, None) for m in modules for n in names]
    return [f for f in found if isinstance(f, CPUDispatcher)]


def test_kernels_call_only_kernels_of_their_own_module():
    """Numba's disk cache checks only a kernel's own source file for changes, so a kernel that
    called another module's kernel could keep running stale compiled code after an update."""
    for module in (fp8, mx):
        own = [k for k in vars(module).values()
               if isinstance(k, CPUDispatcher) and k.py_func.__module__ == module.__name__]
        assert own, module.__name__
        for kernel in own:
            for callee in _called_kernels(kernel):
                where = callee.py_func.__module__
                assert where == module.__name__, \
                    f"{module.__name__}.{kernel.__name__} calls {where}.{callee.__name__}"
