"""Integer and binary GEMMs on the GPU, exact int32 results (kernels/cuda/int_gemm.cu,
kernels/cuda/lut_gemm.cu). Every result equals the exact integer product, the contract of
``lowbit.hwsim.units.integer.int_dot`` (acc_bits=32) and ``lowbit.hwsim.units.binary.xnor_dot``.

    int8_gemm(a, b)               a int8 [M, K], b int8 [N, K] -> int32 a @ b^T
                                  (tensor cores, s8 mma; K a multiple of 16)
    a1w1_gemm(a, b, k)            binary codes (0 -> +1, 1 -> -1) packed along K with
                                  lowbit.hwsim.quant.pack: uint8 [M, k/8], [N, k/8] -> int32 dot
                                  products; method "mma" (b1 tensor cores, AND-popc) or "popc"
                                  (CUDA cores, XOR-popc); "auto" takes popc for M < 16
    bitplane_gemm(x, w)           int8 x [M, K] times 1..4-bit weights in bit-planes,
                                  bit-serial on the b1 tensor cores
    lut_gemm(x, w)                the same product, T-MAC style: per group of 4 activations a
                                  16-entry table in shared memory, indexed by weight bit-planes

Weights for the last two: ``bitplane_weights(codes, fmt=...)`` with fmt "binary" (w = 1 - 2 code)
or "int2", "int3", "int4" (two's complement codes, as lowbit.hwsim.quant produces). For bitplane_gemm,
int3 is stored sign-extended in 4 planes (its tile needs 1, 2 or 4 planes).

Shapes: any N >= 1; M >= 1 up to CUDA's grid.y limit (MAX_GRID_Y blocks of a kernel's M tile;
bitplane_gemm: MAX_GRID_Y rows, since its activation pre-pass takes one row per block).
K: a multiple of 16 (int8_gemm) or of 128 (the binary and bit-plane kernels: 16-byte rows of
bits). Sums must fit int32: K <= MAX_K. Every array a kernel reads must be a CuPy array starting
at a 16-byte aligned address, and ``out`` must not share memory with any of them (ValueError
naming the argument otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lowbit.kernels._device import cupy_module, device_array, kernel

# int8 x int8: |sum| <= K * 128 * 128 = K * 2^14, which must stay < 2^31, so K < 2^17
# (K = 2^17 with every product (-128)(-128) would give exactly 2^31).
MAX_K = (1 << 17) - 1
INT32_MAX = (1 << 31) - 1    # the kernels' int32 row and column indices
BITPLANE_FORMATS = {"binary": 1, "int2": 2, "int3": 3, "int4": 4}   # name -> bits
METHODS = ("auto", "mma", "popc")
TILE = 128               # BM = BN in int_gemm.cu
# a1w1_gemm_popc's block owns POPC_ACT_ROWS activation rows (MB in int_gemm.cu) and
# POPC_WEIGHT_ROWS weight rows, one per warp (n = blockIdx.x * 8 + warp; block 256 threads):
# two constants that are both 8 today, named apart so that a change to one cannot resize the other.
POPC_ACT_ROWS = 8
POPC_WEIGHT_ROWS = 8
ACT_PLANES = 8           # bit-planes per int8 activation row in bitplane_gemm
LUT_THREADS = 256        # weight rows per LUT block
# Base-address alignment of every array a kernel reads with 16-byte vector loads
# (ld.global.v4, cp.async 16): PTX requires naturally aligned addresses, and a misaligned one
# faults with a sticky error that ends the CUDA context. Fresh CuPy allocations and row slices
# keep it (every row length the kernels accept is a multiple of 16 bytes); a flat view with a
# byte offset does not.
VECTOR_BYTES = 16
MAX_GRID_Y = 65535       # CUDA's limit on gridDim.y, the grid axis over M (x allows 2^31 - 1)


def check_positive_int(value, name: str) -> int:
    """``value`` as an int, ValueError naming ``name`` unless it is a positive int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _check_k(k: int, multiple: int) -> int:
    k = check_positive_int(k, "k")
    if k % multiple:
        raise ValueError(f"k must be a multiple of {multiple}, got {k}")
    if k > MAX_K:
        raise ValueError(f"k must be <= {MAX_K} so that int32 sums cannot overflow, got {k}")
    return k


