"""Bit-exact GEMM through the LUT PE's arithmetic (lowbit.hwsim.pe.lut, lowbit.hwsim.units.lut),
with table entries stored at a chosen width.

    from lowbit.hwsim import gemm_lut
    sums = gemm_lut.lut_gemm(a, w_codes, w_bits=4, act_bits=8, table_bits=9, group=128)

Contract of :func:`lut_gemm`: entry [m, n, s] is
``lowbit.hwsim.units.lut.lut_dot(a[m, S], w_codes[n, S], w_bits=w_bits, act_bits=act_bits,
group_size=group_size, table="full", table_bits=table_bits)`` over scale group s (S = the
``group`` consecutive elements s * group .. (s + 1) * group - 1; K when ``group`` is None), each
scale group zero-padded to a multiple of group_size (zero activations with zero weight codes add
nothing and change no table entry a real index reads), then wrapped to ``acc_bits`` two's
complement: the LUT PE's accumulator (LutPE wraps after every beat; wrapping is modular, so
wrapping the exact beat sum once is the same). With table_bits None (or wide enough: act_bits +
ceil(log2 group_size) bits) every entry is exact and the result is lowbit.hwsim.gemm.int_gemm's
with "wrap"; narrower, every full-table entry (the sum of the activations at the set bits of its
index) is saturated once to the table_bits two's complement range before it is looked up.

:func:`qtensor_lut_gemm` computes a quantized integer layer on the lut / shared_lut PE
(lowbit.hwsim.pe.kinds: group_size 4, full tables): weights as the two's complement codes of the
narrowest intN holding their integer values (an asymmetric scheme's uintN codes, its zero point
subtracted outside the PE exactly as lowbit.hwsim.gemm does), the scales applied after the PE
sum as lowbit.hwsim.gemm's contract states.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from lowbit.hwsim import gemm_scales
from lowbit.hwsim.units import integer
from lowbit.hwsim.units.lut import GROUP_SIZES, table_limits

DEFAULT_GROUP_SIZE = 4    # the lut / shared_lut PE rows' g (lowbit.hwsim.pe.kinds.LUT_GROUP)


@njit(parallel=True, cache=True)
def _lut_sums(a, planes, g, per_scale_group, lo, hi, out):
    """out[s, m, n]: sum over the table groups k of scale group s and over the planes p of
    +-2^p * T_mk[planes[n, k, p]] (the sign plane negative), T_mk the saturated full table of
    a's group k in row m. a int64 [M, K]; planes uint8 [N, K / g, w_bits]."""
    n_tables, w_bits = planes.shape[1], planes.shape[2]
    for m in prange(a.shape[0]):
        tables = np.empty((n_tables, 1 << g), np.int64)
        for k in range(n_tables):
            for idx in range(1 << g):
                entry = np.int64(0)
                for j in range(g):
                    if (idx >> j) & 1:
                        entry += a[m, k * g + j]
                tables[k, idx] = min(max(entry, lo), hi)
        for n in range(planes.shape[0]):
            for s in range(out.shape[0]):
                total = np.int64(0)
                for k in range(s * per_scale_group, (s + 1) * per_scale_group):
                    for p in range(w_bits - 1):
                        total += tables[k, planes[n, k, p]] << p
                    total -= tables[k, planes[n, k, w_bits - 1]] << (w_bits - 1)
                out[s, m, n] = total


