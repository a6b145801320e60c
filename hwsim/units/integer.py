"""Integer multiply-accumulate: the bit-parallel MAC every other unit is measured against.

Contract (``int_mac`` and ``int_dot``)
  operands     a: integer values of ``a_bits`` bits, b: of ``b_bits`` bits, each 1..8 bits,
               signed (two's complement range -2^(N-1) .. 2^(N-1)-1; 1 bit holds {-1, 0}) or
               unsigned (0 .. 2^N - 1), chosen per operand. The units take *values*, not codes.
  product      exact, at most 17 bits signed (255 * 255), never rounded.
  accumulator  ``acc_bits`` two's complement, 2..64 bits (2..63 for "saturate"), starting at 0
               (``int_dot``) or at the given ``acc`` (``int_mac``). Products are added in
               index order 0 .. n-1.
  overflow     "wrap":     the sum wraps modulo 2^acc_bits. Wrapping after every addition and
                           once at the end give the same bits (modular arithmetic), so the
                           kernel keeps an exact int64 sum and wraps once.
               "saturate": after *every* addition the accumulator is clamped to
                           [-2^(acc_bits-1), 2^(acc_bits-1)-1]; the order matters.
               "error":    ``int_dot`` raises ValueError naming ``acc_bits`` unless the
                           accumulator holds the worst-case sum of n products for every input
                           of the given widths; ``int_mac`` raises unless ``acc + a*b`` fits.
  shapes       ``int_dot`` takes a and b of equal shape (..., n) and returns the n-element dot
               product of every row: a Python int for 1-D inputs, an int64 array of shape (...)
               otherwise. Exact int64 sums are valid for n < 2^46 (|product| <= 2^16).

The helpers ``check_bits``, ``check_flag``, ``int_range``, ``check_int_values``,
``check_int_codes``, ``decode_int_codes``, ``check_acc_bits``, ``check_overflow``, ``acc_limits``,
``wrap``, ``wrap_int64`` and ``saturating_add`` are the shared validation and accumulator
arithmetic of every unit in :mod:`lowbit.hwsim.units`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

OVERFLOW_POLICIES = ("wrap", "saturate", "error")
OPERAND_BITS = range(1, 9)
ACC_BITS = range(2, 65)
SATURATE_ACC_BITS = range(2, 64)  # the kernels add in int64, then clamp


# -- validation shared by every unit ----------------------------------------------------------
def check_bits(bits, argname: str, allowed=OPERAND_BITS) -> int:
    """``bits`` as an int; ValueError naming ``argname`` and the allowed range otherwise."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits not in allowed:
        raise ValueError(f"{argname} must be an integer in {allowed.start}..{allowed.stop - 1}, "
                         f"got {bits!r}")
    return int(bits)


