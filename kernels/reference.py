"""Host (numpy) references for every GPU kernel, and host models of the kernels' own tricks.

Two kinds of function live here:
  * references: what a kernel must compute, from the packed inputs, in float64 or exact int64
    (``dequantize_reference``, ``weight_only_reference``, ``int_matmul_reference``,
    ``binary_values``). They unpack with ``lowbit.hwsim.quant.pack.unpack`` and decode with hwsim, the
    oracle.
  * models of the kernel algorithms, bit for bit, so that the arithmetic identities the CUDA
    code relies on are checked on any machine: the fp16 dequantization bit tricks
    (``kernel_weights_fp16``), the AND-popcount identity of the b1 tensor-core GEMM
    (``a1w1_and_popc_model``), the bit-serial plane sum (``bitplane_model``) and the T-MAC table
    lookup (``lut_model``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lowbit.hwsim import formats
from lowbit.hwsim.quant import unpack
from lowbit.hwsim.units.integer import decode_int_codes
from lowbit.kernels.integer import BitPlaneWeights

if TYPE_CHECKING:   # for annotations only: lowbit.kernels.weight_only imports this module
    from lowbit.kernels.weight_only import WeightOnlyLinear

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
    signed = not w.asymmetric
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

    int, uint: per 32-bit word (int codes XORed with int_offset first), per weight pair the
            magic-number halves of integer_pair minus the pair_bias of the zero point (2^(b-1)
            for int), times s (see integer_pairs_fp16).  binary: s with its sign bit flipped by
            the code.  e4m3: S.EEEE.MMM moved to fp16 S.0EEEE.MMM0000000, times 256, times s.
            numpy's float16 arithmetic rounds once to nearest even, like the PTX.
    """
    s = _per_element(np.asarray(w.scales), w.group_size).astype(np.float16)
    if w.fmt in ("binary", "float8_e4m3fn"):
        codes = weight_codes(w).astype(np.uint16)
        if w.fmt == "binary":
            return (s.view(np.uint16) ^ (codes << 15)).view(np.float16)
        moved = (((codes & 0x80) << 8) | ((codes & 0x7F) << 7)).view(np.float16)
        return (moved * np.float16(256.0)) * s
    if w.asymmetric:
        zero = _per_element(np.asarray(w.zero_points), w.group_size).astype(np.uint32)
    else:
        zero = np.full(s.shape, 1 << (w.bits - 1), dtype=np.uint32)
    return integer_pairs_fp16(np.asarray(w.packed), w.bits, signed=not w.asymmetric, zero=zero) * s


# -- host model of wq_gemm.cu's integer dequantization (names as in the CUDA source) ------------
def prmt(a, b, selector: int) -> np.ndarray:
    """PTX prmt.b32 (default mode): byte i of the result is byte (nibble i of selector) of the
    8-byte value {b, a}; bytes 0-3 come from a, 4-7 from b."""
    source = (np.asarray(b, dtype=np.uint64) << np.uint64(32)) | np.asarray(a, dtype=np.uint64)
    out = np.zeros(np.shape(source), dtype=np.uint64)
    for i in range(4):
        byte = (selector >> (4 * i)) & 0xF
        if byte > 7:
            raise ValueError(f"selector nibble {i} is {byte:#x}: the sign-replicating mode is not modelled")
        out |= ((source >> np.uint64(8 * byte)) & np.uint64(0xFF)) << np.uint64(8 * i)
    return out.astype(np.uint32)


def element_shift(bits: int, pos: int, half: int) -> int:
    """Bit shift, within its byte, of the low (half 0) or high (half 1) element of the pair at
    bit ``pos`` of a word (8-bit elements are whole bytes)."""
    return 0 if bits == 8 else (pos & 7) + half * bits


def magic_half(shift: int, value):
    """fp16 bits of 2^(10 - shift) + value: the exponent whose ulp is 2^-shift over the value
    in place at bit ``shift``."""
    return ((25 - shift) << 10) | (np.asarray(value, dtype=np.uint32) << shift)


def pair_bias(bits: int, pos: int, zero):
    """fp16x2 bits {2^(10 - sh0) + z, 2^(10 - sh1) + z} for the pair at bit ``pos``."""
    return magic_half(element_shift(bits, pos, 0), zero) | (magic_half(element_shift(bits, pos, 1), zero) << 16)


def pair_mask(bits: int, pos: int) -> int:
    field = (1 << bits) - 1
    return (field << element_shift(bits, pos, 0)) | ((field << element_shift(bits, pos, 1)) << 16)


def int_offset(bits: int) -> int:
    """2^(bits-1) in every bits-wide field of a 32-bit word."""
    return 0xFFFFFFFF // ((1 << bits) - 1) * (1 << (bits - 1))


def bias_class(bits: int, pos: int) -> int:
    """Which of the bias pairs load_group_params precomputes (at bit 4 * class) serves the pair at
    bit ``pos``: 2-bit pairs sit at bit 0 or 4 of their byte, the others at 0."""
    return (pos & 7) >> 2 if bits == 2 else 0


def integer_pair(words: np.ndarray, bits: int, pos: int) -> np.ndarray:
    """uint32 fp16x2 {2^(10 - sh0) + q0, 2^(10 - sh1) + q1} of the pair at bit ``pos``."""
    byte = pos >> 3
    if bits == 8:
        return prmt(words, 0x64646464, byte | (4 << 4) | ((byte + 1) << 8) | (4 << 12))
    return (prmt(words, 0, byte * 0x1111) & np.uint32(pair_mask(bits, pos))) | np.uint32(pair_bias(bits, pos, 0))


def _halves(pairs: np.ndarray, half: int) -> np.ndarray:
    return ((pairs >> np.uint32(16 * half)) & np.uint32(0xFFFF)).astype(np.uint16).view(np.float16)


def integer_pairs_fp16(packed: np.ndarray, bits: int, *, signed: bool, zero: np.ndarray) -> np.ndarray:
    """float16 [N, K] values q - z of packed 8/4/2-bit codes [N, K * bits / 8], formed as
    wq_gemm.cu does: word XOR int_offset (signed codes), integer_pair minus pair_bias of the
    per-element zero point ``zero`` (uint32 [N, K]; 2^(bits-1) for signed codes), per fp16 lane."""
    words = np.ascontiguousarray(packed).view("<u4")                       # [N, K / per_word]
    if signed:
        words = words ^ np.uint32(int_offset(bits))
    per_word = 32 // bits
    out = np.empty((words.shape[0], words.shape[1] * per_word), dtype=np.float16)
    for pos in range(0, 32, 2 * bits):
        columns = np.arange(words.shape[1]) * per_word + pos // bits        # the pair's low element
        h = integer_pair(words, bits, pos)
        bias = pair_bias(bits, 4 * bias_class(bits, pos), zero[:, columns]).astype(np.uint32)
        for half in (0, 1):
            out[:, columns + half] = _halves(h, half) - _halves(bias, half)
    return out


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
