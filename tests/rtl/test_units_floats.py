"""lowbit.rtl.units.floats: the layouts agree with lowbit.hwsim.formats (every minifloat, every
code) and float32's with IEEE binary32 (numpy); the combinational helpers, run in Amaranth's
Python simulator (no Icarus needed), against hwsim's decoder and encoder, exact Fraction products
and numpy float32 addition: every code for unpack, every byte for leading_one, every 6-bit value
and count for low_mask_nonzero, all FP8 codes against a set of partners for exact_product and
float32_code, corners and seeded random pairs for float32_add."""
import math
from fractions import Fraction

import numpy as np
import pytest
from amaranth import Module, Signal, signed
from amaranth.sim import Simulator

from lowbit.hwsim import formats
from lowbit.rtl.units import floats
from lowbit.rtl.units.floats import FLOAT32, FP8_FORMATS, LAYOUTS, minifloat_layout


@pytest.mark.parametrize("name", FP8_FORMATS)
def test_fp8_layout_matches_the_hwsim_format(name):
    fmt, layout = formats.get(name), LAYOUTS[name]
    values = fmt.decode(np.arange(256))
    assert layout.bits == fmt.bits == 8
    assert values[layout.max_magnitude] == fmt.max
    assert np.isnan(values[layout.nan_code])
    assert values[1 << layout.mbits] == 2.0 ** layout.emin          # smallest normal
    if layout.has_inf:
        assert values[layout.inf_magnitude] == np.inf
    else:
        assert not np.isinf(values).any()


def _as_float32(code: int) -> float:
    return np.array([code], np.uint32).view(np.float32)[0]


def test_float32_layout_is_ieee_binary32():
    assert _as_float32(FLOAT32.max_magnitude) == np.finfo(np.float32).max
    assert _as_float32(FLOAT32.inf_magnitude) == np.inf
    assert np.isnan(_as_float32(FLOAT32.nan_code))
    assert _as_float32(1 << FLOAT32.mbits) == np.finfo(np.float32).smallest_normal


# -- every hwsim minifloat: the layout's fields decode every code as hwsim does ----------------------
MINIFLOATS = [name for name in formats.names() if type(formats.get(name)).__name__ == "Minifloat"]


def _value_from_layout(code: int, layout) -> float:
    """The value of ``code`` from the layout's fields alone (sign | exponent | mantissa, bias,
    subnormals at emin, and the specials the layout names), independent of hwsim's decoder."""
    sign = -1.0 if code >> (layout.bits - 1) else 1.0
    magnitude = code & ((1 << (layout.bits - 1)) - 1)
    efield, mant = magnitude >> layout.mbits, magnitude & ((1 << layout.mbits) - 1)
    if layout.has_nan and magnitude == layout.nan_code & ((1 << (layout.bits - 1)) - 1) or \
            (layout.has_inf and efield == (1 << layout.ebits) - 1 and mant != 0):
        return math.copysign(math.nan, sign)
    if layout.has_inf and magnitude == layout.inf_magnitude:
        return sign * math.inf
    if efield == 0:
        return sign * mant * 2.0 ** (layout.emin - layout.mbits)
    return sign * ((1 << layout.mbits) + mant) * 2.0 ** (efield - layout.bias - layout.mbits)


def test_minifloats_are_the_formats_hwsim_lists():
    assert MINIFLOATS == ["float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "float8_e4m3fn",
                          "float8_e5m2"]


@pytest.mark.parametrize("name", MINIFLOATS)
def test_minifloat_layout_decodes_every_code_as_hwsim(name):
    layout, fmt = minifloat_layout(name), formats.get(name)
    assert (layout.name, layout.bits, layout.has_inf, layout.has_nan) == \
        (name, fmt.bits, fmt.has_inf, fmt.has_nan)
    hwsim = fmt.decode(np.arange(1 << fmt.bits)).astype(np.float64)
    mine = np.array([_value_from_layout(code, layout) for code in range(1 << fmt.bits)])
    np.testing.assert_array_equal(mine, hwsim)                        # NaN where NaN
    assert np.array_equal(np.signbit(mine), np.signbit(hwsim))        # -0 and -NaN too
    assert LAYOUTS.get(name, layout) == layout


@pytest.mark.parametrize("name", [n for n in MINIFLOATS if not formats.get(n).has_nan])
def test_a_format_without_nan_has_no_nan_code(name):
    # FP6 and FP4 (the MX PE's) have no NaN: unpack flags no code of theirs as NaN or inf
    assert minifloat_layout(name).nan_code is None


