// Portable 2-D convolution (forward, backward-input, backward-weight) as
// implicit GEMMs on the tiled kernel of portable_tile.cuh: no im2col buffer,
// no vendor library (HIP on Debian has no MIOpen). Plain C++.
// Tensors are contiguous NCHW of one floating dtype.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu::portable {

struct ConvShape {
  int64_t B, Cin, H, W;  // input (B, Cin, H, W)
  int64_t Cout, kH, kW;  // weight (Cout, Cin / groups, kH, kW)
  int64_t Ho, Wo;        // output (B, Cout, Ho, Wo)
  int64_t groups;
  int64_t stride[2], padding[2], dilation[2];
};

// y = conv(x, weight) (+ bias (Cout) when not null)
void launch_portable_conv2d(const ConvShape& s, DTypeCode dtype, const void* x,
                            const void* weight, const void* bias, void* y, cudaStream_t stream);
// dx (B, Cin, H, W) from dy (B, Cout, Ho, Wo) and the weight
void launch_portable_conv2d_backward_input(const ConvShape& s, DTypeCode dtype, const void* dy,
                                           const void* weight, void* dx, cudaStream_t stream);
// dweight (Cout, Cin / groups, kH, kW) and, when not null, dbias (Cout)
void launch_portable_conv2d_backward_weight(const ConvShape& s, DTypeCode dtype, const void* dy,
                                            const void* x, void* dweight, void* dbias,
                                            cudaStream_t stream);

}  // namespace dlt::gpu::portable
