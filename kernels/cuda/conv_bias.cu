// Bias kernels of conv2d; see conv_bias.h. Runtime names used: __syncthreads.
#include "kernels/cuda/conv_bias.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void add_channel_bias_kernel(T* y, const T* bias, int64_t C, int64_t HW,
                                        int64_t total) {
  using Acc = compute_t<T>;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t c = (idx / HW) % C;
  y[idx] = convert<T>(convert<Acc>(y[idx]) + convert<Acc>(bias[c]));
}

// Block c: each thread sums a strided share of channel c, then a tree
// reduction in shared memory (fixed order: deterministic).
template <class T>
__global__ void channel_sum_kernel(const T* dy, T* db, int64_t B, int64_t C, int64_t HW) {
  using Acc = compute_t<T>;
  __shared__ Acc partial[kThreads];
  const int64_t c = blockIdx.x, n = B * HW;
  Acc sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t b = i / HW, hw = i % HW;
    sum += convert<Acc>(dy[(b * C + c) * HW + hw]);
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int step = kThreads / 2; step > 0; step /= 2) {
    if (int(threadIdx.x) < step) partial[threadIdx.x] += partial[threadIdx.x + step];
    __syncthreads();
  }
  if (threadIdx.x == 0) db[c] = convert<T>(partial[0]);
}

}  // namespace

void launch_add_channel_bias(void* y, const void* bias, DTypeCode dtype, int64_t B, int64_t C,
                             int64_t HW, cudaStream_t stream) {
  const int64_t total = B * C * HW;
  if (total == 0) return;
  visit_floating_code(dtype, [&]<class T>() {
    add_channel_bias_kernel<T><<<(total + kThreads - 1) / kThreads, kThreads, 0, stream>>>(
        static_cast<T*>(y), static_cast<const T*>(bias), C, HW, total);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_channel_sum(const void* dy, void* db, DTypeCode dtype, int64_t B, int64_t C,
                        int64_t HW, cudaStream_t stream) {
  if (C == 0) return;
  visit_floating_code(dtype, [&]<class T>() {
    channel_sum_kernel<T><<<unsigned(C), kThreads, 0, stream>>>(
        static_cast<const T*>(dy), static_cast<T*>(db), B, C, HW);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
