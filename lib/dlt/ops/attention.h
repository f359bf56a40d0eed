// Beyond causal_attention itself (declared in ops.h): the head sizes its GPU
// kernels take, and the wrapper of its fused backward kernel, called by its
// autograd formula.
#pragma once

#include "dlt/core/tensor.h"

namespace dlt::ops {

inline constexpr int64_t kMaxGpuAttentionHeadDim = 128;

struct AttentionGrads {
  Tensor q, k, v;  // (B, H, T, D) each
};

// grad, q, k, v and out (B, H, T, D), lse (B, H, T) as causal_attention saved
// them (the log of each row's softmax denominator, scores already scaled).
AttentionGrads causal_attention_backward(const Tensor& grad, const Tensor& q, const Tensor& k,
                                         const Tensor& v, const Tensor& out, const Tensor& lse,
                                         double scale);

}  // namespace dlt::ops
