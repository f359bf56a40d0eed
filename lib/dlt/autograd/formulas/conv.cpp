// Backward formulas of conv2d and the pooling ops, through the fused
// backward kernels of the op list.
#include "dlt/autograd/formula.h"
#include "dlt/ops/conv_backward.h"

namespace dlt::autograd {
namespace {

// conv2d(x, weight, bias): dx needs the weight, dweight needs x; dbias only dy.
constexpr Saves kSaveInputAndWeight{.inputs = 0b011};

DLT_BACKWARD(conv2d, kSaveInputAndWeight) {
  const auto& attrs = ctx.attrs<ops::Conv2dAttrs>();
  const Tensor& dy = ctx.grad();
  Tensor dx;
  ops::Conv2dParamGrads params;
  if (ctx.needs(0)) dx = ops::conv2d_backward_input(dy, ctx.input(1), ctx.input_shape(0), attrs);
  // One oneDNN pass yields both parameter gradients.
  if (ctx.needs(1) || ctx.needs(2))
    params = ops::conv2d_backward_weight(dy, ctx.input(0), ctx.input_shape(1), ctx.needs(2), attrs);
  return {dx, ctx.needs(1) ? params.weight : Tensor(), params.bias};
}

// max_pool2d(x) -> (values, indices): the gradient goes to each window's argmax.
constexpr Saves kSaveIndices{.outputs = 0b10, .differentiable_outputs = 1};

DLT_BACKWARD(max_pool2d, kSaveIndices) {
  return {ops::max_pool2d_backward(ctx.grad(), ctx.output(1), ctx.input_shape(0),
                                   ctx.attrs<ops::Pool2dAttrs>())};
}

DLT_BACKWARD(avg_pool2d, kSaveNothing) {
  return {ops::avg_pool2d_backward(ctx.grad(), ctx.input_shape(0), ctx.attrs<ops::Pool2dAttrs>())};
}

DLT_BACKWARD(adaptive_avg_pool2d, kSaveNothing) {
  return {ops::adaptive_avg_pool2d_backward(ctx.grad(), ctx.input_shape(0))};
}

}  // namespace
}  // namespace dlt::autograd
