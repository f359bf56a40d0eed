// Elementwise binary and ternary kernels with broadcasting (inputs broadcast
// to out's shape, any strides). Arithmetic inputs share out's dtype (the op
// layer casts them); comparisons write bool; where/masked_fill take a bool mask.
#pragma once

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

// add/sub: out = a (+/-) alpha * b; the others ignore alpha.
enum class BinaryOp { add, sub, mul, div, pow, maximum, minimum };
void launch_binary(BinaryOp op, TensorArg out, TensorArg a, TensorArg b, double alpha,
                   cudaStream_t stream);

// out (bool) = a (cmp) b, a and b of one dtype.
enum class CompareOp { eq, ne, lt, le, gt, ge };
void launch_compare(CompareOp op, TensorArg out, TensorArg a, TensorArg b, cudaStream_t stream);

// out = cond ? a : b.
void launch_where(TensorArg out, TensorArg cond, TensorArg a, TensorArg b, cudaStream_t stream);

// out = mask ? value : x.
void launch_masked_fill(TensorArg out, TensorArg x, TensorArg mask, double value,
                        cudaStream_t stream);

}  // namespace dlt::gpu
