"""lowbit.kernels.integer: argument checks (CPU) and the GPU kernels bit for bit against hwsim
(skipped, with the reason, without CuPy or a CUDA device)."""
from __future__ import annotations

import numpy as np
import pytest

from lowbit.hwsim.quant import pack
from lowbit.hwsim.units.binary import pack_signs, xnor_dot
from lowbit.hwsim.units.integer import decode_int_codes, int_dot
from lowbit.kernels import integer
from lowbit.kernels.integer import (BITPLANE_FORMATS, MAX_K, BitPlaneWeights, a1w1_gemm, bitplane_gemm,
                             bitplane_weights, int8_gemm, lut_gemm, row_popcount)


# -- argument checks (CPU) ------------------------------------------------------------------------
def test_int8_gemm_checks_before_cupy():
    a = np.zeros((4, 64), np.int8)
    with pytest.raises(ValueError, match="a must have dtype int8"):
        int8_gemm(a.astype(np.uint8), a)
    with pytest.raises(ValueError, match=r"b must be a \[rows, 64\] array"):
        int8_gemm(a, np.zeros((4, 32), np.int8))
    with pytest.raises(ValueError, match="k must be a multiple of 16"):
        int8_gemm(np.zeros((4, 40), np.int8), np.zeros((4, 40), np.int8))
    big = np.zeros((1, 1 << 17), np.int8)        # 2^17 * (-128) * (-128) = 2^31: overflows
    with pytest.raises(ValueError, match="int32 sums cannot overflow"):
        int8_gemm(big, big)


def test_max_k_keeps_every_int8_sum_inside_int32():
    # The extreme sums: K products of (-128)(-128) = 2^14, or of (-128)(127).
    assert MAX_K * 128 * 128 <= 2**31 - 1 and MAX_K * -128 * 127 >= -(2**31)
    assert (MAX_K + 1) * 128 * 128 > 2**31 - 1    # the bound is tight
    largest = MAX_K - MAX_K % 16                   # the largest K int8_gemm accepts
    assert largest * 128 * 128 <= 2**31 - 1


def test_a1w1_checks_before_cupy():
    bits = np.zeros((4, 16), np.uint8)
    with pytest.raises(ValueError, match="k must be a multiple of 128"):
        a1w1_gemm(bits, bits, 100)
    with pytest.raises(ValueError, match=r"a must be a \[rows, 32\] array"):
        a1w1_gemm(bits, bits, 256)
    with pytest.raises(ValueError, match="method must be one of"):
        a1w1_gemm(bits, bits, 128, method="xor")


def test_bitplane_weights_checks():
    codes = np.zeros((4, 128), np.uint8)
    with pytest.raises(ValueError, match="fmt must be one of"):
        bitplane_weights(codes, fmt="int5")
    with pytest.raises(ValueError, match="n_planes must be 1 for binary"):
        bitplane_weights(codes, fmt="binary", n_planes=2)
    with pytest.raises(ValueError, match="n_planes must be an int in 2..4"):
        bitplane_weights(codes, fmt="int2", n_planes=5)
    with pytest.raises(ValueError, match="codes must be in 0..3"):
        bitplane_weights(codes + 4, fmt="int2")
    with pytest.raises(ValueError, match="k must be a multiple of 128"):
        bitplane_weights(np.zeros((4, 96), np.uint8), fmt="int4")
    w = bitplane_weights(codes, fmt="int3", n_planes=4)
    assert w.planes.shape == (16, 4) and w.planes.dtype == np.uint32


def test_plane_kernels_check_x_before_cupy():
    w = bitplane_weights(np.zeros((4, 128), np.uint8), fmt="int4")
    for fn in (bitplane_gemm, lut_gemm):
        with pytest.raises(ValueError, match=r"x must be a \[rows, 128\] array"):
            fn(np.zeros((2, 256), np.int8), w)


