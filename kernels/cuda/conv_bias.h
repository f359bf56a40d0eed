// The per-channel bias of conv2d and its gradient, on contiguous
// (B, C, HW) tensors. Plain launchers, includable from .cu and .cpp.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// y[b, c, :] += bias[c], in the dtype's compute type.
void launch_add_channel_bias(void* y, const void* bias, DTypeCode dtype, int64_t B, int64_t C,
                             int64_t HW, cudaStream_t stream);

// db[c] = sum over b and HW of dy[b, c, :], accumulated in float (f32, f16,
// bf16) or double (f64), one block per channel in a fixed order.
void launch_channel_sum(const void* dy, void* db, DTypeCode dtype, int64_t B, int64_t C,
                        int64_t HW, cudaStream_t stream);

}  // namespace dlt::gpu