# -- the combinational helpers, run in Amaranth's Python simulator -------------------------------------
def _evaluate(build, widths: dict, vectors) -> list[tuple]:
    """Outputs of ``build(m, **inputs)`` (a tuple of Amaranth values) for each input vector, with
    inputs named and sized by ``widths`` ({name: shape}), read after the logic settles."""
    m = Module()
    inputs = [Signal(shape, name=name) for name, shape in widths.items()]
    outputs = []
    for i, value in enumerate(build(m, *inputs)):
        out = Signal.like(value, name=f"out{i}") if isinstance(value, Signal) else Signal(len(value), name=f"out{i}")
        m.d.comb += out.eq(value)
        outputs.append(out)
    results = []

    async def testbench(ctx):
        for vector in vectors:
            for signal, value in zip(inputs, vector):
                ctx.set(signal, value)
            results.append(tuple(ctx.get(out) for out in outputs))
    simulator = Simulator(m)
    simulator.add_testbench(testbench)
    simulator.run()
    return results


def test_leading_one_of_every_byte():
    got = _evaluate(lambda m, v: (floats.leading_one(m, v, "lead"),), {"v": 8}, [(v,) for v in range(256)])
    assert [lead for (lead,) in got] == [max(v.bit_length() - 1, 0) for v in range(256)]


def test_low_mask_nonzero_of_every_value_and_count():
    vectors = [(v, n) for v in range(64) for n in range(8)]   # n up to width + 1
    got = _evaluate(lambda m, v, n: (floats.low_mask_nonzero(m, v, n, "below"),),
                    {"v": 6, "n": 3}, vectors)
    assert [below for (below,) in got] == [int(v & ((1 << n) - 1) != 0) for v, n in vectors]


@pytest.mark.parametrize("name", MINIFLOATS)
def test_unpack_every_code(name):
    layout, fmt = minifloat_layout(name), formats.get(name)
    got = _evaluate(lambda m, code: _fields(floats.unpack(m, code, layout, "u")),
                    {"code": fmt.bits}, [(code,) for code in range(1 << fmt.bits)])
    for code, (sign, sig, exp, nan, inf) in enumerate(got):
        value = float(fmt.decode(np.array([code]))[0])
        assert (nan, inf) == (math.isnan(value), math.isinf(value)), f"{name} code {code:#04x}"
        assert sign == code >> (fmt.bits - 1), f"{name} code {code:#04x}"
        if math.isfinite(value):
            assert Fraction(sig) * Fraction(2) ** exp == abs(Fraction(value)), f"{name} code {code:#04x}"


def _fields(unpacked):
    return unpacked.sign, unpacked.sig, unpacked.exp, unpacked.nan, unpacked.inf


def _round_vectors(layout, sig_bits):
    """(sign, sig, exp, sticky) covering subnormal results, normal ones and overflow: every sig
    of ``sig_bits`` bits at every exponent from below the smallest subnormal's LSB to past the
    largest value, with sticky only where the rounding point lies above sig's LSB (the
    function's precondition)."""
    vectors = []
    low = layout.emin - layout.mbits - sig_bits - 1
    high = (1 << layout.ebits) - layout.bias - layout.mbits + 1
    for exp in range(low, high):
        for sig in range(1 << sig_bits):
            lead = exp + max(sig.bit_length() - 1, 0)
            quantum = max(lead, layout.emin) - layout.mbits   # exponent of the result's LSB
            for sticky in (0, 1) if quantum > exp else (0,):
                vectors.append((sig & 1, sig, exp, sticky))   # a sign from the data, both occur
    return vectors


@pytest.mark.parametrize("name", FP8_FORMATS)
def test_round_to_layout_is_hwsim_encode(name):
    layout, fmt = LAYOUTS[name], formats.get(name)
    vectors = _round_vectors(layout, sig_bits=6)

    def build(m, sign, sig, exp, sticky):
        return floats.round_to_layout(m, sign=sign, sig=sig, exp=exp, sticky=sticky, layout=layout,
                                      name="r")
    got = _evaluate(build, {"sign": 1, "sig": 6, "exp": signed(8), "sticky": 1}, vectors)
    kinds = set()
    for (sign, sig, exp, sticky), (code, overflow) in zip(vectors, got):
        value = (-1) ** sign * (sig + 0.5 * sticky) * 2.0 ** exp   # any 0 < f < 1 rounds alike
        expected = int(fmt.encode(np.array([value]), saturate=False)[0])
        decoded = float(fmt.decode(np.array([expected]))[0])
        where = f"{name}: sign {sign} sig {sig} exp {exp} sticky {sticky}"
        assert overflow == (not math.isfinite(decoded)), where
        if not overflow:
            assert code == expected, f"{where}: got {code:#04x}, expected {expected:#04x}"
        kinds.add("overflow" if overflow else "subnormal" if 0 < expected & 0x7F < 1 << layout.mbits
                  else "sticky" if sticky else "other")
    assert kinds == {"overflow", "subnormal", "sticky", "other"}   # the vectors reach every case


