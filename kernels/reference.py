"""Host (numpy) references for every GPU kernel, and host models of the kernels' own tricks.

Two kinds of function live here:
  * references: what a kernel must compute, from the packed inputs, in float64 or exact int64
    (``dequantize_reference``, ``weight_only_reference``, ``int_matmul_reference``,
    ``binary_values``). They unpack with ``hwsim.quant.pack.unpack`` and decode with hwsim, the
    oracle.
  * models of the kernel algorithms, bit for bit, so that the arithmetic identities the CUDA
    code relies on are checked on any machine: the fp16 dequantization bit tricks
    (``kernel_weights_fp16``), the AND-popcount identity of the b1 tensor-core GEMM
    (``a1w1_and_popc_model``), the bit-serial plane sum (``bitplane_model``) and the T-MAC table
    lookup (``lut_model``).
"""
from __future__ import annotations

import numpy as np

from hwsim import formats
from hwsim.quant import unpack
from hwsim.units.integer import decode_int_codes
from kernels.integer import BitPlaneWeights
from kernels.weight_only import FORMATS, WeightOnlyLinear

ACT_PLANES = 8  # int8 activations: 8 two's complement bit-planes


def _per_element(groups: np.ndarray, group_size: int) -> np.ndarray:
    return np.repeat(groups, group_size, axis=1)


def weight_codes(w: WeightOnlyLinear) -> np.ndarray:
    """uint8 [N, K] codes of host packed weights."""
    return unpack(np.asarray(w.packed), w.bits, w.k, axis=1)


def _code_values(w: WeightOnlyLinear, codes: np.ndarray) -> np.ndarray:
    """float64 values of the codes before scaling: q, q - z, +-1 or the E4M3 value."""
    if w.fmt == "binary":
        return 1.0 - 2.0 * codes
    if w.fmt == "float8_e4m3fn":
        return formats.get("float8_e4m3fn").decode(codes).astype(np.float64)
    signed = not FORMATS[w.fmt][1]
    values = decode_int_codes(codes, w.bits, signed=signed)
    if not signed:
        values = values - _per_element(np.asarray(w.zero_points).astype(np.int64), w.group_size)
    return values.astype(np.float64)


def dequantize_reference(w: WeightOnlyLinear) -> np.ndarray:
    """float64 [N, K]: the exact dequantized weights (q - z) * s (no rounding at all)."""
    codes = weight_codes(w)
    scales = _per_element(np.asarray(w.scales).astype(np.float64), w.group_size)
    return _code_values(w, codes) * scales


def weight_only_reference(x: np.ndarray, w: WeightOnlyLinear) -> np.ndarray:
    """float64 [M, N] = x @ dequant(w)^T from float16 x, exact products, float64 sums."""
    return np.asarray(x).astype(np.float64) @ dequantize_reference(w).T


def kernel_weights_fp16(w: WeightOnlyLinear) -> np.ndarray:
    """float16 [N, K]: the weights exactly as wq_gemm.cu's dequant_pair forms them.

    int:    fp16 bits 0x6400 | (q ^ 2^(b-1)) is 1024 + q + 2^(b-1); minus (1024 + 2^(b-1)),
            times s.  uint: 0x6400 | q minus (1024 + z), times s.  binary: s with its sign bit
            flipped by the code.  e4m3: S.EEEE.MMM moved to fp16 S.0EEEE.MMM0000000, times 256,
            times s. numpy's float16 arithmetic rounds once to nearest even, like the PTX.
    """
    codes = weight_codes(w).astype(np.uint16)
    s = _per_element(np.asarray(w.scales), w.group_size).astype(np.float16)
    if w.fmt == "binary":
        return (s.view(np.uint16) ^ (codes << 15)).view(np.float16)
    if w.fmt == "float8_e4m3fn":
        moved = (((codes & 0x80) << 8) | ((codes & 0x7F) << 7)).view(np.float16)
        return (moved * np.float16(256.0)) * s
    if FORMATS[w.fmt][1]:
        bias = 0x6400 + _per_element(np.asarray(w.zero_points), w.group_size).astype(np.uint16)
    else:
        half_range = np.uint16(1 << (w.bits - 1))
        codes = codes ^ half_range
        bias = np.full(codes.shape, 0x6400 + half_range, dtype=np.uint16)
    integer = (codes | np.uint16(0x6400)).view(np.float16) - bias.view(np.float16)
    return integer * s


