// Weight-only quantized GEMM / GEMV: Y[M,N] (fp16) = X[M,K] (fp16) @ dequant(W)[N,K]^T.
//
// Weights are the hwsim.quant packed layout: row n of W is a little-endian bit stream along K,
// element k at bits [k*BITS, (k+1)*BITS); read as 16-byte vectors, one vector holds
// E = 128/BITS consecutive elements. Per group of G elements along K: an fp16 scale S[n, k/G]
// and, for the asymmetric uintN formats, a uint8 zero point Z[n, k/G].
//   int     (FMT_INT)      two's complement code q:          w = q * s
//   uint+zp (FMT_UINT_ZP)  unsigned code q, zero point z:    w = (q - z) * s
//   binary  (FMT_BINARY)   code 0 -> +1, code 1 -> -1:       w = +-s (alpha)
//   fp8     (FMT_FP8)      OCP float8_e4m3fn code (no NaN): w = e4m3(q) * s
// Numerics: the integer part (q - z), or e4m3(q), is exact in fp16; w is that times s rounded
// once to fp16 (binary: exactly +-s). Each warp sums x * w over its K slice on the tensor cores
// (mma.sync m16n8k16 with fp32 accumulators): the accumulators are fp32-width, but the additions
// inside one mma are the tensor core's own, not a sequence of IEEE fp32 round-to-nearest adds,
// so a host fp32 loop does not reproduce them bit for bit. The block then adds the warps'
// partial sums with ordinary fp32 adds in a fixed order, and the result is rounded once to fp16.
//
// Work split. A block owns NT*8 weight rows and MT*16 activation rows; its KW warps take
// interleaved K chunks of 4 vectors (one per lane of a quad), so a GEMV with few rows still
// fills the GPU. The mma's K order is permuted identically for X and W (a dot product does not
// care): the lane with quad index t holds elements [kb + 4s, kb + 4s + 4) of its vector at step
// s, so each lane dequantizes exactly the 16 bytes it loaded, with no shuffles.
//
// Bounds: any M and N (rows past the end are zero-filled and not stored); K must be a multiple
// of E (and of G); the last chunk may be partial. G >= E must be a multiple of E; G < E must be
// a power of two (g_shift = log2 G). Launch: grid (ceil(N / (NT*8)), ceil(M / (MT*16))),
// block KW*32 threads.
#include "common.cuh"

#define FMT_INT 0
#define FMT_UINT_ZP 1
#define FMT_BINARY 2
#define FMT_FP8 3

#define KW 8  // warps per block, splitting K
#define NT 2  // 8-row weight tiles per block

// Integer codes to fp16 by magic numbers. An element masked in place at bit shift sh
// (sh + BITS <= 10) of a 16-bit half, under the fp16 exponent of 2^(10 - sh) (whose ulp is 2^-sh), reads as the
// fp16 value 2^(10 - sh) + q, exactly. A weight pair is the two elements at bits
// [pos, pos + 2*BITS) of a 32-bit word, low element -> low half. For BITS < 8 both elements lie
// in byte pos/8: one PRMT copies that byte into both halves and one LOP3 keeps each element's
// bits (shift (pos & 7) in the low half, (pos & 7) + BITS in the high half) under its exponent.
// For BITS = 8 one PRMT places the two bytes under the exponent byte 0x64 (2^10, sh = 0).
// The bias pair (the same magic with the zero point z in place of q) is subtracted exactly
// (both halves lie in [2^(10-sh), 2^(11-sh)), so q - z is exact); two's complement codes are
// first made offset binary by one XOR per word (int_offset) and use z = 2^(BITS-1).
// The host model of all this is kernels.reference.kernel_weights_fp16.
template <int BITS>
__device__ __forceinline__ constexpr int element_shift(int pos, int half) {
  return BITS == 8 ? 0 : (pos & 7) + half * BITS;
}

