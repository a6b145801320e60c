"""Every benchmarked kernel and kernel family: what it is, which roofline class it belongs to,
and the launch facts (output tile, CUDA kernel name) its wrapper takes at each M.

    from lowbit.kernels.registry import KERNELS, tile_shape, launched_kernel
    spec = KERNELS["w4a16_g128"]
    tile_shape(spec, 1024), launched_kernel(spec, 1024)   # ((64, 16), "wq_gemm_...")

Read by the benchmark (lowbit.kernels.bench), its checks and the GPU roofline
(lowbit.models.cost.roofline); importable without CuPy or a GPU. The launch facts come from the
same functions the wrappers launch with (lowbit.kernels.weight_only, lowbit.kernels.integer),
so the registry copies no tile shape.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Family:
    """A kernel family: ``op_class`` is the math its inner loop does (the roofline's operation
    class, lowbit.models.cost.roofline); ``launch(spec, m)`` gives ((m_tile, n_tile), CUDA
    kernel name) of its wrapper's launch at this M, each from the function the wrapper takes it
    from. A torch/cuBLAS peer has no ``launch``: cuBLAS and torch choose their tiling and
    kernels internally and do not expose them."""
    name: str
    op_class: str
    launch: Callable[..., tuple[tuple[int, int], str]] | None

    @property
    def peer(self) -> bool:
        return self.launch is None


def plane_count(spec: KernelSpec) -> int:
    """Weight bit-planes the bench builds for a bitplane / lut kernel: one per bit of its format."""
    from lowbit.kernels.integer import BITPLANE_FORMATS
    return BITPLANE_FORMATS[spec.fmt]


def _weight_only_launch(spec: KernelSpec, m: int):
    from lowbit.kernels import weight_only
    return weight_only.tile_shape(m), weight_only.kernel_name(spec.fmt, m)


def _int8_launch(spec: KernelSpec, m: int):
    from lowbit.kernels import integer
    return integer.int8_tile_shape(), integer.INT8_KERNEL


def _a1w1_launch(spec: KernelSpec, m: int):
    # the bench calls the wrapper with method "auto"
    from lowbit.kernels import integer
    return integer.a1w1_tile_shape(m), integer.a1w1_kernel_name(m)


def _bitplane_launch(spec: KernelSpec, m: int):
    from lowbit.kernels import integer
    planes = plane_count(spec)
    return integer.bitplane_tile_shape(planes), integer.bitplane_kernel_name(planes)


def _lut_launch(spec: KernelSpec, m: int):
    from lowbit.kernels import integer
    return integer.lut_tile_shape(m), integer.lut_kernel_name(plane_count(spec), m)


FAMILIES = {f.name: f for f in (
    Family("fp16", "fp16", launch=None),                  # cuBLAS fp16 (F.linear)
    Family("int4pack", "fp16", launch=None),              # torch._weight_int4pack_mm
    Family("int_mm", "int8", launch=None),                # torch._int_mm
    Family("fp8_scaled", "fp8", launch=None),             # torch._scaled_mm
    Family("weight_only", "fp16", launch=_weight_only_launch),  # lowbit.kernels.weight_only.linear
    Family("int8", "int8", launch=_int8_launch),          # lowbit.kernels.integer.int8_gemm
    Family("a1w1", "binary", launch=_a1w1_launch),        # lowbit.kernels.integer.a1w1_gemm
    Family("bitplane", "int8", launch=_bitplane_launch),  # lowbit.kernels.integer.bitplane_gemm
    Family("lut", "int8", launch=_lut_launch),            # lowbit.kernels.integer.lut_gemm
)}


@dataclass(frozen=True)
class KernelSpec:
    """One benchmarked kernel: ``family`` (a FAMILIES name) picks the builder; fmt / group_size
    its weights."""
    name: str
    family: str
    fmt: str | None = None
    group_size: int | None = None
    max_m: int | None = None   # larger M is outside the kernel's target range: row says so

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {self.family!r}")

    @property
    def peer(self) -> bool:
        """A torch/cuBLAS peer, not one of ours."""
        return FAMILIES[self.family].peer

    @property
    def op_class(self) -> str:
        """The roofline operation class of its family."""
        return FAMILIES[self.family].op_class


KERNELS = {k.name: k for k in (
    KernelSpec("cublas_fp16", "fp16"),
    KernelSpec("torch_int4pack_g128", "int4pack", group_size=128),
    KernelSpec("torch_int_mm", "int_mm"),
    KernelSpec("torch_scaled_mm_fp8", "fp8_scaled"),
    KernelSpec("w8a16", "weight_only", "int8"),
    KernelSpec("w4a16_g128", "weight_only", "int4", 128),
    KernelSpec("w4a16_g128_zp", "weight_only", "uint4", 128),
    KernelSpec("w4a16_g32", "weight_only", "int4", 32),
    KernelSpec("w2a16_g128", "weight_only", "int2", 128),
    KernelSpec("w1a16_g128", "weight_only", "binary", 128),
    KernelSpec("fp8w_a16", "weight_only", "float8_e4m3fn"),
    KernelSpec("w8a8", "int8"),
    KernelSpec("a1w1", "a1w1"),
    KernelSpec("bitplane_w4a8", "bitplane", "int4", max_m=128),
    KernelSpec("lut_w4a8", "lut", "int4", max_m=128),
)}


def _launch_facts(spec: KernelSpec, m: int) -> tuple[tuple[int, int], str] | None:
    """((m_tile, n_tile), kernel name) of ``spec``'s launch at this M; None for a peer."""
    launch = FAMILIES[spec.family].launch
    return None if launch is None else launch(spec, m)


def tile_shape(spec: KernelSpec, m: int) -> tuple[int, int] | None:
    """(m_tile, n_tile) of the output tile one block of ``spec``'s launch owns at this M; None
    for a peer."""
    facts = _launch_facts(spec, m)
    return None if facts is None else facts[0]


def launched_kernel(spec: KernelSpec, m: int) -> str | None:
    """Name of the CUDA kernel ``spec``'s wrapper launches at this M; None for a peer."""
    facts = _launch_facts(spec, m)
    return None if facts is None else facts[1]
