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
  limits       a row's tables hold at most 2^32 entries (n / g groups, rounded up to a whole
               table block, times the table size; 8 GiB of int16): a longer row raises
               ValueError naming act's length.

The fast path builds every table and reads it entry by entry, as above: it only chooses how
the work is laid out (the tables of several rows' groups built in one vectorized loop, the
table offsets of every plane computed before the lookups; see the comment there). ``lut_dot_reference`` is the same
algorithm on Python integers.
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
# Tables live in blocks of BLOCK groups (a compile-time constant of each kernel): block b holds
# entry idx of its group i at flat offset (b * entries + idx) * BLOCK + i, entry-major, so that
# building every entry of BLOCK groups is one loop whose stores the compiler proves disjoint and
# vectorizes across the groups. A chunk of rows (several short rows, or one long row) or the one
# shared activation row gets its tables built at once. Entries hold at most g activations of at
# most 8 bits (|entry| <= 8 * 128), so int16 holds them exactly; the plane sums are int64. Each
# weight group is one unsigned word with code j in byte j (a view of the codes when g is 1, 2,
# 4 or 8). The table offsets of every plane of every group of the chunk are computed first (one
# vectorizable pass), then each row's planes are looked up and summed. g and w_bits are
# compile-time constants of each kernel too (see _kernel).

BLOCK_ENTRIES = 1 << 13     # table entries per block: 16 KiB of int16, in L1 with the rest


