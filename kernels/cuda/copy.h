// Launchers of the copy op's device half: a strided, broadcasting, dtype-
// converting elementwise copy on one device.
#pragma once

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// out[i] = convert(in[i]) for every index i of out. `in` has out's shape and
// ndim, with stride 0 along broadcast dims; either may be non-contiguous.
void launch_copy(TensorArg out, TensorArg in, cudaStream_t stream);

}  // namespace dlt::gpu
