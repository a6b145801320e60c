"""Loading the CUDA sources: CuPy/NVRTC at run time, nvcc for the ahead-of-time compile check.

CuPy is imported inside functions only, so ``import kernels`` works on a machine without it;
every entry point that needs the GPU calls :func:`cupy_module` first, which raises
:class:`KernelUnavailable` naming what is missing (the CuPy package, or a CUDA device).
"""
from __future__ import annotations

import functools
from pathlib import Path

CUDA_DIR = Path(__file__).resolve().parent / "cuda"
# Every kernel source; common.cuh is included by each of them.
SOURCES = ("wq_gemm.cu", "int_gemm.cu", "lut_gemm.cu", "hold.cu")
# nvcc -gencode values the compile check builds for: Ampere, and Hopper's arch-specific target.
NVCC_TARGETS = {"sm_80": "arch=compute_80,code=sm_80", "sm_90a": "arch=compute_90a,code=sm_90a"}
CUPY_PACKAGE = "cupy-cuda13x"
# Options CuPy's NVRTC build gets (CuPy adds the device's -arch); the compile check uses them too.
NVRTC_OPTIONS = ("-std=c++17",)


class KernelUnavailable(RuntimeError):
    """The GPU kernels cannot run here: CuPy is not installed or no CUDA device is visible."""


@functools.cache
def cupy_module():
    """The ``cupy`` module, after checking that a CUDA device is visible.

    Cached once it succeeds (a failure raises and is retried next call), so a kernel wrapper
    pays no device query per launch."""
    try:
        import cupy
    except ImportError as exc:
        raise KernelUnavailable(f"the GPU kernels need CuPy (pip install {CUPY_PACKAGE}) "
                                f"and a CUDA GPU; importing cupy failed: {exc}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError, or a driver that fails to load
        raise KernelUnavailable(f"the GPU kernels need a CUDA GPU; CUDA reports: {exc}") from None
    if count == 0:
        raise KernelUnavailable("the GPU kernels need a CUDA GPU; CUDA reports 0 devices")
    return cupy


def gpu_unavailable_reason() -> str | None:
    """None when the kernels can run here, else why not (for skips and CLI messages)."""
    try:
        cupy_module()
    except KernelUnavailable as exc:
        return str(exc)
    return None


HEADER = "common.cuh"


def nvrtc_source(source: str) -> str:
    """The text NVRTC compiles: ``source`` with common.cuh pasted in place of its #include, so
    that CuPy's kernel cache (keyed by the source text) sees every change to the header."""
    code = (CUDA_DIR / source).read_text()
    include = f'#include "{HEADER}"'
    if include not in code:
        raise ValueError(f"{source} must include {HEADER}")
    return code.replace(include, (CUDA_DIR / HEADER).read_text())


@functools.cache
def _raw_module(source: str):
    cupy = cupy_module()
    # NVRTC for the current device's architecture.
    return cupy.RawModule(code=nvrtc_source(source), options=NVRTC_OPTIONS, backend="nvrtc")


@functools.cache
def kernel(source: str, name: str):
    """The compiled ``extern "C"`` kernel ``name`` of ``kernels/cuda/<source>``; cached per name,
    so a launch costs one dictionary lookup instead of a module lookup and get_function."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    return _raw_module(source).get_function(name)


def device_array(cp, arr, name: str):
    """``arr`` itself when it is a CuPy array; ValueError naming ``name`` otherwise (a numpy
    array handed to a CuPy launch would fail with a TypeError, or be copied on every call)."""
    if not isinstance(arr, cp.ndarray):
        raise ValueError(f"{name} must be a cupy array on the device, got {type(arr).__module__}."
                         f"{type(arr).__name__} (move it once with cupy.asarray)")
    return arr


def nvcc_command(source: str, target: str, output: Path) -> list[str]:
    """The nvcc command line that compiles ``source`` to a cubin for ``target`` (with ptxas'
    per-kernel resource report, so registers and spills are visible in the log)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if target not in NVCC_TARGETS:
        raise ValueError(f"target must be one of {tuple(NVCC_TARGETS)}, got {target!r}")
    return ["nvcc", "-cubin", "-std=c++17", "-Xptxas", "-v", f"-gencode={NVCC_TARGETS[target]}",
            f"-I{CUDA_DIR}", "-o", str(output), str(CUDA_DIR / source)]
