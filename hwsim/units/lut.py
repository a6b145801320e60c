"""Table-lookup dot products (T-MAC / LUT Tensor Core style): no multiplier, one table per
activation group, indexed by weight bit-planes.

Contract (``lut_dot``)
  operands     activations: signed integers of ``act_bits`` (1..8) bits, shape (..., n);
               weights: ``w_bits``-bit (1..8) two's complement *codes* (raw bit patterns,
               0 .. 2^w_bits - 1), same shape (..., n); or activations of shape (n,) shared by
               every weight row (..., n): the matrix-vector product, tables built once.
               n must be a multiple of ``group_size`` g (1..8).
  tables       per group k of g activations a_k0 .. a_k(g-1):
               "full":      T_k[idx] = sum over j with bit j of idx set of a_kj   (2^g entries);
               "symmetric": H_k[idx] = sum_j (2*bit_j(idx) - 1) * a_kj for idx < 2^(g-1)
                            (2^(g-1) entries); an index with bit g-1 set reads
                            -H_k[idx XOR (2^g - 1)], and the plane sum is (H + A_k) / 2 with
                            A_k = sum_j a_kj (H + A_k is always even, so the halving is exact).
  planes       bit-plane p of group k indexes the table with idx = sum_j bit_p(w_kj) << j, giving
               P_p = sum over k of the looked-up partial sums.
  result       sum_{p < w_bits-1} P_p << p  -  P_{w_bits-1} << (w_bits-1): the two's-complement
               sign plane is subtracted. Every step is exact integer arithmetic in int64, so the
               result equals the exact integer dot product (|result| < 2^63 for n < 2^47).
  shapes       a Python int for 1-D weights, an int64 array of the weights' batch shape otherwise.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from lowbit.hwsim.units.integer import (check_bits, check_int_codes, check_int_values,
                                 check_same_shape, rows, unrows)

TABLES = ("full", "symmetric")
GROUP_SIZES = range(1, 9)


@njit(cache=True)
def build_full_tables(act, g, tables):
    """tables[k, idx] = sum of act[k*g + j] over the set bits j of idx: 2^g - 1 additions per
    group, the entry with top bit j being the entry without it plus act[k*g + j]."""
    for k in range(tables.shape[0]):
        tables[k, 0] = 0
        for j in range(g):
            step, x = 1 << j, np.int64(act[k * g + j])
            for idx in range(step):
                tables[k, step + idx] = tables[k, idx] + x


@njit(cache=True)
def build_symmetric_tables(act, g, tables, group_sums):
    """tables[k, idx] = sum_j (2*bit_j(idx) - 1) * act[k*g + j] for idx < 2^(g-1), and
    group_sums[k] = A_k: entry 0 is -A_k, setting bit j adds 2 * act[k*g + j]."""
    for k in range(tables.shape[0]):
        total = np.int64(0)
        for j in range(g):
            total += np.int64(act[k * g + j])
        group_sums[k] = total
        tables[k, 0] = -total
        for j in range(g - 1):
            step, x2 = 1 << j, 2 * np.int64(act[k * g + j])
            for idx in range(step):
                tables[k, step + idx] = tables[k, idx] + x2


# Bit-plane indices by multiplication: with the group's g <= 8 codes as the bytes of one word,
# bit p of every byte is masked out (BYTE_LSBS after a shift by p) and the multiply by
# GATHER_BITS moves byte j's bit to bit 56 + j. No two partial products share a bit position
# and the top byte receives nothing else, so word >> 56 is the plane's table index.
BYTE_LSBS = 0x0101010101010101
GATHER_BITS = 0x0102040810204080


@njit(cache=True, inline="always")
def group_word(w, start, g):
    """The g codes w[start:start+g] as the low bytes of a uint64, code j in byte j."""
    word = np.uint64(0)
    for j in range(g):
        word |= np.uint64(w[start + j]) << np.uint64(8 * j)
    return word


@njit(cache=True, inline="always")
def plane_index(word, p):
    """Bit p of every byte of ``word`` gathered into a g-bit table index (bit j from byte j)."""
    bits = (word >> np.uint64(p)) & np.uint64(BYTE_LSBS)
    return np.int64((bits * np.uint64(GATHER_BITS)) >> np.uint64(56))


@njit(cache=True)
def lookup_planes(tables, group_sums, w, w_bits, g, symmetric):
    """Sum over groups of every bit-plane's table entry, planes combined by shift-and-add with
    the sign plane subtracted. Symmetric tables: a plane's (H + A_k) / 2 terms are summed
    before halving, exact because every term is even."""
    full_mask = (1 << g) - 1
    planes = np.zeros(w_bits, dtype=np.int64)
    for k in range(tables.shape[0]):
        word = group_word(w, k * g, g)
        for p in range(w_bits):
            idx = plane_index(word, p)
            if not symmetric:
                planes[p] += tables[k, idx]
                continue
            # An index with the top bit set reads the mirrored entry, negated: H(~idx) =
            # -H(idx). Selected by arithmetic, not a branch: random weights would mispredict
            # half of them.
            mirrored = idx >> (g - 1)
            entry = tables[k, idx ^ (full_mask * mirrored)]
            planes[p] += group_sums[k] + entry * (1 - 2 * mirrored)
    total = np.int64(0)
    for p in range(w_bits):
        plane = planes[p] >> 1 if symmetric else planes[p]
        # The sign plane weighs -2^(w_bits-1), every other plane +2^p.
        total += -(plane << p) if p == w_bits - 1 else plane << p
    return total


@njit(cache=True)
def _lut_dot_kernel(act, w, w_bits, g, symmetric, out):
    """act has one row per weight row, or a single row shared by every weight row (its tables
    are then built once and reused, as T-MAC reuses them across the rows of a matrix)."""
    n_groups = act.shape[1] // g
    tables = np.empty((n_groups, 1 << g), dtype=np.int64)
    group_sums = np.zeros(n_groups, dtype=np.int64)
    shared = act.shape[0] == 1
    for r in range(w.shape[0]):
        if r == 0 or not shared:
            row = 0 if shared else r
            if symmetric:
                build_symmetric_tables(act[row], g, tables, group_sums)
            else:
                build_full_tables(act[row], g, tables)
        out[r] = lookup_planes(tables, group_sums, w[r], w_bits, g, symmetric)


def check_lut_args(w_bits, act_bits, group_size, table) -> tuple[int, int, int, bool]:
    w_bits, act_bits = check_bits(w_bits, "w_bits"), check_bits(act_bits, "act_bits")
    group_size = check_bits(group_size, "group_size", GROUP_SIZES)
    if table not in TABLES:
        raise ValueError(f"table must be one of {TABLES}, got {table!r}")
    if table == "symmetric" and group_size < 2:
        raise ValueError(f"group_size must be in 2..8 for table='symmetric', got {group_size}")
    return w_bits, act_bits, group_size, table == "symmetric"


def lut_dot(act, w_codes, *, w_bits: int, act_bits: int = 8, group_size: int = 4,
            table: str = "full"):
    """Exact dot product of activations and two's complement weight codes by table lookup
    (see the module contract)."""
    w_bits, act_bits, group_size, symmetric = check_lut_args(w_bits, act_bits, group_size, table)
    act = check_int_values(act, act_bits, True, "act")
    w_codes = check_int_codes(w_codes, w_bits, "w_codes")
    if act.ndim != 1 or w_codes.ndim == 1:
        check_same_shape(act, w_codes, "act", "w_codes")
    elif act.shape[-1] != w_codes.shape[-1]:
        raise ValueError(f"act and w_codes must have the same length n, got {act.shape[-1]} "
                         f"and {w_codes.shape[-1]}")
    if act.shape[-1] % group_size:
        raise ValueError(f"act length {act.shape[-1]} must be a multiple of group_size "
                         f"{group_size}")
    w2 = rows(w_codes)
    out = np.empty(w2.shape[0], dtype=np.int64)
    _lut_dot_kernel(rows(act), w2, w_bits, group_size, symmetric, out)
    return unrows(out, w_codes.shape[:-1])


# -- plain-Python reference ---------------------------------------------------------------------
def lut_dot_reference(act, w_codes, *, w_bits: int, group_size: int = 4,
                      table: str = "full") -> int:
    """The same tables, plane indices and shift-and-add, written with Python integers."""
    g = group_size
    planes = [0] * w_bits
    for start in range(0, len(act), g):
        a = [int(x) for x in act[start:start + g]]
        full = [sum(a[j] for j in range(g) if idx >> j & 1) for idx in range(1 << g)]
        half = [sum(a[j] if idx >> j & 1 else -a[j] for j in range(g))
                for idx in range(1 << (g - 1))]
        for p in range(w_bits):
            idx = sum((int(w_codes[start + j]) >> p & 1) << j for j in range(g))
            if table == "full":
                planes[p] += full[idx]
            else:
                signed = half[idx] if idx < 1 << (g - 1) else -half[idx ^ ((1 << g) - 1)]
                planes[p] += (signed + sum(a)) // 2
    return sum(planes[p] << p for p in range(w_bits - 1)) - (planes[-1] << (w_bits - 1))
