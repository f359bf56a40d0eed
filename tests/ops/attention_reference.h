// The unfused causal attention (matmul, mask, softmax, matmul: every step an
// autograd op) that the fused causal_attention op is checked against, and a
// helper running either with a backward pass.
#pragma once

#include <cmath>
#include <limits>

#include "dlt/ops/ops.h"

namespace dlt::testing {

// k or v (B, Hkv, T, D) repeated for each of the H / Hkv query heads that
// share it: (B, H, T, D), head h a copy of head h / (H / Hkv).
inline Tensor repeat_kv(const Tensor& kv, int64_t heads) {
  const int64_t b = kv.size(0), kv_heads = kv.size(1), t = kv.size(2), d = kv.size(3);
  if (kv_heads == heads) return kv;
  return kv.unsqueeze(2).expand({b, kv_heads, heads / kv_heads, t, d}).reshape({b, heads, t, d});
}

// dropout(softmax(q k^T * scale, position t attending to positions <= t)) v;
// q (B, H, T, D), k and v (B, Hkv, T, D) with Hkv dividing H.
inline Tensor unfused_causal_attention(const Tensor& q, const Tensor& k_heads,
                                       const Tensor& v_heads, double scale, double dropout_p = 0,
                                       Generator* gen = nullptr) {
  const Tensor k = repeat_kv(k_heads, q.size(1)), v = repeat_kv(v_heads, q.size(1));
  const int64_t t = q.size(2);
  const Tensor future = triu(ones({t, t}, TensorOptions(DType::boolean).device(q.device())), 1);
  const Tensor scores = masked_fill(matmul(q, k.transpose(-2, -1)) * scale, future,
                                    -std::numeric_limits<double>::infinity());
  return matmul(dropout(softmax(scores, -1), dropout_p, true, gen), v);
}

struct AttentionRun {
  Tensor out, dq, dk, dv;
};

// Forward, then backward of upstream (B, H, T, D) through the fused op or the
// unfused reference, from copies of q, k, v that require grad; dropout p on
// the weights draws from a generator seeded with dropout_seed.
inline AttentionRun run_attention(bool fused, const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& upstream, double dropout_p = 0,
                                  uint64_t dropout_seed = 0) {
  const double scale = 1.0 / std::sqrt(double(q.size(3)));
  Tensor qg = q.detach().requires_grad_(), kg = k.detach().requires_grad_(),
         vg = v.detach().requires_grad_();
  Generator gen(dropout_seed);
  const Tensor out = fused ? causal_attention(qg, kg, vg, std::nullopt, dropout_p, &gen)
                           : unfused_causal_attention(qg, kg, vg, scale, dropout_p, &gen);
  out.backward(upstream);
  return {out.detach(), qg.grad(), kg.grad(), vg.grad()};
}

}  // namespace dlt::testing
