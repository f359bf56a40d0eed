// 2-D max / average / adaptive average pooling and their backward passes on
// contiguous NCHW tensors, as (B * C) planes. Window and index semantics are
// those of kernels/cpu/pool.cpp (torch's): max_pool2d saves the flat index
// h * W + w of each maximum; the backward passes gather, one thread per input
// element, so there are no atomics and results are deterministic.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// planes = B * C; an input plane is (H, W), an output plane (Ho, Wo).
struct PoolPlanes {
  int64_t count = 0, H = 0, W = 0, Ho = 0, Wo = 0;
};

struct PoolWindow {
  int64_t kernel[2] = {1, 1}, stride[2] = {1, 1}, padding[2] = {0, 0}, dilation[2] = {1, 1};
  bool count_include_pad = true;  // avg pooling only
};

// x (planes, H, W) -> values, indices (planes, Ho, Wo); indices are int64.
void launch_max_pool2d(TensorArg x, TensorArg values, TensorArg indices, PoolPlanes p,
                       PoolWindow w, cudaStream_t stream);
// dy, indices (planes, Ho, Wo) -> dx (planes, H, W)
void launch_max_pool2d_backward(TensorArg dy, TensorArg indices, TensorArg dx, PoolPlanes p,
                                PoolWindow w, cudaStream_t stream);
void launch_avg_pool2d(TensorArg x, TensorArg y, PoolPlanes p, PoolWindow w, cudaStream_t stream);
void launch_avg_pool2d_backward(TensorArg dy, TensorArg dx, PoolPlanes p, PoolWindow w,
                                cudaStream_t stream);
void launch_adaptive_avg_pool2d(TensorArg x, TensorArg y, PoolPlanes p, cudaStream_t stream);
void launch_adaptive_avg_pool2d_backward(TensorArg dy, TensorArg dx, PoolPlanes p,
                                         cudaStream_t stream);

}  // namespace dlt::gpu
