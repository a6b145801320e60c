"""Shared fixtures for the kernel tests: the GPU skip, seeded generators, input builders."""
from __future__ import annotations

import os

import numpy as np
import pytest

from kernels import gpu_unavailable_reason


@pytest.fixture(scope="session")
def gpu():
    """The cupy module; skips the test, with the reason, when CuPy or a CUDA device is missing."""
    reason = gpu_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    import cupy
    return cupy


@pytest.fixture
def rng(request):
    """A fresh generator per test; the seed is printed so a failure can be rerun with
    KERNEL_TEST_SEED=<seed>."""
    seed = int(os.environ.get("KERNEL_TEST_SEED", np.random.SeedSequence().entropy % (1 << 32)))
    print(f"{request.node.nodeid}: seed {seed} (rerun with KERNEL_TEST_SEED={seed})")
    return np.random.default_rng(seed)
