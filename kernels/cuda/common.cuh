// Shared device helpers for the lowbit kernels. No system headers: the same text compiles under
// NVRTC (cupy.RawModule, which has no <stdint.h>; kernels._device.nvrtc_source pastes this file
// in place of the #include) and under nvcc (-I kernels/cuda).
#ifndef LOWBIT_COMMON_CUH
#define LOWBIT_COMMON_CUH

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

// fp16 pairs are handled as raw 32-bit patterns (low half = lower-indexed element) through PTX,
// so no cuda_fp16.h is needed; every operation below rounds to nearest even, with subnormals.
__device__ __forceinline__ u32 hsub2(u32 a, u32 b) {
  u32 d;
  asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  return d;
}

__device__ __forceinline__ u32 hmul2(u32 a, u32 b) {
  u32 d;
  asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  return d;
}

// Byte permute: byte i of the result is byte (selector nibble i) of the 8-byte value {b, a}
// (0-3 from a, 4-7 from b).
__device__ __forceinline__ u32 prmt(u32 a, u32 b, u32 selector) {
  u32 d;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(selector));
  return d;
}

// (a & b) | c in one LOP3 (truth table 0xF0 & 0xCC | 0xAA = 0xEA).
__device__ __forceinline__ u32 and_or(u32 a, u32 b, u32 c) {
  u32 d;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

__device__ __forceinline__ u16 f32_to_f16(float f) {
  u16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}

// D = A(16x16, row) * B(16x8, col) + D, fp16 operands, fp32 accumulators.
__device__ __forceinline__ void mma_f16_m16n8k16(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Streaming 16-byte load that skips L1: weights are read exactly once per launch.
__device__ __forceinline__ uint4 load_stream16(const void* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

__device__ __forceinline__ u32 word_of(const uint4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

#endif  // LOWBIT_COMMON_CUH
