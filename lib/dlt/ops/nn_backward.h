// Fused backward kernels of the losses, called by their autograd formulas
// (softmax_backward and log_softmax_backward are declared in ops.h).
#pragma once

#include "dlt/core/tensor.h"
#include "dlt/ops/attrs.h"

namespace dlt::ops {

// d cross_entropy / d logits: (softmax(logits) - smoothed one-hot(target)) * g,
// divided by the number of non-ignored targets for a mean. grad is 0-dim
// (mean, sum) or the target's shape (none).
Tensor cross_entropy_backward(const Tensor& grad, const Tensor& logits, const Tensor& target,
                              const CrossEntropyAttrs& attrs);

// d nll_loss / d log_probs: -g at each target class, 0 elsewhere. Needs only
// the target and the input's shape and dtype.
Tensor nll_loss_backward(const Tensor& grad, const Tensor& target, const Shape& input_shape,
                         DType input_dtype, const NllAttrs& attrs);

}  // namespace dlt::ops
