// Launchers of softmax / log_softmax over one dim and their backward.
// Tensors are contiguous and seen as (outer, L, inner) around `dim`.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// y = softmax(x) or log_softmax(x) along dim.
void launch_softmax(TensorArg y, TensorArg x, int64_t dim, bool log, cudaStream_t stream);

// softmax:      dx = y * (g - sum(g * y))
// log_softmax:  dx = g - exp(y) * sum(g)
void launch_softmax_backward(TensorArg dx, TensorArg grad, TensorArg y, int64_t dim, bool log,
                             cudaStream_t stream);

}  // namespace dlt::gpu