__device__ __forceinline__ constexpr u32 magic_half(int shift, u32 value) {
  return ((25u - shift) << 10) | (value << shift);  // 25: the exponent field of 2^10
}

// fp16x2 of {2^(10 - sh0) + z, 2^(10 - sh1) + z} for the pair at bit pos (z = 0: the magic).
template <int BITS>
__device__ __forceinline__ constexpr u32 pair_bias(int pos, u32 z) {
  return magic_half(element_shift<BITS>(pos, 0), z) | (magic_half(element_shift<BITS>(pos, 1), z) << 16);
}

template <int BITS>
__device__ __forceinline__ constexpr u32 pair_mask(int pos) {
  return (((1u << BITS) - 1u) << element_shift<BITS>(pos, 0)) |
         ((((1u << BITS) - 1u) << element_shift<BITS>(pos, 1)) << 16);
}

// 2^(BITS-1) in every BITS-bit field: XOR turns two's complement codes into offset binary.
template <int BITS>
__device__ __forceinline__ constexpr u32 int_offset() {
  return 0xffffffffu / ((1u << BITS) - 1u) * (1u << (BITS - 1));
}

// Distinct bias pairs per word: BITS = 2 pairs sit at bit 0 or 4 of their byte; others at 0.
template <int BITS>
__device__ __forceinline__ constexpr int bias_classes() {
  return BITS == 2 ? 2 : 1;
}

template <int BITS>
__device__ __forceinline__ constexpr int bias_class(int pos) {
  return BITS == 2 ? (pos & 7) >> 2 : 0;
}

// fp16x2 {2^(10 - sh0) + q0, 2^(10 - sh1) + q1} of the pair at bit pos (compile-time) of word.
template <int BITS>
__device__ __forceinline__ u32 integer_pair(u32 word, int pos) {
  const u32 byte = pos >> 3;
  if (BITS == 8) return prmt(word, 0x64646464u, byte | (4u << 4) | ((byte + 1u) << 8) | (4u << 12));
  return and_or(prmt(word, 0u, byte * 0x1111u), pair_mask<BITS>(pos), pair_bias<BITS>(pos, 0u));
}

// The two elements at bits [pos, pos+BITS) and [pos+BITS, pos+2*BITS) of word -> fp16x2 weights.
// Integer formats: word already XORed with int_offset for FMT_INT; bias2[bias_class(pos)] the
// pair_bias of the zero point. scale2: fp16x2 of the scale.
template <int BITS, int FMT>
__device__ __forceinline__ u32 dequant_pair(u32 word, int pos, const u32 (&bias2)[bias_classes<BITS>()], u32 scale2) {
  if constexpr (FMT == FMT_INT || FMT == FMT_UINT_ZP) {
    return hmul2(hsub2(integer_pair<BITS>(word, pos), bias2[bias_class<BITS>(pos)]), scale2);
  } else {
    const u32 mask = (1u << BITS) - 1u;
    const u32 lo = (word >> pos) & mask, hi = (word >> (pos + BITS)) & mask;
    if constexpr (FMT == FMT_BINARY) {
      // Flipping the fp16 sign bit of alpha is exact: code 1 gives -alpha.
      return scale2 ^ ((lo << 15) | (hi << 31));
    } else {
      static_assert(FMT == FMT_FP8, "unknown weight format");
      // e4m3 S.EEEE.MMM placed in fp16 S.0EEEE.MMM0000000 is the value * 2^-8 (subnormals
      // too); multiplying by 256 restores it exactly.
      u32 h = ((lo & 0x80u) << 8) | ((lo & 0x7fu) << 7) | ((hi & 0x80u) << 24) | ((hi & 0x7fu) << 23);
      return hmul2(hmul2(h, 0x5c005c00u), scale2);
    }
  }
}

