"""lowbit.hwsim.gemm against plain-Python integer and fractions.Fraction references, the hwsim
units it must agree with (integer.int_dot, fp8.fp8_mac) and numpy float32 for the scale
contract."""
from fractions import Fraction

import numpy as np
import pytest

from lowbit.hwsim import formats, gemm, gemm_scales, quant
from lowbit.hwsim.units import fp8, integer

E4M3, E5M2 = "float8_e4m3fn", "float8_e5m2"


def _finite_codes(rng, fmt, shape):
    values = formats.get(fmt).values()
    finite = np.flatnonzero(np.isfinite(values))
    return finite[rng.integers(0, finite.size, shape)].astype(np.uint8)


def _code(fmt, value):
    return int(formats.get(fmt).encode(np.array([value]))[0])


# -- integer PE ---------------------------------------------------------------------------------
@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
@pytest.mark.parametrize("acc_bits", [8, 12, 17, 32])
def test_int_gemm_is_int_dot_per_group(rng, overflow, acc_bits):
    """10,240 group dot products per case against the int_dot unit (the narrow widths overflow)."""
    a = rng.integers(-128, 128, (64, 64))
    w = rng.integers(-8, 8, (40, 64))
    out = gemm.int_gemm(a, w, a_bits=8, w_bits=4, group=16, acc_bits=acc_bits, overflow=overflow)
    a4 = a.reshape(64, 1, 4, 16)
    w4 = w.reshape(1, 40, 4, 16)
    expected = integer.int_dot(np.broadcast_to(a4, (64, 40, 4, 16)),
                               np.broadcast_to(w4, (64, 40, 4, 16)), a_bits=8, b_bits=4,
                               acc_bits=acc_bits, overflow=overflow)
    np.testing.assert_array_equal(out, expected)
    exact = np.einsum("mgk,ngk->mng", a.reshape(64, 4, 16), w.reshape(40, 4, 16))
    assert (out != exact).any() == (acc_bits < 17)   # the narrow cases really overflow


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_int_gemm_against_python_integers_with_corners(rng, overflow):
    """Plain Python ints: every-maximum products (wrap many times / pin at the top), a swing
    past the top and back inside one saturation chunk, signs mixed, unsigned weights."""
    K = 64
    a = rng.integers(-128, 128, (6, K))
    w = rng.integers(0, 256, (5, K))                          # uint8 weights (asymmetric codes)
    a[0], w[0] = -128, 255                                    # all products -32640
    a[1, :], w[1, :] = 127, 255
    a[2, :32], a[2, 32:] = 127, -128                          # up past the top, then down
    a[3, ::2], a[3, 1::2] = 127, -128
    for acc_bits in (9, 16, 21, 24):
        out = gemm.int_gemm(a, w, a_bits=8, w_bits=8, w_signed=False, group=32,
                            acc_bits=acc_bits, overflow=overflow)
        for m in range(6):
            for n in range(5):
                for g in range(2):
                    part = slice(32 * g, 32 * g + 32)
                    assert out[m, n, g] == integer.int_dot_reference(
                        a[m, part].tolist(), w[n, part].tolist(), acc_bits=acc_bits,
                        overflow=overflow), (m, n, g, acc_bits)


def test_saturation_order_matters_inside_a_chunk():
    """127*127 twenty times, then -127*127 twice, into 16 bits: the clamp at 32767 leaves
    32767 - 2 * 16129 = 509 where a wide sum has 18 * 16129; the chunk fast path must not skip
    the clamp."""
    a = np.array([[127] * 32])
    w = np.array([[127] * 20 + [-127] * 2 + [0] * 10])
    out = gemm.int_gemm(a, w, a_bits=8, w_bits=8, acc_bits=16, overflow="saturate")
    assert out[0, 0, 0] == 509 == integer.int_dot_reference(a[0], w[0], acc_bits=16,
                                                             overflow="saturate")


