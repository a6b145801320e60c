"""lowbit.kernels._device: the source list and the argument checks, on any machine."""
from __future__ import annotations

import pytest

from lowbit.kernels import KernelUnavailable, gpu_unavailable_reason
from lowbit.kernels._device import CUDA_DIR, HEADER, SOURCES, cupy_module, kernel, nvrtc_source


def test_every_cuda_source_is_listed():
    # The compile check and the loader cover SOURCES: a .cu file missing from it would escape CI.
    assert sorted(p.name for p in CUDA_DIR.glob("*.cu")) == sorted(SOURCES)


def test_kernel_rejects_unknown_source_before_cupy():
    with pytest.raises(ValueError, match="source must be one of"):
        kernel("nope.cu", "anything")


def test_unavailable_reason_agrees_with_cupy_module():
    reason = gpu_unavailable_reason()
    if reason is None:
        cupy_module()           # must not raise when a GPU is reported present
    else:
        with pytest.raises(KernelUnavailable) as info:
            cupy_module()
        assert str(info.value) == reason and ("CuPy" in reason or "CUDA" in reason)


@pytest.mark.parametrize("source", SOURCES)
def test_nvrtc_source_inlines_the_header(source):
    code = nvrtc_source(source)
    assert f'#include "{HEADER}"' not in code
    assert (CUDA_DIR / HEADER).read_text() in code