def test_bitplane_weights_built_directly_are_validated():
    good = bitplane_weights(np.zeros((4, 256), np.uint8), fmt="int2")
    BitPlaneWeights(fmt=good.fmt, n=good.n, k=good.k, n_planes=good.n_planes, planes=good.planes)
    cases = [
        (dict(fmt="int5"), "fmt must be one of"),
        (dict(n=0), "n must be a positive int"),
        (dict(n=5), r"planes must have shape \(10, 8\)"),
        (dict(k=200), "k must be a multiple of 128"),
        (dict(k=128), r"planes must be a \[rows, 4\] array"),
        (dict(n_planes=1), "n_planes must be an int in 2..4"),
        (dict(n_planes=3), r"planes must have shape \(12, 8\)"),
        (dict(fmt="binary"), "n_planes must be 1 for binary"),
        (dict(planes=good.planes.view(np.int32)), "planes must have dtype uint32"),
        (dict(planes=good.planes.T.copy().T), "planes must be C-contiguous"),
        (dict(planes=None), r"planes must be a \[rows, 8\] array"),
    ]
    for change, message in cases:
        fields = dict(fmt="int2", n=4, k=256, n_planes=2, planes=good.planes) | change
        with pytest.raises(ValueError, match=message):
            BitPlaneWeights(**fields)


class _FakeCupy:
    """Stands in for the cupy module on a machine without one: its ndarray type is no numpy
    array, so the wrappers' refusal of host arrays can be checked here."""
    class ndarray:
        pass
    int32 = np.int32


def test_host_arrays_are_refused_before_the_launch(monkeypatch):
    monkeypatch.setattr(integer, "cupy_module", lambda: _FakeCupy)
    a = np.zeros((4, 64), np.int8)
    with pytest.raises(ValueError, match="a must be a cupy array on the device"):
        int8_gemm(a, a)
    bits = np.zeros((4, 16), np.uint8)
    with pytest.raises(ValueError, match="a must be a cupy array on the device"):
        a1w1_gemm(bits, bits, 128)
    with pytest.raises(ValueError, match="bits must be a cupy array on the device"):
        row_popcount(bits, 128)
    w = bitplane_weights(np.zeros((4, 128), np.uint8), fmt="int4")
    for fn in (bitplane_gemm, lut_gemm):
        with pytest.raises(ValueError, match="x must be a cupy array on the device"):
            fn(np.zeros((2, 128), np.int8), w)


# -- GPU ------------------------------------------------------------------------------------------
# (M, N, K): tails in every dimension (M, N not multiples of 8 / 128; K not a multiple of the
# 64-byte or 512-bit stage) and M = 1.
INT8_SHAPES = [(1, 8, 16), (3, 37, 80), (17, 130, 208), (130, 64, 1024), (24, 257, 2064)]
BIT_SHAPES = [(1, 9, 128), (5, 40, 384), (16, 129, 640), (33, 70, 1152), (130, 24, 256)]


def _hwsim_dot(a_values, b_values, a_bits, b_bits):
    m, n, k = a_values.shape[0], b_values.shape[0], a_values.shape[1]
    return int_dot(np.broadcast_to(a_values[:, None], (m, n, k)), np.broadcast_to(b_values[None], (m, n, k)),
                   a_bits=a_bits, b_bits=b_bits, acc_bits=32)


def _poisoned(cp, m, n):
    return cp.full((m, n), -(1 << 31), dtype=cp.int32)   # a value no small product produces