def block_groups(entries: int) -> int:
    """Groups per table block, for tables of ``entries`` entries."""
    return max(16, BLOCK_ENTRIES // entries)


@njit(cache=True, inline="always")
def build_full_block(act, g, block, flat):
    """Full tables of the ``block`` groups of ``act``: row 2^j holds activation j of every
    group, and entry step + idx = entry idx + entry step for step = 2^j (row 0 is zero from
    allocation on)."""
    for i in range(block):
        for j in range(g):
            a = np.int16(act[i * g + j])
            step = 1 << j
            flat[step * block + i] = a
            for idx in range(1, step):
                flat[(step + idx) * block + i] = flat[idx * block + i] + a


@njit(cache=True, inline="always")
def build_symmetric_block(act, g, block, group_sums, flat):
    """Symmetric tables of the ``block`` groups of ``act``: entry 0 is -A_i, setting bit j adds
    2 * act[i*g + j]; group_sums[i] = A_i = sum_j act[i*g + j]."""
    for i in range(block):
        group_sum = np.int16(0)
        for j in range(g):
            group_sum += np.int16(act[i * g + j])
        group_sums[i] = group_sum
        flat[i] = -group_sum
        for j in range(g - 1):
            a2 = 2 * np.int16(act[i * g + j])
            step = 1 << j
            for idx in range(step):
                flat[(step + idx) * block + i] = flat[idx * block + i] + a2


@njit(cache=True, inline="always")
def build_tables(act, n, g, symmetric, block, padded, group_sums, flat):
    """The tables of the first ``n`` groups of ``act``, block by block (the last one from the
    zero-padded copy ``padded``: a block's loop always runs over all of its groups)."""
    entries = 1 << (g - 1) if symmetric else 1 << g
    for b in range((n + block - 1) // block):
        groups = min(block, n - b * block)
        source = act[b * block * g:(b * block + groups) * g]
        if groups < block:
            padded[:groups * g] = source
            source = padded
        tables = flat[b * entries * block:(b + 1) * entries * block]
        if symmetric:
            build_symmetric_block(source, g, block, group_sums[b * block:(b + 1) * block],
                                  tables)
        else:
            build_full_block(source, g, block, tables)


# Bit-plane indices by multiplication: with the group's g <= 8 codes as the bytes of one word,
# bit p of every byte is masked out (BYTE_LSBS after a shift by p) and the multiply by
# GATHER_BITS moves byte j's bit to bit 56 + j. No two partial products share a bit position
# and the top byte receives nothing else, so word >> 56 is the plane's table index. For g <= 4
# the same in 32 bits (GATHER_BITS_4 moves byte j's bit to bit 24 + j; only the low 32 bits of
# the product are kept), which the vector units multiply in one instruction.
BYTE_LSBS = 0x0101010101010101
GATHER_BITS = 0x0102040810204080
BYTE_LSBS_4 = 0x01010101
GATHER_BITS_4 = 0x01020408


@njit(cache=True, inline="always")
def plane_index(word, p, g):
    """The plane-p table index of a group, read off its word as above."""
    if g <= 4:
        bits = (np.uint32(word) >> np.uint32(p)) & np.uint32(BYTE_LSBS_4)
        return np.uint32(bits * np.uint32(GATHER_BITS_4)) >> np.uint32(24)
    bits = (np.uint64(word) >> np.uint64(p)) & np.uint64(BYTE_LSBS)
    return (bits * np.uint64(GATHER_BITS)) >> np.uint64(56)


@njit(cache=True, inline="always")
def table_offsets(words, count, w_bits, g, block, places, offsets):
    """offsets[p, i] = the flat table offset that plane p of group i reads: index * block
    plus the group's place places[i] in entry 0, in uint32 (32-bit vector lanes)."""
    for p in range(w_bits):
        for i in range(count):
            offsets[p, i] = np.uint32(np.uint32(plane_index(words[i], p, g)) * block) \
                + places[i]


@njit(cache=True, inline="always")
def symmetric_offsets(words, count, w_bits, g, block, places, offsets, signs):
    """As table_offsets for the half table: an index with bit g-1 set reads the mirrored entry
    idx XOR (2^g - 1), negated: signs[p, i] is then the mask -1, else 0, so that the lookup
    negates by (x ^ mask) - mask (this CPU class has no vector 64-bit multiply for x * +-1).
    Selects, which vectorize (the XOR with a mask made of the top bit did not)."""
    full_mask = np.uint32((1 << g) - 1)
    half = np.uint32(1 << (g - 1))
    for p in range(w_bits):
        for i in range(count):
            idx = np.uint32(plane_index(words[i], p, g))
            mirrored = idx >= half   # then idx XOR full_mask = full_mask - idx
            signs[p, i] = -1 if mirrored else 0
            read = np.uint32(full_mask - idx) if mirrored else idx
            offsets[p, i] = np.uint32(read * block) + places[i]


@njit(cache=True, inline="always")
def lookup_full(flat, offsets, start, stop, w_bits):
    """The result of the row whose groups are start .. stop-1 of the chunk: every plane's
    entries summed, planes combined by shift-and-add with the sign plane subtracted."""
    total = np.int64(0)
    for p in range(w_bits):
        row = offsets[p, start:stop]
        plane = np.int64(0)
        for k in range(row.shape[0]):
            plane += flat[row[k]]
        # The sign plane weighs -2^(w_bits-1), every other plane +2^p.
        total += -(plane << p) if p == w_bits - 1 else plane << p
    return total


@njit(cache=True, inline="always")
def lookup_symmetric(flat, offsets, signs, act_total, start, stop, w_bits):
    """As lookup_full with mirrored entries negated (sign masks from symmetric_offsets); a
    plane is (sum_k ±H + sum_k A_k) / 2, exact because every term H + A_k is even."""
    total = np.int64(0)
    for p in range(w_bits):
        row, row_signs = offsets[p, start:stop], signs[p, start:stop]
        plane = act_total
        for k in range(row.shape[0]):
            mask = np.int64(row_signs[k])
            plane += (np.int64(flat[row[k]]) ^ mask) - mask
        plane >>= 1
        total += -(plane << p) if p == w_bits - 1 else plane << p
    return total


@njit(cache=True)
def saturate_tables(flat, lo, hi):
    """Every entry clamped to [lo, hi] (the table_bits store; a no-op for exact tables)."""
    for i in range(flat.shape[0]):
        flat[i] = min(max(flat[i], lo), hi)


@njit(cache=True, inline="always")
def lut_rows(act, words, w_bits, g, symmetric, block, saturate, lo, hi, out):
    """act has one row per weight row, or a single row shared by every weight row (its tables
    are then built once and reused, as T-MAC reuses them across the rows of a matrix);
    ``words``: one word per weight group (lut_words). Rows are processed in chunks of whole
    rows that fill a table block (or of one row, as many blocks as it takes); every flat table
    offset is below 2^32 (checked by lut_dot). ``block``: block_groups(entries), a constant."""
    n_rows, n_groups = words.shape
    if n_groups == 0:
        out[:] = 0
        return
    shared = act.shape[0] == 1
    entries = 1 << (g - 1) if symmetric else 1 << g
    rows_per_chunk = max(1, block // n_groups)
    chunk = rows_per_chunk * n_groups
    blocks = (max(chunk, n_groups) + block - 1) // block
    flat = np.zeros(blocks * entries * block, dtype=np.int16)
    group_sums = np.empty(blocks * block, dtype=np.int16)
    padded = np.zeros(block * g, dtype=act.dtype)
    offsets = np.empty((w_bits, chunk), dtype=np.uint32)
    signs = np.empty((w_bits, chunk), dtype=np.int16)
    places = np.empty(chunk, dtype=np.uint32)   # a chunk group's flat offset in entry 0
    for i in range(chunk):
        k = i % n_groups if shared else i
        places[i] = (k // block) * (entries * block) + k % block
    act_flat, words_flat = act.reshape(-1), words.reshape(-1)
    if shared:
        build_tables(act_flat, n_groups, g, symmetric, block, padded, group_sums, flat)
        if saturate:
            saturate_tables(flat, lo, hi)
    for r0 in range(0, n_rows, rows_per_chunk):
        count = min(rows_per_chunk, n_rows - r0) * n_groups
        if not shared:
            build_tables(act_flat[r0 * n_groups * g:], count, g, symmetric, block, padded,
                         group_sums, flat)
            if saturate:
                saturate_tables(flat, lo, hi)
        chunk_words = words_flat[r0 * n_groups:r0 * n_groups + count]
        if symmetric:
            symmetric_offsets(chunk_words, count, w_bits, g, np.uint32(block), places, offsets,
                              signs)
        else:
            table_offsets(chunk_words, count, w_bits, g, np.uint32(block), places, offsets)
        for r in range(count // n_groups):
            start, stop = r * n_groups, (r + 1) * n_groups
            if symmetric:
                sums = group_sums[:n_groups] if shared else group_sums[start:stop]
                act_total = np.int64(0)
                for k in range(n_groups):
                    act_total += sums[k]
                out[r0 + r] = lookup_symmetric(flat, offsets, signs, act_total, start, stop,
                                               w_bits)
            else:
                out[r0 + r] = lookup_full(flat, offsets, start, stop, w_bits)


@functools.lru_cache(maxsize=None)
def _kernel(g: int, w_bits: int, symmetric: bool):
    """lut_rows compiled with the group size, weight width and table kind as constants, so that
    the compiler unrolls and specializes every loop over a group and over the planes (a
    constant g doubles the speed, a constant w_bits adds 15-20 %). Each kernel takes a few
    seconds to compile once and is then cached on disk."""
    block = block_groups(1 << (g - 1) if symmetric else 1 << g)

    @njit(cache=True)
    def kernel(act, words, saturate, lo, hi, out):
        lut_rows(act, words, w_bits, g, symmetric, block, saturate, lo, hi, out)
    return kernel


def lut_words(w2: np.ndarray, g: int) -> np.ndarray:
    """(m, n) uint8 codes -> (m, n / g) unsigned words, code j of a group in byte j: a view of
    the codes for g in 1, 2, 4, 8 (little-endian words), else the bytes combined."""
    if g in (1, 2, 4, 8):
        return w2.view(np.dtype(f"<u{g}"))
    grouped = w2.reshape(w2.shape[0], -1, g).astype(np.uint64)
    return np.bitwise_or.reduce(grouped << (8 * np.arange(g, dtype=np.uint64)), axis=-1)


def check_table_offsets(n_groups: int, g: int, symmetric: bool) -> None:
    """ValueError unless every table offset of a row of ``n_groups`` groups fits the kernel's
    uint32 offsets: a row's tables would then take over 8 GiB."""
    entries = 1 << (g - 1) if symmetric else 1 << g
    block = block_groups(entries)
    if entries * block * -(-max(n_groups, 1) // block) > 2**32:
        raise ValueError(f"act length {n_groups * g} is too long for group_size {g}: its "
                         f"tables would hold over 2^32 entries; at most {2**32 // entries} "
                         f"groups per dot product")


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
    check_table_offsets(act.shape[-1] // group_size, group_size, symmetric)
    w2 = rows(w_codes)
    out = np.empty(w2.shape[0], dtype=np.int64)
    words = lut_words(w2, group_size)
    # int16 entries: clamp bounds beyond int16 clamp nothing
    lo, hi = max(lo, np.iinfo(np.int16).min), min(hi, np.iinfo(np.int16).max)
    _kernel(group_size, w_bits, symmetric)(rows(act), words, table_bits is not None,
                                          np.int16(lo), np.int16(hi), out)
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
