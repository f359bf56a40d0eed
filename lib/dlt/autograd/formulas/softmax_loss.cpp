// Backward formulas of softmax, log_softmax and the fused losses: each calls
// its fused backward kernel. Targets get no gradient.
#include "dlt/autograd/formula.h"
#include "dlt/ops/nn_backward.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {
namespace {

DLT_BACKWARD(softmax, kSaveOutputs) {
  const int64_t dim = ctx.attrs<ops::SoftmaxAttrs>().dim;
  return {ops::softmax_backward(ctx.grad(), ctx.output(0), dim)};
}

DLT_BACKWARD(log_softmax, kSaveOutputs) {
  const int64_t dim = ctx.attrs<ops::SoftmaxAttrs>().dim;
  return {ops::log_softmax_backward(ctx.grad(), ctx.output(0), dim)};
}

DLT_BACKWARD(cross_entropy, kSaveInputs) {
  const auto& attrs = ctx.attrs<ops::CrossEntropyAttrs>();
  return {ops::cross_entropy_backward(ctx.grad(), ctx.input(0), ctx.input(1), attrs), Tensor()};
}

// Only the target is kept; the log-probabilities' shape and dtype suffice.
constexpr Saves kSaveTarget{0b10, 0};
DLT_BACKWARD(nll_loss, kSaveTarget) {
  const auto& attrs = ctx.attrs<ops::NllAttrs>();
  return {ops::nll_loss_backward(ctx.grad(), ctx.input(1), ctx.input_shape(0),
                                 ctx.input_dtype(0), attrs),
          Tensor()};
}

}  // namespace
}  // namespace dlt::autograd
