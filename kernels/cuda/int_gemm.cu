// Integer and binary GEMMs on the tensor cores (mma.sync), exact int32 results.
//
// All three kernels share one skeleton: A[rows_a, row_bytes] and B[rows_b, row_bytes] are both
// K-contiguous (B is the torch Linear weight layout [N, K]); C = A @ B^T per the op below.
//   int8_gemm        A int8 [M,K], B int8 [N,K]:  C[m,n] = sum_k A[m,k] B[n,k]       (s8 mma, k32)
//   a1w1_gemm_mma    binary codes (0 -> +1, 1 -> -1), bits packed along K (hwsim.quant.pack):
//                    C[m,n] = K - 2 popc(a XOR b) = K - 2 pa[m] - 2 pb[n] + 4 popc(a AND b)
//                    (b1 mma with .and.popc, k256; pa, pb = per-row popcounts)
//   bitplane_gemm_pP bit-serial: A = the 8 two's complement bit-planes of int8 activations, row
//                    m*8+q = plane q of row m; B = P weight bit-planes, row n*P+p = plane p of
//                    row n (P = 1: binary weights; P = 2, 4: two's complement int2 / int4, int3
//                    sign-extended to 4 planes). C[m,n] = sum_{q,p} c_q c_p popc(A_q AND B_p)
//                    with c_q = 2^q (c_7 = -128), c_p = 2^p (MSB -2^(P-1)); for P = 1 the weight
//                    is 1 - 2 code, so C = xsum[m] - 2 sum_q c_q popc(A_q AND B).
// Sums are exact while |C| < 2^31 (the wrappers bound K). Tiles: block 128 x 128 rows of A x B,
// 64 bytes of K per stage, two cp.async stages; 8 warps as 2 x 4, each 64 x 32. Both operands'
// K order is permuted identically (lane quad index t holds bytes [16t, 16t+16) of a stage), so
// every fragment is one conflict-free 16-byte shared-memory load.
// Bounds: rows past the end are zero-filled and not stored; row_bytes must be a multiple of 16.
// Launch: grid (ceil(rows_b / 128), ceil(rows_a / 128)), block 256 threads.
#include "common.cuh"

#define BM 128
#define BN 128
#define BKB 64  // bytes of K per stage
#define THREADS 256

#define OP_INT8 0
#define OP_BINARY 1

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const u32 s = (u32)__cvta_generic_to_shared(smem);
  const int bytes = valid ? 16 : 0;  // 0: fill the 16 bytes with zeros, read nothing
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(gmem), "r"(bytes));
}

__device__ __forceinline__ void mma_k_step(int (&d)[4], const u32 (&a)[4], u32 b0, u32 b1, int op) {
  if (op == OP_INT8) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// acc[i][j][r] = sum over K of op(A row, B row) for A row  a0 + i*16 + g + 8*(r/2)
// and B row  b0 + j*8 + 2t + r%2, with a0, b0 this warp's tile origin (returned).
template <int OP>
__device__ __forceinline__ void mma_tile(const u8* __restrict__ A, const u8* __restrict__ B, int rows_a,
                                         int rows_b, int row_bytes, int (&acc)[4][4][4], int& a0, int& b0) {
  __shared__ __align__(16) u8 As[2][BM][BKB];
  __shared__ __align__(16) u8 Bs[2][BN][BKB];
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
  const int block_a = blockIdx.y * BM, block_b = blockIdx.x * BN;
  a0 = block_a + (warp >> 2) * 64;
  b0 = block_b + (warp & 3) * 32;
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0;

  auto load_stage = [&](int kt, int stage) {
#pragma unroll
    for (int c = tid; c < BM * BKB / 16; c += THREADS) {
      const int row = c >> 2, kbyte = kt * BKB + (c & 3) * 16;
      const bool in_k = kbyte < row_bytes;
      const int ra = block_a + row, rb = block_b + row;
      cp_async16(&As[stage][row][(c & 3) * 16], (ra < rows_a && in_k) ? A + (long)ra * row_bytes + kbyte : A,
                 ra < rows_a && in_k);
      cp_async16(&Bs[stage][row][(c & 3) * 16], (rb < rows_b && in_k) ? B + (long)rb * row_bytes + kbyte : B,
                 rb < rows_b && in_k);
    }
    asm volatile("cp.async.commit_group;");
  };

  const int ktiles = (row_bytes + BKB - 1) / BKB;
  load_stage(0, 0);
  for (int kt = 0; kt < ktiles; ++kt) {
    const int stage = kt & 1;
    if (kt + 1 < ktiles) {
      load_stage(kt + 1, stage ^ 1);
      asm volatile("cp.async.wait_group 1;");
    } else {
      asm volatile("cp.async.wait_group 0;");
    }
    __syncthreads();
    uint4 a_lo[4], a_hi[4], b[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = (warp >> 2) * 64 + i * 16 + g;
      a_lo[i] = *reinterpret_cast<const uint4*>(&As[stage][r][16 * t]);
      a_hi[i] = *reinterpret_cast<const uint4*>(&As[stage][r + 8][16 * t]);
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) b[j] = *reinterpret_cast<const uint4*>(&Bs[stage][(warp & 3) * 32 + j * 8 + g][16 * t]);
#pragma unroll
    for (int step = 0; step < 2; ++step) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const u32 a[4] = {word_of(a_lo[i], 2 * step), word_of(a_hi[i], 2 * step), word_of(a_lo[i], 2 * step + 1),
                          word_of(a_hi[i], 2 * step + 1)};
#pragma unroll
        for (int j = 0; j < 4; ++j) mma_k_step(acc[i][j], a, word_of(b[j], 2 * step), word_of(b[j], 2 * step + 1), OP);
      }
    }
    __syncthreads();  // the next iteration's cp.async overwrites this stage
  }
}

