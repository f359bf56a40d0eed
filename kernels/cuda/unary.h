// Elementwise unary kernels (and gelu's backward), one launcher for all:
// out = op(in), in broadcast to out's shape, any strides, out and in of one
// dtype (the op layer promotes integers to float32 for the float ops).
#pragma once

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

enum class UnaryOp {
  // every numeric dtype
  neg, abs, relu, sign, pow_scalar, clamp,
  // floating dtypes
  exp, log, log1p, sqrt, rsqrt, sin, cos, tanh, sigmoid, silu, gelu, gelu_tanh, softplus,
};

// The scalars some ops take: pow_scalar (a = exponent), clamp (a = lo,
// b = hi), softplus (a = beta, b = threshold).
struct UnaryScalars {
  double a = 0, b = 0;
};

void launch_unary(UnaryOp op, TensorArg out, TensorArg in, UnaryScalars s, cudaStream_t stream);

// grad_in = grad * gelu'(x); exact (erf) or tanh approximation.
void launch_gelu_backward(TensorArg grad_in, TensorArg grad, TensorArg x, bool tanh_approx,
                          cudaStream_t stream);

// slope = gelu'(x), the factor launch_gelu_backward multiplies grad by.
void launch_gelu_slope(TensorArg slope, TensorArg x, bool tanh_approx, cudaStream_t stream);

// y = gelu(x + bias), slope = gelu'(x + bias); bias broadcast to x's shape
// (linear_gelu's bias along the last dim). Two passes, as without a bias.
void launch_gelu_and_slope(TensorArg y, TensorArg slope, TensorArg x, TensorArg bias,
                           bool tanh_approx, cudaStream_t stream);

// grad_in = grad where y = relu(x) > 0 (or NaN), else 0.
void launch_relu_backward(TensorArg grad_in, TensorArg grad, TensorArg y, cudaStream_t stream);

}  // namespace dlt::gpu
