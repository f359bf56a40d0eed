// rotary_embedding on the GPU: x (rows, H, D) contiguous, each row a
// position t = row % T; cos and sin (T, D / 2) contiguous in x's dtype.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

struct RotaryArgs {
  int64_t rows = 0, heads = 0, dim = 0, len = 0;  // (*, T) rows, H, D, T
  bool inverse = false;                            // minus the angles
};

void launch_rotary(TensorArg y, TensorArg x, TensorArg cos, TensorArg sin, const RotaryArgs& a,
                   cudaStream_t stream);

}  // namespace dlt::gpu
