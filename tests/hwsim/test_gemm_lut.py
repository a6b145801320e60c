"""lowbit.hwsim.gemm_lut against plain-Python integers (lut_dot_reference, the table written with
Python ints) and the lut_dot unit, narrow tables that saturate included; exact tables give
lowbit.hwsim.gemm's integer result bit for bit."""
import itertools

import numpy as np
import pytest

from lowbit.hwsim import gemm, gemm_lut, quant
from lowbit.hwsim.units.integer import decode_int_codes
from lowbit.hwsim.units.lut import lut_dot, lut_dot_reference


def _reference(a, w, *, w_bits, group_size, table_bits, group, acc_bits):
    """[M, N, K / group] by lut_dot_reference per scale group (zero-padded to a multiple of
    group_size), wrapped to acc_bits with Python integers."""
    M, K = a.shape
    pad = -group % group_size
    out = np.empty((M, len(w), K // group), np.int64)
    for m, n, s in itertools.product(range(M), range(len(w)), range(K // group)):
        part = slice(s * group, (s + 1) * group)
        total = lut_dot_reference(list(a[m, part]) + [0] * pad, list(w[n, part]) + [0] * pad,
                                  w_bits=w_bits, group_size=group_size, table_bits=table_bits)
        low = total & ((1 << acc_bits) - 1)
        out[m, n, s] = low - (1 << acc_bits) if low >> (acc_bits - 1) else low
    return out


@pytest.mark.parametrize("table_bits", [None, 12, 10, 9, 8, 6, 2])
@pytest.mark.parametrize("w_bits,group_size,group,acc_bits", [
    (4, 4, 16, 32), (3, 4, 12, 14), (2, 2, 3, 32), (1, 3, 8, 32), (4, 4, 6, 32),
    (4, 4, 48, 12)])
def test_lut_gemm_against_python_integers(rng, table_bits, w_bits, group_size, group, acc_bits):
    """Full-range int8 activations (so 4-entry sums reach +-512 and tables of 9 bits and fewer
    saturate), scale groups that are no multiple of group_size (padded), narrow accumulators."""
    a = rng.integers(-128, 128, (4, 48))
    a[0] = 127                  # every entry at its largest: saturates any table under 10 bits
    a[1] = -128
    w = rng.integers(0, 1 << w_bits, (5, 48))
    got = gemm_lut.lut_gemm(a, w, w_bits=w_bits, group_size=group_size, table_bits=table_bits,
                            group=group, acc_bits=acc_bits)
    np.testing.assert_array_equal(got, _reference(a, w, w_bits=w_bits, group_size=group_size,
                                                  table_bits=table_bits, group=group,
                                                  acc_bits=acc_bits))


@pytest.mark.parametrize("table_bits", [None, 10, 9, 7])
def test_lut_gemm_is_lut_dot(rng, table_bits):
    """100 x 100 dot products of 64 elements (10,000) against the lut_dot unit."""
    a = rng.integers(-128, 128, (100, 64))
    w = rng.integers(0, 16, (100, 64))
    got = gemm_lut.lut_gemm(a, w, w_bits=4, table_bits=table_bits)[:, :, 0]
    expected = lut_dot(np.repeat(a, 100, axis=0), np.tile(w, (100, 1)), w_bits=4,
                       table_bits=table_bits).reshape(100, 100)
    np.testing.assert_array_equal(got, expected)


def test_a_table_wide_enough_is_exact_and_a_narrow_one_saturates(rng):
    """int8 activations in groups of 4 need 10-bit entries: at 10 bits the LUT GEMM is
    int_gemm's (wrap) bit for bit; at 9 bits the all-127 group's entries clamp to 255."""
    a = rng.integers(-128, 128, (6, 64))
    w = rng.integers(0, 16, (7, 64))
    exact = gemm.int_gemm(a, decode_int_codes(w, 4), a_bits=8, w_bits=4, group=32)
    np.testing.assert_array_equal(gemm_lut.lut_gemm(a, w, w_bits=4, table_bits=10, group=32),
                                  exact)
    ones = np.full((1, 4), 127)
    one_code = np.array([[1, 1, 1, 1]])          # plane 0 reads entry 0b1111 = 508
    assert gemm_lut.lut_gemm(ones, one_code, w_bits=4, table_bits=9)[0, 0, 0] == 255
    assert gemm_lut.lut_gemm(ones, one_code, w_bits=4)[0, 0, 0] == 508


@pytest.mark.parametrize("preset", ["int4-g128", "int8", "int2-g64", "binary"])
def test_qtensor_gemm_with_exact_tables_is_the_integer_path(rng, preset):
    """lut_table_bits wide enough gives the default PE arithmetic bit for bit (asymmetric zero
    points and binary weights included); 8 bits changes some output."""
    scheme = quant.preset(preset)
    x = rng.standard_normal((6, 256)).astype(np.float32)
    wt = rng.standard_normal((5, 256)).astype(np.float32)
    qa, qw = quant.quantize(x, scheme.act_spec), quant.quantize(wt, scheme.weight_spec)
    default = gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic())
    wide = gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(lut_table_bits=10))
    np.testing.assert_array_equal(wide.view(np.uint32), default.view(np.uint32))
    assert (gemm.qtensor_gemm(qa, qw, gemm.PEArithmetic(lut_table_bits=8)) != default).any()


def test_bad_lut_arguments_are_refused():
    with pytest.raises(ValueError, match="table_bits must be an integer in 2..32"):
        gemm.PEArithmetic(lut_table_bits=1)
    with pytest.raises(ValueError, match="overflow must be 'wrap', got 'saturate'"):
        gemm.PEArithmetic(lut_table_bits=9, overflow="saturate", acc_bits=20)
    with pytest.raises(ValueError, match="group must be None or a positive divisor of K=8"):
        gemm_lut.lut_gemm(np.zeros((1, 8), int), np.zeros((1, 8), int), w_bits=4, group=3)
    with pytest.raises(ValueError, match="table_bits applies to table='full' only"):
        lut_dot(np.zeros(8, int), np.zeros(8, int), w_bits=4, table="symmetric", table_bits=9)
