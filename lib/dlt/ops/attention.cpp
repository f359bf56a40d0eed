// causal_attention: argument checks, output allocation and its backward wrapper.
#include <cmath>

#include "dlt/ops/attention.h"
#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

TensorOptions like(const Tensor& t, DType dtype) { return TensorOptions(dtype).device(t.device()); }

// The per-row logsumexp is float64 for float64 inputs and float32 otherwise
// (the accumulation type of f16/bf16).
DType lse_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

// Kernels index B, H and T by strides and read D contiguously, so views such
// as the heads of a fused qkv projection reach them without a copy.
Tensor unit_inner_stride(const Tensor& t) {
  return t.size(3) <= 1 || t.stride(3) == 1 ? t : t.contiguous();
}

// An uninitialised (B, H, T, D) tensor stored as (B, T, H, D): the layers
// put the heads side by side again, (B, T, H * D), which is then a view.
Tensor heads_last(const Shape& bhtd, const TensorOptions& options) {
  return empty({bhtd[0], bhtd[2], bhtd[1], bhtd[3]}, options).permute({0, 2, 1, 3});
}

}  // namespace

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                        std::optional<double> scale, double dropout, Generator* gen) {
  return ops::causal_attention_with_lse(q, k, v, scale, dropout, gen).out;
}

namespace ops {

AttentionForward causal_attention_with_lse(const Tensor& q, const Tensor& k, const Tensor& v,
                                           std::optional<double> scale, double dropout,
                                           Generator* gen) {
  DLT_CHECK(q.defined() && k.defined() && v.defined(), "causal_attention: undefined input tensor");
  if (const auto c = autocast<3>(OpId::causal_attention, {q, k, v}))
    return causal_attention_with_lse((*c)[0], (*c)[1], (*c)[2], scale, dropout, gen);
  DLT_CHECK(q.dim() == 4, "causal_attention: expected q of shape (B, H, T, D), got {}",
            shape_str(q.shape()));
  // Grouped-query attention: k and v may have fewer heads, Hkv dividing H.
  DLT_CHECK(k.dim() == 4 && k.shape() == v.shape() && k.size(0) == q.size(0) &&
                k.size(1) >= 1 && q.size(1) % k.size(1) == 0 && k.size(2) == q.size(2) &&
                k.size(3) == q.size(3),
            "causal_attention: expected q (B, H, T, D) and k, v (B, Hkv, T, D) with Hkv dividing "
            "H, got q {}, k {}, v {}",
            shape_str(q.shape()), shape_str(k.shape()), shape_str(v.shape()));
  DLT_CHECK(is_floating(q.dtype()) && k.dtype() == q.dtype() && v.dtype() == q.dtype(),
            "causal_attention expects q, k and v of one floating point dtype, got {}, {} and {}",
            q.dtype(), k.dtype(), v.dtype());
  DLT_CHECK(q.size(3) >= 1, "causal_attention: head size D must be at least 1, got q of shape {}",
            shape_str(q.shape()));
  const double s = scale.value_or(1.0 / std::sqrt(double(q.size(3))));
  DLT_CHECK(std::isfinite(s), "causal_attention: scale must be finite, got {}", s);
  DLT_CHECK(dropout >= 0 && dropout < 1, "causal_attention: dropout must be in [0, 1), got {}", dropout);
  DLT_CHECK(dropout == 0 || q.device().type == DeviceType::cpu,
            "causal_attention: dropout on the attention weights runs on the CPU only, not on {} "
            "(MultiHeadAttention takes its unfused path there)",
            q.device());
  ops::AttentionAttrs attrs{s};
  if (dropout > 0) {
    // The counters dropout(weights) would take for the (B, H, T, T) weights.
    const int64_t weights = q.size(0) * q.size(1) * q.size(2) * q.size(2);
    const DrawPosition at = reserve_draw(gen, uint64_t(weights));
    attrs = {s, dropout, at.seed, at.offset};
  }
  const Shape rows(q.shape().begin(), q.shape().end() - 1);  // (B, H, T)
  Tensor ins[] = {unit_inner_stride(q), unit_inner_stride(k), unit_inner_stride(v)};
  Tensor outs[] = {heads_last(q.shape(), like(q, q.dtype())),
                   empty(rows, like(q, lse_dtype(q.dtype())))};
  ops::run(OpId::causal_attention, ins, outs, &attrs);
  return {outs[0], outs[1], attrs};
}

AttentionGrads causal_attention_backward(const Tensor& grad, const Tensor& q, const Tensor& k,
                                         const Tensor& v, const Tensor& out, const Tensor& lse,
                                         const AttentionAttrs& attrs, const AttentionGrads* into) {
  Tensor ins[] = {unit_inner_stride(grad.to(q.dtype())), unit_inner_stride(q), unit_inner_stride(k),
                  unit_inner_stride(v), unit_inner_stride(out), lse.contiguous()};
  const auto grad_of = [&](const Tensor& x, const Tensor* given) {
    if (!given) return heads_last(x.shape(), like(q, q.dtype()));
    DLT_CHECK(given->shape() == x.shape() && given->dtype() == q.dtype() &&
                  given->device() == q.device() && (x.size(3) <= 1 || given->stride(3) == 1),
              "causal_attention_backward: expected a {} {} gradient buffer on {} with unit "
              "stride along D, got {} {} on {}",
              q.dtype(), shape_str(x.shape()), q.device(), given->dtype(),
              shape_str(given->shape()), given->device());
    return *given;
  };
  Tensor outs[] = {grad_of(q, into ? &into->q : nullptr), grad_of(k, into ? &into->k : nullptr),
                   grad_of(v, into ? &into->v : nullptr)};
  run(OpId::causal_attention_backward, ins, outs, &attrs);
  return {outs[0], outs[1], outs[2]};
}

}  // namespace ops
}  // namespace dlt
