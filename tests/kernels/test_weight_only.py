"""lowbit.kernels.weight_only: argument checks (CPU, never touching CuPy) and the GPU kernels against
the float64 reference (skipped, with the reason, without CuPy or a CUDA device)."""
from __future__ import annotations

import numpy as np
import pytest

from lowbit.hwsim.quant import QuantSpec, pack, quantize
from lowbit.kernels import KernelUnavailable, gpu_unavailable_reason, reference
from lowbit.kernels.weight_only import (FORMATS, FP16_REL_TOL, WeightOnlyLinear, check_group_size, from_qtensor,
                                 linear, weight_only_linear)


def _linear_args(fmt="int4", n=8, k=256, group=128):
    bits, has_zp = FORMATS[fmt]
    packed = np.zeros((n, k * bits // 8), np.uint8)
    scales = np.ones((n, k // group), np.float32)
    zp = np.zeros((n, k // group), np.uint8) if has_zp else None
    return packed, scales, zp


# -- argument checks (CPU) ------------------------------------------------------------------------
def test_valid_arguments_build_host_weights():
    w = weight_only_linear(*_linear_args(), fmt="int4", k=256, group_size=128)
    assert (w.n, w.k, w.group_size, w.bits) == (8, 256, 128, 4)
    assert w.scales.dtype == np.float16
    assert w.weight_bytes == 8 * 128 + 2 * 16


@pytest.mark.parametrize("kwargs,message", [
    (dict(fmt="int5"), "fmt must be one of"),
    (dict(k=200), "k must be a multiple of 32"),
    (dict(k=0), "k must be a positive int"),
    (dict(fmt="int2", k=384, group_size=96), "group_size >= 64 must be a multiple of 64"),
    (dict(group_size=100), "group_size must divide k=256"),
    (dict(group_size=2), "group_size must be an int >= 4"),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    args = dict(fmt="int4", k=256, group_size=128) | kwargs
    with pytest.raises(ValueError, match=message):
        weight_only_linear(*_linear_args(), **args)


def test_group_below_vector_must_be_power_of_two():
    assert check_group_size(32, 256, 1) == 32          # binary: 128 elements per vector
    with pytest.raises(ValueError, match="power of two"):
        check_group_size(48, 384, 1)


def test_array_checks():
    packed, scales, zp = _linear_args("uint4")
    with pytest.raises(ValueError, match="packed must have shape"):
        weight_only_linear(packed[:, :-1], scales, zp, fmt="uint4", k=256, group_size=128)
    with pytest.raises(ValueError, match="packed must have dtype uint8"):
        weight_only_linear(packed.astype(np.int8), scales, zp, fmt="uint4", k=256, group_size=128)
    with pytest.raises(ValueError, match="scales must have shape"):
        weight_only_linear(packed, scales[:, :1], zp, fmt="uint4", k=256, group_size=128)
    with pytest.raises(ValueError, match="zero_points are required"):
        weight_only_linear(packed, scales, None, fmt="uint4", k=256, group_size=128)
    with pytest.raises(ValueError, match="zero_points must be in 0..15"):
        weight_only_linear(packed, scales, zp + 16, fmt="uint4", k=256, group_size=128)
    with pytest.raises(ValueError, match="zero_points must be None"):
        weight_only_linear(packed, scales, zp, fmt="int4", k=256, group_size=128)
    with pytest.raises(ValueError, match="exactly representable in float16"):
        weight_only_linear(packed, scales + np.float32(1e-6), zp, fmt="uint4", k=256, group_size=128)
    with pytest.raises(ValueError, match="exactly representable in float16"):
        weight_only_linear(packed, scales * np.float32(1e6), zp, fmt="uint4", k=256, group_size=128)


def test_fp8_nan_codes_are_rejected():
    packed, scales, _ = _linear_args("float8_e4m3fn", group=256)
    packed[3, 7] = 0xFF
    with pytest.raises(ValueError, match="NaN codes"):
        weight_only_linear(packed, scales, fmt="float8_e4m3fn", k=256, group_size=None)


@pytest.mark.parametrize("fmt, code, scale, finite", [
    ("int8", 0x7F, 512.0, True),          # 127 * 512 = 65024
    ("int8", 0x80, 510.0, True),          # -128 * 510 = -65280
    ("int8", 0x80, 512.0, False),         # -128 * 512 = -65536: inf in fp16
    ("int8", 0x7F, 1024.0, False),
    ("float8_e4m3fn", 0x7E, 146.0, True),   # 448 * 146 = 65408
    ("float8_e4m3fn", 0x7E, 147.0, False),  # 448 * 147 = 65856, rounds to inf
])
def test_dequantized_weights_must_fit_fp16(fmt, code, scale, finite):
    packed, scales, _ = _linear_args(fmt, group=256)
    packed[2, 5] = code
    scales[:] = scale
    if finite:
        w = weight_only_linear(packed, scales, fmt=fmt, k=256, group_size=None)
        assert np.isfinite(reference.kernel_weights_fp16(w)).all()
    else:
        with pytest.raises(ValueError, match=r"scales too large: 1 dequantized weights .* exceed "
                                             r"float16's 65504.*\(first at row 2, column 5, scale"):
            weight_only_linear(packed, scales, fmt=fmt, k=256, group_size=None)


def test_from_qtensor_packs_along_k(rng):
    spec = QuantSpec(format="int4", granularity="group", group_size=64, scale_format="float16", symmetric=False)
    q = quantize(rng.standard_normal((8, 256)), spec, axis=1)
    w = from_qtensor(q)
    assert (w.fmt, w.group_size) == ("uint4", 64)
    np.testing.assert_array_equal(w.packed, pack(q.codes, 4, axis=1))
    np.testing.assert_array_equal(w.zero_points, q.zero_points)


def test_activation_checks_come_before_cupy():
    w = weight_only_linear(*_linear_args(), fmt="int4", k=256, group_size=128)
    with pytest.raises(ValueError, match=r"x must be a 2-d array \[M, 256\]"):
        linear(np.zeros((4, 128), np.float16), w)
    with pytest.raises(ValueError, match="x must have dtype float16"):
        linear(np.zeros((4, 256), np.float32), w)


def test_weights_built_directly_are_validated():
    good = weight_only_linear(*_linear_args("uint4"), fmt="uint4", k=256, group_size=128)
    fields = dict(fmt="uint4", n=8, k=256, group_size=128, packed=good.packed, scales=good.scales,
                  zero_points=good.zero_points)
    WeightOnlyLinear(**fields)
    cases = [
        (dict(fmt="int3"), "fmt must be one of"),
        (dict(n=9), r"packed must have shape \(9, 128\)"),
        (dict(n=0), "n must be a positive int"),
        (dict(k=512), r"packed must have shape \(8, 256\)"),
        (dict(k=100), "k must be a multiple of 32"),
        (dict(group_size=64), r"scales must have shape \(8, 4\)"),
        (dict(group_size=None), "group_size must be an int"),
        (dict(group_size=96), "group_size must divide k=256"),
        (dict(packed=good.packed.view(np.int8)), "packed must have dtype uint8"),
        (dict(scales=good.scales.astype(np.float32)), "scales must have dtype float16"),
        (dict(scales=np.asfortranarray(good.scales)), "scales must be C-contiguous"),
        (dict(zero_points=None), "zero_points are required"),
        (dict(zero_points=good.zero_points[:, :1]), r"zero_points must have shape \(8, 2\)"),
        (dict(fmt="int4"), "zero_points must be None"),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            WeightOnlyLinear(**(fields | change))


class _FakeCupy:
    """Stands in for the cupy module on a machine without one: its ndarray type is no numpy
    array, so the refusal of a host x can be checked here."""
    class ndarray:
        pass


def test_host_activations_are_refused_before_the_launch(monkeypatch):
    from lowbit.kernels import weight_only
    monkeypatch.setattr(weight_only, "cupy_module", lambda: _FakeCupy)
    w = weight_only_linear(*_linear_args(), fmt="int4", k=256, group_size=128)
    with pytest.raises(ValueError, match="x must be a cupy array on the device"):
        linear(np.zeros((4, 256), np.float16), w)


@pytest.mark.skipif(gpu_unavailable_reason() is None, reason="a GPU is present: this checks the no-GPU error")
def test_without_gpu_the_error_names_what_is_missing():
    w = weight_only_linear(*_linear_args(), fmt="int4", k=256, group_size=128)
    with pytest.raises(KernelUnavailable, match="CuPy|CUDA"):
        linear(np.zeros((4, 256), np.float16), w)


# -- GPU ------------------------------------------------------------------------------------------
GPU_SPECS = {
    "int8": QuantSpec(format="int8", granularity="channel", scale_format="float16"),
    "uint8": QuantSpec(format="int8", granularity="group", group_size=64, scale_format="float16", symmetric=False),
    "int4": QuantSpec(format="int4", granularity="group", group_size=128, scale_format="float16"),
    "int4-g32": QuantSpec(format="int4", granularity="group", group_size=32, scale_format="float16"),
    "uint4": QuantSpec(format="int4", granularity="group", group_size=64, scale_format="float16", symmetric=False),
    "int2": QuantSpec(format="int2", granularity="group", group_size=64, scale_format="float16"),
    "uint2": QuantSpec(format="int2", granularity="group", group_size=32, scale_format="float16", symmetric=False),
    "binary-g32": QuantSpec(format="binary", granularity="group", group_size=32, scale_format="float16"),
    "binary-g128": QuantSpec(format="binary", granularity="group", group_size=128, scale_format="float16"),
    "float8_e4m3fn": QuantSpec(format="float8_e4m3fn", granularity="group", group_size=128, scale_format="float16"),
}
# (M, N, K): GEMV, small batches, M past one 64-row tile, N not a multiple of 8 or 16, K not a
# multiple of the 4-vector chunk, K shorter than one chunk per warp.
# M = 24 and 32 take the MT = 2 kernels (17 <= M <= 32).
SHAPES = [(1, 64, 512), (1, 37, 1152), (5, 70, 640), (16, 128, 1024), (24, 40, 768), (32, 19, 1152), (33, 21, 384),
          (128, 48, 2176), (130, 9, 256)]


def test_gpu_shapes_reach_every_m_tile_kernel():
    # Each wq_gemm_*_mt{1,2,4} kernel must run in the GPU tests (MT = 2 needs 17 <= M <= 32).
    from lowbit.kernels.weight_only import _m_tiles
    assert {_m_tiles(m) for m, _, _ in SHAPES} == {1, 2, 4}


def _poisoned(cp, m, n):
    return cp.full((m, n), cp.nan, dtype=cp.float16)


@pytest.mark.gpu
@pytest.mark.parametrize("name", list(GPU_SPECS))
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_linear_matches_float64_reference(gpu, rng, name, m, n, k):
    cp = gpu
    q = quantize(rng.standard_normal((n, k)) * 0.05, GPU_SPECS[name], axis=1)
    w = from_qtensor(q)
    x = rng.standard_normal((m, k)).astype(np.float16)
    out = _poisoned(cp, m, n)
    got = linear(cp.asarray(x), w.to_device(), out=out)
    assert got is out
    got = cp.asnumpy(got).astype(np.float64)
    assert np.isfinite(got).all(), "some outputs were not written (NaN poison left)"
    ref = reference.weight_only_reference(x, w)
    err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
    assert err <= FP16_REL_TOL, f"{name} M={m} N={n} K={k}: relative error {err:.3e} > {FP16_REL_TOL}"
    # Tighter: with the kernel's own fp16 weights the only error left is the summation (the
    # tensor cores' fp32-width accumulation, then fp32 adds of the warps' partial sums) and the
    # final fp16 rounding (about 2^-12 relative).
    ref16 = x.astype(np.float64) @ reference.kernel_weights_fp16(w).astype(np.float64).T
    err16 = np.linalg.norm(got - ref16) / np.linalg.norm(ref16)
    assert err16 <= 1e-3, f"{name} M={m} N={n} K={k}: error vs fp16 weights {err16:.3e}"


@pytest.mark.gpu
def test_linear_rejects_host_weights_and_bad_out(gpu, rng):
    cp = gpu
    w = weight_only_linear(*_linear_args(), fmt="int4", k=256, group_size=128)
    x = cp.asarray(rng.standard_normal((2, 256)).astype(np.float16))
    with pytest.raises(ValueError, match="to_device"):
        linear(x, w)
    with pytest.raises(ValueError, match="out must be"):
        linear(x, w.to_device(), out=cp.empty((2, 8), cp.float32))


def test_launch_constants_match_the_cuda_source():
    import re

    from lowbit.kernels import weight_only
    from lowbit.kernels._device import CUDA_DIR
    text = (CUDA_DIR / "wq_gemm.cu").read_text()
    defines = {name: int(value) for name, value in re.findall(r"#define (\w+) (\d+)", text)}
    assert defines["KW"] == weight_only.WARPS_PER_BLOCK
    assert defines["NT"] * 8 == weight_only.ROWS_PER_BLOCK
