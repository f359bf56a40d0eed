// Backward formulas of normalisation, dropout and embedding. Layer, RMS and
// batch norm call their fused backward kernels; dropout reuses its mask.
#include "dlt/autograd/formula.h"
#include "dlt/ops/norm_backward.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {
namespace {

using V = std::vector<Tensor>;

// Inputs (x, weight, bias); outputs (y, mean, rstd) of which only y is differentiable.
DLT_BACKWARD(layer_norm, (Saves{0b011, 0b110, 1})) {
  const Tensor weight = ctx.input_defined(1) ? ctx.input(1) : Tensor();
  const auto g = ops::layer_norm_backward(
      ctx.grad(), ctx.input(0), ctx.output(1), ctx.output(2), weight,
      ctx.attrs<ops::LayerNormAttrs>().normalized_ndim,
      {ctx.needs(0), ctx.needs(1) && weight.defined(), ctx.needs(2) && ctx.input_defined(2)});
  return {g.input, g.weight, g.bias};
}

// Inputs (x, weight); outputs (y, rstd) of which only y is differentiable.
DLT_BACKWARD(rms_norm, (Saves{0b11, 0b10, 1})) {
  const Tensor weight = ctx.input_defined(1) ? ctx.input(1) : Tensor();
  const auto g = ops::rms_norm_backward(ctx.grad(), ctx.input(0), ctx.output(1), weight,
                                        ctx.attrs<ops::LayerNormAttrs>().normalized_ndim,
                                        {ctx.needs(0), ctx.needs(1) && weight.defined(), false});
  return {g.input, g.weight};
}

// Inputs (x, running_mean, running_var, weight, bias); outputs (y,
// save_mean, save_invstd). The running statistics get no gradient.
DLT_BACKWARD(batch_norm, (Saves{0b01001, 0b110, 1})) {
  const Tensor weight = ctx.input_defined(3) ? ctx.input(3) : Tensor();
  const auto g = ops::batch_norm_backward(
      ctx.grad(), ctx.input(0), weight, ctx.output(1), ctx.output(2),
      ctx.attrs<ops::BatchNormAttrs>().training,
      {ctx.needs(0), ctx.needs(3) && weight.defined(), ctx.needs(4) && ctx.input_defined(4)});
  return {g.input, Tensor(), Tensor(), g.weight, g.bias};
}

// Outputs (y, mask): the gradient flows where the mask kept an element,
// scaled like the forward. p = 1 keeps nothing (and has no finite scale).
DLT_BACKWARD(dropout, (Saves{0, 0b10, 1})) {
  const double p = ctx.attrs<ops::DropoutAttrs>().p;
  if (p >= 1) return {zeros_like(ctx.grad())};
  return {ctx.grad() * ctx.output(1) * (1.0 / (1.0 - p))};
}

// Inputs (weight, indices): rows of the weight gather the gradients of
// every position that picked them.
DLT_BACKWARD(embedding, (Saves{0b10, 0})) {
  const auto& a = ctx.attrs<ops::EmbeddingAttrs>();
  return {ops::embedding_backward(ctx.grad(), ctx.input(1), a.num_weights, a.padding_idx), Tensor()};
}

}  // namespace
}  // namespace dlt::autograd