// Epilogue of int8_gemm and a1w1_gemm_mma: C[m, n] = value(m, n, sum) for every accumulator of
// the warp's tile (origin a0, b0 from mma_tile) inside [0, M) x [0, N).
template <typename Value>
__device__ __forceinline__ void store_tile(const int (&acc)[4][4][4], int a0, int b0, int M, int N,
                                           int* __restrict__ C, Value value) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int m = a0 + i * 16 + g + 8 * (r >> 1), n = b0 + j * 8 + 2 * t + (r & 1);
        if (m < M && n < N) C[(long)m * N + n] = value(m, n, acc[i][j][r]);
      }
}

extern "C" __global__ void __launch_bounds__(THREADS)
    int8_gemm(const u8* __restrict__ A, const u8* __restrict__ B, int* __restrict__ C, int M, int N, int K) {
  int acc[4][4][4], a0, b0;
  mma_tile<OP_INT8>(A, B, M, N, K, acc, a0, b0);
  store_tile(acc, a0, b0, M, N, C, [](int, int, int sum) { return sum; });
}

// K is the number of bits per row (a multiple of 128).
extern "C" __global__ void __launch_bounds__(THREADS)
    a1w1_gemm_mma(const u8* __restrict__ A, const u8* __restrict__ B, const int* __restrict__ pop_a,
                  const int* __restrict__ pop_b, int* __restrict__ C, int M, int N, int K) {
  int acc[4][4][4], a0, b0;
  mma_tile<OP_BINARY>(A, B, M, N, K / 8, acc, a0, b0);
  store_tile(acc, a0, b0, M, N, C,
             [&](int m, int n, int and_popc) { return K - 2 * pop_a[m] - 2 * pop_b[n] + 4 * and_popc; });
}

// Bit-serial GEMM over P weight planes. Rows of A: M*8 planes; rows of B: N*P planes; K in bits.
// After weighting each count by c_q c_p, a lane's accumulators are summed over q (the 8 lanes
// sharing t, lane bits 2..4) and over p (the P consecutive B rows of one weight row).
template <int P>
__device__ __forceinline__ void bitplane_gemm_body(const u8* __restrict__ A, const u8* __restrict__ B,
                                                   const int* __restrict__ xsum, int* __restrict__ C, int M,
                                                   int N, int K) {
  int acc[4][4][4], a0, b0;
  mma_tile<OP_BINARY>(A, B, M * 8, N * P, K / 8, acc, a0, b0);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int coef_q = (g == 7) ? -128 : (1 << g);  // A row a0 + i*16 + g (+8) is plane q = g
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      int v[2][2];  // [h: A rows +0 / +8 -> activation rows m, m+1][column parity]
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int p = (2 * t + (r & 1)) % P;
        const int coef_p = (P == 1) ? -2 : ((p == P - 1) ? -(1 << p) : (1 << p));
        v[r >> 1][r & 1] = coef_q * coef_p * acc[i][j][r];
      }
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int c = 0; c < 2; ++c)
#pragma unroll
          for (int off = 4; off < 32; off <<= 1) v[h][c] += __shfl_xor_sync(0xffffffffu, v[h][c], off);
      const int m_first = (a0 + i * 16) >> 3;  // A rows +0..7 -> m_first, +8..15 -> m_first + 1
      if (P == 1) {
        if (g == 0) {
#pragma unroll
          for (int h = 0; h < 2; ++h)
#pragma unroll
            for (int c = 0; c < 2; ++c) {
              const int m = m_first + h, n = b0 + j * 8 + 2 * t + c;
              if (m < M && n < N) C[(long)m * N + n] = xsum[m] + v[h][c];
            }
        }
      } else {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          int s = v[h][0] + v[h][1];                                    // planes 2t%P, 2t%P + 1
          if (P == 4) s += __shfl_xor_sync(0xffffffffu, s, 1);            // + the quad neighbour's
          const int n = (b0 + j * 8 + 2 * t) / P, m = m_first + h;
          if (g == 0 && (P == 2 || (t & 1) == 0) && m < M && n < N) C[(long)m * N + n] = s;
        }
      }
    }
}