def check_flag(value, argname: str) -> bool:
    """``value`` as a bool; ValueError naming ``argname`` unless it is True or False (a truthy
    string such as "yes" or an int 1 would otherwise silently pick a signedness)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{argname} must be True or False, got {value!r}")
    return bool(value)


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """(lowest, highest) value of a ``bits``-bit signed (two's complement) or unsigned integer."""
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def check_int_values(x, bits: int, signed: bool, argname: str) -> np.ndarray:
    """Validate integer values of a ``bits``-bit operand; return them as int8 where that holds
    every value of the operand's range (so kernels read one byte per element), int16 otherwise."""
    x = np.asarray(x)
    if x.dtype.kind not in "ui":
        raise ValueError(f"{argname} must be an integer array, got dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError(f"{argname} must have at least one dimension, got a scalar")
    lo, hi = int_range(bits, signed)
    dtype_range = np.iinfo(x.dtype)   # a dtype that holds only allowed values needs no scan
    if x.size and (dtype_range.min < lo or dtype_range.max > hi) and \
            (x.min() < lo or x.max() > hi):
        kind = "int" if signed else "uint"
        raise ValueError(f"{argname} must hold {kind}{bits} values in {lo}..{hi}, "
                         f"got values in {x.min()}..{x.max()}")
    dtype = np.int8 if hi <= 127 else np.int16
    return np.ascontiguousarray(x, dtype=dtype)


def check_int_codes(codes, bits: int, argname: str, format_name: str | None = None) -> np.ndarray:
    """Validate raw ``bits``-bit codes (0 .. 2^bits - 1) of ``format_name`` (default: "N-bit");
    return them as uint8 (bits <= 8), uint16 (<= 16) or uint32."""
    codes = np.asarray(codes)
    name = format_name or f"{bits}-bit"
    if codes.dtype.kind not in "ui":
        raise ValueError(f"{argname} must be an integer array of {name} codes, "
                         f"got dtype {codes.dtype}")
    if codes.ndim == 0:
        raise ValueError(f"{argname} must have at least one dimension, got a scalar")
    if codes.size and ((codes.dtype.kind == "i" and codes.min() < 0)
                       or (np.iinfo(codes.dtype).max >= 1 << bits and codes.max() >= 1 << bits)):
        raise ValueError(f"{argname} must hold {name} codes in 0..{(1 << bits) - 1}, "
                         f"got values in {codes.min()}..{codes.max()}")
    dtype = np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32
    return np.ascontiguousarray(codes, dtype=dtype)


def decode_int_codes(codes, bits: int, signed: bool = True) -> np.ndarray:
    """int64 values of ``bits``-bit codes: two's complement when signed, plain binary if not."""
    codes = np.asarray(codes).astype(np.int64)
    return codes - ((codes >> (bits - 1)) << bits) if signed else codes


def check_same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{a_name} and {b_name} must have the same shape (equal lengths), "
                         f"got {a.shape} and {b.shape}")


def check_acc_bits(acc_bits) -> int:
    return check_bits(acc_bits, "acc_bits", ACC_BITS)


def check_overflow(overflow, acc_bits: int) -> str:
    """Validate the overflow policy for an ``acc_bits`` accumulator (already checked)."""
    if overflow not in OVERFLOW_POLICIES:
        raise ValueError(f"overflow must be one of {OVERFLOW_POLICIES}, got {overflow!r}")
    if overflow == "saturate" and acc_bits > SATURATE_ACC_BITS.stop - 1:
        raise ValueError(f"acc_bits must be an integer in 2..{SATURATE_ACC_BITS.stop - 1} for "
                         f"overflow='saturate', got {acc_bits}")
    return overflow


def acc_limits(acc_bits: int) -> tuple[int, int]:
    """(lowest, highest) value of the ``acc_bits``-bit two's complement accumulator."""
    return int_range(acc_bits, True)


def check_worst_case(n: int, product_lo: int, product_hi: int, acc_bits: int) -> None:
    """For overflow="error": the accumulator must hold any sum of n products in
    [product_lo, product_hi]; ValueError naming ``acc_bits`` otherwise."""
    lo, hi = acc_limits(acc_bits)
    worst_lo, worst_hi = n * min(product_lo, 0), n * max(product_hi, 0)
    if worst_lo < lo or worst_hi > hi:
        need = max(worst_hi.bit_length(), (-worst_lo - 1).bit_length()) + 1
        raise ValueError(f"acc_bits={acc_bits} cannot hold the worst-case sum of {n} products "
                         f"({worst_lo}..{worst_hi}) with overflow='error'; it needs "
                         f"acc_bits >= {need}")


def rows(x: np.ndarray) -> np.ndarray:
    """(..., n) -> contiguous (m, n) array for the kernels (n = 0 allowed: empty dots are 0)."""
    return np.ascontiguousarray(x.reshape(int(np.prod(x.shape[:-1])), x.shape[-1]))


def unrows(out: np.ndarray, batch_shape: tuple):
    """Kernel output (m,) back to the batch shape; a Python int for a single 1-D dot product."""
    return int(out[0]) if batch_shape == () else out.reshape(batch_shape)


# -- accumulator arithmetic shared by every kernel and PE model ---------------------------------
def wrap(value: int, bits: int) -> int:
    """Python integer wrapped to ``bits``-bit two's complement, by arithmetic on Python ints.
    (The PE models' accumulator wrap, also importable as :func:`lowbit.hwsim.pe.protocol.wrap`.)"""
    value %= 1 << bits
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


@njit(cache=True)
def wrap_int64(x, bits):
    """int64 ``x`` wrapped to ``bits``-bit two's complement (1 <= bits <= 64)."""
    shift = 64 - bits
    # Shift the kept bits to the top, then back with an arithmetic shift to sign-extend.
    return (np.int64(x) << shift) >> shift


@njit(cache=True)
def saturating_add(acc, p, lo, hi):
    """acc + p clamped to [lo, hi]. The int64 sum is exact because acc is in [lo, hi] with
    acc_bits <= 63 and |p| < 2^22 (``check_overflow`` enforces the width for "saturate")."""
    return min(max(acc + p, lo), hi)


# -- integer MAC kernels ------------------------------------------------------------------------
@njit(cache=True)
def _int_dot_wrap(a, b, acc_bits, out):
    for r in range(a.shape[0]):
        total = np.int64(0)
        for i in range(a.shape[1]):
            total += np.int64(a[r, i]) * np.int64(b[r, i])
        out[r] = wrap_int64(total, acc_bits)


@njit(cache=True)
def _int_dot_saturate(a, b, lo, hi, out):
    for r in range(a.shape[0]):
        acc = np.int64(0)
        for i in range(a.shape[1]):
            acc = saturating_add(acc, np.int64(a[r, i]) * np.int64(b[r, i]), lo, hi)
        out[r] = acc


@njit(cache=True)
def _int_mac_kernel(acc, a, b, acc_bits, saturate, lo, hi):
    p = np.int64(a) * np.int64(b)
    if saturate:
        return saturating_add(np.int64(acc), p, lo, hi)
    return wrap_int64(np.int64(acc) + p, acc_bits)


# -- public API ---------------------------------------------------------------------------------
def _product_range(a_bits, a_signed, b_bits, b_signed) -> tuple[int, int]:
    corners = [x * y for x in int_range(a_bits, a_signed) for y in int_range(b_bits, b_signed)]
    return min(corners), max(corners)


def int_dot(a, b, *, a_bits: int, b_bits: int, a_signed: bool = True, b_signed: bool = True,
            acc_bits: int = 32, overflow: str = "wrap"):
    """Dot product of the last axis of ``a`` and ``b`` (see the module contract)."""
    a_bits, b_bits = check_bits(a_bits, "a_bits"), check_bits(b_bits, "b_bits")
    a_signed, b_signed = check_flag(a_signed, "a_signed"), check_flag(b_signed, "b_signed")
    acc_bits = check_acc_bits(acc_bits)
    overflow = check_overflow(overflow, acc_bits)
    a = check_int_values(a, a_bits, a_signed, "a")
    b = check_int_values(b, b_bits, b_signed, "b")
    check_same_shape(a, b, "a", "b")
    if a.dtype != b.dtype:  # one kernel specialization per dtype pair: keep to two pairs
        a, b = a.astype(np.int16), b.astype(np.int16)
    n, batch_shape = a.shape[-1], a.shape[:-1]
    a2, b2 = rows(a), rows(b)
    out = np.empty(a2.shape[0], dtype=np.int64)
    if overflow == "saturate":
        _int_dot_saturate(a2, b2, *acc_limits(acc_bits), out)
    else:
        if overflow == "error":
            check_worst_case(n, *_product_range(a_bits, a_signed, b_bits, b_signed), acc_bits)
        _int_dot_wrap(a2, b2, acc_bits, out)
    return unrows(out, batch_shape)


def int_mac(acc: int, a: int, b: int, *, a_bits: int, b_bits: int, a_signed: bool = True,
            b_signed: bool = True, acc_bits: int = 32, overflow: str = "wrap") -> int:
    """One multiply-accumulate ``acc + a*b`` under the module contract; returns the new
    accumulator. ``acc`` must already be an ``acc_bits``-bit value."""
    a_bits, b_bits = check_bits(a_bits, "a_bits"), check_bits(b_bits, "b_bits")
    a_signed, b_signed = check_flag(a_signed, "a_signed"), check_flag(b_signed, "b_signed")
    acc_bits = check_acc_bits(acc_bits)
    overflow = check_overflow(overflow, acc_bits)
    a_val = int(check_int_values([a], a_bits, a_signed, "a")[0])
    b_val = int(check_int_values([b], b_bits, b_signed, "b")[0])
    lo, hi = acc_limits(acc_bits)
    if isinstance(acc, bool) or not isinstance(acc, (int, np.integer)) or not lo <= acc <= hi:
        raise ValueError(f"acc must be an integer in {lo}..{hi} (acc_bits={acc_bits}), "
                         f"got {acc!r}")
    if overflow == "error" and not lo <= acc + a_val * b_val <= hi:
        raise ValueError(f"acc_bits={acc_bits} cannot hold acc + a*b = {acc + a_val * b_val} "
                         f"with overflow='error'")
    return int(_int_mac_kernel(int(acc), a_val, b_val, acc_bits, overflow == "saturate", lo, hi))


# -- plain-Python references --------------------------------------------------------------------
def accumulate_reference(products, acc_bits: int, overflow: str, acc: int = 0) -> int:
    """Add Python-int products in order into an ``acc_bits`` accumulator under ``overflow``
    ("error" behaves like "wrap" here: the check is the caller's)."""
    lo, hi = acc_limits(acc_bits)
    for p in products:
        acc = min(max(acc + p, lo), hi) if overflow == "saturate" else acc + p
    return acc if overflow == "saturate" else wrap(acc, acc_bits)


def int_dot_reference(a, b, *, acc_bits: int = 32, overflow: str = "wrap") -> int:
    """``int_dot`` for one pair of 1-D sequences of Python ints, by Python integer arithmetic."""
    return accumulate_reference([int(x) * int(y) for x, y in zip(a, b, strict=True)],
                                acc_bits, overflow)


def int_mac_reference(acc: int, a: int, b: int, *, acc_bits: int = 32,
                      overflow: str = "wrap") -> int:
    return accumulate_reference([int(a) * int(b)], acc_bits, overflow, int(acc))
