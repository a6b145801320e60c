"""lowbit.hwsim.units.lut: table-lookup dots equal exact integer dots; >= 100,000 random dots."""
import itertools

import numpy as np
import pytest

from lowbit.hwsim.units.integer import decode_int_codes
from lowbit.hwsim.units.lut import check_table_offsets, lut_dot, lut_dot_reference

SEED = 9090
# (w_bits, group_size, table, rows, n): 133,000 random dot products in all.
TABLES = ("full", "symmetric")
CASES = [(w, g, t, 6000, 32) for w, g, t in itertools.product((1, 2, 3, 4), (2, 4), TABLES)] \
    + [(w, g, t, 4000, 64) for w, g, t in itertools.product((5, 8), (4, 8), TABLES)] \
    + [(4, 1, "full", 5000, 12)]


def exact_dot(act, codes, w_bits):
    """The plain integer dot product, numpy int64 (exact for these sizes)."""
    return (act.astype(np.int64) * decode_int_codes(codes, w_bits)).sum(-1)


@pytest.mark.parametrize("w_bits,group_size,table,rows,n", CASES)
def test_random_dots_equal_the_exact_integer_dot(w_bits, group_size, table, rows, n):
    seed = [SEED, w_bits, group_size, rows]
    rng = np.random.default_rng(seed)
    act = rng.integers(-128, 128, (rows, n))
    codes = rng.integers(0, 1 << w_bits, (rows, n))
    got = lut_dot(act, codes, w_bits=w_bits, group_size=group_size, table=table)
    expected = exact_dot(act, codes, w_bits)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"seed {seed} row {bad[0] if bad.size else None}"
    for r in range(0, rows, rows // 40):
        ref = lut_dot_reference(act[r], codes[r], w_bits=w_bits, group_size=group_size,
                                table=table)
        assert ref == expected[r], f"reference: seed {seed} row {r}"


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("group_size", [3, 5, 6, 7])
def test_group_sizes_whose_words_are_no_view_of_the_codes(group_size, table):
    """Groups of 3, 5, 6 or 7 codes are combined into words byte by byte (lut_words), and
    groups past 4 index by 64-bit multiplies: 10,000 random dots each, int8 x int5 codes."""
    rng = np.random.default_rng([SEED, group_size, len(table)])
    n = 4 * group_size
    act = rng.integers(-128, 128, (10_000, n))
    codes = rng.integers(0, 32, (10_000, n))
    got = lut_dot(act, codes, w_bits=5, group_size=group_size, table=table)
    assert np.array_equal(got, exact_dot(act, codes, 5))


def test_empty_dots_are_zero():
    assert np.array_equal(lut_dot(np.zeros((3, 0), int), np.zeros((3, 0), int), w_bits=4),
                          np.zeros(3, np.int64))


@pytest.mark.parametrize("table", ["full", "symmetric"])
def test_shared_activations_matrix_vector(table):
    """One activation vector against many weight rows: the tables are built once and reused."""
    rng = np.random.default_rng([SEED, len(table)])
    act = rng.integers(-128, 128, 96)
    codes = rng.integers(0, 8, (3, 50, 96))
    got = lut_dot(act, codes, w_bits=3, group_size=8, table=table)
    assert got.shape == (3, 50)
    assert np.array_equal(got, exact_dot(np.broadcast_to(act, codes.shape), codes, 3))


@pytest.mark.parametrize("table", ["full", "symmetric"])
@pytest.mark.parametrize("w_bits", [1, 4, 8])
def test_corners(table, w_bits):
    n = 64
    most_negative_code = 1 << (w_bits - 1)
    cases = [
        (np.full(n, -128), np.full(n, most_negative_code)),        # all-max product
        (np.full(n, 127), np.full(n, (1 << w_bits) - 1)),          # all -1 weights
        (np.resize([127, -128], n), np.resize([most_negative_code, 1 % (1 << w_bits)], n)),
        (np.zeros(n, int), np.full(n, most_negative_code)),
    ]
    for act, codes in cases:
        assert lut_dot(act, codes, w_bits=w_bits, table=table) == exact_dot(act, codes, w_bits)


def test_every_int4_weight_against_every_int8_activation_in_one_group():
    """Group of 4 lanes, lane 0 sweeps all int8 activations x all int4 codes (4096 pairs), the
    other lanes random: every table entry and every plane index gets used."""
    rng = np.random.default_rng(SEED)
    acts, codes = np.meshgrid(np.arange(-128, 128), np.arange(16), indexing="ij")
    act = np.concatenate([acts.reshape(-1, 1), rng.integers(-128, 128, (4096, 3))], axis=1)
    code = np.concatenate([codes.reshape(-1, 1), rng.integers(0, 16, (4096, 3))], axis=1)
    for table in ("full", "symmetric"):
        assert np.array_equal(lut_dot(act, code, w_bits=4, table=table), exact_dot(act, code, 4))


@pytest.mark.parametrize("kwargs,match", [
    (dict(act=np.zeros(6, int), w_codes=np.zeros(6, int)),
     "act length 6 must be a multiple of group_size 4"),
    (dict(w_codes=np.full(8, 16)), r"w_codes must hold 4-bit codes in 0\.\.15"),
    (dict(w_codes=np.zeros(4, int)), "act and w_codes must have the same shape"),
    (dict(w_codes=np.zeros((2, 4), int)), "act and w_codes must have the same length n, got 8 "
                                          "and 4"),
    (dict(act=np.zeros((2, 8), int), w_codes=np.zeros((3, 8), int)),
     "act and w_codes must have the same shape"),
    (dict(group_size=9), r"group_size must be an integer in 1\.\.8, got 9"),
    (dict(group_size=1, table="symmetric"), r"group_size must be in 2\.\.8 for table="),
    (dict(table="half"), r"table must be one of \('full', 'symmetric'\), got 'half'"),
    (dict(w_bits=0), r"w_bits must be an integer in 1\.\.8, got 0"),
])
def test_bad_input_raises_naming_the_argument(kwargs, match):
    args = dict(act=np.zeros(8, int), w_codes=np.zeros(8, int), w_bits=4) | kwargs
    with pytest.raises(ValueError, match=match):
        lut_dot(**args)


@pytest.mark.parametrize("table_bits", [2, 7, 9, 10])
@pytest.mark.parametrize("group_size", [2, 4, 8])
def test_narrow_tables_saturate_every_entry_once(table_bits, group_size):
    """Stored entries clamped to table_bits two's complement (the reference clamps each exact
    subset sum with Python ints): 1,000 random dots per case, rows of all +127 and all -128
    (every entry at its extreme) included; at act_bits + ceil(log2 g) bits nothing clamps."""
    rng = np.random.default_rng([SEED, table_bits, group_size])
    act = rng.integers(-128, 128, (1000, 32))
    act[0], act[1] = 127, -128
    codes = rng.integers(0, 16, (1000, 32))
    got = lut_dot(act, codes, w_bits=4, group_size=group_size, table_bits=table_bits)
    for r in range(1000):
        assert got[r] == lut_dot_reference(act[r], codes[r], w_bits=4, group_size=group_size,
                                           table_bits=table_bits), f"seed {SEED} row {r}"
    if table_bits >= 8 + (group_size - 1).bit_length():
        assert np.array_equal(got, exact_dot(act, codes, 4))
    else:
        assert not np.array_equal(got, exact_dot(act, codes, 4))
    shared = lut_dot(act[0], codes[:50], w_bits=4, group_size=group_size, table_bits=table_bits)
    for r in range(50):             # tables built once for all rows, clamped the same way
        assert shared[r] == lut_dot_reference(act[0], codes[r], w_bits=4, group_size=group_size,
                                              table_bits=table_bits), f"seed {SEED} row {r}"


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("n_groups,rows", [(48, 25), (600, 3), (1100, 2)])
def test_chunk_layouts_equal_the_exact_dot_and_the_reference(table, n_groups, rows):
    """The kernel builds the tables of several rows at once, in chunks of a fixed number of
    groups (512 for a full g=4 table, 1024 for a symmetric one): 48 groups do not divide a
    chunk (zero-padded chunks, a partial last chunk); 600 and 1100 groups are rows longer than
    a chunk for one or both table kinds (a chunk is then one row). Shared activations too."""
    rng = np.random.default_rng([SEED, n_groups, len(table)])
    act = rng.integers(-128, 128, (rows, 4 * n_groups))
    codes = rng.integers(0, 16, (rows, 4 * n_groups))
    got = lut_dot(act, codes, w_bits=4, table=table)
    assert np.array_equal(got, exact_dot(act, codes, 4))
    assert got[-1] == lut_dot_reference(act[-1], codes[-1], w_bits=4, table=table)
    shared = lut_dot(act[0], codes, w_bits=4, table=table)
    assert np.array_equal(shared, exact_dot(np.broadcast_to(act[0], codes.shape), codes, 4))


def test_rows_whose_tables_pass_2_to_the_32_entries_are_refused():
    check_table_offsets(2**28, 4, False)          # 2^32 entries of a full g=4 table: fits
    with pytest.raises(ValueError, match="act length 1073741828 is too long for group_size 4"):
        check_table_offsets(2**28 + 1, 4, False)
    check_table_offsets(2**25, 8, True)           # 128 entries a group, symmetric g=8
    with pytest.raises(ValueError, match="at most 33554432 groups per dot product"):
        check_table_offsets(2**25 + 1, 8, True)