def _check_n_planes(fmt: str, n_planes) -> int:
    """Planes stored for ``fmt``: its bits, or more (sign extension) up to 4; binary exactly 1."""
    bits = BITPLANE_FORMATS[fmt]
    if fmt == "binary" and n_planes != 1:
        raise ValueError(f"n_planes must be 1 for binary weights, got {n_planes!r}")
    if isinstance(n_planes, bool) or not isinstance(n_planes, (int, np.integer)) or not bits <= n_planes <= 4:
        raise ValueError(f"n_planes must be an int in {bits}..4 for {fmt}, got {n_planes!r}")
    return int(n_planes)


def _device_pointer(arr) -> int | None:
    """The device address of a CuPy array; None for a host (numpy) array, whose ``data`` is a
    memoryview: it has no device address until CuPy copies it into a fresh allocation."""
    return getattr(getattr(arr, "data", None), "ptr", None)


def check_aligned(arr, name: str) -> None:
    """ValueError naming ``name`` unless a device array starts at a multiple of VECTOR_BYTES
    (host arrays pass: see _device_pointer)."""
    ptr = _device_pointer(arr)
    if ptr is not None and ptr % VECTOR_BYTES:
        raise ValueError(f"{name} must start at a {VECTOR_BYTES}-byte aligned device address (the kernel "
                         f"reads it with vector loads), got address {ptr:#x}; a view with a byte "
                         f"offset needs a copy (.copy())")


def check_out_disjoint(out, inputs: dict) -> None:
    """ValueError unless the device array ``out`` shares no byte with any device array of
    ``inputs`` (name -> array; None and host arrays are skipped, the callers refuse those on
    their own). The kernels declare every pointer __restrict__ and some blocks write outputs
    while others still read inputs, so an aliased call returns wrong values. Every array here is
    C-contiguous, so it occupies exactly [data.ptr, data.ptr + nbytes)."""
    start = out.data.ptr
    end = start + out.nbytes
    for name, arr in inputs.items():
        other = _device_pointer(arr)
        if other is not None and other < end and start < other + arr.nbytes:
            raise ValueError(f"out must not share memory with {name} (the kernel reads {name} while "
                             f"writing out); pass a separate output array")


