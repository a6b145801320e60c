"""lowbit.hwsim.gemm_mx against the mx_dot unit MxMacPE is built from (10,000 random dot products
over every element-format pair, scale corners included), the MxMacPE model itself, and an
exact fractions.Fraction reference."""
import itertools
from fractions import Fraction

import numpy as np
import pytest

from lowbit.hwsim import formats, gemm, gemm_mx, quant
from lowbit.hwsim.pe import Beat, MxMacPE, MxMacPEConfig
from lowbit.hwsim.units.fp8 import ELEMENT_FORMATS
from lowbit.hwsim.units.mx import mx_dot


def _finite_codes(rng, fmt, shape):
    values = formats.get(fmt).values()
    finite = np.flatnonzero(np.isfinite(values))
    return finite[rng.integers(0, finite.size, shape)].astype(np.uint8)


def _mx_dot_matrix(a, sa, w, sw, fmt_a, fmt_w):
    """mx_dot of every (row of a, row of w) pair, as float32 bits [M, N]."""
    M, N = len(a), len(w)
    bits = mx_dot(np.repeat(a, N, axis=0), np.repeat(sa, N, axis=0), np.tile(w, (M, 1)),
                  np.tile(sw, (M, 1)), fmt_a, fmt_w)
    return bits.reshape(M, N)


@pytest.mark.parametrize("fmt_a,fmt_w", list(itertools.product(ELEMENT_FORMATS, repeat=2)))
def test_mx_gemm_is_mx_dot(rng, fmt_a, fmt_w):
    """20 x 20 dot products of 96 elements per format pair (10,000 in all): random scales
    with rows of the extreme codes 0 and 254 (subnormal and overflowing blocks), and all-zero
    blocks (+0)."""
    a = _finite_codes(rng, fmt_a, (20, 96))
    w = _finite_codes(rng, fmt_w, (20, 96))
    a[1, 32:64] = 0
    sa = rng.integers(80, 175, (20, 3))
    sw = rng.integers(80, 175, (20, 3))
    sa[0], sw[0], sa[2], sw[2] = 0, 0, 254, 254
    got = gemm_mx.mx_gemm(a, sa, w, sw, fmt_a, fmt_w)
    np.testing.assert_array_equal(got.view(np.uint32), _mx_dot_matrix(a, sa, w, sw, fmt_a, fmt_w))


def _value(fmt, code):
    return Fraction(float(formats.get(fmt).values()[code]))


@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn"])
def test_mx_gemm_against_fractions(rng, fmt):
    """Exact block sums scaled by 2^(sa + sw - 254), each rounded to float32 once, then float32
    additions in block order (rounded by exact rational arithmetic)."""
    a, w = _finite_codes(rng, fmt, (3, 64)), _finite_codes(rng, fmt, (4, 64))
    sa, sw = rng.integers(100, 150, (3, 2)), rng.integers(100, 150, (4, 2))
    got = gemm_mx.mx_gemm(a, sa, w, sw, fmt, fmt)
    for m, n in itertools.product(range(3), range(4)):
        acc = Fraction(0)
        for j in range(2):
            block = sum(_value(fmt, a[m, i]) * _value(fmt, w[n, i])
                        for i in range(32 * j, 32 * j + 32))
            block *= Fraction(2) ** int(sa[m, j] + sw[n, j] - 254)
            acc = gemm.round_fraction(acc + gemm.round_fraction(block, 23, "rne"), 23, "rne")
        assert Fraction(float(got[m, n])) == acc, (m, n)


