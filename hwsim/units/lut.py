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
  table width  ``table_bits`` (None: exact, the default) stores every "full" table entry in
               table_bits-bit two's complement: the entry is the exact subset sum above,
               saturated once to [-2^(table_bits-1), 2^(table_bits-1) - 1] (a wide table adder
               whose result is clamped when written). An entry of at most g activations of
               act_bits bits needs act_bits + ceil(log2 g) bits, so that width or more is
               exact. "symmetric" tables are exact only (table_bits must be None).
  planes       bit-plane p of group k indexes the table with idx = sum_j bit_p(w_kj) << j, giving
               P_p = sum over k of the looked-up partial sums.
  result       sum_{p < w_bits-1} P_p << p  -  P_{w_bits-1} << (w_bits-1): the two's-complement
               sign plane is subtracted. Every other step is exact integer arithmetic (table
               entries, |entry| <= 8 * 128, in int16; sums in int64), so with exact tables the
               result equals the exact integer dot product (|result| < 2^63 for n < 2^47).
  shapes       a Python int for 1-D weights, an int64 array of the weights' batch shape otherwise.
"""
from __future__ import annotations

import functools

import numpy as np
from numba import njit

from lowbit.hwsim.units.integer import (check_bits, check_int_codes, check_int_values,
                                 check_same_shape, rows, unrows)

TABLES = ("full", "symmetric")
GROUP_SIZES = range(1, 9)
TABLE_BITS = range(2, 33)    # stored entry widths; 12 bits already hold every entry exactly


# -- the fast path ------------------------------------------------------------------------------
# Tables are entry-major, tables[idx, k] for group k, and built for every group of a row at once:
# each entry of every group is one vector addition across the groups. Entries hold at most g
# activations of at most 8 bits (|entry| <= 8 * 128), so int16 holds them exactly; the plane
# sums are int64. Each weight group is one unsigned word with code j in byte j (a view of the
# codes when g is 1, 2, 4 or 8); a plane's table indices are computed for every group first
# (one vectorizable pass), then looked up.

@njit(cache=True)
def build_full_tables(act, g, columns, tables):
    """tables[idx, k] = sum of act[k*g + j] over the set bits j of idx: entry step + idx is
    entry idx plus act[k*g + j] for step = 2^j, for all groups k at once. ``columns``:
    (g, groups) scratch for the activations by position in the group."""
    for k in range(tables.shape[1]):
        tables[0, k] = 0
        for j in range(g):
            columns[j, k] = act[k * g + j]
    for j in range(g):
        step = 1 << j
        for idx in range(step):
            for k in range(tables.shape[1]):
                tables[step + idx, k] = tables[idx, k] + columns[j, k]


@njit(cache=True)
def build_symmetric_tables(act, g, columns, tables):
    """tables[idx, k] = sum_j (2*bit_j(idx) - 1) * act[k*g + j] for idx < 2^(g-1): entry 0 is
    -A_k, setting bit j adds 2 * act[k*g + j]. Returns sum_k A_k (A_k = sum_j act[k*g + j])."""
    total = np.int64(0)
    for k in range(tables.shape[1]):
        group_sum = 0
        for j in range(g):
            columns[j, k] = act[k * g + j]
            group_sum += act[k * g + j]
        tables[0, k] = -group_sum
        total += group_sum
    for j in range(g - 1):
        step = 1 << j
        for idx in range(step):
            for k in range(tables.shape[1]):
                tables[step + idx, k] = tables[idx, k] + 2 * columns[j, k]
    return total


# Bit-plane indices by multiplication: with the group's g <= 8 codes as the bytes of one word,
# bit p of every byte is masked out (BYTE_LSBS after a shift by p) and the multiply by
# GATHER_BITS moves byte j's bit to bit 56 + j. No two partial products share a bit position
# and the top byte receives nothing else, so word >> 56 is the plane's table index. For g <= 4
# the same with 32-bit constants (GATHER_BITS_4 moves byte j's bit to bit 24 + j), which the
# vector units multiply in one instruction.
BYTE_LSBS = 0x0101010101010101
GATHER_BITS = 0x0102040810204080
BYTE_LSBS_4 = 0x01010101
GATHER_BITS_4 = 0x01020408


@njit(cache=True)
def plane_indices(words, p, g, indices):
    """indices[k] = the plane-p table index of group k, read off word k as above."""
    if g <= 4:
        for k in range(indices.shape[0]):
            bits = (np.int64(words[k]) >> p) & BYTE_LSBS_4
            indices[k] = ((bits * GATHER_BITS_4) >> 24) & 0xF
    else:
        for k in range(indices.shape[0]):
            bits = (np.uint64(words[k]) >> np.uint64(p)) & np.uint64(BYTE_LSBS)
            indices[k] = np.int64((bits * np.uint64(GATHER_BITS)) >> np.uint64(56))


@njit(cache=True)
def lookup_full(flat, words, w_bits, g, indices):
    """Sum over groups of every bit-plane's entry, planes combined by shift-and-add with the
    sign plane subtracted."""
    n_groups = indices.shape[0]
    total = np.int64(0)
    for p in range(w_bits):
        plane_indices(words, p, g, indices)
        for k in range(n_groups):   # entry-major: the flat offset of entry idx of group k
            indices[k] = indices[k] * n_groups + k
        plane = np.int64(0)
        for k in range(n_groups):
            plane += flat[indices[k]]
        # The sign plane weighs -2^(w_bits-1), every other plane +2^p.
        total += -(plane << p) if p == w_bits - 1 else plane << p
    return total


@njit(cache=True)
def lookup_symmetric(flat, act_total, words, w_bits, g, indices, signs):
    """As lookup_full, but an index with the top bit set reads the mirrored entry negated,
    H(~idx) = -H(idx), and a plane is (sum_k H + sum_k A_k) / 2, exact because every term
    H + A_k is even."""
    n_groups = indices.shape[0]
    full_mask = (1 << g) - 1
    total = np.int64(0)
    for p in range(w_bits):
        plane_indices(words, p, g, indices)
        for k in range(n_groups):
            # selected by arithmetic, not a branch: random weights would mispredict half
            mirrored = indices[k] >> (g - 1)
            signs[k] = 1 - 2 * mirrored
            indices[k] = (indices[k] ^ (full_mask * mirrored)) * n_groups + k
        plane = act_total
        for k in range(n_groups):
            plane += flat[indices[k]] * signs[k]
        plane >>= 1
        total += -(plane << p) if p == w_bits - 1 else plane << p
    return total


@njit(cache=True)
def saturate_tables(flat, lo, hi):
    """Every entry clamped to [lo, hi] (the table_bits store; a no-op for exact tables)."""
    for i in range(flat.shape[0]):
        flat[i] = min(max(flat[i], lo), hi)


@njit(cache=True, inline="always")
def lut_rows(act, words, w_bits, g, symmetric, saturate, lo, hi, indices, out):
    """act has one row per weight row, or a single row shared by every weight row (its tables
    are then built once and reused, as T-MAC reuses them across the rows of a matrix);
    ``words``: one word per weight group (lut_words); ``indices``: scratch of one entry offset
    per group, int32 where every offset fits (twice the elements per vector), else int64."""
    n_groups = words.shape[1]
    entries = 1 << (g - 1) if symmetric else 1 << g
    tables = np.empty((entries, n_groups), dtype=np.int16)
    flat = tables.reshape(-1)
    columns = np.empty((g, n_groups), dtype=np.int16)
    signs = np.empty(n_groups, dtype=np.int16)
    shared = act.shape[0] == 1
    act_total = np.int64(0)
    for r in range(words.shape[0]):
        if r == 0 or not shared:
            row = 0 if shared else r
            if symmetric:
                act_total = build_symmetric_tables(act[row], g, columns, tables)
            else:
                build_full_tables(act[row], g, columns, tables)
                if saturate:
                    saturate_tables(flat, lo, hi)
        if symmetric:
            out[r] = lookup_symmetric(flat, act_total, words[r], w_bits, g, indices, signs)
        else:
            out[r] = lookup_full(flat, words[r], w_bits, g, indices)


@functools.lru_cache(maxsize=None)
def _kernel(g: int):
    """lut_rows compiled for group size ``g`` as a constant, so that the compiler unrolls and
    specializes every loop over a group (about twice as fast as a run-time ``g``)."""
    @njit
    def kernel(act, words, w_bits, symmetric, saturate, lo, hi, indices, out):
        lut_rows(act, words, w_bits, g, symmetric, saturate, lo, hi, indices, out)
    return kernel


def lut_words(w2: np.ndarray, g: int) -> np.ndarray:
    """(m, n) uint8 codes -> (m, n / g) unsigned words, code j of a group in byte j: a view of
    the codes for g in 1, 2, 4, 8 (little-endian words), else the bytes combined."""
    if g in (1, 2, 4, 8):
        return w2.view(np.dtype(f"<u{g}"))
    grouped = w2.reshape(w2.shape[0], -1, g).astype(np.uint64)
    return np.bitwise_or.reduce(grouped << (8 * np.arange(g, dtype=np.uint64)), axis=-1)


def check_lut_args(w_bits, act_bits, group_size, table) -> tuple[int, int, int, bool]:
    w_bits, act_bits = check_bits(w_bits, "w_bits"), check_bits(act_bits, "act_bits")
    group_size = check_bits(group_size, "group_size", GROUP_SIZES)
    if table not in TABLES:
        raise ValueError(f"table must be one of {TABLES}, got {table!r}")
    if table == "symmetric" and group_size < 2:
        raise ValueError(f"group_size must be in 2..8 for table='symmetric', got {group_size}")
    return w_bits, act_bits, group_size, table == "symmetric"


def table_limits(table_bits, table: str = "full") -> tuple[int, int]:
    """(lo, hi) every stored entry is clamped to: the table_bits two's complement range, or
    one wider than any entry when table_bits is None (exact); ValueError naming table_bits."""
    if table_bits is None:
        return -(1 << 62), (1 << 62) - 1
    check_bits(table_bits, "table_bits", TABLE_BITS)
    if table != "full":
        raise ValueError(f"table_bits applies to table='full' only (symmetric tables are exact "
                         f"here), got table={table!r}, table_bits={table_bits}")
    return -(1 << (table_bits - 1)), (1 << (table_bits - 1)) - 1


def lut_dot(act, w_codes, *, w_bits: int, act_bits: int = 8, group_size: int = 4,
            table: str = "full", table_bits: int | None = None):
    """Dot product of activations and two's complement weight codes by table lookup, exact
    unless ``table_bits`` saturates table entries (see the module contract)."""
    w_bits, act_bits, group_size, symmetric = check_lut_args(w_bits, act_bits, group_size, table)
    lo, hi = table_limits(table_bits, table)
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
    words = lut_words(w2, group_size)
    offsets = words.shape[1] << group_size
    indices = np.empty(words.shape[1], dtype=np.int32 if offsets < 2**31 else np.int64)
    # int16 entries: clamp bounds beyond int16 clamp nothing
    lo, hi = max(lo, np.iinfo(np.int16).min), min(hi, np.iinfo(np.int16).max)
    _kernel(group_size)(rows(act), words, w_bits, symmetric, table_bits is not None,
                        np.int16(lo), np.int16(hi), indices, out)
    return unrows(out, w_codes.shape[:-1])


# -- plain-Python reference ---------------------------------------------------------------------
def lut_dot_reference(act, w_codes, *, w_bits: int, group_size: int = 4,
                      table: str = "full", table_bits: int | None = None) -> int:
    """The same tables, plane indices and shift-and-add, written with Python integers."""
    g = group_size
    planes = [0] * w_bits
    top = None if table_bits is None else 1 << (table_bits - 1)

    def stored(entry: int) -> int:
        return entry if top is None else min(max(entry, -top), top - 1)

    for start in range(0, len(act), g):
        a = [int(x) for x in act[start:start + g]]
        full = [stored(sum(a[j] for j in range(g) if idx >> j & 1)) for idx in range(1 << g)]
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