def _check_matrix(arr, name: str, dtype_name: str, cols: int | None = None) -> tuple[int, int]:
    """A C-contiguous, VECTOR_BYTES aligned 2-d array of ``dtype_name`` with >= 1 row (and
    ``cols`` columns). Every caller's array is read with vector loads: 16 bytes wide, except lut
    x and row_popcount bits (4 bytes), which are held to 16 too, as every row slice keeps it."""
    shape = getattr(arr, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] < 1 or (cols is not None and shape[1] != cols):
        want = f"[rows, {cols}]" if cols is not None else "2-d"
        raise ValueError(f"{name} must be a {want} array with rows >= 1, got shape {shape}")
    if str(getattr(arr, "dtype", None)) != dtype_name:
        raise ValueError(f"{name} must have dtype {dtype_name}, got {getattr(arr, 'dtype', None)}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    check_aligned(arr, name)
    return int(shape[0]), int(shape[1])


def _output(cp, out, m: int, n: int, inputs: dict):
    """``out`` checked (shape, dtype, no memory shared with ``inputs``), or a new int32 [m, n]."""
    if out is None:
        return cp.empty((m, n), dtype=cp.int32)
    device_array(cp, out, "out")
    if out.shape != (m, n) or out.dtype != cp.int32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous int32 array of shape {(m, n)}")
    check_out_disjoint(out, inputs)
    return out


# Tiling as data: each launch below takes its grid from a tile shape (m_tile, n_tile), the
# activation rows and weight rows of the output tile one block owns. lowbit.models.cost.roofline reads
# the same functions (through lowbit.kernels.registry.tile_shape) to count the bytes the blocks pull
# through L2, so the model cannot drift from the launch.

def grid_rows(m: int, m_tile: int) -> int:
    """Blocks along grid.y for M activation rows, ``m_tile`` per block: ceil(m / m_tile), which
    CUDA caps at MAX_GRID_Y (ValueError naming M beyond it; the launch would fail with
    "invalid configuration argument")."""
    blocks = -(-m // m_tile)
    if blocks > MAX_GRID_Y:
        raise ValueError(f"M must be <= {MAX_GRID_Y * m_tile} for this kernel ({m_tile} rows per block "
                         f"along grid.y, whose CUDA limit is {MAX_GRID_Y} blocks), got M = {m}; "
                         f"split the batch")
    return blocks


def tile_grid(tile: tuple[int, int], m: int, n: int) -> tuple[int, int]:
    """CUDA grid (x over N, y over M) = (ceil(n / n_tile), ceil(m / m_tile)) of ``tile``."""
    m_tile, n_tile = tile
    return (-(-n // n_tile), grid_rows(m, m_tile))


def int8_tile_shape() -> tuple[int, int]:
    """(m_tile, n_tile) of int8_gemm: BM x BN rows of A x B."""
    return (TILE, TILE)


def a1w1_method(m: int, method: str = "auto") -> str:
    """The kernel a1w1_gemm launches: "auto" takes popc for M < 16, where the b1 tensor-core
    tile would mostly hold padding."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return "popc" if method == "popc" or (method == "auto" and m < 16) else "mma"


def a1w1_tile_shape(m: int, method: str = "auto") -> tuple[int, int]:
    """(m_tile, n_tile) of the a1w1 kernel ``method`` selects at this M."""
    return (POPC_ACT_ROWS, POPC_WEIGHT_ROWS) if a1w1_method(m, method) == "popc" else (TILE, TILE)


def a1w1_kernel_name(m: int, method: str = "auto") -> str:
    """The int_gemm.cu kernel a1w1_gemm launches at this M."""
    return f"a1w1_gemm_{a1w1_method(m, method)}"


def bitplane_tile_shape(n_planes: int) -> tuple[int, int]:
    """(m_tile, n_tile) of bitplane_gemm in activation and weight rows: its 128 x 128 tile counts
    plane rows, ACT_PLANES per activation row and ``n_planes`` (1, 2 or 4, which divide 128) per
    weight row."""
    if n_planes not in (1, 2, 4):
        raise ValueError(f"bitplane_gemm needs 1, 2 or 4 weight planes (build int3 weights with "
                         f"n_planes=4), got {n_planes}")
    return (TILE // ACT_PLANES, TILE // n_planes)


def lut_rows(m: int) -> int:
    """Activation rows per lut_gemm table block (LM): one for a GEMV, else 8."""
    return 1 if m == 1 else 8


def lut_tile_shape(m: int) -> tuple[int, int]:
    """(m_tile, n_tile) of lut_gemm: LM activation rows x one weight row per thread."""
    return (lut_rows(m), LUT_THREADS)


# The CUDA kernel each wrapper launches, by name: lowbit.kernels.bench checks every one it times.
INT8_KERNEL = "int8_gemm"


def bitplane_kernel_name(n_planes: int) -> str:
    """The int_gemm.cu kernel bitplane_gemm launches for ``n_planes`` weight planes."""
    return f"bitplane_gemm_p{n_planes}"


def lut_kernel_name(n_planes: int, m: int) -> str:
    """The lut_gemm.cu kernel lut_gemm launches for ``n_planes`` weight planes at this M."""
    return f"lut_gemm_p{n_planes}_lm{lut_rows(m)}"


def int8_gemm(a, b, out=None):
    """int32 [M, N] = a @ b^T for int8 a [M, K], b [N, K] on the GPU (exact)."""
    m, k = _check_matrix(a, "a", "int8")
    n, _ = _check_matrix(b, "b", "int8", k)
    _check_k(k, 16)
    cp = cupy_module()
    device_array(cp, a, "a")
    device_array(cp, b, "b")
    grid = tile_grid(int8_tile_shape(), m, n)
    out = _output(cp, out, m, n, {"a": a, "b": b})
    kernel("int_gemm.cu", INT8_KERNEL)(grid, (256,), (a, b, out, np.int32(m), np.int32(n), np.int32(k)))
    return out


def row_popcount(bits, k: int):
    """int32 [rows]: set bits of each row of a packed bit matrix uint8 [rows, k/8] (device).
    k is checked as a1w1_gemm checks it: the kernel counts K/32 whole words, so a k that is no
    multiple of 32 would silently drop its tail bits."""
    k = _check_k(k, 128)
    rows, _ = _check_matrix(bits, "bits", "uint8", k // 8)
    cp = cupy_module()
    device_array(cp, bits, "bits")
    out = cp.empty(rows, dtype=cp.int32)
    kernel("int_gemm.cu", "row_popcount")((-(-rows // 8),), (256,), (bits, out, np.int32(rows), np.int32(k)))
    return out


def a1w1_gemm(a, b, k: int, *, method: str = "auto", b_popcount=None, out=None):
    """int32 [M, N] dot products of packed binary codes a [M, k/8], b [N, k/8] (uint8, device).

    ``b_popcount`` (int32 [N], from :func:`row_popcount`) may be computed once per weight
    matrix; the mma method needs it and computes it when it is None.
    """
    k = _check_k(k, 128)
    m, _ = _check_matrix(a, "a", "uint8", k // 8)
    n, _ = _check_matrix(b, "b", "uint8", k // 8)
    method = a1w1_method(m, method)
    cp = cupy_module()
    device_array(cp, a, "a")
    device_array(cp, b, "b")
    grid = tile_grid(a1w1_tile_shape(m, method), m, n)
    out = _output(cp, out, m, n, {"a": a, "b": b, "b_popcount": b_popcount})
    if method == "popc":
        kernel("int_gemm.cu", a1w1_kernel_name(m, method))(
            grid, (32 * POPC_WEIGHT_ROWS,), (a, b, out, np.int32(m), np.int32(n), np.int32(k)))
        return out
    pop_b = row_popcount(b, k) if b_popcount is None else b_popcount
    if not isinstance(pop_b, cp.ndarray) or pop_b.shape != (n,) or pop_b.dtype != cp.int32:
        raise ValueError(f"b_popcount must be a cupy int32 array of shape {(n,)}")
    pop_a = row_popcount(a, k)
    kernel("int_gemm.cu", a1w1_kernel_name(m, method))(
        grid, (256,), (a, b, pop_a, pop_b, out, np.int32(m), np.int32(n), np.int32(k)))
    return out


@dataclass(frozen=True)
class BitPlaneWeights:
    """Weight bit-planes: planes[n * P + p, w] (uint32) bit i = bit p of the code of w[n, 32w+i]."""
    fmt: str
    n: int
    k: int
    n_planes: int        # P: the format's bits, or 4 for int3 stored for bitplane_gemm
    planes: object       # uint32 [n * P, k / 32], numpy or cupy

    def __post_init__(self):
        # The kernels index planes from n, k and n_planes alone: a mismatch would read out of
        # bounds, so every instance (also one built directly, as the benchmark does) is checked.
        if self.fmt not in BITPLANE_FORMATS:
            raise ValueError(f"fmt must be one of {tuple(BITPLANE_FORMATS)}, got {self.fmt!r}")
        check_positive_int(self.n, "n")
        _check_k(self.k, 128)
        _check_n_planes(self.fmt, self.n_planes)
        _check_matrix(self.planes, "planes", "uint32", self.k // 32)
        if self.planes.shape[0] != self.n * self.n_planes:
            raise ValueError(f"planes must have shape {(self.n * self.n_planes, self.k // 32)} "
                             f"(n * n_planes, k / 32), got {self.planes.shape}")

    @property
    def bits(self) -> int:
        return BITPLANE_FORMATS[self.fmt]

    def to_device(self) -> "BitPlaneWeights":
        return replace(self, planes=cupy_module().asarray(self.planes))


def bitplane_weights(codes, *, fmt: str, n_planes: int | None = None) -> BitPlaneWeights:
    """Bit-planes of unpacked weight codes uint8 [N, K] (host). ``n_planes`` >= the format's
    bits; extra planes repeat the sign bit (two's complement sign extension)."""
    from lowbit.hwsim.quant import pack

    if fmt not in BITPLANE_FORMATS:
        raise ValueError(f"fmt must be one of {tuple(BITPLANE_FORMATS)}, got {fmt!r}")
    bits = BITPLANE_FORMATS[fmt]
    planes_wanted = _check_n_planes(fmt, bits if n_planes is None else n_planes)
    if not isinstance(codes, np.ndarray) or codes.ndim != 2 or codes.dtype != np.uint8:
        raise ValueError(f"codes must be a 2-d uint8 numpy array [N, K], got "
                         f"{getattr(codes, 'dtype', type(codes).__name__)} {getattr(codes, 'shape', '')}")
    n, k = codes.shape
    if n < 1:
        raise ValueError("codes must have at least one row (N >= 1)")
    _check_k(k, 128)
    if codes.max() >= 1 << bits:
        raise ValueError(f"codes must be in 0..{(1 << bits) - 1} for {fmt}, got max {codes.max()}")
    sign = (codes >> (bits - 1)) & 1
    plane_bits = [(codes >> p) & 1 if p < bits else sign for p in range(planes_wanted)]
    stacked = np.stack(plane_bits, axis=1).astype(np.uint8)          # [N, P, K]
    words = pack(stacked, 1, axis=-1).view("<u4")                    # [N, P, K/32]
    return BitPlaneWeights(fmt=fmt, n=n, k=k, n_planes=planes_wanted,
                           planes=np.ascontiguousarray(words.reshape(n * planes_wanted, k // 32)))


def _plane_operands(x, w: BitPlaneWeights):
    """(cupy, M) after checking x against w and that w is on the device."""
    m, _ = _check_matrix(x, "x", "int8", w.k)
    cp = cupy_module()
    device_array(cp, x, "x")
    if not isinstance(w.planes, cp.ndarray):
        raise ValueError("w must be on the device: call w.to_device() once")
    return cp, m


def activation_bitplanes(x):
    """(planes uint32 [M*8, K/32], row sums int32 [M]) of int8 x [M, K] on the device."""
    m, k = _check_matrix(x, "x", "int8")
    _check_k(k, 128)
    cp = cupy_module()
    device_array(cp, x, "x")
    grid = (-(-(k // 32) // 128), grid_rows(m, 1))    # one activation row per block along y
    planes = cp.empty((m * 8, k // 32), dtype=cp.uint32)
    xsum = cp.zeros(m, dtype=cp.int32)
    kernel("int_gemm.cu", "int8_bitplanes")(grid, (128,), (x, planes, xsum, np.int32(m), np.int32(k)))
    return planes, xsum


def bitplane_gemm(x, w: BitPlaneWeights, out=None):
    """int32 [M, N] = x @ w^T, bit-serial over activation and weight bit-planes (b1 mma)."""
    cp, m = _plane_operands(x, w)
    grid_rows(m, 1)     # the pre-pass's grid limit, the tighter one: refuse before allocating
    if w.n * w.n_planes > INT32_MAX:
        # the kernel counts weight plane rows in an int32: past it, every B tile reads as zero
        raise ValueError(f"w.n * n_planes must be <= {INT32_MAX} for bitplane_gemm (weight plane "
                         f"rows are int32 indices), got {w.n} * {w.n_planes}; split N")
    grid = tile_grid(bitplane_tile_shape(w.n_planes), m, w.n)
    out = _output(cp, out, m, w.n, {"x": x, "w.planes": w.planes})
    planes, xsum = activation_bitplanes(x)
    kernel("int_gemm.cu", bitplane_kernel_name(w.n_planes))(
        grid, (256,), (planes, w.planes, xsum, out, np.int32(m), np.int32(w.n), np.int32(w.k)))
    return out


def lut_gemm(x, w: BitPlaneWeights, out=None):
    """int32 [M, N] = x @ w^T through activation lookup tables indexed by weight bit-planes."""
    cp, m = _plane_operands(x, w)
    grid = tile_grid(lut_tile_shape(m), m, w.n)
    out = _output(cp, out, m, w.n, {"x": x, "w.planes": w.planes})
    kernel("lut_gemm.cu", lut_kernel_name(w.n_planes, m))(
        grid, (LUT_THREADS,), (x, w.planes, out, np.int32(m), np.int32(w.n), np.int32(w.k)))
    return out
