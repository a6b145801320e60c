"""Every CUDA source compiles with NVRTC, the compiler CuPy uses on the GPU, from the exact text
CuPy is handed (lowbit.kernels._device.nvrtc_source, NVRTC_OPTIONS), for Ampere and Hopper.

nvcc (test_compile.py) and NVRTC differ: NVRTC has no system headers and its own built-ins, so a
kernel can build with one and not the other. Runs without a GPU through libnvrtc from the
``nvidia-cuda-nvrtc`` wheel (a dev dependency). When the library is missing the tests skip
locally but fail in CI (CI=true).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
from pathlib import Path

import pytest

from lowbit.kernels._device import NVRTC_OPTIONS, SOURCES, nvrtc_source

# The -arch CuPy passes on an A100 and on an H100: a cubin (sm_XX) and the PTX (compute_XX)
# whose .entry lines name every kernel the module exports.
ARCHS = ("80", "90")


def _find_libnvrtc() -> str | None:
    try:
        import nvidia  # namespace package of the nvidia-* wheels
    except ImportError:
        return ctypes.util.find_library("nvrtc")
    for base in nvidia.__path__:
        found = sorted(p for p in Path(base).glob("cu*/lib/libnvrtc.so*") if "builtins" not in p.name)
        if found:
            return str(found[0])
    return ctypes.util.find_library("nvrtc")


@pytest.fixture(scope="module")
def libnvrtc():
    path = _find_libnvrtc()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("libnvrtc is missing (pip install nvidia-cuda-nvrtc), and CI=true requires "
                        "the NVRTC compile check to run")
        pytest.skip("libnvrtc is missing (pip install nvidia-cuda-nvrtc); in CI this fails instead")
    lib = ctypes.CDLL(path)
    lib.nvrtcGetErrorString.restype = ctypes.c_char_p
    return lib


def _call(lib, what: str, status: int) -> None:
    if status != 0:
        raise RuntimeError(f"{what} failed: {lib.nvrtcGetErrorString(status).decode()}")


def nvrtc_build(lib, source: str, arch: str) -> tuple[int, str, bytes]:
    """(status, log, output) of one NVRTC compile of ``source`` for ``arch`` ("sm_90" gives a
    cubin, "compute_90" PTX)."""
    program = ctypes.c_void_p()
    _call(lib, "nvrtcCreateProgram", lib.nvrtcCreateProgram(
        ctypes.byref(program), nvrtc_source(source).encode(), source.encode(), 0, None, None))
    try:
        options = [o.encode() for o in (*NVRTC_OPTIONS, f"-arch={arch}")]
        status = lib.nvrtcCompileProgram(program, len(options), (ctypes.c_char_p * len(options))(*options))
        size = ctypes.c_size_t()
        _call(lib, "nvrtcGetProgramLogSize", lib.nvrtcGetProgramLogSize(program, ctypes.byref(size)))
        log = ctypes.create_string_buffer(size.value)
        _call(lib, "nvrtcGetProgramLog", lib.nvrtcGetProgramLog(program, log))
        if status != 0:
            return status, log.value.decode(errors="replace"), b""
        kind = "CUBIN" if arch.startswith("sm_") else "PTX"
        _call(lib, f"nvrtcGet{kind}Size", getattr(lib, f"nvrtcGet{kind}Size")(program, ctypes.byref(size)))
        output = ctypes.create_string_buffer(size.value)
        _call(lib, f"nvrtcGet{kind}", getattr(lib, f"nvrtcGet{kind}")(program, output))
        return status, log.value.decode(errors="replace"), output.raw
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))


def ptx_entries(ptx: bytes) -> set[str]:
    return set(re.findall(r"\.entry\s+(\w+)\s*\(", ptx.decode(errors="replace")))


@pytest.mark.parametrize("arch", [f"sm_{a}" for a in ARCHS])
@pytest.mark.parametrize("source", SOURCES)
def test_nvrtc_builds_cubin(libnvrtc, source, arch):
    status, log, cubin = nvrtc_build(libnvrtc, source, arch)
    assert status == 0, f"NVRTC failed for {source} ({arch}):\n{log}"
    assert cubin[:4] == b"\x7fELF", f"NVRTC output for {source} ({arch}) is not an ELF cubin"


@pytest.mark.parametrize("source", SOURCES)
def test_nvrtc_ptx_exports_the_sources_kernels(libnvrtc, source):
    status, log, ptx = nvrtc_build(libnvrtc, source, f"compute_{ARCHS[-1]}")
    assert status == 0, log
    # Every extern "C" kernel the source declares (directly or through its macros) is exported
    # under its plain name, which is what RawModule.get_function looks up.
    entries = ptx_entries(ptx)
    assert entries, f"{source}: no .entry in the PTX"
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in entries), entries


def test_nvrtc_reports_a_broken_kernel(libnvrtc, monkeypatch, tmp_path):
    # The check can fail: a source with a type error is refused with NVRTC's message.
    broken = tmp_path / "broken.cu"
    broken.write_text('#include "common.cuh"\nextern "C" __global__ void k(u32* p) { p[0] = undefined_name; }\n')
    import lowbit.kernels._device as device
    monkeypatch.setattr(device, "CUDA_DIR", tmp_path)
    (tmp_path / "common.cuh").write_text((Path(device.__file__).parent / "cuda" / "common.cuh").read_text())
    status, log, _ = nvrtc_build(libnvrtc, "broken.cu", "sm_90")
    assert status != 0
    assert "undefined_name" in log


def _launch_every_variant(launches) -> None:
    """Drive every launch path of the wrappers (each weight format at each M tile, each integer
    kernel and method, each plane count) against the CuPy stand-in that records the names."""
    from lowbit.kernels import integer, weight_only
    array = launches.array
    k, n = 256, 40
    for fmt, (bits, has_zp) in weight_only.FORMATS.items():
        groups = (n, k // 128)
        w = weight_only.WeightOnlyLinear(fmt=fmt, n=n, k=k, group_size=128,
                                         packed=array((n, k * bits // 8), "uint8"),
                                         scales=array(groups, "float16"),
                                         zero_points=array(groups, "uint8") if has_zp else None)
        for m in (1, 17, 33):  # one M per activation-tile kernel (mt1, mt2, mt4)
            weight_only.linear(array((m, k), "float16"), w)
    for m in (1, 16):
        integer.int8_gemm(array((m, k), "int8"), array((n, k), "int8"))
        for method in integer.METHODS:
            integer.a1w1_gemm(array((m, k // 8), "uint8"), array((n, k // 8), "uint8"), k, method=method)
    for fmt, bits in integer.BITPLANE_FORMATS.items():
        for n_planes in [1] if fmt == "binary" else range(bits, 5):  # sign-extended up to 4
            w = integer.BitPlaneWeights(fmt=fmt, n=n, k=k, n_planes=n_planes,
                                        planes=array((n * n_planes, k // 32), "uint32"))
            for m in (1, 2):
                if n_planes != 3:
                    integer.bitplane_gemm(array((m, k), "int8"), w)
                integer.lut_gemm(array((m, k), "int8"), w)


def test_every_kernel_the_wrappers_launch_is_exported(libnvrtc, launches):
    # RawModule.get_function(name) fails only on the GPU; here every name a wrapper can ask
    # for is looked up in the PTX NVRTC builds from that source.
    _launch_every_variant(launches)
    wanted = {(source, name) for source, name, _ in launches}
    exported = {}
    for source in sorted({source for source, _ in wanted}):
        status, log, ptx = nvrtc_build(libnvrtc, source, f"compute_{ARCHS[-1]}")
        assert status == 0, log
        exported[source] = ptx_entries(ptx)
    missing = sorted((source, name) for source, name in wanted if name not in exported[source])
    assert not missing, f"kernels launched but not exported: {missing}"
    # Sanity of the sweep itself: every weight format at every M tile was launched.
    from lowbit.kernels import weight_only
    assert len({name for _, name, _ in launches if name.startswith("wq_gemm_")}) == 3 * len(weight_only.FORMATS)