#define BITPLANE_KERNEL(P)                                                                              \
  extern "C" __global__ void __launch_bounds__(THREADS)                                                 \
      bitplane_gemm_p##P(const u8* __restrict__ A, const u8* __restrict__ B, const int* __restrict__ xsum, \
                         int* __restrict__ C, int M, int N, int K) {                                    \
    bitplane_gemm_body<P>(A, B, xsum, C, M, N, K);                                                      \
  }
BITPLANE_KERNEL(1)
BITPLANE_KERNEL(2)
BITPLANE_KERNEL(4)

// The 8 two's complement bit-planes of int8 activations X[M,K]: planes[(m*8+q)*(K/32) + w] bit i
// = bit q of X[m, 32w + i]; xsum[m] = sum_k X[m,k]. One thread per (m, 32-element word);
// launch grid (ceil(K/32 / 128), M), block 128. K must be a multiple of 32.
extern "C" __global__ void __launch_bounds__(128)
    int8_bitplanes(const signed char* __restrict__ X, u32* __restrict__ planes, int* __restrict__ xsum, int M,
                   int K) {
  const int words = K / 32, w = blockIdx.x * blockDim.x + threadIdx.x, m = blockIdx.y;
  int sum = 0;
  if (w < words) {
    const uint4* src = reinterpret_cast<const uint4*>(X + (long)m * K + 32 * w);
    const uint4 lo = src[0], hi = src[1];
    u32 plane[8] = {0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u};
#pragma unroll
    for (int i = 0; i < 32; ++i) {
      const u32 word = word_of(i < 16 ? lo : hi, (i & 15) >> 2);
      const u32 byte = (word >> (8 * (i & 3))) & 0xffu;
      sum += (int)(signed char)byte;
#pragma unroll
      for (int q = 0; q < 8; ++q) plane[q] |= ((byte >> q) & 1u) << i;
    }
#pragma unroll
    for (int q = 0; q < 8; ++q) planes[((long)m * 8 + q) * words + w] = plane[q];
  }
  // Row sum: warp reduction, then one atomic per warp (xsum zeroed by the caller).
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  if ((threadIdx.x & 31) == 0) atomicAdd(xsum + m, sum);
}

// Per-row popcounts of a packed bit matrix [rows, K/32 words]; one warp per row, block 256.
extern "C" __global__ void __launch_bounds__(256)
    row_popcount(const u32* __restrict__ bits, int* __restrict__ out, int rows, int K) {
  const int row = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31, words = K / 32;
  if (row >= rows) return;
  int count = 0;
  for (int w = lane; w < words; w += 32) count += __popc(bits[(long)row * words + w]);
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) count += __shfl_xor_sync(0xffffffffu, count, off);
  if (lane == 0) out[row] = count;
}

// A1W1 on the CUDA cores, for small M where the b1 tensor-core tile would mostly hold padding:
// C[m,n] = K - 2 popc(a XOR b). A warp owns one weight row n and MB activation rows, streams the
// weight row once in 16-byte vectors and reuses each vector for all MB rows.
// Launch: grid (ceil(N / 8), ceil(M / MB)), block 256 (8 warps = 8 weight rows). K % 128 == 0.
#define MB 8
extern "C" __global__ void __launch_bounds__(256)
    a1w1_gemm_popc(const uint4* __restrict__ A, const uint4* __restrict__ B, int* __restrict__ C, int M, int N,
                   int K) {
  const int n = blockIdx.x * 8 + (threadIdx.x >> 5), lane = threadIdx.x & 31, m0 = blockIdx.y * MB;
  if (n >= N) return;
  const int vecs = K / 128;
  int count[MB];
#pragma unroll
  for (int i = 0; i < MB; ++i) count[i] = 0;
  for (int v = lane; v < vecs; v += 32) {
    const uint4 w = load_stream16(B + (long)n * vecs + v);
#pragma unroll
    for (int i = 0; i < MB; ++i) {
      if (m0 + i < M) {
        const uint4 x = A[(long)(m0 + i) * vecs + v];
        count[i] += __popc(x.x ^ w.x) + __popc(x.y ^ w.y) + __popc(x.z ^ w.z) + __popc(x.w ^ w.w);
      }
    }
  }
#pragma unroll
  for (int i = 0; i < MB; ++i) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) count[i] += __shfl_xor_sync(0xffffffffu, count[i], off);
    if (lane == 0 && m0 + i < M) C[(long)(m0 + i) * N + n] = K - 2 * count[i];
  }
}
