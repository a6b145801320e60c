"""Bit-exact GEMM through the native MX PE's arithmetic (lowbit.hwsim.pe.mx_mac).

    from lowbit.hwsim import gemm_mx
    y = gemm_mx.mx_gemm(a_codes, a_scales, w_codes, w_scales, fmt_a, fmt_w)   # float32 [M, N]

Contract of :func:`mx_gemm`: entry [m, n] is exactly
``lowbit.hwsim.units.mx.mx_dot(a_codes[m], a_scales[m], w_codes[n], w_scales[n], fmt_a, fmt_w)``
(the dot product MxMacPE computes), for *finite* operands:
  operands     a_codes [M, K] of ``fmt_a``, w_codes [N, K] of ``fmt_w`` (MX element formats:
               float8_e4m3fn, float8_e5m2, float6_e3m2fn, float6_e2m3fn, float4_e2m1fn, mixed
               allowed), K a multiple of 32 (block j is elements 32j .. 32j+31); no NaN or inf
               code (quantized tensors never hold one).
  scales       a_scales [M, K / 32], w_scales [N, K / 32]: float8_e8m0fnu codes 0..254 (2^(s-127));
               the NaN code 255 is refused.
  block        D = the exact sum of the block's 32 products, in units of 2^(lsb_a + lsb_b) (lsb:
               the exponent of the format's smallest subnormal); B = float32_RNE(D * 2^(lsb_a +
               lsb_b + sa + sw - 254)), rounded once (subnormals kept, overflow to +-inf; an exact
               zero D is +0.0), by the rounding function mx_dot itself uses.
  accumulation acc = +0.0, then acc = float32_RNE(acc + B_j) for j = 0, 1, ... in order (an
               overflowed block makes acc +-inf, infs of both signs NaN: 0x7FC00000, as mx_dot).

How the exact sums are computed: every value is an integer in units of 2^lsb, so a block sum is
an integer; a float64 matrix product of integers is exact, in any order, while every partial sum
stays below 2^53. Where 32 * max|a| * max|w| < 2^53 (every format pair but those with
float8_e5m2, whose values reach 2^32 units) the block sum D is one float64 product, D * 2^e is
exact in float64 (e >= -272: no float64 underflow) and its conversion to float32 is the one RNE
rounding (subnormals, overflow to inf). Otherwise the weights are cut into 16-bit halves
(w = hi * 2^16 + lo) so that each half's 32 products stay below 2^53, and the two exact halves
are recombined into the magnitude hi * 2^32 + lo that mx_dot's own rounding function takes.

:func:`qtensor_mx_gemm` computes a quantized layer on mx_mac: an MX scheme's codes and E8M0
block scales as above (no scale applied outside the PE); an FP8 scheme with per-tensor,
per-channel or per-group scales as mx_mac runs it, every block scale 2^0 (E8M0 127), one dot
product per scale group (each group zero-padded to whole blocks, as the PE pads a short final
block), the group sums then rescaled outside the PE as lowbit.hwsim.gemm states.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim import formats, gemm_scales
from lowbit.hwsim.units.fp8 import ELEMENT_FORMATS, decode_table, dyadic_to_float32, format_id
from lowbit.hwsim.units.mx import BLOCK, E8M0_NAN

UNIT_SCALE = 127          # E8M0 code of 2^0
HALF_BITS = 16            # the weight halves (module docstring)
EXACT_FLOAT64 = 1 << 53   # integers below it, and their sums below it, are exact in float64
ROW_BLOCK = 64            # rows of a per pass: bounds the [blocks, rows, N] 64-bit scratch


def _fixed(codes: np.ndarray, fmt: str, argname: str) -> tuple[np.ndarray, int]:
    """(int64 values of ``codes`` in units of 2^lsb, lsb); ValueError for NaN or inf codes."""
    codes = gemm_scales.finite_codes(codes, fmt, argname, ELEMENT_FORMATS, "MX GEMM")
    _, neg, sig, k = decode_table(format_id(fmt, argname, ELEMENT_FORMATS))
    lsb = int(k[0])
    return (np.where(neg == 1, -sig, sig) << (k - lsb))[codes], lsb


def _check_scales(scales, shape: tuple, argname: str) -> np.ndarray:
    scales = formats.get("float8_e8m0fnu").check_codes(scales, argname)
    if scales.shape != shape:
        raise ValueError(f"{argname} must have shape {shape} (one E8M0 code per block of "
                         f"{BLOCK}), got {scales.shape}")
    if (scales == E8M0_NAN).any():
        raise ValueError(f"{argname} must hold finite E8M0 codes 0..254 (no NaN scale 255)")
    return scales.astype(np.int64)


def _blocks(x: np.ndarray) -> np.ndarray:
    """float64 [K / 32, rows, 32] of x [rows, K]."""
    return x.reshape(x.shape[0], -1, BLOCK).transpose(1, 0, 2).astype(np.float64)


def _magnitudes(high: np.ndarray, low: np.ndarray) -> tuple:
    """(neg, hi, lo) with high * 2^16 + low = (-1)^neg * (hi * 2^32 + lo), 0 <= lo < 2^32 (the
    regrouping mx.mx_dot makes; high and low int64, |each| < 2^53)."""
    h = high >> HALF_BITS
    l = ((high & 0xFFFF) << HALF_BITS) + low
    h = h + (l >> 32)
    l = l & 0xFFFFFFFF
    neg = h < 0
    borrow = neg & (l != 0)
    h = np.where(neg, -h - borrow, h)
    l = np.where(borrow, (1 << 32) - l, l)
    return neg, h, l


def _rounded_blocks(fa, sa, lsb_a, w_parts, sw, lsb_w) -> np.ndarray:
    """float32 [K / 32, M, N]: every block's B (module contract) for rows fa [M, K]; w_parts
    the weights' blocks, whole (one array) or in halves (hi, lo)."""
    a = _blocks(fa)
    exponent = lsb_a + lsb_w - 254 + sa.T[:, :, None] + sw.T[:, None, :]
    if len(w_parts) == 1:
        exact = np.matmul(a, w_parts[0]) + 0.0        # + 0.0: an exact zero is +0.0
        with np.errstate(over="ignore"):              # overflow: +-inf, as the contract says
            return np.ldexp(exact, exponent).astype(np.float32)
    high = np.matmul(a, w_parts[0]).astype(np.int64)  # exact: |partial sums| < 2^53
    low = np.matmul(a, w_parts[1]).astype(np.int64)
    neg, hi, lo = _magnitudes(high, low)
    return dyadic_to_float32(neg.ravel(), hi.ravel(), lo.ravel(),
                             exponent.ravel()).reshape(high.shape)


