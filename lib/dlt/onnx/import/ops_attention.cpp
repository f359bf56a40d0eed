// ONNX Attention (opsets 23 and 24): softmax(Q K^T * scale + bias) V with
// grouped key/value heads, a KV cache (past_key / past_value), a boolean or
// additive mask, causal masking aligned to the top left, softcap and the
// optional QK output. Q (B, Hq, Sq, D) or (B, Sq, Hq*D) with q_num_heads.
#include <cmath>
#include <limits>

#include "dlt/onnx/import/op_registry.h"
#include "dlt/onnx/proto.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {
namespace {

// (B, S, H*D) -> (B, H, S, D).
Tensor split_heads(const Tensor& t, int64_t heads) {
  return t.reshape({t.size(0), t.size(1), heads, -1}).transpose(1, 2);
}

DLT_ONNX_OP(Attention, [](NodeContext& n) {
  Tensor q = n.input(0), k = n.input(1), v = n.input(2);
  const bool three_d = q.dim() == 3;
  if (three_d) {
    const int64_t hq = n.attr_int("q_num_heads"), hkv = n.attr_int("kv_num_heads");
    q = split_heads(q, hq);
    k = split_heads(k, hkv);
    v = split_heads(v, hkv);
  }
  DLT_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "{}: Q, K and V must be 3-D or 4-D", n.where());
  const double inf = std::numeric_limits<double>::infinity();
  const double scale = n.has_attr("scale") ? n.attr_float("scale") : 1.0 / std::sqrt(double(q.size(3)));
  const int64_t past = n.has_input(4) ? n.input(4).size(2) : 0;
  if (n.has_input(4)) k = cat({n.input(4), k}, 2);
  if (n.has_input(5)) v = cat({n.input(5), v}, 2);
  const Tensor present_key = k, present_value = v;
  const int64_t sq = q.size(2), skv = k.size(2);
  const TensorOptions opts = TensorOptions(q.dtype()).device(q.device());

  // The additive bias (Sq, Skv) or broadcastable to (B, H, Sq, Skv).
  Tensor bias = zeros({sq, skv}, opts);
  if (n.has_input(3)) {
    Tensor mask = n.input(3);
    const int64_t short_by = skv - mask.size(-1);  // a shorter mask is padded with "masked"
    if (mask.dtype() == DType::boolean) {
      if (short_by > 0) {
        Shape pad_shape = mask.shape();
        pad_shape.back() = short_by;
        mask = cat({mask, zeros(pad_shape, TensorOptions(DType::boolean).device(mask.device()))}, -1);
      }
      bias = where(mask, bias, full({}, Scalar(-inf), opts));
    } else {
      if (short_by > 0) {
        Shape pad_shape = mask.shape();
        pad_shape.back() = short_by;
        mask = cat({mask, full(pad_shape, Scalar(-inf), TensorOptions(mask.dtype()).device(mask.device()))}, -1);
      }
      bias = add(bias, mask.to(q.dtype()));
    }
  }
  if (n.attr_int("is_causal", 0)) {
    // Query i sees keys j <= past + i: -inf above that diagonal.
    const Tensor rows = arange(sq, TensorOptions(DType::i64).device(q.device())).reshape({sq, 1});
    const Tensor cols = arange(skv, TensorOptions(DType::i64).device(q.device())).reshape({1, skv});
    bias = add(bias, where(gt(cols, rows + past), full({}, Scalar(-inf), opts), zeros({}, opts)));
  }
  if (n.has_input(6)) {
    // nonpad_kv_seqlen (B): keys at or past a sequence's length are padding.
    const Tensor lengths = n.input(6).to(DType::i64).reshape({-1, 1, 1, 1});
    const Tensor positions = arange(skv, TensorOptions(DType::i64).device(q.device())).reshape({1, 1, 1, skv});
    bias = add(bias, where(lt(positions, lengths), zeros({}, opts), full({}, Scalar(-inf), opts)));
  }
  // Grouped heads: each key/value head serves Hq / Hkv query heads in a row.
  const int64_t hq = q.size(1), hkv = k.size(1);
  if (hq != hkv) {
    DLT_CHECK(hq % hkv == 0, "{}: {} query heads for {} key/value heads", n.where(), hq, hkv);
    const auto repeat = [&](const Tensor& t) {
      return t.unsqueeze(2).expand({t.size(0), hkv, hq / hkv, t.size(2), t.size(3)}).reshape({t.size(0), hq, t.size(2), t.size(3)});
    };
    k = repeat(k);
    v = repeat(v);
  }
  Tensor qk = matmul(q, k.transpose(2, 3)) * scale;  // (B, H, Sq, Skv)
  const double softcap = n.attr_float("softcap", 0.0);
  if (softcap > 0) qk = tanh(qk / softcap) * softcap;
  Tensor with_bias = add(qk, bias);
  const int64_t mode = n.attr_int("qk_matmul_output_mode", 0);
  Tensor scores = with_bias;
  if (n.has_attr("softmax_precision")) {
    const auto dtype = onnx_io::dtype_from_onnx(static_cast<int32_t>(n.attr_int("softmax_precision")));
    DLT_ONNX_SUPPORTED(dtype, "{}: softmax_precision type {}", n.where(), n.attr_int("softmax_precision"));
    scores = scores.to(*dtype);
  }
  const Tensor probs = softmax(scores, -1).to(q.dtype());
  Tensor y = matmul(probs, v);  // (B, H, Sq, Dv)
  if (three_d) y = y.transpose(1, 2).reshape({y.size(0), sq, -1});
  const Tensor qk_out = mode == 2 ? with_bias : mode == 3 ? probs : qk;
  return std::vector<Tensor>{y, present_key, present_value, qk_out};
});

}  // namespace
}  // namespace dlt::onnx_import