def _int_dot_per_group(a, w, group, **kwargs):
    """The int_dot unit (sequential, one output at a time) on every (row, column, group)."""
    M, K = a.shape
    a4 = np.broadcast_to(a.reshape(M, 1, K // group, group), (M, len(w), K // group, group))
    w4 = np.broadcast_to(w.reshape(1, len(w), K // group, group), a4.shape)
    return integer.int_dot(a4, w4, **kwargs)


@pytest.mark.parametrize("acc_bits", [10, 12, 13, 14])
def test_saturate_rows_split_by_the_bound(rng, acc_bits):
    """Rows scaled from tiny to full range: at each width some (group, row) pairs have a
    sum |a||w| bound inside the accumulator (their exact BLAS sum is taken) and others beyond it
    (accumulated in order, clamped); every output equals the sequential int_dot unit."""
    a = rng.integers(-128, 128, (48, 256)) >> rng.integers(0, 8, (48, 1))
    w = rng.integers(-8, 8, (24, 256))
    out = gemm.int_gemm(a, w, a_bits=8, w_bits=4, group=64, acc_bits=acc_bits,
                        overflow="saturate")
    bounds = np.einsum("mgk,ngk->mng", np.abs(a).reshape(48, 4, 64),
                       np.abs(w).reshape(24, 4, 64))
    hi = (1 << (acc_bits - 1)) - 1
    assert (bounds > hi).any() and (bounds <= hi).any()        # both sides of the split occur
    np.testing.assert_array_equal(out, _int_dot_per_group(a, w, 64, a_bits=8, b_bits=4,
                                                          acc_bits=acc_bits, overflow="saturate"))


@pytest.mark.parametrize("row,expected", [
    ([100, 27, 0], 127),          # bound 127 = hi: the exact sum, no clamp possible
    ([127, 1, -1], 126),          # bound 129: 127 + 1 clamps at 127, then 126 (exact: 127)
    ([-128, 0, 0], -128),         # bound 128 > hi but lo = -128 holds it: in order, unchanged
    ([-128, -1, 1], -127),        # clamps at lo, then -127 (exact: -128)
])
def test_saturate_at_the_bound(row, expected):
    """8-bit accumulator, hi = 127, lo = -128, weights 1: bounds on both sides of hi."""
    a = np.array([row])
    w = np.ones((1, 3), np.int64)
    out = gemm.int_gemm(a, w, a_bits=8, w_bits=2, acc_bits=8, overflow="saturate")
    assert out[0, 0, 0] == expected == integer.int_dot_reference(row, [1, 1, 1], acc_bits=8,
                                                                   overflow="saturate")


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
@pytest.mark.parametrize("acc_bits", [24, 26, 27, 40])
def test_long_groups_past_float32_exact_integers(rng, overflow, acc_bits):
    """int8 x uint8 over groups of 2048: group * max|product| > 2^24, so the exact sums come in
    chunks of 512 and the saturating rows run on an int64 accumulator (hi + max|product| passes
    2^24 from 26 bits on); rows of all-maximum products overflow every width below 27 bits."""
    a = rng.integers(-128, 128, (6, 4096))
    w = rng.integers(0, 256, (5, 4096))
    a[0], w[0] = 127, 255
    a[1], w[1] = -128, 255
    out = gemm.int_gemm(a, w, a_bits=8, w_bits=8, w_signed=False, group=2048,
                        acc_bits=acc_bits, overflow=overflow)
    expected = _int_dot_per_group(a, w, 2048, a_bits=8, b_bits=8, b_signed=False,
                                  acc_bits=acc_bits, overflow=overflow)
    np.testing.assert_array_equal(out, expected)
    for m, n in [(0, 0), (1, 0), (2, 3)]:
        assert out[m, n, 1] == integer.int_dot_reference(
            a[m, 2048:].tolist(), w[n, 2048:].tolist(), acc_bits=acc_bits, overflow=overflow)
    exact = 2048 * 127 * 255
    assert (out[0, 0] != exact).all() == (acc_bits < 27)


def test_int_gemm_rejects_bad_arguments():
    a, w = np.zeros((2, 8), np.int64), np.zeros((3, 8), np.int64)
    with pytest.raises(ValueError, match="overflow"):
        gemm.int_gemm(a, w, a_bits=8, w_bits=8, overflow="error")
    with pytest.raises(ValueError, match="group"):
        gemm.int_gemm(a, w, a_bits=8, w_bits=8, group=3)
    with pytest.raises(ValueError, match="a_bits"):
        gemm.int_gemm(a, w, a_bits=9, w_bits=8)
    with pytest.raises(ValueError, match=r"\[M, K\]"):
        gemm.int_gemm(a, w[:, :4], a_bits=8, w_bits=8)


# -- float PE -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt_a,fmt_w", [(E4M3, E4M3), (E5M2, E5M2), (E4M3, E5M2)])
def test_float32_accumulation_is_fp8_mac(rng, fmt_a, fmt_w):
    """acc_mbits=23 RNE is the Fp8Mac contract: 10,000 dot products, bits compared."""
    a = _finite_codes(rng, fmt_a, (100, 48))
    w = _finite_codes(rng, fmt_w, (100, 48))
    out = gemm.float_gemm(a, w, fmt_a, fmt_w)[..., 0]
    expected = fp8.fp8_mac(np.broadcast_to(a[:, None], (100, 100, 48)),
                           np.broadcast_to(w[None], (100, 100, 48)), fmt_a, fmt_w)
    np.testing.assert_array_equal(out.view(np.uint32), expected)


@pytest.mark.parametrize("fmt", [E4M3, E5M2])
@pytest.mark.parametrize("acc_mbits", [1, 3, 7, 10, 13, 23])
@pytest.mark.parametrize("rounding", ["rne", "rtz"])
def test_float_gemm_against_fractions(rng, fmt, acc_mbits, rounding):
    a = _finite_codes(rng, fmt, (12, 64))
    w = _finite_codes(rng, fmt, (10, 64))
    out = gemm.float_gemm(a, w, fmt, fmt, group=32, acc_mbits=acc_mbits, acc_rounding=rounding)
    values = formats.get(fmt).values()
    for m in range(12):
        for n in range(10):
            for g in range(2):
                part = slice(32 * g, 32 * g + 32)
                expected = gemm.float_dot_reference(values[a[m, part]], values[w[n, part]],
                                                    acc_mbits, rounding)
                assert Fraction(float(out[m, n, g])) == expected, (m, n, g)


@pytest.mark.parametrize("rounding", ["rne", "rtz"])
@pytest.mark.parametrize("pairs", [
    [(1.0, 1.0), (0.25, 0.25)],                         # 1 + 1/16: a tie at 3 bits
    [(1.5, 0.75), (0.25, 0.25)],                        # 1.125 + 1/16: tie, odd -> up
    [(2.0 ** -16, 2.0 ** -16), (10240.0, 10240.0)],     # tie + 2^-32 beyond float64's reach
    [(-(2.0 ** -16), 2.0 ** -16), (12288.0, 8192.0)],   # on the grid - 2^-32: truncation
    [(-1.0, 1.0), (1.0, 1.0)],                          # exact cancellation: +0
])
def test_float_accumulation_corners(pairs, rounding):
    """Ties, and sums whose low part lies beyond float64's 53 bits (the TwoSum error decides
    the rounding), at acc_mbits=3, against the Fraction reference."""
    a = np.array([[_code(E5M2, x) for x, _ in pairs]], np.uint8)
    w = np.array([[_code(E5M2, y) for _, y in pairs]], np.uint8)
    out = gemm.float_gemm(a, w, E5M2, E5M2, acc_mbits=3, acc_rounding=rounding)[0, 0, 0]
    values = formats.get(E5M2).values()
    assert (values[a] == [x for x, _ in pairs]).all() and (values[w] == [y for _, y in pairs]).all()
    expected = gemm.float_dot_reference(values[a[0]], values[w[0]], 3, rounding)
    assert Fraction(float(out)) == expected
    assert not np.signbit(out) or expected < 0


@pytest.mark.parametrize("acc_mbits,rounding", [(1, "rne"), (4, "rtz"), (13, "rne"),
                                                (13, "rtz"), (23, "rne"), (23, "rtz")])
def test_float_kernels_agree_where_each_applies(rng, acc_mbits, rounding):
    """E4M3 x E4M3 (every sum exact in float64 at these sizes): the float64-rounding kernel,
    the TwoSum kernel and, at 23 RNE, the float32 kernel give the same bits, equal to the
    Fraction reference on a sample."""
    a = _finite_codes(rng, E4M3, (20, 64))
    w = _finite_codes(rng, E4M3, (16, 64))
    fa, lsb_a = gemm._fixed_values(a, E4M3)
    fw, lsb_w = gemm._fixed_values(w, E4M3)
    assert gemm._float64_exact(32, int(np.abs(fa).max()) * int(np.abs(fw).max()), acc_mbits,
                               rounding == "rtz")
    av, wt = np.ldexp(fa.astype(np.float64), lsb_a), np.ldexp(fw.astype(np.float64), lsb_w).T
    wt = np.ascontiguousarray(wt)
    drop, rtz = gemm.FLOAT_MBITS - acc_mbits, rounding == "rtz"
    results = [np.empty((2, 20, 16), np.float32) for _ in range(3)]
    gemm._rounded_partials(av, wt, 32, drop, rtz, results[0])
    gemm._twosum_partials(av, wt, 32, drop, rtz, results[1])
    gemm._float32_partials(av.astype(np.float32), wt.astype(np.float32), 32, results[2])
    np.testing.assert_array_equal(results[0].view(np.uint32), results[1].view(np.uint32))
    if (acc_mbits, rounding) == (23, "rne"):
        np.testing.assert_array_equal(results[0].view(np.uint32), results[2].view(np.uint32))
    values = formats.get(E4M3).values()
    for m, n, g in [(0, 0, 0), (7, 3, 1), (19, 15, 1)]:
        part = slice(32 * g, 32 * g + 32)
        assert Fraction(float(results[0][g, m, n])) == gemm.float_dot_reference(
            values[a[m, part]], values[w[n, part]], acc_mbits, rounding)


def test_float64_exact_bound_and_fallback():
    """The bound refuses what float64 cannot hold exactly: E4M3's largest products (2^35.6 in
    units of 2^-18) over 2^16 elements at float32's width pass; 1 fraction bit (a growth factor
    1.25 per addition, bounded) over 512 elements does not, and that case runs the TwoSum kernel,
    still equal to the Fraction reference."""
    largest = (448 << 9) ** 2
    assert gemm._float64_exact(1 << 16, largest, 23, False)
    assert not gemm._float64_exact(1 << 17, largest, 23, True)
    assert not gemm._float64_exact(512, largest, 1, False)
    assert gemm._float64_exact(512, largest, 1, True)
    big, small = _code(E4M3, 448.0), _code(E4M3, 2.0 ** -9)
    a = np.array([[big, small] * 256], np.uint8)
    w = np.array([[big, small] * 256, [small, big] * 256], np.uint8)
    out = gemm.float_gemm(a, w, E4M3, E4M3, acc_mbits=1)
    values = formats.get(E4M3).values()
    for n in range(2):
        assert Fraction(float(out[0, n, 0])) == gemm.float_dot_reference(
            values[a[0]], values[w[n]], 1, "rne")


def test_fixed_values_use_the_coarsest_grid_of_the_data():
    """Values of the codes present are multiples of 2^lsb with lsb as large as they allow, and
    ldexp(values, lsb) are the format's values exactly."""
    values = formats.get(E5M2).values()
    codes = np.array([_code(E5M2, v) for v in (0.0, -0.25, 0.75, 57344.0)], np.uint8)
    fixed, lsb = gemm._fixed_values(codes, E5M2)
    assert lsb == -2 and fixed.tolist() == [0, -1, 3, 57344 * 4]
    np.testing.assert_array_equal(np.ldexp(fixed.astype(np.float64), lsb), values[codes])


def test_reduced_mantissa_loses_small_products():
    """1 then 2^-12 repeated: float32 keeps them, 10 fraction bits drop each (the Hopper FP8
    accumulation effect the issue names)."""
    a = np.array([[_code(E4M3, 1.0)] + [_code(E4M3, 2.0 ** -6)] * 63], np.uint8)
    w = np.array([[_code(E4M3, 1.0)] + [_code(E4M3, 2.0 ** -6)] * 63], np.uint8)
    assert gemm.float_gemm(a, w, E4M3, E4M3)[0, 0, 0] == 1 + 63 * 2.0 ** -12
    assert gemm.float_gemm(a, w, E4M3, E4M3, acc_mbits=10)[0, 0, 0] == 1.0


def test_float_gemm_rejects_nan_codes_and_bad_arithmetic():
    a = np.array([[0x7F, 0]], np.uint8)
    with pytest.raises(ValueError, match="finite"):
        gemm.float_gemm(a, a, E4M3, E4M3)
    with pytest.raises(ValueError, match="acc_mbits"):
        gemm.float_gemm(a[:, 1:], a[:, 1:], E4M3, E4M3, acc_mbits=24)
    with pytest.raises(ValueError, match="acc_rounding"):
        gemm.PEArithmetic(acc_rounding="nearest")


# -- a quantized layer through the scale contract ---------------------------------------------------
def _scale_contract_reference(sums, w_scales, a_scales):
    """Module contract by numpy float32 scalars, one output at a time."""
    M, N, G = sums.shape
    out = np.empty((M, N), np.float32)
    for m in range(M):
        for n in range(N):
            r = np.float32(0)
            for g in range(G):
                r = np.float32(r + np.float32(np.float32(sums[m, n, g]) * w_scales[n, g]))
            out[m, n] = np.float32(r * a_scales[m])
    return out


@pytest.mark.parametrize("preset", ["int8", "int4-g128", "int2-g64", "ternary", "fp8-e4m3"])
def test_qtensor_gemm_follows_the_scale_contract(rng, preset):
    scheme = quant.preset(preset)
    x = rng.standard_normal((6, 256)).astype(np.float32)
    wt = rng.standard_normal((5, 256)).astype(np.float32)
    qa, qw = quant.quantize(x, scheme.act_spec), quant.quantize(wt, scheme.weight_spec)
    arithmetic = gemm.PEArithmetic(acc_bits=14, overflow="saturate", acc_mbits=5)
    out = gemm.qtensor_gemm(qa, qw, arithmetic)
    groups = qw.scales.shape[-1]
    w_scales = np.broadcast_to(qw.scales, (5, groups)).astype(np.float32)
    a_scales = np.broadcast_to(qa.scales, (6, 1))[:, 0].astype(np.float32)
    if preset == "fp8-e4m3":
        sums = gemm.float_gemm(qa.codes, qw.codes, E4M3, E4M3, acc_mbits=5)
    else:
        a = integer.decode_int_codes(qa.codes, 8)
        fmt = qw.spec.element_format
        w = fmt.values()[qw.codes].astype(np.int64)
        group = 256 // groups
        sums = np.zeros((6, 5, groups), np.int64)
        z = np.zeros((5, groups), np.int64) if qw.zero_points is None \
            else np.broadcast_to(qw.zero_points, (5, groups)).astype(np.int64)
        for m in range(6):
            for n in range(5):
                for g in range(groups):
                    part = slice(group * g, group * g + group)
                    sums[m, n, g] = integer.int_dot_reference(
                        a[m, part].tolist(), w[n, part].tolist(), acc_bits=14,
                        overflow="saturate") - int(z[n, g]) * int(a[m, part].sum())
    np.testing.assert_array_equal(out.view(np.uint32),
                                  _scale_contract_reference(sums, w_scales, a_scales)
                                  .view(np.uint32))


def test_rescale_rounds_wide_integer_sums_once(rng):
    """int64 group sums beyond 2^24 are converted to float32 RNE, then scaled, as the scale
    contract's float32 scalar steps do."""
    sums = rng.integers(-(1 << 40), 1 << 40, (4, 3, 5, 6)).sum(axis=0).transpose(2, 0, 1)
    w_scales = rng.standard_normal((5, 6)).astype(np.float32)
    a_scales = rng.standard_normal(3).astype(np.float32)
    out = gemm_scales.rescale(sums, w_scales, a_scales)
    np.testing.assert_array_equal(out.view(np.uint32), _scale_contract_reference(
        sums.transpose(1, 2, 0), w_scales, a_scales).view(np.uint32))


def test_wide_exact_accumulator_equals_fake_quant_bit_for_bit(rng):
    """int8 x int8 into 32 bits at K = 512 cannot overflow (512 * 2^14 < 2^31); with power-of-two
    (E8M0) scales every fake-quant product and partial sum is exact in float32 too, so the PE
    path and dequantize -> float32 matmul agree bit for bit."""
    scheme = quant.Scheme(weight="int8", act="int8", granularity="channel",
                          act_granularity="channel", scale_format="float8_e8m0fnu",
                          act_scale_format="float8_e8m0fnu")
    x = rng.standard_normal((64, 512)).astype(np.float32)
    wt = rng.standard_normal((48, 512)).astype(np.float32)
    qa, qw = quant.quantize(x, scheme.act_spec), quant.quantize(wt, scheme.weight_spec)
    fake = quant.dequantize(qa) @ quant.dequantize(qw).T
    out = gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(acc_bits=32))
    np.testing.assert_array_equal(out.view(np.uint32), fake.view(np.uint32))
    narrow = gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(acc_bits=16))
    assert (narrow != fake).any()


def test_pe_family_refuses_what_no_pe_computes():
    with pytest.raises(ValueError, match="IEEE"):
        gemm.pe_family(quant.preset("w4a16-g128").weight_spec, quant.preset("w4a16-g128").act_spec)
    half_mx = quant.Scheme(weight=E4M3, act=E4M3, granularity="mx", act_granularity="tensor")
    with pytest.raises(ValueError, match="MX block scales on both operands only"):
        gemm.pe_family(half_mx.weight_spec, half_mx.act_spec)
    assert gemm.pe_family(quant.preset("mxfp8").weight_spec, quant.preset("mxfp8").act_spec) \
        == "mx"
    with pytest.raises(ValueError, match="integer x integer"):
        gemm.pe_family(quant.preset("log2_4").weight_spec, quant.preset("log2_4").act_spec)


@pytest.mark.parametrize("preset", ["int8", "int4-g128", "int2-g64"])
def test_required_acc_bits_is_the_no_wrap_width(rng, preset):
    """At the width required_acc_bits names nothing wraps (the 64-bit result, bit for bit); one
    bit narrower, some group sum wraps."""
    scheme = quant.preset(preset)
    x = rng.standard_normal((16, 256)).astype(np.float32)
    wt = rng.standard_normal((12, 256)).astype(np.float32)
    qa, qw = quant.quantize(x, scheme.act_spec), quant.quantize(wt, scheme.weight_spec)
    need = gemm.required_acc_bits(qa, qw)
    exact = gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(acc_bits=64))
    a = integer.decode_int_codes(qa.codes, 8)
    w = qw.spec.element_format.values()[qw.codes].astype(np.int64)
    group = 256 // qw.scales.shape[-1]
    sums = np.einsum("mgk,ngk->mng", a.reshape(16, -1, group), w.reshape(12, -1, group))
    assert need == max(max(int(s).bit_length(), (-int(s) - 1).bit_length())
                       for s in sums.ravel()) + 1
    np.testing.assert_array_equal(gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(acc_bits=need)),
                                  exact)
    assert (gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(acc_bits=need - 1)) != exact).any()