@pytest.mark.parametrize("scheme", ["mxfp8", "mxfp4"])
def test_qtensor_gemm_on_mx_mac_is_the_pe_model(rng, scheme):
    """An MX layer through PEArithmetic(float_pe="mx_mac") equals MxMacPE run beat by beat."""
    spec = quant.preset(scheme)
    qa = quant.quantize(rng.standard_t(3, (3, 64)).astype(np.float32), spec.act_spec)
    qw = quant.quantize(rng.standard_t(3, (2, 64)).astype(np.float32), spec.weight_spec)
    got = gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(float_pe="mx_mac"))
    e8m0 = formats.get("float8_e8m0fnu")
    sa, sw = (e8m0.encode(q.scales.astype(np.float64)) for q in (qa, qw))
    pe = MxMacPE(MxMacPEConfig(lanes=16, fmt=spec.act_spec.element_format.name))
    for m, n in itertools.product(range(3), range(2)):
        beats = [Beat(act=qa.codes[m, i:i + 16], wgt=qw.codes[n, i:i + 16], last=i == 48,
                      act_scale=int(sa[m, i // 32]), wgt_scale=int(sw[n, i // 32]))
                 for i in range(0, 64, 16)]
        (bits,) = pe.run(beats).values
        assert got[m, n].view(np.uint32) == bits, (m, n)


@pytest.mark.parametrize("preset", ["fp8-e4m3", "fp8-e5m2"])
def test_fp8_scheme_on_mx_mac_has_unit_block_scales_and_rescales_outside(rng, preset):
    """Per-channel FP8 on mx_mac: each dot product over K = 40 (a short final block, padded
    with zeros) with every E8M0 scale 127, then the weight and activation scales applied as
    lowbit.hwsim.gemm's rescale contract states."""
    scheme = quant.preset(preset)
    qa = quant.quantize(rng.standard_normal((4, 40)).astype(np.float32), scheme.act_spec)
    qw = quant.quantize(rng.standard_normal((3, 40)).astype(np.float32), scheme.weight_spec)
    got = gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(float_pe="mx_mac"))
    fmt = scheme.act_spec.element_format.name
    pad = lambda codes: np.pad(codes, ((0, 0), (0, 24)))
    ones = lambda rows: np.full((rows, 2), 127)
    sums = _mx_dot_matrix(pad(qa.codes), ones(4), pad(qw.codes), ones(3), fmt, fmt)
    w_scales = np.broadcast_to(qw.scales, (3, 1)).astype(np.float32)
    a_scales = np.broadcast_to(qa.scales, (4, 1))[:, 0].astype(np.float32)
    expected = (np.float32(0) + sums.view(np.float32) * w_scales[:, 0]) * a_scales[:, None]
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_mx_mac_and_fake_quant_differ_only_in_float32_rounding(rng):
    scheme = quant.preset("mxfp8")
    qa = quant.quantize(rng.standard_normal((8, 256)).astype(np.float32), scheme.act_spec)
    qw = quant.quantize(rng.standard_normal((8, 256)).astype(np.float32), scheme.weight_spec)
    fake = quant.dequantize(qa).astype(np.float64) @ quant.dequantize(qw).T.astype(np.float64)
    got = gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(float_pe="mx_mac"))
    np.testing.assert_allclose(got, fake, rtol=0, atol=8 * np.spacing(np.abs(fake).max(),
                                                                       dtype=np.float32))


def test_mx_gemm_refuses_what_it_does_not_model(rng):
    e4m3 = "float8_e4m3fn"
    a, s = _finite_codes(rng, e4m3, (2, 32)), np.full((2, 1), 127)
    with pytest.raises(ValueError, match="finite float8_e4m3fn codes"):
        gemm_mx.mx_gemm(np.full((2, 32), 0x7F), s, a, s, e4m3, e4m3)
    with pytest.raises(ValueError, match="no NaN scale 255"):
        gemm_mx.mx_gemm(a, np.full((2, 1), 255), a, s, e4m3, e4m3)
    with pytest.raises(ValueError, match="a multiple of 32"):
        gemm_mx.mx_gemm(a[:, :16], s, a[:, :16], s, e4m3, e4m3)
    with pytest.raises(ValueError, match="shape \\(2, 1\\)"):
        gemm_mx.mx_gemm(a, np.full((2, 2), 127), a, s, e4m3, e4m3)
    mx = quant.preset("mxfp8")
    x = rng.standard_normal((2, 32)).astype(np.float32)
    qa, qw = quant.quantize(x, mx.act_spec), quant.quantize(x, mx.weight_spec)
    with pytest.raises(ValueError, match="float_pe must be 'mx_mac' for an MX layer"):
        gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic())
    with pytest.raises(ValueError, match="acc_mbits must be 23 and acc_rounding 'rne'"):
        gemm.PEArithmetic(float_pe="mx_mac", acc_mbits=13)
    with pytest.raises(ValueError, match="float_pe must be one of"):
        gemm.PEArithmetic(float_pe="fp16_mac")