def _float32_bits(value: float) -> int:
    """IEEE binary32 bits of float64 ``value`` rounded once (numpy: RNE, overflow to inf), with
    NaN as the canonical 0x7FC00000 the RTL writes."""
    if math.isnan(value):
        return FLOAT32.nan_code
    with np.errstate(over="ignore"):
        return int(np.array([value], np.float64).astype(np.float32).view(np.uint32)[0])


# codes every product test pairs with all 256: zeros, subnormals, one, max, inf / NaN, signs
FP8_PARTNERS = [0x00, 0x80, 0x01, 0x81, 0x07, 0x08, 0x38, 0xB8, 0x3C, 0x7B, 0x7C, 0x7E, 0x7F, 0xFF]


@pytest.mark.parametrize("name", FP8_FORMATS)
def test_exact_product_and_its_float32_code(name):
    layout, fmt = LAYOUTS[name], formats.get(name)
    vectors = [(a, b) for a in range(256) for b in FP8_PARTNERS]

    def build(m, a, b):
        product = floats.exact_product(m, a, b, layout, layout, "p")
        return _fields(product) + (floats.float32_code(m, product, "f32"),)
    got = _evaluate(build, {"a": 8, "b": 8}, vectors)
    for (a, b), (sign, sig, exp, nan, inf, f32) in zip(vectors, got):
        x, y = (float(v) for v in fmt.decode(np.array([a, b])))
        with np.errstate(invalid="ignore"):
            exact = x * y   # exact in float64: 4-bit significands
        where = f"{name}: {a:#04x} x {b:#04x}"
        assert (nan, inf) == (math.isnan(exact), math.isinf(exact)), where
        if not nan:
            assert sign == (a >> 7) ^ (b >> 7), where
        if math.isfinite(exact):
            assert Fraction(sig) * Fraction(2) ** exp == abs(Fraction(exact)), where
        assert f32 == _float32_bits(exact), f"{where}: got {f32:#010x}"


def _float32_operands(rng) -> list[int]:
    """float32 codes: the corners (signed zeros, smallest and largest subnormal, smallest
    normal, one and its neighbours, max, inf, a NaN) and random codes."""
    corners = [0x00000000, 0x00000001, 0x007FFFFF, 0x00800000, 0x3F7FFFFF, 0x3F800000, 0x3F800001,
               0x4B800000, 0x7F7FFFFF, 0x7F800000, 0x7FC00001]
    corners += [code | 0x80000000 for code in corners]
    return corners + rng.integers(0, 1 << 32, 20, dtype=np.uint64).tolist()


FLOAT32_ADD_SEED = 2212


def test_float32_add_is_numpy_float32_addition():
    rng = np.random.default_rng(FLOAT32_ADD_SEED)
    operands = _float32_operands(rng)
    vectors = [(x, y) for x in operands for y in operands]
    # random pairs with nearby exponents: cancellation, carries and ties
    base = rng.integers(0x00000000, 0x7F000000, 1500)
    near = base + rng.integers(-(1 << 25), 1 << 25, 1500)
    signs = rng.integers(0, 2, (2, 1500)) << 31
    vectors += [(int(x | sx), int(np.clip(y, 0, 0x7F7FFFFF) | sy))
                for x, y, sx, sy in zip(base, near, *signs)]
    got = _evaluate(lambda m, x, y: (floats.float32_add(m, x, y, "add"),), {"x": 32, "y": 32},
                    vectors)
    for (x, y), (total,) in zip(vectors, got):
        a, b = np.array([x, y], np.uint32).view(np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            expected = _float32_bits(float(a + b))   # float32 + float32 in numpy: IEEE RNE
        assert total == expected, f"{x:#010x} + {y:#010x}: got {total:#010x}, expected " \
                                  f"{expected:#010x} (seed {FLOAT32_ADD_SEED})"