def _accumulate(blocks: np.ndarray) -> np.ndarray:
    """float32 [M, N]: acc = +0.0, acc = acc + B_j in order (numpy float32 adds are IEEE
    single, one RNE rounding each)."""
    acc = np.zeros(blocks.shape[1:], np.float32)
    with np.errstate(invalid="ignore"):      # inf + -inf: NaN, made canonical below
        for block in blocks:
            acc = acc + block
    acc[np.isnan(acc)] = np.float32(np.nan)  # numpy's nan is 0x7FC00000, as float32_bits makes
    return acc


def block_sums(fa, sa, lsb_a, fw, sw, lsb_w) -> np.ndarray:
    """float32 [K / 32, M, N]: B of every block (module contract) of the fixed-point values fa
    [M, K] and fw [N, K] with E8M0 codes sa [M, K / 32], sw [N, K / 32] (int64)."""
    largest = BLOCK * int(np.abs(fa).max(initial=0)) * int(np.abs(fw).max(initial=0))
    if largest < EXACT_FLOAT64:
        w_parts = (_blocks(fw).transpose(0, 2, 1),)
    else:
        w_parts = (_blocks(fw >> HALF_BITS).transpose(0, 2, 1),
                   _blocks(fw & 0xFFFF).transpose(0, 2, 1))
    out = np.empty((fa.shape[1] // BLOCK, fa.shape[0], fw.shape[0]), np.float32)
    for start in range(0, fa.shape[0], ROW_BLOCK):
        rows = slice(start, start + ROW_BLOCK)
        out[:, rows] = _rounded_blocks(fa[rows], sa[rows], lsb_a, w_parts, sw, lsb_w)
    return out


def mx_gemm(a_codes, a_scales, w_codes, w_scales, fmt_a: str, fmt_w: str) -> np.ndarray:
    """float32 [M, N]: mx_dot of every row of a with every row of w (module contract)."""
    fa, lsb_a = _fixed(a_codes, fmt_a, "a_codes")
    fw, lsb_w = _fixed(w_codes, fmt_w, "w_codes")
    if fa.ndim != 2 or fw.ndim != 2 or fa.shape[1] != fw.shape[1] or fa.shape[1] % BLOCK:
        raise ValueError(f"a_codes [M, K] and w_codes [N, K] must be 2-D with one K, a multiple "
                         f"of {BLOCK}; got shapes {fa.shape} and {fw.shape}")
    blocks = fa.shape[1] // BLOCK
    sa = _check_scales(a_scales, (fa.shape[0], blocks), "a_scales")
    sw = _check_scales(w_scales, (fw.shape[0], blocks), "w_scales")
    return _accumulate(block_sums(fa, sa, lsb_a, fw, sw, lsb_w))


# -- a quantized layer ------------------------------------------------------------------------
def _e8m0(scales: np.ndarray) -> np.ndarray:
    """E8M0 codes of MX scales (powers of two, as lowbit.hwsim.quant makes them)."""
    return formats.get("float8_e8m0fnu").encode(np.asarray(scales, np.float64))


def _grouped(fixed: np.ndarray, group: int) -> np.ndarray:
    """fixed [rows, K] with each group of ``group`` elements zero-padded to whole blocks."""
    rows, K = fixed.shape
    padded = -(-group // BLOCK) * BLOCK
    out = np.zeros((rows, K // group, padded), np.int64)
    out[:, :, :group] = fixed.reshape(rows, K // group, group)
    return out.reshape(rows, -1)


def qtensor_mx_gemm(qa, qw) -> np.ndarray:
    """float32 y[M, N] = a @ w.T on mx_mac (module docstring): qa the QTensor of activations
    [M, K], qw of weights [N, K], both quantized along K; an MX scheme (both sides "mx"), or FP8
    codes with activation scales per tensor or per row and weight scales per tensor, channel or
    group (scales applied outside the PE, lowbit.hwsim.gemm's rescale contract)."""
    (M, K), (N, Kw) = qa.shape, qw.shape
    if K != Kw or len(qa.shape) != 2 or qa.axis != 1 or qw.axis != 1:
        raise ValueError(f"qa [M, K] and qw [N, K] must be 2-D, quantized along K, with one K; "
                         f"got shapes {qa.shape} and {qw.shape}")
    fmt_a, fmt_w = qa.spec.element_format.name, qw.spec.element_format.name
    if qa.spec.granularity == "mx" and qw.spec.granularity == "mx":
        return mx_gemm(qa.codes, _e8m0(qa.scales), qw.codes, _e8m0(qw.scales), fmt_a, fmt_w)
    fa, lsb_a = _fixed(qa.codes, fmt_a, "qa.codes")
    fw, lsb_w = _fixed(qw.codes, fmt_w, "qw.codes")
    w_scales = gemm_scales.scales(qw, N)
    group = K // w_scales.shape[1]
    fa, fw = _grouped(fa, group), _grouped(fw, group)
    blocks = block_sums(fa, np.full((M, fa.shape[1] // BLOCK), UNIT_SCALE), lsb_a,
                        fw, np.full((N, fw.shape[1] // BLOCK), UNIT_SCALE), lsb_w)
    per_group = blocks.shape[0] // w_scales.shape[1]
    sums = np.stack([_accumulate(blocks[g * per_group:(g + 1) * per_group])
                     for g in range(w_scales.shape[1])])
    return gemm_scales.rescale(sums, w_scales, gemm_scales.scales(qa, M)[:, 0].copy())
