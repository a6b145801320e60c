"""Binary (±1) arithmetic: XNOR-popcount dot products and binary-weight x integer dot products.

Packing (``pack_codes``, ``pack_signs``): a vector of n ``binary`` codes (lowbit.hwsim.formats: code 0
is +1, code 1 is -1, the sign bit) becomes ceil(n/64) uint64 words; code i is bit i % 64 (LSB
first) of word i // 64. Bits at positions >= n of the last word (the tail) are padding and are
ignored by every unit, whatever they hold.

``xnor_dot(a_words, b_words, n)``
  operands     two packed ±1 vectors of n elements. The product of two signs is +1 exactly when
               their bits are equal, i.e. when the XNOR of the bits is 1.
  result       dot = 2 * popcount(XNOR(a, b) & mask) - n, exact, with the tail masked off.

``binary_weight_sums(act, w_words, group_size=...)``
  operands     signed integer activations of ``act_bits`` (1..8) bits, shape (..., n); packed ±1
               weights, shape (..., ceil(n/64)). n must be a multiple of ``group_size``.
  result       per group g the exact int64 sum S_g = sum over the group of (+act if the weight bit
               is 0 else -act): additions and subtractions only, no multiplier. Shape (..., G).
``binary_weight_dot(act, w_words, alpha, group_size=...)``
  result       float64 sum over g = 0 .. G-1, in that order, of alpha_g * S_g: each product is
               rounded once to float64 (RNE; S_g is exact in float64 for any realistic n) and each
               addition is rounded to float64 (RNE). ``alpha`` is float32 or float64, shape (G,)
               or (..., G), converted exactly to float64.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from lowbit.hwsim.formats.base import as_float_array
from lowbit.hwsim.units.integer import check_bits, check_int_values, rows, unrows

WORD_BITS = 64


@intrinsic
def popcount64(typingctx, word):
    """LLVM's ctpop on a uint64: one POPCNT (or a vector popcount) instruction."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        ctpop = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(ctpop, args)

    return sig, codegen


def n_words(n: int) -> int:
    return -(-n // WORD_BITS)


def tail_mask(n: int) -> np.uint64:
    """Mask of the valid bits of the last word of an n-element packed vector."""
    used = n % WORD_BITS
    return np.uint64((1 << used) - 1 if used else (1 << WORD_BITS) - 1)


def pack_signs(x) -> np.ndarray:
    """±1 values (any integer or float dtype), shape (..., n) -> uint64 words (..., ceil(n/64)),
    tail bits 0."""
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension, got a scalar")
    if x.size and not np.isin(x, (-1, 1)).all():
        raise ValueError("x must hold only -1 and +1")
    return pack_codes((x < 0).astype(np.uint8))


def pack_codes(codes) -> np.ndarray:
    """``binary`` codes (0: +1, 1: -1), shape (..., n) -> uint64 words (..., ceil(n/64)), tail
    bits 0."""
    codes = np.asarray(codes)
    if codes.ndim == 0:
        raise ValueError("codes must have at least one dimension, got a scalar")
    if codes.dtype.kind not in "uib" or (codes.size and not np.isin(codes, (0, 1)).all()):
        raise ValueError("codes must be an integer array of binary codes in 0..1")
    bits = codes.astype(bool)
    pad = n_words(codes.shape[-1]) * WORD_BITS - codes.shape[-1]
    bits = np.concatenate([bits, np.zeros(codes.shape[:-1] + (pad,), dtype=bool)], axis=-1)
    as_bytes = np.packbits(bits, axis=-1, bitorder="little")
    return np.ascontiguousarray(as_bytes).view("<u8").astype(np.uint64)


def check_words(words, n: int, argname: str) -> np.ndarray:
    words = np.asarray(words)
    if words.dtype != np.uint64:
        raise ValueError(f"{argname} must be a uint64 array of packed signs, "
                         f"got dtype {words.dtype}")
    if words.ndim == 0 or words.shape[-1] != n_words(n):
        raise ValueError(f"{argname} must have ceil(n/64) = {n_words(n)} words in its last axis "
                         f"for n = {n}, got shape {words.shape}")
    return words


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return int(n)


# -- XNOR-popcount ------------------------------------------------------------------------------
@njit(cache=True)
def _xnor_dot_kernel(a, b, n, last_mask, out):
    last = a.shape[1] - 1
    for r in range(a.shape[0]):
        matches = np.uint64(0)
        for w in range(last):
            matches += popcount64(~(a[r, w] ^ b[r, w]))
        matches += popcount64(~(a[r, last] ^ b[r, last]) & last_mask)
        out[r] = 2 * np.int64(matches) - n


def xnor_dot(a_words, b_words, n: int):
    """Dot product of packed ±1 vectors of n elements (see the module contract); a Python int
    for 1-D inputs, an int64 array of the batch shape otherwise."""
    n = _check_n(n)
    a_words, b_words = check_words(a_words, n, "a_words"), check_words(b_words, n, "b_words")
    if a_words.shape != b_words.shape:
        raise ValueError(f"a_words and b_words must have the same shape, "
                         f"got {a_words.shape} and {b_words.shape}")
    a2, b2 = rows(a_words), rows(b_words)
    out = np.empty(a2.shape[0], dtype=np.int64)
    _xnor_dot_kernel(a2, b2, n, tail_mask(n), out)
    return unrows(out, a_words.shape[:-1])


# -- binary weights x integer activations -------------------------------------------------------
@njit(cache=True)
def _binary_weight_sums_kernel(act, w, group_size, out):
    for r in range(act.shape[0]):
        for g in range(out.shape[1]):
            total = np.int64(0)
            for i in range(g * group_size, (g + 1) * group_size):
                x = np.int64(act[r, i])
                # A clear bit (+1) adds the activation, a set bit (-1) subtracts it.
                total += -x if (w[r, i >> 6] >> np.uint64(i & 63)) & np.uint64(1) else x
            out[r, g] = total


@njit(cache=True)
def _scaled_sum_kernel(sums, alpha, out):
    for r in range(sums.shape[0]):
        total = 0.0
        for g in range(sums.shape[1]):
            total += alpha[r, g] * np.float64(sums[r, g])
        out[r] = total


def _check_group_size(group_size, n: int) -> int:
    if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) \
            or group_size < 1 or n % group_size:
        raise ValueError(f"group_size must be a positive integer dividing n = {n}, "
                         f"got {group_size!r}")
    return int(group_size)


