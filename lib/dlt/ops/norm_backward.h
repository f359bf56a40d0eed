// Backward helpers of the normalisation and embedding ops: thin wrappers
// over their fused Backward kernels, called by the autograd formulas.
#pragma once

#include <array>

#include "dlt/core/tensor.h"

namespace dlt::ops {

// Gradients of an op with (input, weight, bias); undefined where not asked for.
struct AffineGrads {
  Tensor input, weight, bias;
};
// Which of (input, weight, bias) to compute.
using GradMask = std::array<bool, 3>;

// grad and x (*, normalized dims), mean and rstd as layer_norm saved them,
// weight (normalized dims) or undefined.
AffineGrads layer_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& mean,
                                const Tensor& rstd, const Tensor& weight,
                                int64_t normalized_ndim, GradMask need);

// grad and x (*, normalized dims), rstd as rms_norm saved it, weight
// (normalized dims) or undefined; need[2] (bias) is ignored.
AffineGrads rms_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& rstd,
                              const Tensor& weight, int64_t normalized_ndim, GradMask need);

// grad and x (B, C, ...), weight (C) or undefined, the statistics batch_norm
// saved (batch ones in training, running ones in eval).
AffineGrads batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                                const Tensor& save_mean, const Tensor& save_invstd, bool training,
                                GradMask need);

// grad (*, C) for integer indices (*) -> grad_weight (num_weights, C); the
// padding_idx row (if >= 0) gets zeros.
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          int64_t padding_idx);

}  // namespace dlt::ops
