"""Logarithmic weights: a multiply becomes a shift (for odd powers of √2, a constant shift-add
multiplier too) and a conditional negate.

Weight formats (:mod:`lowbit.hwsim.formats.log`): code = sign bit (the MSB) + a (b-1)-bit field f,
fmax = 2^(b-1) - 1; f = 0 is zero (with either sign).
  log2_3, log2_4, log2_5   magnitude 2^(f - fmax):     2^-2, 2^-6, 2^-14 .. 2^0
  logsqrt2_4               magnitude 2^((f - 7) / 2):  2^-3, 2^-2.5, 2^-2, .. 2^-0.5, 2^0

Contract (``log_product`` and ``log_dot``)
  operands     activation: a signed integer of ``act_bits`` (1..8) bits; weight: a code of
               ``weight_format`` (one of ``LOG_WEIGHT_FORMATS``, named explicitly by the caller).
  units        products and the accumulator count units of 2^-U (``log_unit_bits``):
                 log2_b      U = fmax - 1 (the smallest magnitude): 2, 6, 14 for b = 3, 4, 5
                 logsqrt2_4  U = 3 + 7 = 10 (the smallest magnitude 2^-3 times the 2^-7 of the
                             √2 constant below)
               Real value = product * 2^-U.
  product      (-1)^sign * m, 0 when f = 0, with
                 log2_b:               m = act << (f - 1)
                 logsqrt2_4, f odd:    m = act << ((f - 1)/2 + 7)      an even power of √2
                 logsqrt2_4, f even:   m = (act * 181) << ((f - 2)/2)  an odd power of √2
               √2 is the constant 181/128 (= 362/256 = 1.4140625): 181 = 128 + 32 + 16 + 4 + 1,
               so act * 181 is five shifted copies of act summed (four adders), one constant
               multiplier per lane and no general multiplier. 181/128 rather than 362/256:
               the same value, and 362 is even, so 362/256 would only add an always-zero
               accumulator bit.
  rounding     none. Every shift is a LEFT shift and every product is an exact integer in these
               units: there is no right shift, so no right-shift rounding to choose, and no
               product is ever rounded. The one approximation is the √2 constant.
  error        log2_b products and even powers of √2 are exact. An odd-power product is exactly
               (1 - δ) times the true product act * 2^((f-7)/2) * 2^U, with
                   δ = 1 - 181 / (128·√2),   1.0681e-4 < δ < 1.0682e-4 (``SQRT2_ERROR_BOUND``),
               so it is never larger in magnitude than the true one and |error| < 1.0682e-4 *
               |true|; for int8 the largest is act = -128, f = 6: 512 * (128·√2 - 181) < 9.91
               units (0.0097 in real value). A dot product, before wrap or saturation, is off
               by exactly -δ * (the sum of its true odd-power products), so by at most
               δ * Σ|true product|.
  |product|    <= 2^(act_bits-1) * 2^U: 2^21 for int8 x log2_5, 2^17 for int8 x logsqrt2_4.
  accumulator  ``acc_bits`` two's complement (2..64; 2..63 for "saturate") counting the same
               units, starting at 0; products added in index order 0 .. n-1.
  overflow     "wrap", "saturate" (clamp after every addition) or "error" (ValueError naming
               ``acc_bits`` unless the worst-case sum of n products fits), exactly as in
               :mod:`lowbit.hwsim.units.integer`.
  shapes       act and codes of equal shape (..., n); a Python int for 1-D, else int64 (...).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
from numba import njit

from lowbit.hwsim import formats
from lowbit.hwsim.units.integer import (acc_limits, accumulate_reference, check_acc_bits, check_bits,
                                 check_int_codes, check_int_values, check_overflow,
                                 check_same_shape, check_worst_case, int_range, rows,
                                 saturating_add, unrows, wrap_int64)

LOG_WEIGHT_FORMATS = ("log2_3", "log2_4", "log2_5", "logsqrt2_4")
SQRT2_NUMERATOR = 181           # √2 ≈ 181 / 2^SQRT2_FRACTION_BITS
SQRT2_FRACTION_BITS = 7
# δ = 1 - 181/(128·√2) lies in (SQRT2_ERROR_BOUND - 1e-8, SQRT2_ERROR_BOUND): the relative error
# of every odd-power logsqrt2_4 product (checked exactly with Fractions by the tests).
SQRT2_ERROR_BOUND = Fraction(10682, 10 ** 8)


def check_weight_format(weight_format) -> formats.Format:
    """The registered log format named ``weight_format``; ValueError naming the allowed ones."""
    if weight_format not in LOG_WEIGHT_FORMATS:
        raise ValueError(f"weight_format must be one of {LOG_WEIGHT_FORMATS}, "
                         f"got {weight_format!r}")
    return formats.get(weight_format)


def log2_fmax(w_bits: int) -> int:
    """Largest exponent field of a ``w_bits``-bit log format: the field that decodes to 2^0."""
    return (1 << (w_bits - 1)) - 1


def log_unit_bits(weight_format: str) -> int:
    """U: products and accumulators of ``weight_format`` count units of 2^-U (module contract)."""
    fmt = check_weight_format(weight_format)
    fmax = log2_fmax(fmt.bits)
    if fmt.half_steps:
        return (fmax - 1) // 2 + SQRT2_FRACTION_BITS
    return fmax - 1


@njit(cache=True)
def times_sqrt2(act):
    """act * 181 as the hardware forms it: the sum of act shifted by the set bits of 181."""
    a = np.int64(act)
    return (a << 7) + (a << 5) + (a << 4) + (a << 2) + a


@njit(cache=True)
def log_product_kernel(act, code, w_bits, half_steps):
    """act times a log code, in units of 2^-U: shifts, the √2 shift-add, a negate."""
    field = np.int64(code) & ((1 << (w_bits - 1)) - 1)
    if field == 0:
        return np.int64(0)
    if not half_steps:
        magnitude = np.int64(act) << (field - 1)
    elif field & 1:  # odd field: an even power of √2, a plain power of two
        magnitude = np.int64(act) << ((field - 1) // 2 + SQRT2_FRACTION_BITS)
    else:
        magnitude = times_sqrt2(act) << ((field - 2) // 2)
    return -magnitude if (np.int64(code) >> (w_bits - 1)) & 1 else magnitude


@njit(cache=True)
def _log_dot_wrap(act, codes, w_bits, half_steps, acc_bits, out):
    for r in range(act.shape[0]):
        total = np.int64(0)
        for i in range(act.shape[1]):
            total += log_product_kernel(act[r, i], codes[r, i], w_bits, half_steps)
        out[r] = wrap_int64(total, acc_bits)


@njit(cache=True)
def _log_dot_saturate(act, codes, w_bits, half_steps, lo, hi, out):
    for r in range(act.shape[0]):
        acc = np.int64(0)
        for i in range(act.shape[1]):
            p = log_product_kernel(act[r, i], codes[r, i], w_bits, half_steps)
            acc = saturating_add(acc, p, lo, hi)
        out[r] = acc


def _check_operands(act, codes, weight_format, act_bits):
    fmt = check_weight_format(weight_format)
    act_bits = check_bits(act_bits, "act_bits")
    act = check_int_values(act, act_bits, True, "act")
    codes = check_int_codes(codes, fmt.bits, "codes", fmt.name)
    check_same_shape(act, codes, "act", "codes")
    return act, codes, fmt, act_bits


def log_product(act: int, code: int, *, weight_format: str, act_bits: int = 8) -> int:
    """One product under the module contract (units of 2^-U)."""
    act_arr, code_arr, fmt, _ = _check_operands([act], [code], weight_format, act_bits)
    return int(log_product_kernel(act_arr[0], code_arr[0], fmt.bits, fmt.half_steps))


def log_dot(act, codes, *, weight_format: str, act_bits: int = 8, acc_bits: int = 32,
            overflow: str = "wrap"):
    """Dot product of activations and ``weight_format`` codes along the last axis."""
    act, codes, fmt, act_bits = _check_operands(act, codes, weight_format, act_bits)
    acc_bits = check_acc_bits(acc_bits)
    overflow = check_overflow(overflow, acc_bits)
    act2, codes2 = rows(act), rows(codes)
    out = np.empty(act2.shape[0], dtype=np.int64)
    if overflow == "saturate":
        _log_dot_saturate(act2, codes2, fmt.bits, fmt.half_steps, *acc_limits(acc_bits), out)
    else:
        if overflow == "error":
            # The largest magnitude, 2^0, is 2^U units; the approximated odd powers are smaller.
            biggest = 1 << log_unit_bits(fmt.name)
            lo, _ = int_range(act_bits, True)
            check_worst_case(act.shape[-1], lo * biggest, -lo * biggest, acc_bits)
        _log_dot_wrap(act2, codes2, fmt.bits, fmt.half_steps, acc_bits, out)
    return unrows(out, act.shape[:-1])


# -- plain-Python references --------------------------------------------------------------------
def log_weight_units(code: int, weight_format: str) -> int:
    """The signed integer a code multiplies an activation by, in units of 2^-U, from the
    contract's table with Python integers (no shifts)."""
    fmt = check_weight_format(weight_format)
    sign, field = code >> (fmt.bits - 1), code & log2_fmax(fmt.bits)
    if field == 0:
        return 0
    if not fmt.half_steps:
        magnitude = 2 ** (field - 1)
    elif field % 2:
        magnitude = 2 ** ((field - 1) // 2) * 2 ** SQRT2_FRACTION_BITS
    else:
        magnitude = 2 ** ((field - 2) // 2) * SQRT2_NUMERATOR
    return (-1) ** sign * magnitude


def log_product_reference(act: int, code: int, weight_format: str) -> int:
    return int(act) * log_weight_units(int(code), weight_format)


def log_dot_reference(act, codes, *, weight_format: str, acc_bits: int = 32,
                      overflow: str = "wrap") -> int:
    products = [log_product_reference(x, c, weight_format)
                for x, c in zip(act, codes, strict=True)]
    return accumulate_reference(products, acc_bits, overflow)