template <int BITS, int FMT>
__device__ __forceinline__ void load_group_params(const u16* __restrict__ S, const u8* __restrict__ Z,
                                                  bool valid, long idx, u32& scale2,
                                                  u32 (&bias2)[bias_classes<BITS>()]) {
  if (!valid) {  // zero scale: the padding weights are exactly zero
    scale2 = 0u;
#pragma unroll
    for (int c = 0; c < bias_classes<BITS>(); ++c) bias2[c] = pair_bias<BITS>(4 * c, 0u);
    return;
  }
  const u32 s = S[idx];
  scale2 = s | (s << 16);
  u32 z = 0u;
  if (FMT == FMT_INT) z = 1u << (BITS - 1);
  if (FMT == FMT_UINT_ZP) z = Z[idx];
#pragma unroll
  for (int c = 0; c < bias_classes<BITS>(); ++c) bias2[c] = pair_bias<BITS>(4 * c, z);
}

template <int BITS, int FMT, int MT>
__device__ __forceinline__ void wq_gemm_body(const u16* __restrict__ X, const uint4* __restrict__ W,
                                             const u16* __restrict__ S, const u8* __restrict__ Z,
                                             u16* __restrict__ Y, int M, int N, int K, int G, int g_shift) {
  constexpr int E = 128 / BITS;  // elements per 16-byte weight vector
  constexpr int STEPS = E / 4;   // k16 mma steps per vector (4 elements per lane per step)
  __shared__ float partial[KW][MT * 16][NT * 8];

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
  const int n0 = blockIdx.x * (NT * 8), m0 = blockIdx.y * (MT * 16);
  const int vecs = K / E, groups = K / G;
  const int chunks = (vecs + 3) / 4;

  float acc[MT][NT][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < NT; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

  uint4 wnext[NT];
  auto load_weights = [&](int chunk, uint4 (&w)[NT]) {
    const int v = chunk * 4 + t;
#pragma unroll
    for (int j = 0; j < NT; ++j) {
      const int n = n0 + j * 8 + g;
      w[j] = (chunk < chunks && v < vecs && n < N) ? load_stream16(W + (long)n * vecs + v)
                                                   : make_uint4(0u, 0u, 0u, 0u);
    }
  };
  load_weights(warp, wnext);

  for (int chunk = warp; chunk < chunks; chunk += KW) {
    uint4 w[NT];
#pragma unroll
    for (int j = 0; j < NT; ++j) {
      w[j] = wnext[j];
      if (FMT == FMT_INT) {  // two's complement -> offset binary, once per word
        w[j].x ^= int_offset<BITS>();
        w[j].y ^= int_offset<BITS>();
        w[j].z ^= int_offset<BITS>();
        w[j].w ^= int_offset<BITS>();
      }
    }
    load_weights(chunk + KW, wnext);  // next chunk's loads are in flight during this one's math

    const int v = chunk * 4 + t;
    const bool kvalid = v < vecs;
    const int kb = v * E;
    u32 scale2[NT], bias2[NT][bias_classes<BITS>()];
#pragma unroll
    for (int s = 0; s < STEPS; ++s) {
      const int k = kb + 4 * s;
      // New group parameters at the vector's start, and at each group boundary when G < E.
      if (s == 0 || (g_shift < 7 && ((4 * s) & ((1 << g_shift) - 1)) == 0)) {
        const int grp = (g_shift < 7) ? (kb >> g_shift) + ((4 * s) >> g_shift) : kb / G;
#pragma unroll
        for (int j = 0; j < NT; ++j) {
          const int n = n0 + j * 8 + g;
          load_group_params<BITS, FMT>(S, Z, kvalid && n < N, (long)n * groups + grp, scale2[j], bias2[j]);
        }
      }
      u32 a[MT][4];
#pragma unroll
      for (int i = 0; i < MT; ++i) {
        const int r0 = m0 + i * 16 + g, r1 = r0 + 8;
        uint2 x0 = make_uint2(0u, 0u), x1 = make_uint2(0u, 0u);
        if (kvalid && r0 < M) x0 = *reinterpret_cast<const uint2*>(X + (long)r0 * K + k);
        if (kvalid && r1 < M) x1 = *reinterpret_cast<const uint2*>(X + (long)r1 * K + k);
        a[i][0] = x0.x;  // row g,   elements k, k+1
        a[i][1] = x1.x;  // row g+8, elements k, k+1
        a[i][2] = x0.y;  // row g,   elements k+2, k+3
        a[i][3] = x1.y;  // row g+8, elements k+2, k+3
      }
      const int word_index = (4 * s * BITS) >> 5, pos = (4 * s * BITS) & 31;
#pragma unroll
      for (int j = 0; j < NT; ++j) {
        const u32 word = word_of(w[j], word_index);
        const u32 b0 = dequant_pair<BITS, FMT>(word, pos, bias2[j], scale2[j]);
        const u32 b1 = dequant_pair<BITS, FMT>(word, pos + 2 * BITS, bias2[j], scale2[j]);
#pragma unroll
        for (int i = 0; i < MT; ++i) mma_f16_m16n8k16(acc[i][j], a[i], b0, b1);
      }
    }
  }

  // Accumulator r of tile (i, j) is row i*16 + g + 8*(r/2), column j*8 + 2t + r%2.
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < NT; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) partial[warp][i * 16 + g + 8 * (r >> 1)][j * 8 + 2 * t + (r & 1)] = acc[i][j][r];
  __syncthreads();
  for (int idx = threadIdx.x; idx < MT * 16 * NT * 8; idx += KW * 32) {
    const int row = idx / (NT * 8), col = idx % (NT * 8);
    const int m = m0 + row, n = n0 + col;
    if (m < M && n < N) {
      float sum = 0.f;
#pragma unroll
      for (int w = 0; w < KW; ++w) sum += partial[w][row][col];
      Y[(long)m * N + n] = f32_to_f16(sum);
    }
  }
}

