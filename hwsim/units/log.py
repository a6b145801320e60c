"""Logarithmic (power-of-two) weights: a multiply becomes a shift and a conditional negate.

Weight format ``log2_b`` (b = ``w_bits`` in 3, 4, 5): code = sign bit (the MSB) + a (b-1)-bit
field f. f = 0 is zero (with either sign); f >= 1 is magnitude 2^(f - fmax), fmax = 2^(b-1) - 1,
so log2_3 covers 2^-2 .. 2^0, log2_4 2^-6 .. 2^0 and log2_5 2^-14 .. 2^0.

Contract (``log_product`` and ``log_dot``)
  operands     activation: a signed integer of ``act_bits`` (1..8) bits; weight: a log2_b code.
  product      in *units* of the smallest weight magnitude 2^-(fmax-1):
                   product = (-1)^sign * (act << (f - 1)),   0 when f = 0.
               Real value = product * 2^-(fmax-1). Only left shifts occur, so no product is ever
               rounded: there is no right shift and hence no right-shift rounding to choose.
               |product| <= 2^(act_bits-1) * 2^(fmax-1), i.e. at most 2^21 for int8 x log2_5.
  accumulator  ``acc_bits`` two's complement (2..64; 2..63 for "saturate") counting the same
               units, starting at 0; products added in index order 0 .. n-1.
  overflow     "wrap", "saturate" (clamp after every addition) or "error" (ValueError naming
               ``acc_bits`` unless the worst-case sum of n products fits), exactly as in
               :mod:`hwsim.units.integer`.
  shapes       act and codes of equal shape (..., n); a Python int for 1-D, else int64 (...).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from hwsim.units.integer import (acc_limits, accumulate_reference, check_acc_bits, check_bits,
                                 check_int_codes, check_int_values, check_overflow,
                                 check_same_shape, check_worst_case, int_range, rows,
                                 saturating_add, unrows, wrap_int64)

LOG2_BITS = range(3, 6)


def log2_fmax(w_bits: int) -> int:
    """Largest exponent field of log2_<w_bits>: the field that decodes to 2^0."""
    return (1 << (w_bits - 1)) - 1


@njit(cache=True)
def log_product_kernel(act, code, w_bits):
    """act times a log2_<w_bits> code, in units of 2^-(fmax-1): a shift and a negate."""
    field = np.int64(code) & ((1 << (w_bits - 1)) - 1)
    if field == 0:
        return np.int64(0)
    shifted = np.int64(act) << (field - 1)
    return -shifted if (np.int64(code) >> (w_bits - 1)) & 1 else shifted


@njit(cache=True)
def _log_dot_wrap(act, codes, w_bits, acc_bits, out):
    for r in range(act.shape[0]):
        total = np.int64(0)
        for i in range(act.shape[1]):
            total += log_product_kernel(act[r, i], codes[r, i], w_bits)
        out[r] = wrap_int64(total, acc_bits)


@njit(cache=True)
def _log_dot_saturate(act, codes, w_bits, lo, hi, out):
    for r in range(act.shape[0]):
        acc = np.int64(0)
        for i in range(act.shape[1]):
            acc = saturating_add(acc, log_product_kernel(act[r, i], codes[r, i], w_bits), lo, hi)
        out[r] = acc


def _check_operands(act, codes, w_bits, act_bits):
    w_bits = check_bits(w_bits, "w_bits", LOG2_BITS)
    act_bits = check_bits(act_bits, "act_bits")
    act = check_int_values(act, act_bits, True, "act")
    codes = check_int_codes(codes, w_bits, "codes", f"log2_{w_bits}")
    check_same_shape(act, codes, "act", "codes")
    return act, codes, w_bits, act_bits


def log_product(act: int, code: int, *, w_bits: int, act_bits: int = 8) -> int:
    """One product under the module contract (units of 2^-(fmax-1))."""
    act_arr, code_arr, w_bits, _ = _check_operands([act], [code], w_bits, act_bits)
    return int(log_product_kernel(act_arr[0], code_arr[0], w_bits))


def log_dot(act, codes, *, w_bits: int, act_bits: int = 8, acc_bits: int = 32,
            overflow: str = "wrap"):
    """Dot product of activations and log2_<w_bits> weight codes along the last axis."""
    act, codes, w_bits, act_bits = _check_operands(act, codes, w_bits, act_bits)
    acc_bits = check_acc_bits(acc_bits)
    overflow = check_overflow(overflow, acc_bits)
    act2, codes2 = rows(act), rows(codes)
    out = np.empty(act2.shape[0], dtype=np.int64)
    if overflow == "saturate":
        _log_dot_saturate(act2, codes2, w_bits, *acc_limits(acc_bits), out)
    else:
        if overflow == "error":
            biggest = 1 << (log2_fmax(w_bits) - 1)
            lo, hi = int_range(act_bits, True)
            check_worst_case(act.shape[-1], lo * biggest, -lo * biggest, acc_bits)
        _log_dot_wrap(act2, codes2, w_bits, acc_bits, out)
    return unrows(out, act.shape[:-1])


# -- plain-Python references --------------------------------------------------------------------
def log_product_reference(act: int, code: int, w_bits: int) -> int:
    """act * 2^(f - fmax) / 2^-(fmax-1) by decoding the fields with Python integers."""
    sign, field = code >> (w_bits - 1), code & ((1 << (w_bits - 1)) - 1)
    if field == 0:
        return 0
    return (-1) ** sign * act * 2 ** (field - 1)


def log_dot_reference(act, codes, *, w_bits: int, acc_bits: int = 32,
                      overflow: str = "wrap") -> int:
    products = [log_product_reference(int(x), int(c), w_bits)
                for x, c in zip(act, codes, strict=True)]
    return accumulate_reference(products, acc_bits, overflow)