def binary_weight_sums(act, w_words, *, group_size: int, act_bits: int = 8) -> np.ndarray:
    """Per-group exact sums of ±act (see the module contract); int64 of shape (..., G)."""
    act_bits = check_bits(act_bits, "act_bits")
    act = check_int_values(act, act_bits, True, "act")
    n = act.shape[-1]
    group_size = _check_group_size(group_size, n)
    w_words = check_words(w_words, n, "w_words")
    if w_words.shape[:-1] != act.shape[:-1]:
        raise ValueError(f"w_words must have the batch shape of act {act.shape[:-1]}, "
                         f"got {w_words.shape[:-1]}")
    act2, w2 = rows(act), rows(w_words)
    out = np.empty((act2.shape[0], n // group_size), dtype=np.int64)
    _binary_weight_sums_kernel(act2, w2, group_size, out)
    return out.reshape(act.shape[:-1] + (n // group_size,))


def binary_weight_dot(act, w_words, alpha, *, group_size: int, act_bits: int = 8):
    """sum_g alpha_g * S_g in float64, sequential in g (see the module contract); a Python float
    for 1-D inputs, a float64 array of the batch shape otherwise."""
    sums = binary_weight_sums(act, w_words, group_size=group_size, act_bits=act_bits)
    alpha = as_float_array(alpha, "alpha")
    allowed = sorted({sums.shape[-1:], sums.shape}, key=len)
    if alpha.shape not in allowed:
        raise ValueError(f"alpha must have shape {' or '.join(map(str, allowed))} (one scale "
                         f"per group), got {alpha.shape}")
    alpha = np.broadcast_to(alpha.astype(np.float64), sums.shape)
    out = np.empty(rows(sums).shape[0], dtype=np.float64)
    _scaled_sum_kernel(rows(sums), rows(alpha), out)
    return float(out[0]) if sums.ndim == 1 else out.reshape(sums.shape[:-1])


# -- plain-Python references --------------------------------------------------------------------
def unpack_signs_reference(words, n: int) -> list[int]:
    """The n ±1 values of one packed vector, read bit by bit with Python integers."""
    return [-1 if (int(words[i // WORD_BITS]) >> (i % WORD_BITS)) & 1 else 1 for i in range(n)]


def xnor_dot_reference(a_words, b_words, n: int) -> int:
    """2 * popcount(XNOR & mask) - n on Python integers, word by word."""
    matches = 0
    for w, (x, y) in enumerate(zip(a_words, b_words, strict=True)):
        valid = min(WORD_BITS, n - w * WORD_BITS)
        matches += (~(int(x) ^ int(y)) & ((1 << valid) - 1)).bit_count()
    return 2 * matches - n


def binary_weight_sums_reference(act, w_words, group_size: int) -> list[int]:
    signs = unpack_signs_reference(w_words, len(act))
    return [sum(int(act[i]) if signs[i] > 0 else -int(act[i])
                for i in range(g, g + group_size)) for g in range(0, len(act), group_size)]


def binary_weight_dot_reference(act, w_words, alpha, group_size: int) -> float:
    total = 0.0
    for a, s in zip(alpha, binary_weight_sums_reference(act, w_words, group_size), strict=True):
        total += float(a) * s  # Python floats are float64 with RNE: the contract's rounding
    return total