@pytest.mark.gpu
@pytest.mark.parametrize("m,n,k", INT8_SHAPES)
def test_int8_gemm_bit_exact(gpu, rng, m, n, k):
    cp = gpu
    a = rng.integers(-128, 128, (m, k)).astype(np.int8)
    b = rng.integers(-128, 128, (n, k)).astype(np.int8)
    a[0, :] = -128                                    # extreme rows: largest magnitude sums
    b[0, :] = -128
    out = _poisoned(cp, m, n)
    got = cp.asnumpy(int8_gemm(cp.asarray(a), cp.asarray(b), out=out))
    np.testing.assert_array_equal(got, _hwsim_dot(a, b, 8, 8), err_msg=f"int8_gemm M={m} N={n} K={k}")


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["mma", "popc", "auto"])
@pytest.mark.parametrize("m,n,k", BIT_SHAPES)
def test_a1w1_gemm_bit_exact(gpu, rng, method, m, n, k):
    cp = gpu
    a_codes = rng.integers(0, 2, (m, k)).astype(np.uint8)
    b_codes = rng.integers(0, 2, (n, k)).astype(np.uint8)
    a_codes[0] = 1                                    # an all -1 row
    out = _poisoned(cp, m, n)
    got = cp.asnumpy(a1w1_gemm(cp.asarray(pack(a_codes, 1, axis=1)), cp.asarray(pack(b_codes, 1, axis=1)), k,
                               method=method, out=out))
    a_words = pack_signs(1 - 2 * a_codes.astype(np.int64))   # hwsim: bit 1 is +1
    b_words = pack_signs(1 - 2 * b_codes.astype(np.int64))
    want = xnor_dot(np.broadcast_to(a_words[:, None], (m, n, a_words.shape[1])),
                    np.broadcast_to(b_words[None], (m, n, b_words.shape[1])), k)
    np.testing.assert_array_equal(got, want, err_msg=f"a1w1 {method} M={m} N={n} K={k}")


def _plane_kernel_cases():
    for fmt, bits in BITPLANE_FORMATS.items():
        yield "lut", fmt, bits
        yield "bitplane", fmt, 4 if fmt == "int3" else bits


@pytest.mark.gpu
@pytest.mark.parametrize("kernel_name,fmt,n_planes", list(_plane_kernel_cases()))
@pytest.mark.parametrize("m,n,k", BIT_SHAPES)
def test_plane_kernels_bit_exact(gpu, rng, kernel_name, fmt, n_planes, m, n, k):
    cp = gpu
    bits = BITPLANE_FORMATS[fmt]
    x = rng.integers(-128, 128, (m, k)).astype(np.int8)
    x[0] = -128
    codes = rng.integers(0, 1 << bits, (n, k)).astype(np.uint8)
    w = bitplane_weights(codes, fmt=fmt, n_planes=n_planes).to_device()
    fn = {"lut": lut_gemm, "bitplane": bitplane_gemm}[kernel_name]
    out = _poisoned(cp, m, n)
    got = cp.asnumpy(fn(cp.asarray(x), w, out=out))
    values = 1 - 2 * codes.astype(np.int64) if fmt == "binary" else decode_int_codes(codes, bits)
    want = _hwsim_dot(x, values, 8, 2 if fmt == "binary" else bits)
    np.testing.assert_array_equal(got, want, err_msg=f"{kernel_name} {fmt} P={n_planes} M={m} N={n} K={k}")


@pytest.mark.gpu
def test_bitplane_gemm_rejects_three_planes(gpu):
    w = bitplane_weights(np.zeros((4, 128), np.uint8), fmt="int3").to_device()
    with pytest.raises(ValueError, match="n_planes=4"):
        bitplane_gemm(gpu.zeros((2, 128), gpu.int8), w)


def test_launch_constants_match_the_cuda_sources():
    import re

    from lowbit.kernels import integer
    from lowbit.kernels._device import CUDA_DIR

    def defines(name):
        return {k: int(v) for k, v in re.findall(r"#define (\w+) (\d+)", (CUDA_DIR / name).read_text())}
    tile = defines("int_gemm.cu")
    assert tile["BM"] == tile["BN"] == integer.TILE and tile["THREADS"] == 256
    assert defines("lut_gemm.cu")["LUT_THREADS"] == integer.LUT_THREADS
    # a1w1_gemm_popc: MB activation rows per block, and one weight row per warp of its block.
    assert tile["MB"] == integer.POPC_ACT_ROWS
    popc = re.search(r"__launch_bounds__\((\d+)\)\s+a1w1_gemm_popc\(.*?"
                     r"const int n = blockIdx\.x \* (\d+) \+ \(threadIdx\.x >> 5\)",
                     (CUDA_DIR / "int_gemm.cu").read_text(), re.S)
    assert popc is not None, "a1w1_gemm_popc's launch bounds or weight-row index moved: update this test"
    assert (int(popc[1]), int(popc[2])) == (32 * integer.POPC_WEIGHT_ROWS, integer.POPC_WEIGHT_ROWS)
