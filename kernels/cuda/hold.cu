// Benchmark helper: one thread spins for a given number of nanoseconds of the GPU's global timer.
//
// kernels.bench enqueues it before each timed batch so that the host can queue the whole batch
// (start event, R kernel launches, end event) while the GPU is still busy here; the batch then
// runs back to back and the events time the kernels, not the host's launch rate.
// Launch: grid 1, block 1.
#include "common.cuh"

__device__ __forceinline__ unsigned long long global_timer_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

extern "C" __global__ void __launch_bounds__(1) hold_ns(unsigned long long ns) {
  const unsigned long long start = global_timer_ns();
  while (global_timer_ns() - start < ns) {
  }
}
