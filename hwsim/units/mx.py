"""Bit-exact MX (OCP Microscaling v1.0) dot product on codes.

Contract of :func:`mx_dot` (the hardware contract):
  operands     a_codes (``fmt_a``) and b_codes (``fmt_b``), equal shapes (..., n), n a multiple
               of 32 (0 allowed). Element formats: float8_e4m3fn, float8_e5m2, float6_e3m2fn,
               float6_e2m3fn, float4_e2m1fn (decoded as in :mod:`hwsim.units.fp8`), mixed
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

# Numba's disk cache keys these kernels on this file only: after editing the fp8 kernels they
# call (round_rne), delete hwsim/units/__pycache__ or the stale compiled callers are reused.
from hwsim.units.fp8 import (ELEMENT_FORMATS, F32_EMIN, F32_MBITS, FINITE, NAN, check_acc,
                             check_codes, decode_table, float32_bits, format_id, round_rne)

BLOCK = 32
E8M0_NAN = 0xFF
F32_MAX = 3.4028234663852886e38


@njit(cache=True)
def _dyadic_to_f32(neg, mh, ml, k):
    """float32 RNE of (-1)^neg * (mh * 2^32 + ml) * 2^k, overflow to inf; +0.0 for zero."""
    if mh == 0 and ml == 0:
        return np.float32(0.0)
    r, q = round_rne(mh, ml, k, F32_MBITS, F32_EMIN)
    value = math.ldexp(r, q)                # exact: r < 2^24, q within float64's range
    if value > F32_MAX:
        value = np.inf
    return np.float32(-value if neg else value)


@njit(cache=True)
def _block_value(a, sa, b, sb, start, ta, tb, lsb):
    """B_j of the block starting at ``start`` (module docstring), as float32.

    ta = (cls, neg, fixed) and tb = (cls, neg, fixed_hi, fixed_lo) from :func:`_operand_tables`.
    The exact block sum is kept as fixed_a * (fixed_hi * 2^16 + fixed_lo) summed in two int64
    parts: |fixed| < 2^33 and both b parts < 2^16, so each part's 32 terms stay below 2^54.
    """
    cls_a, neg_a, fixed_a = ta
    cls_b, neg_b, fixed_hi, fixed_lo = tb
    high = 0                                # the exact sum is high * 2^16 + low
    low = 0
    nan = sa == E8M0_NAN or sb == E8M0_NAN
    pos_inf = False
    neg_inf = False
    for i in range(start, start + BLOCK):
        x = a[i]
        y = b[i]
        if cls_a[x] != FINITE or cls_b[y] != FINITE:
            zero = (cls_a[x] == FINITE and fixed_a[x] == 0) or \
                (cls_b[y] == FINITE and fixed_hi[y] == 0 and fixed_lo[y] == 0)
            if cls_a[x] == NAN or cls_b[y] == NAN or zero:
                nan = True
            elif neg_a[x] ^ neg_b[y]:
                neg_inf = True
            else:
                pos_inf = True
            continue
        high += fixed_a[x] * fixed_hi[y]
        low += fixed_a[x] * fixed_lo[y]
    if nan or (pos_inf and neg_inf):
        return np.float32(np.nan)
    if pos_inf or neg_inf:
        return np.float32(-np.inf if neg_inf else np.inf)
    hi = high >> 16                         # regroup as hi * 2^32 + lo with 0 <= lo < 2^32
    lo = ((high & 0xFFFF) << 16) + low
    hi += lo >> 32
    lo &= 0xFFFFFFFF
    neg = hi < 0
    if neg:                                 # magnitude of hi * 2^32 + lo
        hi, lo = (-hi, 0) if lo == 0 else (-hi - 1, (1 << 32) - lo)
    return _dyadic_to_f32(neg, hi, lo, lsb + sa + sb - 254)


@njit(cache=True)
def _mx_rows(a, sa, b, sb, ta, tb, lsb, acc, out):
    for r in range(a.shape[0]):
        s = acc[r]
        for j in range(sa.shape[1]):
            s += _block_value(a[r], sa[r, j], b[r], sb[r, j], BLOCK * j, ta, tb, lsb)
        out[r] = s


def _operand_tables(f: int) -> tuple:
    """(cls, neg, fixed, lsb) of format f: fixed[code] is the signed finite value in units of
    2^lsb, lsb the exponent of the smallest subnormal (|fixed| < 2^33 for E5M2)."""
    cls, neg, sig, k = decode_table(f)
    lsb = int(k[0])
    return cls, neg, np.where(neg == 1, -sig, sig) << (k - lsb), lsb


def _check_scales(scales, codes_shape: tuple, argname: str) -> np.ndarray:
    scales = np.asarray(scales)
    if scales.dtype.kind not in "ui":
        raise ValueError(f"{argname} must be integer float8_e8m0fnu codes, got dtype "
                         f"{scales.dtype}")
    if scales.size and (scales.min() < 0 or scales.max() > 0xFF):
        raise ValueError(f"{argname} must hold float8_e8m0fnu codes in 0..255, got values in "
                         f"{scales.min()}..{scales.max()}")
    want = codes_shape[:-1] + (codes_shape[-1] // BLOCK,)
    if scales.shape != want:
        raise ValueError(f"{argname} must have shape {want} (one scale per block of {BLOCK}), "
                         f"got {scales.shape}")
    return scales.astype(np.int64)


def mx_dot(a_codes, a_scales, b_codes, b_scales, fmt_a: str, fmt_b: str, acc=0.0) -> np.ndarray:
    """MX dot products; float32 bit patterns as uint32. The contract is the module docstring."""
    fa = format_id(fmt_a, "fmt_a", ELEMENT_FORMATS)
    fb = format_id(fmt_b, "fmt_b", ELEMENT_FORMATS)
    a = check_codes(a_codes, fa, "a_codes")
    b = check_codes(b_codes, fb, "b_codes")
    if a.ndim == 0 or a.shape != b.shape:
        raise ValueError(f"a_codes and b_codes must have the same shape (..., n), got "
                         f"{a.shape} and {b.shape}")
    if a.shape[-1] % BLOCK:
        raise ValueError(f"a_codes and b_codes must have a last dimension that is a multiple of "
                         f"{BLOCK}, got {a.shape[-1]}")
    sa = _check_scales(a_scales, a.shape, "a_scales")
    sb = _check_scales(b_scales, b.shape, "b_scales")
    batch = a.shape[:-1]
    acc32 = check_acc(acc, batch).reshape(-1)
    out = np.empty(acc32.shape, np.float32)
    rows = (acc32.size, a.shape[-1])       # explicit: reshape(-1, 0) is ambiguous for n = 0
    cls_a, neg_a, fixed_a, lsb_a = _operand_tables(fa)
    cls_b, neg_b, fixed_b, lsb_b = _operand_tables(fb)
    _mx_rows(a.reshape(rows), sa.reshape(acc32.size, -1), b.reshape(rows),
             sb.reshape(acc32.size, -1), (cls_a, neg_a, fixed_a),
             (cls_b, neg_b, fixed_b >> 16, fixed_b & 0xFFFF), lsb_a + lsb_b, acc32, out)
    return float32_bits(out, batch)
