// LUT-based mixed-precision GEMM (T-MAC style), exact int32 results.
//
// Y[m,n] = sum_k X[m,k] w[n,k], X int8 [M,K]; weights as P bit-planes, planes[(n*P + p)*(K/32) + w]
// bit i = bit p of the code of w[n, 32w + i] (the layout bitplane_gemm uses too). Weight values:
// P = 1 binary (code 0 -> +1, 1 -> -1); P = 2..4 two's complement (MSB plane weighs -2^(P-1)).
// For every group of 4 activations the block builds, in shared memory, the 16-entry table
//   T[m][j][idx] = sum_{i<4} v(bit i of idx) * X[m, 4j+i]     v(b) = b (two's complement planes)
//                                                              v(b) = 1 - 2b (binary)
// and a weight plane's 4-bit nibble at group j indexes it: sum_k X w = sum_p c_p sum_j T[j][nib].
// Entries fit int16 (|T| <= 512); sums are int32, exact while |Y| < 2^31.
// Tiles: LM activation rows x 256 weight rows (one per thread) x KC = 1024/LM elements of K per
// table; rows past M / N and K past the end contribute zero. K must be a multiple of 128.
// Launch: grid (ceil(N / 256), ceil(M / LM)), block 256.
#include "common.cuh"

#define LUT_THREADS 256

template <int P, int LM>
__device__ __forceinline__ void lut_gemm_body(const signed char* __restrict__ X, const uint4* __restrict__ planes,
                                              int* __restrict__ Y, int M, int N, int K) {
  constexpr int GROUPS = LUT_THREADS / LM;  // groups of 4 per table: one (m, j) per thread to build
  constexpr int KC = 4 * GROUPS;            // elements of K per table
  constexpr int VECS = KC / 128;            // 16-byte plane vectors per weight row and table
  __shared__ __align__(16) short table[LM][GROUPS][16];

  const int tid = threadIdx.x, n = blockIdx.x * LUT_THREADS + tid, m0 = blockIdx.y * LM;
  const int row_vecs = K / 128;
  int acc[P][LM];
#pragma unroll
  for (int p = 0; p < P; ++p)
#pragma unroll
    for (int i = 0; i < LM; ++i) acc[p][i] = 0;

  for (int k0 = 0; k0 < K; k0 += KC) {
    {  // build: thread -> (activation row, group)
      const int bm = tid / GROUPS, j = tid % GROUPS, k = k0 + 4 * j;
      int x[4] = {0, 0, 0, 0};
      if (m0 + bm < M && k < K) {
        const u32 packed = *reinterpret_cast<const u32*>(X + (long)(m0 + bm) * K + k);
#pragma unroll
        for (int i = 0; i < 4; ++i) x[i] = (int)(signed char)((packed >> (8 * i)) & 0xffu);
      }
      short entry[16];
#pragma unroll
      for (int idx = 0; idx < 16; ++idx) {
        int s = 0;
#pragma unroll
        for (int i = 0; i < 4; ++i) s += (P == 1) ? (((idx >> i) & 1) ? -x[i] : x[i]) : (((idx >> i) & 1) ? x[i] : 0);
        entry[idx] = (short)s;
      }
      uint4* dst = reinterpret_cast<uint4*>(&table[bm][j][0]);
      dst[0] = make_uint4((u16)entry[0] | ((u32)(u16)entry[1] << 16), (u16)entry[2] | ((u32)(u16)entry[3] << 16),
                          (u16)entry[4] | ((u32)(u16)entry[5] << 16), (u16)entry[6] | ((u32)(u16)entry[7] << 16));
      dst[1] = make_uint4((u16)entry[8] | ((u32)(u16)entry[9] << 16), (u16)entry[10] | ((u32)(u16)entry[11] << 16),
                          (u16)entry[12] | ((u32)(u16)entry[13] << 16), (u16)entry[14] | ((u32)(u16)entry[15] << 16));
    }
    __syncthreads();
    if (n < N) {
#pragma unroll
      for (int p = 0; p < P; ++p) {
#pragma unroll
        for (int v = 0; v < VECS; ++v) {
          const int vec = k0 / 128 + v;
          const uint4 bits =
              vec < row_vecs ? load_stream16(planes + ((long)n * P + p) * row_vecs + vec) : make_uint4(0u, 0u, 0u, 0u);
          if (vec >= row_vecs) continue;  // past K: nothing to add (the table there is zero anyway)
#pragma unroll
          for (int wi = 0; wi < 4; ++wi) {
            const u32 word = word_of(bits, wi);
#pragma unroll
            for (int nib = 0; nib < 8; ++nib) {
              const int j = v * 32 + wi * 8 + nib, idx = (word >> (4 * nib)) & 15;
#pragma unroll
              for (int i = 0; i < LM; ++i) acc[p][i] += table[i][j][idx];
            }
          }
        }
      }
    }
    __syncthreads();  // the next table overwrites this one
  }
  if (n < N) {
#pragma unroll
    for (int i = 0; i < LM; ++i) {
      if (m0 + i >= M) continue;
      int y = 0;
#pragma unroll
      for (int p = 0; p < P; ++p) y += ((P > 1 && p == P - 1) ? -(1 << p) : (1 << p)) * acc[p][i];
      Y[(long)(m0 + i) * N + n] = y;
    }
  }
}

#define LUT_KERNEL(P, LM)                                                                             \
  extern "C" __global__ void __launch_bounds__(LUT_THREADS)                                           \
      lut_gemm_p##P##_lm##LM(const signed char* __restrict__ X, const uint4* __restrict__ planes,     \
                             int* __restrict__ Y, int M, int N, int K) {                              \
    lut_gemm_body<P, LM>(X, planes, Y, M, N, K);                                                      \
  }
#define LUT_KERNELS(P) LUT_KERNEL(P, 1) LUT_KERNEL(P, 8)
LUT_KERNELS(1)
LUT_KERNELS(2)
LUT_KERNELS(3)
LUT_KERNELS(4)
