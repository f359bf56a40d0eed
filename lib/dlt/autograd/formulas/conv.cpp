// Backward formulas of conv2d, conv_transpose2d and the pooling ops, through the fused
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

// conv_transpose2d(x, weight, bias) is y = conv2d_backward_input(x, weight) +
// bias, linear in x and in weight, so by adjointness:
//   dx      = conv2d(dy, weight)                  (conv2d is its adjoint)
//   dweight = conv2d_backward_weight(x, dy)       (conv2d's weight gradient with
//             x as the output gradient and dy as the input)
//   dbias   = dy summed over everything but the channel dim
DLT_BACKWARD(conv_transpose2d, kSaveInputAndWeight) {
  const auto& attrs = ctx.attrs<ops::ConvTranspose2dAttrs>();
  const ops::Conv2dAttrs conv = attrs.conv();
  const Tensor& dy = ctx.grad();
  Tensor dx, dweight, dbias;
  if (ctx.needs(0))
    dx = conv2d(dy, ctx.input(1), Tensor(), conv.stride, conv.padding, conv.dilation, conv.groups);
  if (ctx.needs(1))
    dweight = ops::conv2d_backward_weight(ctx.input(0), dy, ctx.input_shape(1), false, conv).weight;
  if (ctx.needs(2)) {
    const bool batched = dy.dim() == 4;
    dbias = batched ? sum(dy, {0, 2, 3}) : sum(dy, {1, 2});
  }
  return {dx, dweight, dbias};
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
