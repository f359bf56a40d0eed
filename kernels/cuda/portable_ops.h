// matmul, linear and conv2d (forward and backward) on our portable tiled
// kernels (portable_gemm.h, portable_conv.h). They are the kernels of those
// ops in the HIP build, which has no vendor BLAS or DNN library on Debian;
// the CUDA build registers cuBLASLt/cuDNN ones instead and its tests call
// these directly, so the portable path is checked on real hardware too.
// Inputs and preallocated outputs live on one GPU; shapes and dtypes are the
// op layer's (lib/dlt/ops/linalg.cpp, conv.cpp).
#pragma once

#include "dlt/core/tensor.h"
#include "dlt/ops/attrs.h"

namespace dlt::gpu {

// out = a @ b with torch.matmul's shapes (vectors, broadcast batch dims).
void portable_matmul(const Tensor& a, const Tensor& b, Tensor& out);
// out (*, out) = x (*, in) @ weight (out, in)^T (+ bias (out) when defined).
void portable_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& out);
// y (B, Cout, Ho, Wo) = conv2d(x (B, Cin, H, W), weight, bias); 3-D is a batch of one.
void portable_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                     const ops::Conv2dAttrs& attrs, Tensor& y);
// dx (shaped like the input) from dy and the weight.
void portable_conv2d_backward_input(const Tensor& dy, const Tensor& weight,
                                    const ops::Conv2dAttrs& attrs, Tensor& dx);
// dweight (shaped like the weight) and, when defined, dbias (Cout) from dy and x.
void portable_conv2d_backward_weight(const Tensor& dy, const Tensor& x,
                                     const ops::Conv2dAttrs& attrs, Tensor& dweight,
                                     Tensor& dbias);

}  // namespace dlt::gpu
