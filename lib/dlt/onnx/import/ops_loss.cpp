// ONNX's training losses: NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss, over (N, C) or (N, C, d1, ..., dk) inputs.
#include "dlt/onnx/import/op_registry.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {
namespace {

// -log_probs[n, target[n, ...], ...] weighted by weight[target] (0 where the
// target is ignore_index), reduced as `reduction` says; a weighted mean
// divides by the sum of the weights, as ONNX and torch do.
Tensor nll(const NodeContext& n, const Tensor& log_probs, const Tensor& target, const Tensor& weight) {
  const std::string reduction = n.attr_string("reduction", "mean");
  DLT_CHECK(reduction == "none" || reduction == "sum" || reduction == "mean",
            "{}: reduction must be none, sum or mean, got '{}'", n.where(), reduction);
  const Tensor t = target.to(DType::i64);
  Tensor keep = ones(t.shape(), TensorOptions(DType::boolean).device(t.device()));
  if (n.has_attr("ignore_index")) keep = ne(t, wrap_scalar(n.attr_int("ignore_index"), t));
  const Tensor safe = where(keep, t, wrap_scalar(0, t));  // an ignored target may be out of range
  const Tensor picked = gather(log_probs, 1, safe.unsqueeze(1)).squeeze(1);  // (N, d...)
  Tensor w = keep.to(log_probs.dtype());
  if (weight.defined()) w = w * index_select(weight, 0, safe.reshape({-1})).reshape(t.shape());
  const Tensor loss = neg(picked) * w;
  if (reduction == "none") return loss;
  if (reduction == "sum") return sum(loss);
  return sum(loss) / sum(w);
}

DLT_ONNX_OP(NegativeLogLikelihoodLoss, [](NodeContext& n) {
  return outs(nll(n, n.input(0), n.input(1), n.has_input(2) ? n.input(2) : Tensor()));
});

DLT_ONNX_OP(SoftmaxCrossEntropyLoss, [](NodeContext& n) {
  const Tensor log_probs = log_softmax(n.input(0), 1);
  std::vector<Tensor> results{nll(n, log_probs, n.input(1), n.has_input(2) ? n.input(2) : Tensor())};
  if (n.wants_output(1)) results.push_back(log_probs);
  return results;
});

}  // namespace
}  // namespace dlt::onnx_import
