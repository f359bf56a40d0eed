// cuDNN for the GPU's convolutions: one handle per device, created on first
// use, bound to the device's compute stream and kept for the process's
// lifetime; descriptors and the chosen algorithm cached per problem and pass.
// Host code only (.cpp).
#pragma once

#include <cudnn.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// Throws dlt::Error naming the failed call and cuDNN's status string.
[[noreturn]] void cudnn_fail(const char* expr, cudnnStatus_t status, const char* file, int line);

cudnnHandle_t cudnn_handle(int device, cudaStream_t stream);

// One NCHW convolution: x (B, Cin, H, W), w (Cout, Cin / groups, kH, kW),
// y (B, Cout, Ho, Wo).
struct ConvShape {
  DTypeCode dtype = DTypeCode::f32;
  int64_t B = 0, Cin = 0, H = 0, W = 0, Cout = 0, kH = 0, kW = 0, Ho = 0, Wo = 0, groups = 1;
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
};

enum class ConvPass { forward, backward_data, backward_filter };

// Descriptors of one problem and the algorithm chosen for one pass.
struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algo = 0;  // the pass's cudnnConvolution*Algo_t
  size_t workspace_bytes = 0;
};

// The plan for `pass`, made on first use: cuDNN's heuristic (Get*_v7) ranks
// the algorithms; the first that works is taken, a deterministic one if any.
const ConvPlan& conv_plan(int device, cudaStream_t stream, const ConvShape& shape, ConvPass pass);

}  // namespace dlt::gpu

#define DLT_CUDNN_CHECK(expr)                                                  \
  do {                                                                         \
    const cudnnStatus_t dlt_cudnn_status_ = (expr);                            \
    if (dlt_cudnn_status_ != CUDNN_STATUS_SUCCESS)                             \
      ::dlt::gpu::cudnn_fail(#expr, dlt_cudnn_status_, __FILE__, __LINE__);    \
  } while (0)
