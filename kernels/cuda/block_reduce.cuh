// Warp and block reductions shared by the reduction, softmax, loss and
// normalisation kernels. The warp width lives here only: 32 lanes on CUDA,
// 64 on HIP wavefronts. Runtime names used: __shfl_xor_sync (CUDA) /
// __shfl_xor (HIP), __syncthreads.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/gpu.h"

namespace dlt::gpu {

#if defined(DLT_WITH_HIP)
inline constexpr int kWarpSize = 64;
#else
inline constexpr int kWarpSize = 32;
#endif
inline constexpr int kMaxBlockThreads = 1024;

// The value of lane (this lane ^ mask). Types narrower than 4 bytes travel as int.
template <class T> __device__ inline T shfl_xor(T v, int mask) {
  if constexpr (sizeof(T) < 4) {
    return static_cast<T>(shfl_xor(static_cast<int>(v), mask));
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return static_cast<T>(shfl_xor(static_cast<long long>(v), mask));
  } else {
#if defined(DLT_WITH_HIP)
    return __shfl_xor(v, mask);
#else
    return __shfl_xor_sync(0xffffffffu, v, mask);
#endif
  }
}

// Butterfly reduction: every lane of the (full) warp ends with the result.
// `combine` must be commutative and associative up to rounding.
template <class T, class F> __device__ inline T warp_reduce(T v, F combine) {
  for (int mask = kWarpSize / 2; mask > 0; mask >>= 1) v = combine(v, shfl_xor(v, mask));
  return v;
}

// Reduction over a 1-D block whose size is a multiple of kWarpSize (at most
// kMaxBlockThreads). Every thread must call it and every thread gets the
// result. T must be trivially constructible (it lives in shared memory).
template <class T, class F> __device__ inline T block_reduce(T v, F combine, T identity) {
  __shared__ T partial[kMaxBlockThreads / kWarpSize];
  const int lane = int(threadIdx.x) % kWarpSize, warp = int(threadIdx.x) / kWarpSize;
  v = warp_reduce(v, combine);
  __syncthreads();  // a previous call may still be reading `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int warps = int(blockDim.x) / kWarpSize;
  v = lane < warps ? partial[lane] : identity;
  return warp_reduce(v, combine);
}

struct SumOp {
  template <class T> __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <class T> __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};

template <class T> __device__ inline T warp_reduce_sum(T v) { return warp_reduce(v, SumOp{}); }
template <class T> __device__ inline T warp_reduce_max(T v) { return warp_reduce(v, MaxOp{}); }
template <class T> __device__ inline T block_reduce_sum(T v) {
  return block_reduce(v, SumOp{}, T(0));
}
template <class T> __device__ inline T block_reduce_max(T v, T lowest) {
  return block_reduce(v, MaxOp{}, lowest);
}

// Threads of a row group: a warp (kWarp) or the whole block.
template <bool kWarp, class T, class F> __device__ inline T group_reduce(T v, F combine,
                                                                        T identity) {
  if constexpr (kWarp) return warp_reduce(v, combine);
  else return block_reduce(v, combine, identity);
}

__host__ __device__ inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace dlt::gpu
