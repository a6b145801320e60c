"""What every bit-exact GEMM (lowbit.hwsim.gemm, gemm_lut, gemm_mx) shares: a QTensor's integer
values, checked finite float codes and scales, and the float32 scale rule applied after a PE's
group sums (the contract is in lowbit.hwsim.gemm's module docstring). A module of its own so
that the PE-specific GEMMs need not import lowbit.hwsim.gemm, which routes to them."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from lowbit.hwsim import formats
from lowbit.hwsim.units.fp8 import format_id


def finite_codes(codes, fmt: str, argname: str, allowed, pe: str) -> np.ndarray:
    """``codes`` checked as codes of ``fmt`` (one of ``allowed``); ValueError naming ``argname``
    for another format, a bad code, or a NaN or inf code, which the ``pe`` contract excludes
    (it covers quantized tensors only)."""
    format_id(fmt, f"the format of {argname}", allowed)
    fmt_obj = formats.get(fmt)
    codes = fmt_obj.check_codes(codes, argname)
    if not np.isfinite(fmt_obj.values()[codes]).all():
        raise ValueError(f"{argname} must hold finite {fmt} codes (no NaN or inf): the {pe} "
                         f"covers quantized tensors only")
    return codes


def int_values(q) -> np.ndarray:
    """Integer values of a QTensor's codes by table lookup: intN values, the uintN codes of an
    asymmetric tensor (its zero point is subtracted outside the PE), or the integer levels of
    binary and ternary formats; int8 where every value of the format fits, int16 otherwise
    (formats here have at most 8 bits). A NaN code (ternary's unused one) never occurs in a
    quantized tensor; its table entry is 0."""
    values = q.spec.element_format.values()
    dtype = np.int8 if np.nanmin(values) >= -128 and np.nanmax(values) <= 127 else np.int16
    return np.nan_to_num(values).astype(dtype)[q.codes]


def scales(q, rows: int) -> np.ndarray:
    """A QTensor's scales as float32 [rows, groups] (a per-tensor scale repeated)."""
    return np.ascontiguousarray(np.broadcast_to(q.scales, (rows, q.scales.shape[-1])),
                                dtype=np.float32)


@njit(parallel=True, cache=True)
def rescale_rows(sums, w_scales, a_scales, out):
    """out[m, n] = f32(r * a_scales[m]), r = f32(r + f32(f32(sums[g, m, n]) * w_scales[g, n]))
    over g in order from +0: each a float32 operation (no fastmath), the conversion of an
    integer sum to float32 RNE."""
    for m in prange(out.shape[0]):
        r = np.zeros(out.shape[1], np.float32)
        for g in range(sums.shape[0]):
            for n in range(r.size):
                r[n] += np.float32(sums[g, m, n]) * w_scales[g, n]
        for n in range(r.size):
            out[m, n] = r[n] * a_scales[m]


def rescale(sums: np.ndarray, w_scales: np.ndarray, a_scales: np.ndarray) -> np.ndarray:
    """The scale contract on group sums [G, M, N] (float32, or int64 converted to float32 RNE)
    with w_scales float32 [N, G] and a_scales float32 [M]."""
    out = np.empty(sums.shape[1:], np.float32)
    rescale_rows(sums, np.ascontiguousarray(w_scales.T), a_scales, out)
    return out
