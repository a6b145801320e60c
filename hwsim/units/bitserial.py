"""Bit-serial dot products: weights consumed ``bits_per_cycle`` bits a cycle, LSB first.

Contract (``bitserial_dot``)
  operands     activations: signed integers of ``act_bits`` (1..8) bits, shape (..., n);
               weights: ``w_bits``-bit (1..8) two's complement *codes*, same shape. All n lanes
               take their weight digits in parallel, so the weight vector is one weight word.
  digits       cycle c (0 .. C-1, C = ceil(w_bits / k), k = ``bits_per_cycle`` in 1, 2) reads
               bits c*k .. min(c*k + k, w_bits) - 1 of every weight as an unsigned digit; the
               digit holding bit w_bits-1 (the last one) is read in two's complement instead:
               the sign plane is subtracted.
  cycle c      partial_c = sum over lanes of digit_c(w_i) * act_i (a k-bit digit times an
               activation: an add/subtract of act and 2*act); acc += partial_c << (c*k).
  result       (dot, cycles): dot is the exact integer dot product (int64, no rounding, no
               overflow for n < 2^47), a Python int for 1-D inputs and an int64 array of the batch
               shape otherwise; cycles = C, the same for every row.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from lowbit.hwsim.units.integer import (check_bits, check_int_codes, check_int_values,
                                 check_same_shape, rows, unrows)

BITS_PER_CYCLE = range(1, 3)


def bitserial_cycles(w_bits: int, bits_per_cycle: int) -> int:
    """C = ceil(w_bits / bits_per_cycle): cycles to consume one weight word."""
    return -(-w_bits // bits_per_cycle)


@njit(cache=True)
def weight_digit(code, c, k, w_bits):
    """Digit c of a ``w_bits``-bit two's complement code read k bits at a time, LSB first."""
    low = c * k
    width = min(k, w_bits - low)
    digit = (np.int64(code) >> low) & ((1 << width) - 1)
    if low + width == w_bits:  # the digit holding the sign bit: subtract the sign plane
        digit -= ((digit >> (width - 1)) & 1) << width
    return digit


@njit(cache=True)
def bitserial_dot_row(act, w, w_bits, k):
    total = np.int64(0)
    for c in range((w_bits + k - 1) // k):
        partial = np.int64(0)
        for i in range(act.shape[0]):
            partial += weight_digit(w[i], c, k, w_bits) * np.int64(act[i])
        total += partial << (c * k)
    return total


@njit(cache=True)
def _bitserial_dot_kernel(act, w, w_bits, k, out):
    for r in range(act.shape[0]):
        out[r] = bitserial_dot_row(act[r], w[r], w_bits, k)


def bitserial_dot(act, w_codes, *, w_bits: int, bits_per_cycle: int = 1, act_bits: int = 8):
    """(exact dot product, cycles) of activations and two's complement weight codes, weights
    consumed ``bits_per_cycle`` bits per cycle (see the module contract)."""
    w_bits, act_bits = check_bits(w_bits, "w_bits"), check_bits(act_bits, "act_bits")
    k = check_bits(bits_per_cycle, "bits_per_cycle", BITS_PER_CYCLE)
    act = check_int_values(act, act_bits, True, "act")
    w_codes = check_int_codes(w_codes, w_bits, "w_codes")
    check_same_shape(act, w_codes, "act", "w_codes")
    act2, w2 = rows(act), rows(w_codes)
    out = np.empty(act2.shape[0], dtype=np.int64)
    _bitserial_dot_kernel(act2, w2, w_bits, k, out)
    return unrows(out, act.shape[:-1]), bitserial_cycles(w_bits, k)


# -- plain-Python reference ---------------------------------------------------------------------
def bitserial_dot_reference(act, w_codes, *, w_bits: int, bits_per_cycle: int = 1):
    """Cycle by cycle with Python integers: each bit of the digit weighted by a power of two,
    the sign bit by a negative one."""
    k, total, cycles = bits_per_cycle, 0, 0
    for low in range(0, w_bits, k):
        partial = 0
        for x, code in zip(act, w_codes, strict=True):
            digit = sum(((int(code) >> p) & 1) * (-(1 << (p - low)) if p == w_bits - 1
                                                  else 1 << (p - low))
                        for p in range(low, min(low + k, w_bits)))
            partial += digit * int(x)
        total += partial * 2 ** low
        cycles += 1
    return total, cycles