def _plane_indices(w_codes: np.ndarray, w_bits: int, g: int) -> np.ndarray:
    """uint8 [N, K / g, w_bits]: the table index of every weight group and bit-plane p,
    sum_j bit_p(code_j) << j."""
    N, K = w_codes.shape
    bits = (w_codes.reshape(N, K // g, g, 1).astype(np.int64)
            >> np.arange(w_bits)) & 1                         # [N, K/g, g, w_bits]
    weights = (1 << np.arange(g)).reshape(1, 1, g, 1)
    return np.ascontiguousarray((bits * weights).sum(axis=2), dtype=np.uint8)


def _padded(x: np.ndarray, group: int, g: int) -> np.ndarray:
    """x [rows, K] with every scale group of ``group`` elements zero-padded to a multiple of g."""
    rows, K = x.shape
    width = -(-group // g) * g
    out = np.zeros((rows, K // group, width), x.dtype)
    out[:, :, :group] = x.reshape(rows, K // group, group)
    return out.reshape(rows, -1)


def lut_gemm(a, w_codes, *, w_bits: int, act_bits: int = 8, group_size: int = DEFAULT_GROUP_SIZE,
             table_bits: int | None = None, group: int | None = None,
             acc_bits: int = 32) -> np.ndarray:
    """int64 [M, N, K / group]: the LUT PE's accumulator over every scale group (module
    contract). a: signed act_bits-bit integer values [M, K]; w_codes: w_bits-bit two's
    complement codes [N, K]."""
    w_bits, act_bits = integer.check_bits(w_bits, "w_bits"), integer.check_bits(act_bits, "act_bits")
    group_size = integer.check_bits(group_size, "group_size", GROUP_SIZES)
    integer.check_acc_bits(acc_bits)
    lo, hi = table_limits(table_bits)
    a = integer.check_int_values(a, act_bits, True, "a")
    w_codes = integer.check_int_codes(w_codes, w_bits, "w_codes")
    if a.ndim != 2 or w_codes.ndim != 2 or a.shape[1] != w_codes.shape[1]:
        raise ValueError(f"a [M, K] and w_codes [N, K] must be 2-D with one K, got shapes "
                         f"{a.shape} and {w_codes.shape}")
    K = a.shape[1]
    group = K if group is None else group
    if isinstance(group, bool) or not isinstance(group, (int, np.integer)) or group < 1 \
            or K % group:
        raise ValueError(f"group must be None or a positive divisor of K={K}, got {group!r}")
    a = _padded(a.astype(np.int64), group, group_size)
    w = _padded(w_codes.astype(np.int64), group, group_size)
    out = np.empty((K // group, a.shape[0], w.shape[0]), np.int64)
    _lut_sums(a, _plane_indices(w, w_bits, group_size), group_size,
              a.shape[1] // group_size // (K // group) if K else 0, lo, hi, out)
    shift = 64 - acc_bits
    return ((out << shift) >> shift).transpose(1, 2, 0)


def _weight_bits(values: np.ndarray) -> int:
    """The narrowest two's complement width holding every value (as map_scheme's intN); NaN
    (a format's unused code) ignored."""
    lo, hi = int(np.nanmin(values, initial=0)), int(np.nanmax(values, initial=0))
    return max(hi.bit_length(), (-lo - 1).bit_length()) + 1


def qtensor_lut_gemm(qa, qw, arithmetic) -> np.ndarray:
    """float32 y[M, N] = a @ w.T on the LUT PE with ``arithmetic.lut_table_bits``-bit table
    entries and an ``arithmetic.acc_bits`` wrapping accumulator (module docstring); qa and qw
    as lowbit.hwsim.gemm.qtensor_gemm takes them, on an integer PE."""
    if arithmetic.overflow != "wrap":
        raise ValueError(f"the LUT PE's accumulator wraps; overflow must be 'wrap' with "
                         f"lut_table_bits, got {arithmetic.overflow!r}")
    (M, K), N = qa.shape, qw.shape[0]
    # int64: _int_values gives int8/int16, too narrow for the code masks and group sums below
    a = gemm_scales.int_values(qa).astype(np.int64)
    w = gemm_scales.int_values(qw).astype(np.int64)
    fmt = qa.spec.element_format
    w_scales = gemm_scales.scales(qw, N)
    groups = w_scales.shape[1]
    w_bits = _weight_bits(qw.spec.element_format.values())
    w_codes = w & ((1 << w_bits) - 1)
    sums = lut_gemm(a, w_codes, w_bits=w_bits, act_bits=fmt.bits,
                    table_bits=arithmetic.lut_table_bits, group=K // groups,
                    acc_bits=arithmetic.acc_bits).transpose(2, 0, 1)
    if qw.zero_points is not None:       # z * sum of the group's activations, exact
        zeros = np.broadcast_to(qw.zero_points, (N, groups)).astype(np.int64)
        sums = sums - zeros.T[:, None, :] * a.reshape(M, groups, -1).sum(axis=-1).T[:, :, None]
    return gemm_scales.rescale(sums, w_scales, gemm_scales.scales(qa, M)[:, 0].copy())