// Resident blocks per SM asked of ptxas (__launch_bounds__ min blocks): 4 (<= 64 registers) for
// the GEMV tile, whose speed is memory latency hidden by many warps; 2 (<= 128) for MT = 2; 1 for
// MT = 4, which spills at 128 registers (32 accumulators, 16 A-fragment and 8 weight registers
// plus the next chunk's 8 in flight). ptxas -v shows no spills at these bounds on sm_80 and
// sm_90a (tests/kernels/test_compile.py checks sm_90a).
#define MIN_BLOCKS(MT) ((MT) == 1 ? 4 : (MT) == 2 ? 2 : 1)

#define WQ_KERNEL(NAME, BITS, FMT, MT)                                                              \
  extern "C" __global__ void __launch_bounds__(KW * 32, MIN_BLOCKS(MT))                             \
      NAME(const u16* __restrict__ X, const uint4* __restrict__ W, const u16* __restrict__ S,       \
           const u8* __restrict__ Z, u16* __restrict__ Y, int M, int N, int K, int G, int g_shift) { \
    wq_gemm_body<BITS, FMT, MT>(X, W, S, Z, Y, M, N, K, G, g_shift);                               \
  }

#define WQ_KERNELS(FMTNAME, BITS, FMT)            \
  WQ_KERNEL(wq_gemm_##FMTNAME##_mt1, BITS, FMT, 1) \
  WQ_KERNEL(wq_gemm_##FMTNAME##_mt2, BITS, FMT, 2) \
  WQ_KERNEL(wq_gemm_##FMTNAME##_mt4, BITS, FMT, 4)

WQ_KERNELS(int8, 8, FMT_INT)
WQ_KERNELS(uint8, 8, FMT_UINT_ZP)
WQ_KERNELS(int4, 4, FMT_INT)
WQ_KERNELS(uint4, 4, FMT_UINT_ZP)
WQ_KERNELS(int2, 2, FMT_INT)
WQ_KERNELS(uint2, 2, FMT_UINT_ZP)
WQ_KERNELS(binary, 1, FMT_BINARY)
WQ_KERNELS(float8_e4m3fn, 8, FMT_FP8)
