"""Bit-exact MX (OCP Microscaling v1.0) dot product on codes.

Contract of :func:`mx_dot` (the hardware contract):
  operands     a_codes (``fmt_a``) and b_codes (``fmt_b``), equal shapes (..., n), n a multiple
               of 32 (0 allowed). Element formats: float8_e4m3fn, float8_e5m2, float6_e3m2fn,
               float6_e2m3fn, float4_e2m1fn (decoded as in :mod:`lowbit.hwsim.units.fp8`), mixed
               allowed. Block j is elements 32j .. 32j+31.
  scales       a_scales, b_scales: float8_e8m0fnu codes of shape (..., n / 32), one per block;
               code s means 2^(s - 127) (s = 0..254), s = 0xFF is NaN.
  block        D_j = sum over the block of a_i * b_i, computed *exactly*: every product is an
               integer significand (< 2^8) times 2^k, and the sum is kept as a fixed-point
               integer in units of the smallest possible product, 2^(lsb_a + lsb_b) with lsb
               the exponent of the format's smallest subnormal (up to 70 bits with sign for
               E5M2 x E5M2; this model keeps it in two int64 parts). Then
                   B_j = float32_RNE(D_j * 2^(sa_j - 127) * 2^(sb_j - 127)),
               rounded *once* (subnormals kept, overflow -> +-inf). An exact zero D_j gives
               +0.0; a nonzero value that rounds to zero keeps its sign.
  accumulation acc = ``acc`` (default +0.0, float32-representable, broadcast to (...)), then
               for j = 0, 1, ... in order: acc = float32_RNE(acc + B_j), IEEE rules (NaN
               propagates, inf + -inf = NaN, exact zero sum +0 unless both addends are -0).
  specials     B_j is NaN if sa_j or sb_j is 0xFF (even for an all-zero block), if any
               element is NaN (E4M3 S.1111.111, E5M2 S.11111.xx with xx != 00), for inf * 0,
               or if the block has inf products of both signs; otherwise any inf product
               (E5M2 only) makes B_j that inf. NaN results are 0x7FC00000.
  result       uint32 float32 bits of shape (...) (a numpy scalar for 1-D operands).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from lowbit.hwsim import formats
from lowbit.hwsim.units.fp8 import (ELEMENT_FORMATS, FINITE, NAN, check_dot_operands, decode_table,
                             dyadic_to_float32, float32_bits)

# The kernels here call no njit function of another module (fp8's are called from Python):
# Numba's disk cache checks only the caller's own file for changes.

BLOCK = 32
E8M0_NAN = 0xFF
# Block classes written by _exact_blocks.
FINITE_BLOCK, NAN_BLOCK, POS_INF_BLOCK, NEG_INF_BLOCK = range(4)


@njit(cache=True)
def _exact_blocks(a, b, ta, tb):
    """Every block's exact sum of products, ignoring the scales (module docstring).

    a, b: (rows, n) codes. ta = (finite, nan, neg, fixed) and tb = (finite, nan, neg, fixed_hi,
    fixed_lo), indexed by code, from :func:`_operand_tables`. Returns (cls, neg, hi, lo) of
    shape (rows, n / 32): the block class and, for FINITE_BLOCK, the sum as (-1)^neg *
    (hi * 2^32 + lo) units of 2^(lsb_a + lsb_b) (0 <= lo < 2^32). The products are summed as
    fixed_a * (fixed_hi * 2^16 + fixed_lo) in two int64 parts: |fixed| < 2^33 and both b parts
    are < 2^16, so each part's 32 terms stay below 2^54.
    """
    finite_a, nan_a, neg_a, fixed_a = ta
    finite_b, nan_b, neg_b, fixed_hi, fixed_lo = tb
    rows, blocks = a.shape[0], a.shape[1] // BLOCK
    cls = np.full((rows, blocks), FINITE_BLOCK, np.int64)
    neg = np.zeros((rows, blocks), np.bool_)
    hi = np.zeros((rows, blocks), np.int64)
    lo = np.zeros((rows, blocks), np.int64)
    for r in range(rows):
        for j in range(blocks):
            high = 0                        # the exact sum is high * 2^16 + low
            low = 0
            nan = False
            pos_inf = False
            neg_inf = False
            for i in range(BLOCK * j, BLOCK * j + BLOCK):
                x = a[r, i]
                y = b[r, i]
                if not (finite_a[x] and finite_b[y]):
                    zero = (finite_a[x] and fixed_a[x] == 0) or \
                        (finite_b[y] and fixed_hi[y] == 0 and fixed_lo[y] == 0)
                    if nan_a[x] or nan_b[y] or zero:
                        nan = True
                    elif neg_a[x] ^ neg_b[y]:
                        neg_inf = True
                    else:
                        pos_inf = True
                    continue
                high += fixed_a[x] * fixed_hi[y]
                low += fixed_a[x] * fixed_lo[y]
            if nan or (pos_inf and neg_inf):
                cls[r, j] = NAN_BLOCK
                continue
            if pos_inf or neg_inf:
                cls[r, j] = NEG_INF_BLOCK if neg_inf else POS_INF_BLOCK
                continue
            h = high >> 16                  # regroup as h * 2^32 + l with 0 <= l < 2^32
            l = ((high & 0xFFFF) << 16) + low
            h += l >> 32
            l &= 0xFFFFFFFF
            if h < 0:                       # magnitude of h * 2^32 + l
                neg[r, j] = True
                h, l = (-h, 0) if l == 0 else (-h - 1, (1 << 32) - l)
            hi[r, j] = h
            lo[r, j] = l
    return cls, neg, hi, lo


@njit(cache=True)
def _accumulate_rows(cls, rounded, sa, sb, acc, out):
    """out[r] = acc[r] + B_r0 + B_r1 + ... in index order, in float32, where B_rj is NaN for a
    NaN scale (sa or sb 0xFF), else the special value of class cls[r, j], else rounded[r, j]
    (the finite block sum already scaled and rounded to float32)."""
    for r in range(cls.shape[0]):
        s = acc[r]
        for j in range(cls.shape[1]):
            if sa[r, j] == E8M0_NAN or sb[r, j] == E8M0_NAN or cls[r, j] == NAN_BLOCK:
                s += np.float32(np.nan)
            elif cls[r, j] == POS_INF_BLOCK:
                s += np.float32(np.inf)
            elif cls[r, j] == NEG_INF_BLOCK:
                s += np.float32(-np.inf)
            else:
                s += rounded[r, j]
        out[r] = s


def _operand_tables(f: int) -> tuple:
    """(finite, nan, neg, fixed, lsb) of format f, indexed by code: bool class and sign tables,
    fixed[code] the signed finite value in units of 2^lsb (0 for NaN and inf), lsb the exponent
    of the smallest subnormal (|fixed| < 2^33 for E5M2)."""
    cls, neg, sig, k = decode_table(f)
    lsb = int(k[0])
    return cls == FINITE, cls == NAN, neg == 1, np.where(neg == 1, -sig, sig) << (k - lsb), lsb


def _check_scales(scales, shape: tuple, argname: str) -> np.ndarray:
    """float8_e8m0fnu codes of ``shape`` (batch + (blocks,)) as int64 of (rows, blocks)."""
    scales = formats.get("float8_e8m0fnu").check_codes(scales, argname)
    if scales.shape != shape:
        raise ValueError(f"{argname} must have shape {shape} (one scale per block of {BLOCK}), "
                         f"got {scales.shape}")
    return scales.astype(np.int64).reshape(math.prod(shape[:-1]), shape[-1])


def mx_dot(a_codes, a_scales, b_codes, b_scales, fmt_a: str, fmt_b: str, acc=0.0) -> np.ndarray:
    """MX dot products; float32 bit patterns as uint32. The contract is the module docstring."""
    fa, fb, a, b, acc32, batch = check_dot_operands(a_codes, b_codes, fmt_a, fmt_b, acc,
                                                    ELEMENT_FORMATS)
    if a.shape[1] % BLOCK:
        raise ValueError(f"a_codes and b_codes must have a last dimension that is a multiple of "
                         f"{BLOCK}, got {a.shape[1]}")
    scales_shape = batch + (a.shape[1] // BLOCK,)
    sa = _check_scales(a_scales, scales_shape, "a_scales")
    sb = _check_scales(b_scales, scales_shape, "b_scales")
    finite_a, nan_a, neg_a, fixed_a, lsb_a = _operand_tables(fa)
    finite_b, nan_b, neg_b, fixed_b, lsb_b = _operand_tables(fb)
    cls, neg, hi, lo = _exact_blocks(a, b, (finite_a, nan_a, neg_a, fixed_a),
                                     (finite_b, nan_b, neg_b, fixed_b >> 16, fixed_b & 0xFFFF))
    exponent = lsb_a + lsb_b + sa + sb - 254
    rounded = dyadic_to_float32(neg.ravel(), hi.ravel(), lo.ravel(), exponent.ravel())
    out = np.empty_like(acc32)
    _accumulate_rows(cls, rounded.reshape(cls.shape), sa, sb, acc32, out)
    return float32_bits(out, batch)
