"""lowbit.hwsim.units.fp16 against independent references: float16 codes decoded by hand into
exact fractions.Fraction values, exact sums, and one RNE rounding to float32 on Python integers
(lowbit.hwsim.units.reference_fp); float64 products (22-bit significands are exact there)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.units import fp16
from lowbit.hwsim.units.reference_fp import Num, to_f32
from lowbit.hwsim.pe.stimulus import FP16_CORNERS, fp16_codes

SEED = 20261207
F32_NAN = 0x7FC00000


def decode(code: int):
    """A float16 code by its bit fields: a Fraction, or "nan", "+inf", "-inf"."""
    sign, exponent, mantissa = code >> 15, (code >> 10) & 0x1F, code & 0x3FF
    if exponent == 0x1F:
        return "nan" if mantissa else ("-inf" if sign else "+inf")
    value = Fraction(mantissa, 1 << 24) if exponent == 0 else \
        Fraction((1 << 10) | mantissa, 1 << 10) * Fraction(2) ** (exponent - 15)
    return -value if sign else value


def f32_of(value: Fraction) -> int:
    """float32 bits of an exact dyadic value rounded once (RNE); +0.0 for zero."""
    if value == 0:
        return 0
    den = value.denominator
    exp = -(den.bit_length() - 1)
    assert den == 1 << -exp
    return to_f32(Num("finite", int(value < 0), abs(value.numerator), exp))


def f32_value(bits: int):
    """A finite float32 bit pattern as a Fraction."""
    value = np.array([bits], np.uint32).view(np.float32)[0]
    return Fraction(float(value))


def test_every_product_of_every_code_with_the_corners_is_the_exact_float64_product():
    a = np.arange(1 << 16)
    for b_code in FP16_CORNERS + (0x3555, 0xC123, 0x1234):
        b = np.full_like(a, b_code)
        got = fp16.fp16_mul_exact(a, b).view(np.float32).astype(np.float64)
        with np.errstate(invalid="ignore"):   # inf * 0
            exact = a.astype(np.uint16).view(np.float16).astype(np.float64) \
                * np.float64(np.uint16(b_code).view(np.float16))
        finite = np.isfinite(exact)
        assert np.array_equal(got[finite], exact[finite]), hex(b_code)
        assert np.array_equal(np.isnan(got), np.isnan(exact))
        nan_bits = fp16.fp16_mul_exact(a, b)[np.isnan(exact)]
        assert (nan_bits == F32_NAN).all()


def test_lane_mac_rounds_once_per_addition_like_the_exact_reference():
    rng = np.random.default_rng(SEED)
    n = 10_000
    a, b = fp16_codes(rng, n), fp16_codes(rng, n)
    acc = fp16.fp16_mul_exact(fp16_codes(rng, n), fp16_codes(rng, n))   # a float32 start
    got = fp16.fp16_lane_mac(acc, a, b).tolist()
    mismatches = []
    for i in range(n):
        x, y = decode(int(a[i])), decode(int(b[i]))
        start = np.array([acc[i]], np.uint32).view(np.float32)[0]
        if isinstance(x, str) or isinstance(y, str) or not np.isfinite(start):
            continue       # specials: checked below against IEEE rules
        want = f32_of(f32_value(int(acc[i])) + x * y)
        if want != got[i] and not (want == 0x80000000 and got[i] == 0):
            mismatches.append((i, hex(acc[i]), hex(a[i]), hex(b[i]), hex(want), hex(got[i])))
    assert not mismatches, f"seed {SEED}: {mismatches[:5]}"


def test_lane_mac_specials_and_signed_zeros():
    cases = [  # (acc bits, a, b, result bits)
        (0x00000000, 0x7C00, 0x0000, F32_NAN),       # inf * 0
        (0x00000000, 0x7C00, 0xBC00, 0xFF800000),    # inf * -1
        (0x7F800000, 0xFC00, 0x3C00, F32_NAN),       # inf + -inf
        (0x3F800000, 0x7E00, 0x3C00, F32_NAN),       # NaN in
        (0x00000000, 0x8000, 0x3C00, 0x00000000),    # +0 + -0 = +0
        (0x80000000, 0x8000, 0x3C00, 0x80000000),    # -0 + -0 = -0
        (0x00000000, 0x0001, 0x0001, 0x27800000),    # 2^-24 * 2^-24 = 2^-48, exact
        (0x00000000, 0x7BFF, 0x7BFF, 0x4F7FC004),    # 65504^2 = 2047^2 * 2^10, exact
    ]
    for acc, a, b, want in cases:
        got = int(fp16.fp16_lane_mac([acc], [a], [b])[0])
        assert got == want, (hex(acc), hex(a), hex(b), hex(want), hex(got))


def test_pairwise_sum_is_level_by_level_and_rounds_at_each_level():
    one, big = 0x3F800000, 0x4B800000            # 1.0 and 2^24
    # ((2^24 + 1) + (1 + 0)): 2^24 + 1 ties to 2^24, then + 1 ties again: 2^24.
    assert fp16.fp32_pairwise_sum([big, one, one, 0]) == big
    # ((2^24 + 0) + (1 + 1)): 2^24 + 2 is exact.
    assert fp16.fp32_pairwise_sum([big, 0, one, one]) == 0x4B800001
    # five lanes: ((l0 + l1) + (l2 + l3)) + l4
    assert fp16.fp32_pairwise_sum([one] * 5) == 0x40A00000
    assert fp16.fp32_pairwise_sum([one]) == one


def weight_value(code: int, w_format: str, w_bits: int) -> Fraction:
    """A weight code's value: two's complement / plain binary by hand, FP by the format's own
    value table (lowbit.hwsim.formats)."""
    if w_format == "int":
        return Fraction(code - ((code >> (w_bits - 1)) << w_bits))
    if w_format == "uint":
        return Fraction(code)
    return Fraction(float(formats.get(w_format).values()[code]))


@pytest.mark.parametrize("w_format, w_bits", [
    ("int", 2), ("int", 3), ("int", 4), ("int", 8), ("uint", 2), ("uint", 4), ("uint", 8),
    ("float4_e2m1fn", 4), ("float6_e3m2fn", 6), ("float6_e2m3fn", 6)])
def test_bit_serial_beat_is_the_exact_dot_product_rounded_once(w_format, w_bits):
    rng = np.random.default_rng([SEED, w_bits, len(w_format)])
    mismatches = []
    for trial in range(1_000):
        act = fp16_codes(rng, 16)
        codes = rng.integers(0, 1 << w_bits, 16)
        total, flags = fp16.fp16_weight_beat(act, codes, w_bits, w_format)
        got = fp16.fixed_to_float32(total, flags)
        terms = [(decode(int(c)), weight_value(int(w), w_format, w_bits))
                 for c, w in zip(act, codes)]
        if any(v == "nan" or (isinstance(v, str) and w == 0) for v, w in terms):
            want = F32_NAN
        else:
            infs = {("-" if (v == "-inf") != (w < 0) else "+") for v, w in terms
                    if isinstance(v, str)}
            if infs == {"+", "-"}:
                want = F32_NAN
            elif infs:
                want = 0x7F800000 | (0x80000000 if infs == {"-"} else 0)
            else:
                want = f32_of(sum((v * w for v, w in terms), Fraction(0)))
        if got != want:
            mismatches.append((trial, [hex(c) for c in act], codes.tolist(), hex(want), hex(got)))
    assert not mismatches, f"seed {[SEED, w_bits, len(w_format)]}: {mismatches[:3]}"


def test_bit_serial_planes_are_the_significand_bits():
    assert [fp16.weight_cycles(f, b) for f, b in (("int", 3), ("uint", 4), ("float4_e2m1fn", 4),
                                                  ("float6_e3m2fn", 6), ("float6_e2m3fn", 6))] \
        == [3, 4, 2, 3, 4]
    assert [fp16.runtime_weight_format(n) for n in ("int4", "uint2", "float4_e2m1fn")] \
        == ["int", "uint", "float4_e2m1fn"]
    with pytest.raises(ValueError, match="float4_e2m1fn needs w_bits 4, got 3"):
        fp16.fp16_weight_beat([0], [0], 3, "float4_e2m1fn")
    with pytest.raises(ValueError, match="w_format must be one of"):
        fp16.fp16_weight_beat([0], [0], 4, "log2_4")


def test_fixed_point_alignment_covers_the_fp16_range():
    fixed, flags = fp16.fp16_to_fixed(np.array([0x0001, 0x7BFF, 0xFBFF, 0x3C00, 0x7C00, 0x7E00]))
    assert fixed.tolist() == [1, 65504 << 24, -(65504 << 24), 1 << 24, 0, 0]
    assert flags.tolist() == [0, 0, 0, 0, fp16.POS_INF, fp16.NAN]
    assert int(fixed.max()).bit_length() + 1 == fp16.FIXED_ACT_BITS


def test_codes_out_of_range_are_refused():
    with pytest.raises(ValueError, match="float16 codes in 0..65535"):
        fp16.fp16_mul_exact([70000], [0])
