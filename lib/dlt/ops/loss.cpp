// Losses. cross_entropy and nll_loss run fused kernels (one pass computes the
// log-sum-exp and the loss of each row); mse_loss and
// binary_cross_entropy_with_logits are composites of other ops.
#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/nn_backward.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

TensorOptions like(const Tensor& t) { return TensorOptions(t.dtype()).device(t.device()); }

// input (B, N, d...) or unbatched (N); target (B, d...) or (): the input's
// shape without the class dim 1.
Shape class_target_shape(const Shape& input) {
  Shape s = input;
  s.erase(s.begin() + (s.size() == 1 ? 0 : 1));
  return s;
}

void check_class_target(const char* op, const Tensor& input, const Tensor& target) {
  DLT_CHECK(input.defined() && target.defined(), "{}: undefined input or target", op);
  DLT_CHECK(input.dim() >= 1, "{}: the input needs a class dimension, got a 0-dim tensor", op);
  DLT_CHECK(is_floating(input.dtype()), "{}: expected a floating point input, got {}", op,
            input.dtype());
  DLT_CHECK(target.dtype() == DType::i64,
            "{}: target must be an int64 tensor of class indices, got {} (probability targets "
            "are not supported)",
            op, target.dtype());
  const Shape expected = class_target_shape(input.shape());
  DLT_CHECK(target.shape() == expected,
            "{}: target of shape {} does not match input of shape {} (expected target shape {})",
            op, shape_str(target.shape()), shape_str(input.shape()), shape_str(expected));
}

Shape loss_shape(Reduction reduction, const Tensor& target) {
  return reduction == Reduction::none ? target.shape() : Shape{};
}

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::none: return loss;
    case Reduction::mean: return mean(loss);
    case Reduction::sum: return sum(loss);
  }
  throw InternalError("bad reduction");
}

void check_same_floating(const char* op, const Tensor& input, const Tensor& target) {
  DLT_CHECK(input.defined() && target.defined(), "{}: undefined input or target", op);
  DLT_CHECK(is_floating(input.dtype()) && input.dtype() == target.dtype(),
            "{}: expected floating point input and target of one dtype, got {} and {}", op,
            input.dtype(), target.dtype());
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index,
                     double label_smoothing, Reduction reduction) {
  if (const auto c = ops::autocast<1>(OpId::cross_entropy, {logits}))
    return cross_entropy((*c)[0], target, ignore_index, label_smoothing, reduction);
  check_class_target("cross_entropy", logits, target);
  DLT_CHECK(label_smoothing >= 0 && label_smoothing <= 1,
            "cross_entropy: label_smoothing must be in [0, 1], got {}", label_smoothing);
  const ops::CrossEntropyAttrs attrs{ignore_index, label_smoothing, reduction};
  Tensor ins[] = {logits.contiguous(), target.contiguous()};
  Tensor outs[] = {empty(loss_shape(reduction, target), like(logits))};
  ops::run(OpId::cross_entropy, ins, outs, &attrs);
  return outs[0];
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, int64_t ignore_index,
                Reduction reduction) {
  if (const auto c = ops::autocast<1>(OpId::nll_loss, {log_probs}))
    return nll_loss((*c)[0], target, ignore_index, reduction);
  check_class_target("nll_loss", log_probs, target);
  const ops::NllAttrs attrs{ignore_index, reduction};
  Tensor ins[] = {log_probs.contiguous(), target.contiguous()};
  Tensor outs[] = {empty(loss_shape(reduction, target), like(log_probs))};
  ops::run(OpId::nll_loss, ins, outs, &attrs);
  return outs[0];
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  if (const auto c = ops::autocast<2>(OpId::mse_loss, {input, target})) return mse_loss((*c)[0], (*c)[1], reduction);
  check_same_floating("mse_loss", input, target);
  const Tensor diff = input - target;
  return reduce(diff * diff, reduction);
}

// max(x, 0) - x t + log(1 + exp(-|x|)): no exp of a large positive number.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
  if (const auto c = ops::autocast<2>(OpId::bce_with_logits, {logits, target}))
    return binary_cross_entropy_with_logits((*c)[0], (*c)[1], reduction);
  check_same_floating("binary_cross_entropy_with_logits", logits, target);
  DLT_CHECK(logits.shape() == target.shape(),
            "binary_cross_entropy_with_logits: target of shape {} must have the input's shape {}",
            shape_str(target.shape()), shape_str(logits.shape()));
  return reduce(relu(logits) - logits * target + log1p(exp(-abs(logits))), reduction);
}

namespace ops {

Tensor cross_entropy_backward(const Tensor& grad, const Tensor& logits, const Tensor& target,
                              const CrossEntropyAttrs& attrs) {
  Tensor ins[] = {grad.to(logits.dtype()).contiguous(), logits.contiguous(), target.contiguous()};
  Tensor outs[] = {empty(logits.shape(), like(logits))};
  run(OpId::cross_entropy_backward, ins, outs, &attrs);
  return outs[0];
}

Tensor nll_loss_backward(const Tensor& grad, const Tensor& target, const Shape& input_shape,
                         DType input_dtype, const NllAttrs& attrs) {
  Tensor ins[] = {grad.to(input_dtype).contiguous(), target.contiguous()};
  Tensor outs[] = {empty(input_shape, TensorOptions(input_dtype).device(grad.device()))};
  run(OpId::nll_loss_backward, ins, outs, &attrs);
  return outs[0];
}

}  // namespace ops
}  // namespace dlt
