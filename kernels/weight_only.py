"""Weight-only quantized linear layers on the GPU: Y = X @ dequant(W)^T, fp16 in and out.

    w = from_qtensor(quant.quantize(W, spec))      # or weight_only_linear(packed, scales, ...)
    y = linear(x, w.to_device())                   # x: cupy float16 [M, K] -> cupy float16 [M, N]

Formats (the code format of ``lowbit.hwsim.quant``, i.e. ``spec.element_format.name``):
  int8, int4, int2        symmetric two's complement codes, w = q * s
  uint8, uint4, uint2     asymmetric codes with zero points, w = (q - z) * s
  binary                  code 0 -> +1, code 1 -> -1, w = +-alpha
  float8_e4m3fn           OCP E4M3 codes (NaN codes rejected), w = e4m3(q) * s
Weights W[N, K] are packed along K with ``lowbit.hwsim.quant.pack``; scales (and zero points) are
[N, K / group_size], and scales must be exactly representable in float16 (the kernel reads fp16).
Every dequantized weight must be finite in fp16 as well (|(q - z) * s| rounds to at most 65504):
the kernel forms it in fp16, where a larger one is inf, and inf times a zero activation is NaN.

Numerics (kernels/cuda/wq_gemm.cu): each weight is (q - z) * s (or e4m3(q) * s) rounded once to
fp16 (binary: exactly +-alpha); the fp16 products are summed by the tensor cores (mma.sync)
into fp32-width accumulators, whose additions inside one mma are not IEEE fp32 round-to-nearest
adds, then the warps' partial sums are added in fp32; the output is rounded once to fp16.
Against a float64 reference built from the same codes and scales, ||Y - ref|| / ||ref|| stays
under ``FP16_REL_TOL`` for random data.

Shapes: any N >= 1; M >= 1 up to CUDA's grid.y limit (lowbit.kernels.integer.MAX_GRID_Y blocks of 16,
32 or 64 rows); K must be a multiple of the elements per 16-byte vector (128 / bits) and of the
group size; a group size below 128 / bits must be a power of two. x and packed must start at
16-byte aligned device addresses (the kernel reads them with vector loads), and ``out`` must not
share memory with x or the weights.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lowbit.kernels._device import cupy_module, device_array, kernel
from lowbit.kernels.integer import check_aligned, check_out_disjoint, check_positive_int, tile_grid
from lowbit.kernels.reference import kernel_weights_fp16

# format name -> (bits, has zero points)
FORMATS = {
    "int8": (8, False), "uint8": (8, True),
    "int4": (4, False), "uint4": (4, True),
    "int2": (2, False), "uint2": (2, True),
    "binary": (1, False),
    "float8_e4m3fn": (8, False),
}
# Relative Frobenius error bound of the fp16 path against the float64 reference (see above):
# fp16 weight rounding and fp16 output rounding each contribute about 2^-12 rms.
FP16_REL_TOL = 2e-3
WARPS_PER_BLOCK = 8      # KW in wq_gemm.cu
ROWS_PER_BLOCK = 16      # NT * 8 in wq_gemm.cu
_E4M3_NAN_MASK = 0x7F    # S.1111.111 is the only NaN of float8_e4m3fn


@dataclass(frozen=True)
class WeightOnlyLinear:
    """Validated packed weights of one linear layer, on the host (numpy) or device (cupy)."""
    fmt: str
    n: int
    k: int
    group_size: int
    packed: object        # uint8 [n, k * bits / 8]
    scales: object        # float16 [n, k / group_size]
    zero_points: object   # uint8 [n, k / group_size], or None for the symmetric formats

    def __post_init__(self):
        # The kernel indexes packed, scales and zero points from n, k and group_size alone: a
        # mismatch would read out of bounds, so every instance (also one built directly, as
        # the benchmark does, from host or device arrays) is checked. Value checks (zero point
        # range, e4m3 NaN codes, dequantized weights finite in fp16) need the data on the host:
        # weight_only_linear does those, and an instance built directly must hold valid values.
        bits, has_zp = FORMATS[check_format(self.fmt)]
        check_positive_int(self.n, "n")
        check_k(self.k, self.fmt)
        if self.group_size is None:
            raise ValueError(f"group_size must be an int (k={self.k} for one group per row), got None")
        check_group_size(self.group_size, self.k, bits)
        groups = (self.n, self.k // self.group_size)
        _check_layout(self.packed, "packed", "uint8", (self.n, self.k * bits // 8))
        check_aligned(self.packed, "packed")    # 16-byte vector loads; scales and zero points are read one by one
        _check_layout(self.scales, "scales", "float16", groups)
        if has_zp:
            if self.zero_points is None:
                raise ValueError(f"zero_points are required for the asymmetric format {self.fmt}")
            _check_layout(self.zero_points, "zero_points", "uint8", groups)
        elif self.zero_points is not None:
            raise ValueError(f"zero_points must be None for the symmetric format {self.fmt}")

    @property
    def bits(self) -> int:
        return FORMATS[self.fmt][0]

    @property
    def asymmetric(self) -> bool:
        """Whether the format has zero points (w = (q - z) * s)."""
        return FORMATS[self.fmt][1]

    @property
    def weight_bytes(self) -> int:
        return weight_bytes(self.fmt, self.n, self.k, self.group_size)

    def to_device(self) -> "WeightOnlyLinear":
        cp = cupy_module()
        zp = None if self.zero_points is None else cp.asarray(self.zero_points)
        return replace(self, packed=cp.asarray(self.packed), scales=cp.asarray(self.scales), zero_points=zp)


def weight_bytes(fmt: str, n: int, k: int, group_size: int) -> int:
    """Bytes the kernel reads for an [n, k] weight: codes, fp16 scales and uint8 zero points."""
    bits, has_zp = FORMATS[fmt]
    groups = n * (k // group_size)
    return n * k * bits // 8 + 2 * groups + (groups if has_zp else 0)


def vector_elements(bits: int) -> int:
    """Elements per 16-byte weight vector: K must be a multiple of this."""
    return 128 // bits


def check_format(fmt) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {tuple(FORMATS)}, got {fmt!r}")
    return fmt


def check_k(k, fmt: str) -> int:
    """k a positive multiple of the elements per 16-byte vector of ``fmt``."""
    bits = FORMATS[fmt][0]
    k = check_positive_int(k, "k")
    e = vector_elements(bits)
    if k % e:
        raise ValueError(f"k must be a multiple of {e} for {fmt} (one 16-byte vector of "
                         f"{bits}-bit codes), got {k}")
    return k


def _check_layout(arr, name: str, dtype_name: str, shape) -> None:
    """A C-contiguous numpy or cupy array of ``dtype_name`` and ``shape`` (checked by attributes)."""
    if getattr(arr, "shape", None) != shape:
        raise ValueError(f"{name} must have shape {shape}, got {getattr(arr, 'shape', type(arr).__name__)}")
    if str(getattr(arr, "dtype", None)) != dtype_name:
        raise ValueError(f"{name} must have dtype {dtype_name}, got {arr.dtype}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")


def check_group_size(group_size, k: int, bits: int) -> int:
    """group_size (None: one group per row) validated against K and the vector width."""
    if group_size is None:
        return k
    e = vector_elements(bits)
    if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) or group_size < 4:
        raise ValueError(f"group_size must be an int >= 4 or None, got {group_size!r}")
    if k % group_size:
        raise ValueError(f"group_size must divide k={k}, got {group_size}")
    if group_size >= e and group_size % e:
        raise ValueError(f"group_size >= {e} must be a multiple of {e} (elements per 16-byte "
                         f"vector of {bits}-bit codes), got {group_size}")
    if group_size < e and group_size & (group_size - 1):
        raise ValueError(f"group_size < {e} must be a power of two, got {group_size}")
    return int(group_size)


def _check_array(arr, name: str, dtype, shape) -> np.ndarray:
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(arr).__name__}")
    if arr.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype).name}, got {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return np.ascontiguousarray(arr)


def fp16_scales(scales) -> np.ndarray:
    """float32/float16 scales -> float16, ValueError unless every one is exactly representable
    and finite (the kernel multiplies by the fp16 value)."""
    if not isinstance(scales, np.ndarray) or scales.dtype not in (np.float16, np.float32, np.float64):
        raise ValueError(f"scales must be a float16, float32 or float64 numpy array, "
                         f"got {getattr(scales, 'dtype', type(scales).__name__)}")
    with np.errstate(over="ignore"):
        half = scales.astype(np.float16)
    if not np.all(np.isfinite(half)) or not np.array_equal(half.astype(scales.dtype), scales):
        raise ValueError("scales must be finite and exactly representable in float16 "
                         "(quantize with scale_format='float16')")
    return np.ascontiguousarray(half)


def weight_only_linear(packed, scales, zero_points=None, *, fmt: str, k: int,
                       group_size: int | None = None) -> WeightOnlyLinear:
    """Validate host arrays in the ``lowbit.hwsim.quant`` packed layout (ValueError naming the argument)."""
    fmt = check_format(fmt)
    bits, has_zp = FORMATS[fmt]
    k = check_k(k, fmt)
    group_size = check_group_size(group_size, k, bits)
    if not isinstance(packed, np.ndarray) or packed.ndim != 2:
        raise ValueError(f"packed must be a 2-d numpy array [N, k*bits/8], got "
                         f"{getattr(packed, 'shape', type(packed).__name__)}")
    n = packed.shape[0]
    if n == 0:
        raise ValueError("packed must have at least one row (N >= 1)")
    packed = _check_array(packed, "packed", np.uint8, (n, k * bits // 8))
    groups = (n, k // group_size)
    scales = fp16_scales(scales)
    if scales.shape != groups:
        raise ValueError(f"scales must have shape {groups} (N, k/group_size), got {scales.shape}")
    if has_zp:
        if zero_points is None:
            raise ValueError(f"zero_points are required for the asymmetric format {fmt}")
        zero_points = _check_array(zero_points, "zero_points", np.uint8, groups)
        if zero_points.max() >= 1 << bits:
            raise ValueError(f"zero_points must be in 0..{(1 << bits) - 1} for {fmt}, "
                             f"got max {zero_points.max()}")
    elif zero_points is not None:
        raise ValueError(f"zero_points must be None for the symmetric format {fmt}")
    if fmt == "float8_e4m3fn" and np.any((packed & _E4M3_NAN_MASK) == _E4M3_NAN_MASK):
        raise ValueError("packed holds float8_e4m3fn NaN codes (0x7f/0xff); weights must be finite")
    w = WeightOnlyLinear(fmt=fmt, n=int(n), k=int(k), group_size=group_size, packed=packed,
                         scales=scales, zero_points=zero_points)
    _check_fp16_range(w)
    return w


# The smallest magnitude float16 rounding to nearest turns into inf (65504 + half an ulp of 32).
FP16_OVERFLOW = 65520.0


def _largest_weight_magnitude(w: WeightOnlyLinear):
    """Per group (or for all), the largest |q - z| (|e4m3(q)|, 1 for binary) a code can give."""
    bits, has_zp = FORMATS[w.fmt]
    if w.fmt == "binary":
        return 1.0
    if w.fmt == "float8_e4m3fn":
        return 448.0
    if has_zp:
        zero = np.asarray(w.zero_points, dtype=np.float64)
        return np.maximum(zero, (1 << bits) - 1 - zero)
    return float(1 << (bits - 1))


def _check_fp16_range(w: WeightOnlyLinear) -> None:
    """ValueError unless every weight the kernel dequantizes is finite in fp16: a bound from the
    scales and the largest code magnitude first (cheap, and enough for any sane scale), the
    weights themselves only when the bound does not rule overflow out."""
    bound = _largest_weight_magnitude(w) * np.abs(np.asarray(w.scales, dtype=np.float64))
    if np.all(bound < FP16_OVERFLOW):
        return
    with np.errstate(over="ignore"):
        overflow = ~np.isfinite(kernel_weights_fp16(w))
    if overflow.any():
        row, col = (int(i) for i in np.argwhere(overflow)[0])
        raise ValueError(f"scales too large: {int(overflow.sum())} dequantized weights (q - z) * s "
                         f"exceed float16's 65504, which the kernel forms them in (first at row "
                         f"{row}, column {col}, scale {float(w.scales[row, col // w.group_size])})")


def from_qtensor(q) -> WeightOnlyLinear:
    """Pack a ``lowbit.hwsim.quant.QTensor`` of a weight W[N, K] (axis 1) for the kernels."""
    from lowbit.hwsim.quant import pack

    if len(q.shape) != 2 or q.axis != 1:
        raise ValueError(f"q must be a 2-d weight [N, K] quantized along axis 1, got shape "
                         f"{q.shape}, axis {q.axis}")
    fmt = check_format(q.spec.element_format.name)
    n, k = q.shape
    scales = np.broadcast_to(q.scales, (n, q.scales.shape[1]))
    group_size = k // scales.shape[1]
    zp = None if q.zero_points is None else np.broadcast_to(q.zero_points, scales.shape)
    return weight_only_linear(pack(q.codes, FORMATS[fmt][0], axis=1), np.ascontiguousarray(scales),
                              None if zp is None else np.ascontiguousarray(zp),
                              fmt=fmt, k=k, group_size=group_size)


def _m_tiles(m: int) -> int:
    """16-row activation tiles per block: fewer rows waste less padding, more reuse weights."""
    return 1 if m <= 16 else 2 if m <= 32 else 4


def tile_shape(m: int) -> tuple[int, int]:
    """(m_tile, n_tile) of the output tile one block owns at this M: MT * 16 activation rows x
    NT * 8 weight rows. The launch takes its grid from it (lowbit.kernels.integer.tile_grid), and
    lowbit.models.cost.roofline its L2 traffic: weights once per M tile, activations once per N tile."""
    return (16 * _m_tiles(m), ROWS_PER_BLOCK)


def kernel_name(fmt: str, m: int) -> str:
    """The wq_gemm.cu kernel linear launches for ``fmt`` at this M (one per M tile height)."""
    return f"wq_gemm_{check_format(fmt)}_mt{_m_tiles(m)}"


def check_activations(x, k: int, dtype_name: str = "float16"):
    """x must be a C-contiguous 2-d GPU array [M, k] of ``dtype_name`` (checked by attributes),
    16-byte aligned: the kernel reads it with vector loads (8 bytes today; 16 keeps the check
    valid for wider loads, and every row slice of an [M, k] array keeps it)."""
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) != 2 or shape[1] != k or shape[0] < 1:
        raise ValueError(f"x must be a 2-d array [M, {k}] with M >= 1, got shape {shape}")
    if str(getattr(x, "dtype", None)) != dtype_name:
        raise ValueError(f"x must have dtype {dtype_name}, got {getattr(x, 'dtype', None)}")
    if not x.flags.c_contiguous:
        raise ValueError("x must be C-contiguous")
    check_aligned(x, "x")
    return int(shape[0])


def group_shift(group_size: int, bits: int) -> int:
    """The kernel's g_shift: log2(group_size) when groups are smaller than a 16-byte vector (a
    power of two then, checked by check_group_size), else 7, which tells the kernel that no group
    boundary falls inside a vector."""
    return group_size.bit_length() - 1 if group_size < vector_elements(bits) else 7


def linear(x, w: WeightOnlyLinear, out=None):
    """Y[M, N] float16 = x[M, K] @ dequant(w)^T on the GPU (w must be on the device)."""
    m = check_activations(x, w.k)
    cp = cupy_module()
    device_array(cp, x, "x")
    if not isinstance(w.packed, cp.ndarray):
        raise ValueError("w must be on the device: call w.to_device() once")
    grid = tile_grid(tile_shape(m), m, w.n)
    if out is None:
        out = cp.empty((m, w.n), dtype=cp.float16)
    else:
        if device_array(cp, out, "out").shape != (m, w.n) or out.dtype != cp.float16 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float16 array of shape {(m, w.n)}")
        check_out_disjoint(out, {"x": x, "w.packed": w.packed, "w.scales": w.scales,
                                 "w.zero_points": w.zero_points})
    zp = w.zero_points if w.zero_points is not None else w.scales  # never read for these formats
    kernel("wq_gemm.cu", kernel_name(w.fmt, m))(
        grid, (32 * WARPS_PER_BLOCK,),
        (x, w.packed, w.scales, zp, out, np.int32(m), np.int32(w.n), np.int32(w.k), np.int32(w.group_size),
         np.int32(group_shift(w.group_size, w.bits))))
    return out
