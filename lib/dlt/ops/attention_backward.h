// The fused backward kernel of causal_attention, called by its autograd formula.
#pragma once

#include "dlt/core/tensor.h"

namespace dlt::ops {

struct AttentionGrads {
  Tensor q, k, v;  // (B, H, T, D) each
};

// grad, q, k, v and out (B, H, T, D), lse (B, H, T) as causal_attention saved
// them (the log of each row's softmax denominator, scores already scaled).
AttentionGrads causal_attention_backward(const Tensor& grad, const Tensor& q, const Tensor& k,
                                         const Tensor& v, const Tensor& out, const Tensor& lse,
                                         double scale);

}  // namespace dlt::ops
