"""Shared fixtures for the kernel tests: the GPU skip, seeded generators, and a stand-in for CuPy
that records launches (kernel names, grids) without a GPU."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

from lowbit.kernels import gpu_unavailable_reason


@pytest.fixture(scope="session")
def gpu():
    """The cupy module; skips the test, with the reason, when CuPy or a CUDA device is missing."""
    reason = gpu_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    import cupy
    return cupy


DEFAULT_SEED = 20261122   # a constant, so a run is repeatable; KERNEL_TEST_SEED explores others


@pytest.fixture
def rng(request):
    """A fresh generator per test, seeded with DEFAULT_SEED unless KERNEL_TEST_SEED is set; the
    seed is printed (pytest shows it on failure) so a failure can be rerun with
    KERNEL_TEST_SEED=<seed>."""
    seed = int(os.environ.get("KERNEL_TEST_SEED", DEFAULT_SEED))
    print(f"{request.node.nodeid}: seed {seed} (rerun with KERNEL_TEST_SEED={seed})")
    return np.random.default_rng(seed)


class FakeArray:
    """Shape, dtype name, C-contiguity, device address (``data.ptr``) and ``nbytes``: all the
    wrappers check before a launch. Each array gets its own 256-byte aligned address range, as
    CuPy's allocator gives; pass ``ptr`` to place one elsewhere (a misaligned or an overlapping
    view)."""
    _next_ptr = 1 << 32

    def __init__(self, shape, dtype, ptr=None):
        self.shape = tuple(shape) if isinstance(shape, tuple) else (shape,)
        self.dtype = dtype
        self.flags = SimpleNamespace(c_contiguous=True)
        self.nbytes = int(np.prod(self.shape)) * np.dtype(dtype).itemsize
        if ptr is None:
            ptr = FakeArray._next_ptr
            FakeArray._next_ptr += -(-max(self.nbytes, 1) // 256) * 256
        self.data = SimpleNamespace(ptr=ptr)


class FakeCupy:
    ndarray = FakeArray
    float16, int8, int32, uint8, uint32 = "float16", "int8", "int32", "uint8", "uint32"

    @staticmethod
    def empty(shape, dtype):
        return FakeArray(shape, dtype)

    zeros = empty


class LaunchLog(list):
    """(source, kernel name, grid) of every launch; ``array`` builds stand-in device arrays."""
    array = FakeArray


@pytest.fixture
def launches(monkeypatch):
    """Records every kernel launch of lowbit.kernels.integer and lowbit.kernels.weight_only, with CuPy
    replaced by FakeCupy, so launch code runs without a GPU."""
    from lowbit.kernels import integer, weight_only
    log = LaunchLog()

    def fake_kernel(source, name):
        return lambda grid, block, args: log.append((source, name, tuple(grid)))
    for module in (integer, weight_only):
        monkeypatch.setattr(module, "cupy_module", FakeCupy)
        monkeypatch.setattr(module, "kernel", fake_kernel)
    return log