def int_matmul_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact int64 [M, N] = a @ b^T of integer matrices (values, not codes)."""
    return np.asarray(a).astype(np.int64) @ np.asarray(b).astype(np.int64).T


def binary_values(packed: np.ndarray, k: int) -> np.ndarray:
    """int64 +-1 values of binary codes packed along K (code 0 -> +1, code 1 -> -1)."""
    return 1 - 2 * unpack(packed, 1, k, axis=1).astype(np.int64)


def _words(packed: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(packed).view("<u4")


def a1w1_and_popc_model(a_packed: np.ndarray, b_packed: np.ndarray, k: int) -> np.ndarray:
    """int64 [M, N] as a1w1_gemm_mma computes it: K - 2 pa - 2 pb + 4 popc(a AND b)."""
    a, b = _words(a_packed), _words(b_packed)
    pa = np.bitwise_count(a).sum(axis=1, dtype=np.int64)
    pb = np.bitwise_count(b).sum(axis=1, dtype=np.int64)
    both = np.bitwise_count(a[:, None, :] & b[None, :, :]).sum(axis=2, dtype=np.int64)
    return k - 2 * pa[:, None] - 2 * pb[None, :] + 4 * both


def bitplane_values(w: BitPlaneWeights) -> np.ndarray:
    """int64 [N, K] weight values encoded by the planes (binary: 1 - 2 code)."""
    planes = np.asarray(w.planes).reshape(w.n, w.n_planes, w.k // 32)
    bits = np.unpackbits(planes.view(np.uint8), axis=-1, bitorder="little").astype(np.int64)
    if w.fmt == "binary":
        return 1 - 2 * bits[:, 0]
    return sum(_plane_coefficient(p, w.n_planes) * bits[:, p] for p in range(w.n_planes))


def _plane_coefficient(p: int, n_planes: int) -> int:
    """Weight of bit-plane p of an n_planes-bit two's complement number."""
    return -(1 << p) if p == n_planes - 1 else 1 << p


def activation_planes(x: np.ndarray) -> np.ndarray:
    """uint32 [M, 8, K/32]: the two's complement bit-planes of int8 x, as int8_bitplanes."""
    bits = (x.view(np.uint8)[:, None, :] >> np.arange(ACT_PLANES, dtype=np.uint8)[None, :, None]) & 1
    return np.packbits(bits, axis=-1, bitorder="little").view("<u4")


def bitplane_model(x: np.ndarray, w: BitPlaneWeights) -> np.ndarray:
    """int64 [M, N] as bitplane_gemm computes it: sum_{q,p} c_q c_p popc(X_q AND W_p), and for
    binary weights xsum - 2 sum_q c_q popc(X_q AND W)."""
    xp = activation_planes(x)                                         # [M, 8, Kw]
    wp = np.asarray(w.planes).reshape(w.n, w.n_planes, w.k // 32)     # [N, P, Kw]
    counts = np.bitwise_count(xp[:, None, :, None, :] & wp[None, :, None, :, :]).sum(axis=-1, dtype=np.int64)
    c_q = np.array([_plane_coefficient(q, ACT_PLANES) for q in range(ACT_PLANES)], dtype=np.int64)
    if w.fmt == "binary":
        return x.astype(np.int64).sum(axis=1)[:, None] - 2 * np.einsum("mnq,q->mn", counts[:, :, :, 0], c_q)
    c_p = np.array([_plane_coefficient(p, w.n_planes) for p in range(w.n_planes)], dtype=np.int64)
    return np.einsum("mnqp,q,p->mn", counts, c_q, c_p)


def lut_model(x: np.ndarray, w: BitPlaneWeights) -> np.ndarray:
    """int64 [M, N] as lut_gemm computes it: per group j of 4 activations a 16-entry table
    T[j][idx] = sum_i v(bit i of idx) x[4j+i] (v(b) = b, or 1 - 2b for binary weights), each
    weight plane's nibble at group j indexes it, planes weighted by their coefficients."""
    m, k = x.shape
    idx_bits = (np.arange(16)[:, None] >> np.arange(4)[None, :]) & 1          # [16, 4]
    v = 1 - 2 * idx_bits if w.fmt == "binary" else idx_bits
    tables = np.einsum("mji,ti->mjt", x.astype(np.int64).reshape(m, k // 4, 4), v)   # [M, K/4, 16]
    planes = np.asarray(w.planes).reshape(w.n, w.n_planes, w.k // 32)
    nibbles = np.stack([(planes >> (4 * i)) & 15 for i in range(8)], axis=-1).reshape(w.n, w.n_planes, k // 4)
    out = np.zeros((m, w.n), dtype=np.int64)
    for p in range(w.n_planes):
        looked_up = np.take_along_axis(tables[:, None, :, :], nibbles[None, :, p, :, None].astype(np.int64), axis=3)
        coef = 1 if w.fmt == "binary" else _plane_coefficient(p, w.n_planes)
        out += coef * looked_up[..., 0].sum(axis=2)
    return out
