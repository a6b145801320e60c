"""Lane-level CPU emulation of kernels/cuda/wq_gemm.cu, int_gemm.cu and lut_gemm.cu.

Every function follows the CUDA text of the function named in the table below, statement by
statement: blockIdx, warp, lane and quad indices, predicated and vector loads, prmt/lop3 and
f16x2 arithmetic, cp.async with zero fill, warp shuffles, epilogues and stores. Loops over lanes
(or over the threads of a block) are numpy arrays indexed by lane, so each CUDA statement is one
array statement. The grid of each launch and the tile constants come from lowbit.kernels.weight_only and
lowbit.kernels.integer (the launch side, whose constants tests/kernels/test_{weight_only,integer}.py
match with the .cu #defines); constants only the .cu has are named below with their source.

The mma instructions are not taken from the kernels' comments but from the PTX ISA fragment
tables (see fragment_tables). The wq dequantization helpers (prmt, pair_bias, integer_pair, ...)
are lowbit.kernels.reference's host models of the same device helpers, which test_reference.py checks
exhaustively against hwsim; what this module adds is which lane holds which word, row, group and
fragment register.

Memory is modelled as flat arrays addressed exactly as the kernel computes its pointers. A read
outside an array, a vector access that is not naturally aligned (the wrappers guarantee 16-byte
aligned bases), or an output element written zero times or more than once raises KernelFault.

Each function below carries @mirrors(file, target, fingerprint) for the .cu text it follows; a
test recomputes the fingerprints, so a kernel edit fails until the emulator is re-read against
the new text and the pins are updated.

Emulator function               mirrors (.cu file: function or statement)
  mma_f16_m16n8k16              common.cuh: mma_f16_m16n8k16
  mma_s8_m16n8k32               int_gemm.cu: mma_k_step (OP_INT8)
  mma_b1_and_popc_m16n8k256     int_gemm.cu: mma_k_step (OP_BINARY)
  wq_gemm, wq_block             wq_gemm.cu: wq_gemm_body (grid: weight_only.linear)
  wq_kind                       wq_gemm.cu: the WQ_KERNELS(...) instantiations (name -> FMT)
  wq_warp                       wq_gemm.cu: wq_gemm_body's K loop
  wq_load_weights               wq_gemm.cu: the load_weights lambda
  wq_group_index                wq_gemm.cu: wq_gemm_body, the group index grp
  wq_load_group_params          wq_gemm.cu: load_group_params
  wq_load_x, wq_a_fragment      wq_gemm.cu: wq_gemm_body, the X loads into a[i][0..3]
  wq_pair_positions             wq_gemm.cu: wq_gemm_body, word_index and pos
  dequant_pair, hsub2, hmul2    wq_gemm.cu: dequant_pair; common.cuh: hsub2, hmul2
  mma_tile, load_stage          int_gemm.cu: mma_tile; cp_async16
  mma_tile_warp,                int_gemm.cu: mma_tile, one warp's k-steps
    mma_tile_a_fragment         int_gemm.cu: mma_tile, the A fragment loads
  store_tile                    int_gemm.cu: store_tile
  int8_gemm                     int_gemm.cu: int8_gemm
  a1w1_gemm_mma                 int_gemm.cu: a1w1_gemm_mma
  row_popcount                  int_gemm.cu: row_popcount
  a1w1_gemm_popc                int_gemm.cu: a1w1_gemm_popc
  int8_bitplanes                int_gemm.cu: int8_bitplanes
  bitplane_gemm,                int_gemm.cu: bitplane_gemm_body
    bitplane_epilogue,          int_gemm.cu: bitplane_gemm_body, the plane-weighted epilogue
    bitplane_plane_pair_sum     int_gemm.cu: bitplane_gemm_body, the shuffle over plane pairs
  lut_gemm, lut_build_table     lut_gemm.cu: lut_gemm_body (and its table build)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lowbit.kernels.integer import (ACT_PLANES, LUT_THREADS, POPC_ACT_ROWS, POPC_WEIGHT_ROWS, TILE, a1w1_tile_shape,
                             bitplane_tile_shape, grid_rows, int8_tile_shape, lut_rows, lut_tile_shape, tile_grid)
from lowbit.kernels.reference import bias_class, int_offset, integer_pair, pair_bias
from lowbit.kernels.weight_only import FORMATS, WARPS_PER_BLOCK, group_shift, tile_shape, vector_elements

U32 = np.uint32
WARP = 32
LANE = np.arange(WARP)
GROUP_ID = LANE >> 2          # groupID of the PTX tables, g in the kernels
THREAD_IN_GROUP = LANE & 3    # threadID_in_group, t in the kernels
STAGE_BYTES = 64              # BKB in int_gemm.cu: bytes of K per cp.async stage (no Python name)
TILE_THREADS = 256            # THREADS in int_gemm.cu: mma_tile's block, 8 warps as 2 x 4
BITPLANES_THREADS = 128       # int8_bitplanes' block (its __launch_bounds__, integer.py's launch)
ROW_POPCOUNT_ROWS = 8         # row_popcount: one warp per row, 256 threads (integer.py's launch)


@dataclass(frozen=True)
class Pin:
    """Emulator function ``emulator`` follows ``target`` of kernels/cuda/``file`` as it was when
    its fingerprint (test_lane_emulation.fingerprint of the normalised text) was ``fingerprint``."""
    emulator: str
    file: str
    target: str
    fingerprint: str


PINS: list[Pin] = []


def mirrors(file: str, target: str, fingerprint: str):
    """Records that the decorated function transcribes ``target`` of kernels/cuda/``file``: a
    function's name, ``#define NAME`` for a macro, or ``NAME(...)`` for its invocation lines.
    test_lane_emulation.py fails when that text no longer has this fingerprint. Returns the
    function itself, so tests may still monkeypatch it."""
    def record(function):
        PINS.append(Pin(function.__name__, file, target, fingerprint))
        return function
    return record


class KernelFault(AssertionError):
    """The emulated kernel read outside an array, made a misaligned vector access, or wrote an
    output element zero times or more than once."""


# -- memory -----------------------------------------------------------------------------------
def load(memory: np.ndarray, element, valid, width: int = 1) -> np.ndarray:
    """memory[element : element + width] for every thread where ``valid`` (shape [..., width]),
    zeros elsewhere: a predicated load, or cp.async with src-size 0, which reads nothing.
    ``memory`` is a flat array of the pointer's element type; ``width`` elements form one vector
    load, whose address PTX requires to be a multiple of its size."""
    element, valid = np.broadcast_arrays(np.asarray(element, dtype=np.int64), np.asarray(valid, dtype=bool))
    span = element[..., None] + np.arange(width)
    if np.any(valid & ((element < 0) | (element + width > memory.size))):
        raise KernelFault(f"read outside an array of {memory.size} elements")
    if np.any(valid & (element % width != 0)):
        raise KernelFault(f"vector load of {width} elements at a misaligned element offset")
    return np.where(valid[..., None], memory[np.where(valid[..., None], span, 0)], 0).astype(memory.dtype)


def flat_bytes(array) -> np.ndarray:
    """An array's memory as the kernel's ``const u8*`` sees it."""
    return np.ascontiguousarray(array).view(np.uint8).reshape(-1)


class DeviceOutput:
    """A flat output array of ``size`` elements, counting the writes to each element: every
    kernel here must write each element of its output exactly once (tails included)."""

    def __init__(self, size: int, dtype):
        self.values = np.zeros(size, dtype=dtype)
        self.writes = np.zeros(size, dtype=np.int64)

    def store(self, element, values, mask) -> None:
        element, values, mask = np.broadcast_arrays(np.asarray(element, dtype=np.int64), values, mask)
        element, values = element[mask], values[mask]
        if np.any((element < 0) | (element >= self.values.size)):
            raise KernelFault(f"write outside an output of {self.values.size} elements")
        np.add.at(self.writes, element, 1)
        self.values[element] = values

    def result(self, shape) -> np.ndarray:
        never, twice = int(np.sum(self.writes == 0)), int(np.sum(self.writes > 1))
        if never or twice:
            raise KernelFault(f"{never} output elements never written, {twice} written more than once")
        return self.values.reshape(shape)


def shfl_xor(values: np.ndarray, lane_mask: int) -> np.ndarray:
    """__shfl_xor_sync(0xffffffff, v, lane_mask) over the last axis (the 32 lanes of a warp)."""
    return values[..., LANE ^ lane_mask]


def warp_sum(values: np.ndarray, offsets) -> np.ndarray:
    """The butterfly ``for off in offsets: v += __shfl_xor_sync(.., v, off)``."""
    for offset in offsets:
        values = values + shfl_xor(values, offset)
    return values


# -- mma.sync from the PTX ISA fragment tables ------------------------------------------------
@lru_cache(maxsize=None)
def fragment_tables(per_register: int):
    """(A rows, A cols, B rows, B cols, C rows, C cols), each [32 lanes, elements low to high],
    of mma.sync.m16n8k(8e) with e = ``per_register`` elements per .b32 register. PTX ISA 9.0,
    9.7.14.5.8 (m16n8k16 .f16, e = 2), 9.7.14.5.10 (m16n8k32 .s8, e = 4) and 9.7.14.5.13
    (m16n8k256 .b1, e = 32), with g = groupID, t = threadID_in_group:
      A a_i: row g for 0 <= i < e or 2e <= i < 3e, else g + 8;
             col t*e + (i mod e) for i < 2e, t*e + (i mod e) + 4e for i >= 2e
             (k16: t*2 + (i & 1) (+ 8); k32: t*4 + (i & 3) (+ 16); k256: t*32 + (i & 0x1F) (+ 128).
             The k256 text writes "t*32 + i for i < 64", which for 32 <= i < 64 would give two
             lanes the same column; its figure and the other shapes say (i & 0x1F).)
      B b_i: row t*e + (i mod e) for i < e, t*e + (i mod e) + 4e for i >= e; col g
      C c_i: row g for i < 2, g + 8 for i >= 2; col t*2 + (i & 1)
    """
    e = per_register
    g, t = GROUP_ID[:, None], THREAD_IN_GROUP[:, None]
    i = np.arange(4 * e)[None, :]
    a_rows = np.broadcast_to(g + 8 * ((i // e) % 2), (WARP, 4 * e))
    a_cols = np.broadcast_to(t * e + i % e + 4 * e * (i >= 2 * e), (WARP, 4 * e))
    i = np.arange(2 * e)[None, :]
    b_rows = np.broadcast_to(t * e + i % e + 4 * e * (i >= e), (WARP, 2 * e))
    b_cols = np.broadcast_to(g, (WARP, 2 * e))
    i = np.arange(4)[None, :]
    c_rows = np.broadcast_to(g + 8 * (i >= 2), (WARP, 4))
    c_cols = np.broadcast_to(t * 2 + (i & 1), (WARP, 4))
    return a_rows, a_cols, b_rows, b_cols, c_rows, c_cols


def mma_sync(acc: np.ndarray, a_elements: np.ndarray, b_elements: np.ndarray, per_register: int) -> None:
    """acc [32, 4] += D of one warp-wide mma: each lane's elements placed at its fragment-table
    positions in A [16, 8e] and B [8e, 8], multiplied exactly, D read back at the C table."""
    a_rows, a_cols, b_rows, b_cols, c_rows, c_cols = fragment_tables(per_register)
    a = np.zeros((16, 8 * per_register), dtype=a_elements.dtype)
    a[a_rows, a_cols] = a_elements
    b = np.zeros((8 * per_register, 8), dtype=b_elements.dtype)
    b[b_rows, b_cols] = b_elements
    acc += (a @ b)[c_rows, c_cols]


def halves(registers) -> np.ndarray:
    """uint32 [...] -> float16 [..., 2]: the low half (lower-indexed element) first."""
    return np.ascontiguousarray(registers, dtype="<u4")[..., None].view(np.float16)


def join_halves(pairs: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(pairs, dtype=np.float16).view("<u4")[..., 0]


@mirrors("common.cuh", "mma_f16_m16n8k16", "2f25a35560c2572a")
def mma_f16_m16n8k16(acc, a, b) -> None:
    """a uint32 [32, 4], b [32, 2] f16x2 registers; float64 products and sums (exact for the
    tests' data), where the tensor core keeps fp32-width sums of its own rounding."""
    mma_sync(acc, halves(a).reshape(WARP, 8).astype(np.float64), halves(b).reshape(WARP, 4).astype(np.float64), 2)


@mirrors("int_gemm.cu", "mma_k_step", "34f6f9f8de547771")
def mma_s8_m16n8k32(acc, a, b) -> None:
    """a uint32 [32, 4], b [32, 2], four s8 per register, lowest byte first; int64 sums."""
    mma_sync(acc, np.ascontiguousarray(a, "<u4").view(np.int8).astype(np.int64),
             np.ascontiguousarray(b, "<u4").view(np.int8).astype(np.int64), 4)


@mirrors("int_gemm.cu", "mma_k_step", "34f6f9f8de547771")
def mma_b1_and_popc_m16n8k256(acc, a, b) -> None:
    """a uint32 [32, 4], b [32, 2], 32 .b1 per register taken lowest bit first (the order does not
    change an AND-popcount as long as A and B share it); AND of bits is their product."""
    def bits(registers):
        return np.unpackbits(np.ascontiguousarray(registers, "<u4").view(np.uint8), axis=-1,
                             bitorder="little").astype(np.int64)
    mma_sync(acc, bits(a), bits(b), 32)


# -- wq_gemm.cu ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WqLaunch:
    """The kernel arguments (flat memory, sizes) and the compile-time constants of one launch."""
    X: np.ndarray          # u16 [M*K]
    W: np.ndarray          # u32 [N*vecs*4]: uint4 vectors
    S: np.ndarray          # u16 [N*groups]
    Z: np.ndarray | None   # u8 [N*groups] (FMT_UINT_ZP only)
    M: int
    N: int
    K: int
    G: int
    g_shift: int
    bits: int
    kind: str              # "int", "uint", "binary", "fp8": FMT_INT, FMT_UINT_ZP, FMT_BINARY, FMT_FP8
    MT: int
    NT: int

    @property
    def E(self) -> int:
        return vector_elements(self.bits)

    @property
    def vecs(self) -> int:
        return self.K // self.E

    @property
    def chunks(self) -> int:
        return (self.vecs + 3) // 4


@mirrors("wq_gemm.cu", "WQ_KERNELS(...)", "688cbd58b5d99b4f")
def wq_kind(fmt: str) -> str:
    """The kernel's FMT of a weight format (the WQ_KERNELS table at the end of wq_gemm.cu)."""
    if fmt == "binary":
        return "binary"
    if fmt == "float8_e4m3fn":
        return "fp8"
    return "uint" if FORMATS[fmt][1] else "int"


@mirrors("wq_gemm.cu", "wq_gemm_body", "599188b78de1fc6a")
@mirrors("wq_gemm.cu", "#define WQ_KERNEL", "80ab2dee205ac4ad")
@mirrors("wq_gemm.cu", "#define WQ_KERNELS", "9da9eb990c6a2710")
def wq_gemm(x: np.ndarray, w) -> np.ndarray:
    """float64 [M, N] sums of x @ dequant(w)^T as the wq_gemm_<fmt>_mt<MT> launch of
    weight_only.linear forms them, before the block's fp32 sum and the fp16 rounding."""
    m, k = x.shape
    bits = FORMATS[w.fmt][0]
    m_tile, n_tile = tile_shape(m)
    zero_points = None if w.zero_points is None else np.ascontiguousarray(w.zero_points).reshape(-1)
    launch = WqLaunch(
        X=np.ascontiguousarray(x).view(np.uint16).reshape(-1),
        W=np.ascontiguousarray(w.packed).view("<u4").reshape(-1),
        S=np.ascontiguousarray(w.scales).view(np.uint16).reshape(-1), Z=zero_points, M=m, N=w.n, K=k,
        G=w.group_size, bits=bits, kind=wq_kind(w.fmt), MT=m_tile // 16, NT=n_tile // 8,
        # as weight_only.linear passes it: 7 means no group boundary inside a 16-byte vector
        g_shift=group_shift(w.group_size, bits))
    out = DeviceOutput(m * w.n, np.float64)
    grid_x, grid_y = tile_grid((m_tile, n_tile), m, w.n)
    for bx in range(grid_x):
        for by in range(grid_y):
            wq_block(launch, bx, by, out)
    return out.result((m, w.n))


@mirrors("wq_gemm.cu", "wq_gemm_body", "599188b78de1fc6a")
def wq_block(p: WqLaunch, bx: int, by: int, out: DeviceOutput) -> None:
    """The block's KW warps, their partial[KW][MT*16][NT*8], and the strided sum-and-store loop."""
    g, t = GROUP_ID, THREAD_IN_GROUP
    n0, m0 = bx * p.NT * 8, by * p.MT * 16
    partial = np.zeros((WARPS_PER_BLOCK, p.MT * 16, p.NT * 8))
    r = np.arange(4)[:, None]
    for warp in range(WARPS_PER_BLOCK):
        acc = wq_warp(p, n0, m0, warp)
        for i in range(p.MT):
            for j in range(p.NT):
                partial[warp, i * 16 + g + 8 * (r >> 1), j * 8 + 2 * t + (r & 1)] = acc[i, j].T
    idx = np.arange(p.MT * 16 * p.NT * 8)   # idx = threadIdx.x; idx += KW * 32 covers them all
    row, col = idx // (p.NT * 8), idx % (p.NT * 8)
    m, n = m0 + row, n0 + col
    out.store(m * p.N + n, partial[:, row, col].sum(axis=0), (m < p.M) & (n < p.N))


@mirrors("wq_gemm.cu", "wq_gemm_body", "599188b78de1fc6a")
def wq_warp(p: WqLaunch, n0: int, m0: int, warp: int) -> np.ndarray:
    """acc [MT, NT, 32, 4] of one warp: interleaved K chunks, the next chunk's weights loaded
    before this chunk's math."""
    t = THREAD_IN_GROUP
    acc = np.zeros((p.MT, p.NT, WARP, 4))
    wnext = wq_load_weights(p, n0, warp)
    for chunk in range(warp, p.chunks, WARPS_PER_BLOCK):
        w = wnext ^ U32(int_offset(p.bits)) if p.kind == "int" else wnext
        wnext = wq_load_weights(p, n0, chunk + WARPS_PER_BLOCK)
        v = chunk * 4 + t
        kvalid = v < p.vecs
        kb = v * p.E
        for s in range(p.E // 4):
            k = kb + 4 * s
            if s == 0 or (p.g_shift < 7 and ((4 * s) & ((1 << p.g_shift) - 1)) == 0):
                grp = wq_group_index(kb, s, p.g_shift, p.G)
                params = [wq_load_group_params(p, kvalid & (n0 + j * 8 + GROUP_ID < p.N),
                                               (n0 + j * 8 + GROUP_ID) * (p.K // p.G) + grp) for j in range(p.NT)]
            a = [wq_a_fragment(*wq_load_x(p, m0 + i * 16, k, kvalid)) for i in range(p.MT)]
            word_index, pos = (4 * s * p.bits) >> 5, (4 * s * p.bits) & 31
            for j in range(p.NT):
                word = w[j][:, word_index]
                b = np.stack([dequant_pair(p, word, at, *params[j]) for at in wq_pair_positions(pos, p.bits)], axis=1)
                for i in range(p.MT):
                    mma_f16_m16n8k16(acc[i, j], a[i], b)
    return acc


@mirrors("wq_gemm.cu", "wq_gemm_body", "599188b78de1fc6a")
def wq_load_weights(p: WqLaunch, n0: int, chunk: int) -> np.ndarray:
    """uint32 [NT, 32, 4]: lane (g, t) loads vector chunk*4 + t of weight row n0 + j*8 + g."""
    v = chunk * 4 + THREAD_IN_GROUP
    n = n0 + np.arange(p.NT)[:, None] * 8 + GROUP_ID
    return load(p.W, (n * p.vecs + v) * 4, (chunk < p.chunks) & (v < p.vecs) & (n < p.N), 4)


@mirrors("wq_gemm.cu", "wq_gemm_body", "599188b78de1fc6a")
def wq_group_index(kb, s: int, g_shift: int, G: int):
    return (kb >> g_shift) + ((4 * s) >> g_shift) if g_shift < 7 else kb // G


@mirrors("wq_gemm.cu", "load_group_params", "1456fdd08e6b306e")
def wq_load_group_params(p: WqLaunch, valid, idx):
    """(bias2 [classes][32], scale2 [32]); invalid lanes get a zero scale and the z = 0 bias, so
    their padding weights are exactly zero."""
    s = load(p.S, idx, valid)[:, 0].astype(U32)
    scale2 = s | (s << U32(16))
    if p.kind == "uint":
        z = load(p.Z, idx, valid)[:, 0].astype(U32)
    else:
        z = np.where(valid, U32(1 << (p.bits - 1)) if p.kind == "int" else U32(0), U32(0))
    classes = 2 if p.bits == 2 else 1
    bias2 = [pair_bias(p.bits, 4 * c, z).astype(U32) for c in range(classes)]
    return bias2, scale2


@mirrors("wq_gemm.cu", "wq_gemm_body", "599188b78de1fc6a")
def wq_load_x(p: WqLaunch, row0: int, k, kvalid):
    """The uint2 loads x0 (row row0 + g) and x1 (row + 8) of elements k..k+3, as [32, 2] u32."""
    r0 = row0 + GROUP_ID
    x0 = load(p.X, r0 * p.K + k, kvalid & (r0 < p.M), 4).astype(U32)
    x1 = load(p.X, (r0 + 8) * p.K + k, kvalid & (r0 + 8 < p.M), 4).astype(U32)
    return (x0[:, 0::2] | (x0[:, 1::2] << U32(16))), (x1[:, 0::2] | (x1[:, 1::2] << U32(16)))


@mirrors("wq_gemm.cu", "wq_gemm_body", "599188b78de1fc6a")
def wq_a_fragment(x0, x1) -> np.ndarray:
    """a[0..3] = x0.x, x1.x, x0.y, x1.y."""
    return np.stack([x0[:, 0], x1[:, 0], x0[:, 1], x1[:, 1]], axis=1)


@mirrors("wq_gemm.cu", "wq_gemm_body", "599188b78de1fc6a")
def wq_pair_positions(pos: int, bits: int):
    """Bit positions of the weight pairs b0 and b1 of one mma step."""
    return pos, pos + 2 * bits


# numpy evaluates float16 arithmetic in float32 and rounds the result to float16. A product of two
# fp16 values is exact in float32 (22 bits) and the kernel's differences are exact (one binade),
# so each result is one round to nearest even, as sub.rn / mul.rn.f16x2 (subnormals kept, no ftz).
@mirrors("common.cuh", "hsub2", "1ac3349a54c016ed")
def hsub2(a, b):
    return join_halves(halves(a) - halves(b))


@mirrors("common.cuh", "hmul2", "81df134d622d05b3")
def hmul2(a, b):
    return join_halves(halves(a) * halves(b))


@mirrors("wq_gemm.cu", "dequant_pair", "739a65d723891a97")
def dequant_pair(p: WqLaunch, word, pos: int, bias2, scale2):
    """fp16x2 weights of the two elements at bits [pos, pos + 2*BITS) of each lane's word."""
    if p.kind in ("int", "uint"):
        return hmul2(hsub2(integer_pair(word, p.bits, pos), bias2[bias_class(p.bits, pos)]), scale2)
    mask = U32((1 << p.bits) - 1)
    lo, hi = (word >> U32(pos)) & mask, (word >> U32(pos + p.bits)) & mask
    if p.kind == "binary":
        return scale2 ^ ((lo << U32(15)) | (hi << U32(31)))
    h = (((lo & U32(0x80)) << U32(8)) | ((lo & U32(0x7F)) << U32(7)) |
         ((hi & U32(0x80)) << U32(24)) | ((hi & U32(0x7F)) << U32(23)))
    return hmul2(hmul2(h, np.full_like(h, 0x5C005C00)), scale2)


# -- int_gemm.cu: the shared mma tile -----------------------------------------------------------
@mirrors("int_gemm.cu", "mma_tile", "54d9c3590e1e881b")
def mma_tile(a_mem, b_mem, rows_a: int, rows_b: int, row_bytes: int, op: str, bx: int, by: int):
    """[(acc [4, 4, 32, 4], a0, b0)] of the block's 8 warps; a_mem, b_mem: flat uint8 rows.
    The two cp.async stages are kept, each load finishing at once (wait_group and the barriers
    order nothing more in a sequential emulation); ``op`` "s8" or "b1"."""
    block_a, block_b = by * TILE, bx * TILE
    stages_a = np.zeros((2, TILE, STAGE_BYTES), dtype=np.uint8)
    stages_b = np.zeros((2, TILE, STAGE_BYTES), dtype=np.uint8)
    acc = np.zeros((TILE_THREADS // WARP, 4, 4, WARP, 4), dtype=np.int64)
    ktiles = -(-row_bytes // STAGE_BYTES)
    load_stage(stages_a[0], a_mem, block_a, rows_a, row_bytes, 0)
    load_stage(stages_b[0], b_mem, block_b, rows_b, row_bytes, 0)
    for kt in range(ktiles):
        stage = kt & 1
        if kt + 1 < ktiles:
            load_stage(stages_a[stage ^ 1], a_mem, block_a, rows_a, row_bytes, kt + 1)
            load_stage(stages_b[stage ^ 1], b_mem, block_b, rows_b, row_bytes, kt + 1)
        for warp in range(TILE_THREADS // WARP):
            mma_tile_warp(acc[warp], stages_a[stage], stages_b[stage], warp, op)
    return [(acc[w], block_a + (w >> 2) * 64, block_b + (w & 3) * 32) for w in range(TILE_THREADS // WARP)]


@mirrors("int_gemm.cu", "mma_tile", "54d9c3590e1e881b")
@mirrors("int_gemm.cu", "cp_async16", "60d186731cab8b65")
def load_stage(stage, memory, block_row: int, rows: int, row_bytes: int, kt: int) -> None:
    """cp.async of 16-byte chunks c (all of them: c = tid; c += THREADS): row c >> 2, K byte
    kt*BKB + (c & 3)*16; rows past the end and K past row_bytes are zero-filled."""
    c = np.arange(TILE * STAGE_BYTES // 16)
    row, kbyte = c >> 2, kt * STAGE_BYTES + (c & 3) * 16
    r = block_row + row
    chunk = load(memory, r * row_bytes + kbyte, (r < rows) & (kbyte < row_bytes), 16)
    stage.reshape(TILE, STAGE_BYTES // 16, 16)[row, c & 3] = chunk


@mirrors("int_gemm.cu", "mma_tile", "54d9c3590e1e881b")
def mma_tile_warp(acc, stage_a, stage_b, warp: int, op: str) -> None:
    """One warp's fragments (ld.shared.v4 of 16 bytes at column 16t) and its 2 x 4 x 4 mma."""
    g, t = GROUP_ID[:, None], THREAD_IN_GROUP[:, None]
    cols = 16 * t + np.arange(16)

    def words(stage, rows):   # uint4 at stage[rows][16t] -> [32, 4] u32
        return np.ascontiguousarray(stage[rows, cols]).view("<u4")
    a_lo = [words(stage_a, (warp >> 2) * 64 + i * 16 + g) for i in range(4)]
    a_hi = [words(stage_a, (warp >> 2) * 64 + i * 16 + g + 8) for i in range(4)]
    b = [words(stage_b, (warp & 3) * 32 + j * 8 + g) for j in range(4)]
    mma = mma_s8_m16n8k32 if op == "s8" else mma_b1_and_popc_m16n8k256
    for step in range(2):
        for i in range(4):
            a = mma_tile_a_fragment(a_lo[i], a_hi[i], step)
            for j in range(4):
                mma(acc[i, j], a, b[j][:, 2 * step:2 * step + 2])


@mirrors("int_gemm.cu", "mma_tile", "54d9c3590e1e881b")
def mma_tile_a_fragment(a_lo, a_hi, step: int) -> np.ndarray:
    """a = {lo.w[2s], hi.w[2s], lo.w[2s+1], hi.w[2s+1]}."""
    return np.stack([a_lo[:, 2 * step], a_hi[:, 2 * step], a_lo[:, 2 * step + 1], a_hi[:, 2 * step + 1]], axis=1)


@mirrors("int_gemm.cu", "store_tile", "671568992d50eabc")
def store_tile(out: DeviceOutput, acc, a0: int, b0: int, M: int, N: int, value) -> None:
    """C[m*N + n] = value(m, n, sum, mask) for accumulator r of tile (i, j) at row
    a0 + i*16 + g + 8*(r/2), column b0 + j*8 + 2t + r%2, inside [0, M) x [0, N)."""
    i, j = np.arange(4)[:, None, None, None], np.arange(4)[None, :, None, None]
    g, t, r = GROUP_ID[:, None], THREAD_IN_GROUP[:, None], np.arange(4)
    m = a0 + i * 16 + g + 8 * (r >> 1)
    n = b0 + j * 8 + 2 * t + (r & 1)
    mask = (m < M) & (n < N)
    out.store(m * N + n, value(m, n, acc, mask), mask)


@mirrors("int_gemm.cu", "int8_gemm", "964ae54a245398f5")
def int8_gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int64 [M, N] as the int8_gemm launch of integer.int8_gemm computes it."""
    (M, K), N = a.shape, b.shape[0]
    out = DeviceOutput(M * N, np.int64)
    grid_x, grid_y = tile_grid(int8_tile_shape(), M, N)
    for bx in range(grid_x):
        for by in range(grid_y):
            for acc, a0, b0 in mma_tile(flat_bytes(a), flat_bytes(b), M, N, K, "s8", bx, by):
                store_tile(out, acc, a0, b0, M, N, lambda m, n, s, mask: s)
    return out.result((M, N))


@mirrors("int_gemm.cu", "row_popcount", "b4b66e925155b594")
def row_popcount(bits: np.ndarray, K: int) -> np.ndarray:
    """int64 [rows]: one warp per row, lanes striding over its K/32 words, a butterfly sum."""
    rows, words = bits.shape[0], K // 32
    memory = np.ascontiguousarray(bits).view("<u4").reshape(-1)
    out = DeviceOutput(rows, np.int64)
    row = np.arange(-(-rows // ROW_POPCOUNT_ROWS) * ROW_POPCOUNT_ROWS)[:, None]   # blockIdx.x*8 + warp
    count = np.zeros((row.shape[0], WARP), dtype=np.int64)
    for start in range(0, words, WARP):   # w = lane; w < words; w += 32
        w = start + LANE
        count += np.bitwise_count(load(memory, row * words + w, (row < rows) & (w < words))[..., 0])
    count = warp_sum(count, (16, 8, 4, 2, 1))
    out.store(row[:, 0], count[:, 0], row[:, 0] < rows)
    return out.result((rows,))


@mirrors("int_gemm.cu", "a1w1_gemm_mma", "5d3a9c90fdecdce3")
def a1w1_gemm_mma(a: np.ndarray, b: np.ndarray, K: int) -> np.ndarray:
    """int64 [M, N]: K - 2 pop_a[m] - 2 pop_b[n] + 4 AND-popc, b1 mma tiles."""
    M, N = a.shape[0], b.shape[0]
    pop_a, pop_b = row_popcount(a, K), row_popcount(b, K)
    out = DeviceOutput(M * N, np.int64)

    def value(m, n, s, mask):
        return K - 2 * load(pop_a, m, mask)[..., 0] - 2 * load(pop_b, n, mask)[..., 0] + 4 * s
    grid_x, grid_y = tile_grid(a1w1_tile_shape(M, "mma"), M, N)
    for bx in range(grid_x):
        for by in range(grid_y):
            for acc, a0, b0 in mma_tile(flat_bytes(a), flat_bytes(b), M, N, K // 8, "b1", bx, by):
                store_tile(out, acc, a0, b0, M, N, value)
    return out.result((M, N))


@mirrors("int_gemm.cu", "a1w1_gemm_popc", "fbcc4c8e31322c71")
def a1w1_gemm_popc(a: np.ndarray, b: np.ndarray, K: int) -> np.ndarray:
    """int64 [M, N] = K - 2 popc(a XOR b): a warp per weight row n, MB activation rows, lanes
    striding over the 16-byte vectors, a butterfly sum per row."""
    M, N = a.shape[0], b.shape[0]
    vecs = K // 128
    a_mem, b_mem = (np.ascontiguousarray(v).view("<u4").reshape(-1) for v in (a, b))
    out = DeviceOutput(M * N, np.int64)
    grid_x, grid_y = tile_grid(a1w1_tile_shape(M, "popc"), M, N)
    for bx in range(grid_x):
        for by in range(grid_y):
            m0 = by * POPC_ACT_ROWS
            for warp in range(POPC_WEIGHT_ROWS):
                n = bx * POPC_WEIGHT_ROWS + warp
                if n >= N:
                    continue
                count = np.zeros((POPC_ACT_ROWS, WARP), dtype=np.int64)
                for start in range(0, vecs, WARP):   # v = lane; v < vecs; v += 32
                    v = start + LANE
                    w = load(b_mem, (n * vecs + v) * 4, v < vecs, 4)
                    for i in range(POPC_ACT_ROWS):
                        x = load(a_mem, ((m0 + i) * vecs + v) * 4, (v < vecs) & (m0 + i < M), 4)
                        count[i] += np.bitwise_count(x ^ w).sum(axis=-1, dtype=np.int64)
                count = warp_sum(count, (16, 8, 4, 2, 1))
                m = m0 + np.arange(POPC_ACT_ROWS)
                out.store(m * N + n, K - 2 * count[:, 0], m < M)
    return out.result((M, N))


# -- int_gemm.cu: bit-serial GEMM ---------------------------------------------------------------
@mirrors("int_gemm.cu", "int8_bitplanes", "6baf9436b14d5fb4")
def int8_bitplanes(x: np.ndarray):
    """(planes uint32 [M*8*K/32], xsum int64 [M]): one thread per (m, 32-element word), two
    uint4 loads, bit q of byte i into plane q bit i; row sums by warp butterfly and atomicAdd."""
    M, K = x.shape
    words = K // 32
    memory = flat_bytes(x)
    grid_x, grid_y = -(-words // BITPLANES_THREADS), grid_rows(M, 1)
    m = np.arange(grid_y)[:, None]                        # blockIdx.y
    w = np.arange(grid_x * BITPLANES_THREADS)[None, :]    # blockIdx.x * blockDim.x + threadIdx.x
    valid = np.broadcast_to(w < words, (grid_y, w.shape[1]))
    lo = np.ascontiguousarray(load(memory, m * K + 32 * w, valid, 16)).view("<u4")
    hi = np.ascontiguousarray(load(memory, m * K + 32 * w + 16, valid, 16)).view("<u4")
    plane = np.zeros((ACT_PLANES,) + valid.shape, dtype=U32)
    total = np.zeros(valid.shape, dtype=np.int64)
    for i in range(32):
        word = (lo if i < 16 else hi)[..., (i & 15) >> 2]
        byte = (word >> U32(8 * (i & 3))) & U32(0xFF)
        total += byte.astype(np.uint8).view(np.int8)
        for q in range(ACT_PLANES):
            plane[q] |= ((byte >> U32(q)) & U32(1)) << U32(i)
    planes = DeviceOutput(M * ACT_PLANES * words, U32)
    for q in range(ACT_PLANES):
        planes.store((m * ACT_PLANES + q) * words + w, plane[q], valid)
    lane_sums = warp_sum(total.reshape(grid_y, -1, WARP), (16, 8, 4, 2, 1))
    xsum = lane_sums[:, :, 0].sum(axis=1)                  # lane 0 of each warp: atomicAdd
    return planes.result((M * ACT_PLANES * words,)), xsum


@mirrors("int_gemm.cu", "bitplane_gemm_body", "f84fde3ddef88aa3")
@mirrors("int_gemm.cu", "#define BITPLANE_KERNEL", "917f8377ada94dc8")
def bitplane_gemm(x: np.ndarray, planes: np.ndarray, P: int) -> np.ndarray:
    """int64 [M, N] = x @ w^T over 8 activation planes and P weight planes (b1 mma tiles)."""
    M, K = x.shape
    N = planes.shape[0] // P
    act_planes, xsum = int8_bitplanes(x)
    out = DeviceOutput(M * N, np.int64)
    grid_x, grid_y = tile_grid(bitplane_tile_shape(P), M, N)
    for bx in range(grid_x):
        for by in range(grid_y):
            for acc, a0, b0 in mma_tile(flat_bytes(act_planes), flat_bytes(planes), M * ACT_PLANES, N * P,
                                        K // 8, "b1", bx, by):
                bitplane_epilogue(out, acc, a0, b0, P, xsum, M, N)
    return out.result((M, N))


@mirrors("int_gemm.cu", "bitplane_gemm_body", "f84fde3ddef88aa3")
def bitplane_epilogue(out, acc, a0: int, b0: int, P: int, xsum, M: int, N: int) -> None:
    """Weight each count by c_q c_p, sum over q (xor 4, 8, 16) and over the P planes of a weight
    row, and store from the lanes with g == 0."""
    g, t = GROUP_ID, THREAD_IN_GROUP
    coef_q = np.where(g == 7, -128, 1 << g)
    for i in range(4):
        for j in range(4):
            v = np.zeros((2, 2, WARP), dtype=np.int64)   # [h: A rows +0 / +8][column parity]
            for r in range(4):
                p = (2 * t + (r & 1)) % P
                coef_p = -2 if P == 1 else np.where(p == P - 1, -(1 << p), 1 << p)
                v[r >> 1, r & 1] = coef_q * coef_p * acc[i, j, :, r]
            v = warp_sum(v, (4, 8, 16))
            m_first = (a0 + i * 16) >> 3
            for h in range(2):
                m = m_first + h
                if P == 1:
                    for c in range(2):
                        n = b0 + j * 8 + 2 * t + c
                        mask = (g == 0) & (m < M) & (n < N)
                        out.store(m * N + n, load(xsum, np.full(WARP, m), mask)[:, 0] + v[h, c], mask)
                else:
                    s = bitplane_plane_pair_sum(v[h, 0] + v[h, 1], P)
                    n = (b0 + j * 8 + 2 * t) // P
                    mask = (g == 0) & ((P == 2) | ((t & 1) == 0)) & (m < M) & (n < N)
                    out.store(m * N + n, s, mask)


@mirrors("int_gemm.cu", "bitplane_gemm_body", "f84fde3ddef88aa3")
def bitplane_plane_pair_sum(s, P: int):
    """For P = 4 add the quad neighbour's two planes: s += __shfl_xor_sync(.., s, 1)."""
    return s + shfl_xor(s, 1) if P == 4 else s


# -- lut_gemm.cu ----------------------------------------------------------------------------------
@mirrors("lut_gemm.cu", "lut_gemm_body", "dc5d0be469f877cb")
@mirrors("lut_gemm.cu", "#define LUT_KERNEL", "9b71d942bca786af")
def lut_gemm(x: np.ndarray, planes: np.ndarray, P: int) -> np.ndarray:
    """int64 [M, N] as the lut_gemm_p<P>_lm<LM> launch of integer.lut_gemm computes it."""
    M, K = x.shape
    N = planes.shape[0] // P
    LM = lut_rows(M)
    groups = LUT_THREADS // LM       # GROUPS
    kc = 4 * groups                  # KC
    row_vecs = K // 128
    x_mem, plane_mem = flat_bytes(x), np.ascontiguousarray(planes).view("<u4").reshape(-1)
    out = DeviceOutput(M * N, np.int64)
    tid = np.arange(LUT_THREADS)
    grid_x, grid_y = tile_grid(lut_tile_shape(M), M, N)
    for bx in range(grid_x):
        for by in range(grid_y):
            n, m0 = bx * LUT_THREADS + tid, by * LM
            acc = np.zeros((P, LM, LUT_THREADS), dtype=np.int64)
            for k0 in range(0, K, kc):
                table = lut_build_table(x_mem, M, K, m0, k0, LM, P)
                for p in range(P):
                    for v in range(kc // 128):   # VECS
                        vec = k0 // 128 + v
                        bits = load(plane_mem, ((n * P + p) * row_vecs + vec) * 4, (n < N) & (vec < row_vecs), 4)
                        if vec >= row_vecs:
                            continue
                        for wi in range(4):
                            for nib in range(8):
                                idx = (bits[:, wi] >> U32(4 * nib)) & U32(15)
                                acc[p] += table[:, v * 32 + wi * 8 + nib, idx]
            coef = np.array([-(1 << p) if (P > 1 and p == P - 1) else 1 << p for p in range(P)])
            y = np.einsum("p,pit->it", coef, acc)
            for i in range(LM):
                out.store((m0 + i) * N + n, y[i], (n < N) & (m0 + i < M))
    return out.result((M, N))


@mirrors("lut_gemm.cu", "lut_gemm_body", "dc5d0be469f877cb")
def lut_build_table(x_mem, M: int, K: int, m0: int, k0: int, LM: int, P: int) -> np.ndarray:
    """int16 table [LM][GROUPS][16]: thread (bm, j) loads 4 activations with one u32 load and
    writes its 16 entries as two uint4 of packed shorts."""
    groups = LUT_THREADS // LM
    tid = np.arange(LUT_THREADS)
    bm, j = tid // groups, tid % groups
    k = k0 + 4 * j
    valid = (m0 + bm < M) & (k < K)
    packed = np.ascontiguousarray(load(x_mem, (m0 + bm) * K + k, valid, 4)).view("<u4")[:, 0]
    x = np.stack([((packed >> U32(8 * i)) & U32(0xFF)).astype(np.uint8).view(np.int8) for i in range(4)], axis=1)
    bit = (np.arange(16)[:, None] >> np.arange(4)[None, :]) & 1          # [idx, i]
    sign = 1 - 2 * bit if P == 1 else bit                                 # -x : x, or x : 0
    entry = (x.astype(np.int64) @ sign.T).astype(np.int16)                 # (short)s
    halves16 = entry.view(np.uint16).astype(U32)
    table_words = np.zeros((LM, groups, 8), dtype="<u4")
    table_words[bm, j] = halves16[:, 0::2] | (halves16[:, 1::2] << U32(16))
    return table_words.view(np.int16).astype(np.int64)
