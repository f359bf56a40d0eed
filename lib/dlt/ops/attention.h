// Beyond causal_attention itself (declared in ops.h): the head sizes its GPU
// kernels take, and the wrapper of its fused backward kernel, called by its
// autograd formula.
#pragma once

#include <optional>

#include "dlt/core/generator.h"
#include "dlt/core/tensor.h"
#include "dlt/ops/attrs.h"

namespace dlt::ops {

inline constexpr int64_t kMaxGpuAttentionHeadDim = 128;

struct AttentionForward {
  Tensor out;            // (B, H, T, D), stored as (B, T, H, D)
  Tensor lse;            // (B, H, T): what the backward kernel needs
  AttentionAttrs attrs;  // the scale and dropout mask used
};

// causal_attention (ops.h) with the row log-sum-exps its backward needs, for
// callers that attach their own backward (autograd/function.h); records
// history like causal_attention when grad mode is on.
AttentionForward causal_attention_with_lse(const Tensor& q, const Tensor& k, const Tensor& v,
                                           std::optional<double> scale = std::nullopt,
                                           double dropout = 0, Generator* gen = nullptr);

struct AttentionGrads {
  Tensor q, k, v;  // the shapes of q, k and v
};

// grad, q and out (B, H, T, D), k and v (B, Hkv, T, D), lse (B, H, T) and
// attrs as causal_attention saved and used them (lse: the log of each row's
// softmax denominator, scores already scaled). The gradients are new tensors,
// or are written into `into`'s tensors (views of the caller's buffer, unit
// stride along D).
AttentionGrads causal_attention_backward(const Tensor& grad, const Tensor& q, const Tensor& k,
                                         const Tensor& v, const Tensor& out, const Tensor& lse,
                                         const AttentionAttrs& attrs,
                                         const AttentionGrads* into = nullptr);

}  // namespace dlt::ops
