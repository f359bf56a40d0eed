// Backward formulas of the elementwise ops. Binary ops sum the gradient
// back over broadcast dimensions (sum_to).
#include "dlt/autograd/formula.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {
namespace {

using V = std::vector<Tensor>;

DLT_BACKWARD(neg, kSaveNothing) { return {-ctx.grad()}; }
DLT_BACKWARD(abs, kSaveInputs) { return {ctx.grad() * sign(ctx.input(0))}; }
DLT_BACKWARD(exp, kSaveOutputs) { return {ctx.grad() * ctx.output(0)}; }
DLT_BACKWARD(log, kSaveInputs) { return {ctx.grad() / ctx.input(0)}; }
DLT_BACKWARD(log1p, kSaveInputs) { return {ctx.grad() / (ctx.input(0) + 1)}; }
DLT_BACKWARD(sqrt, kSaveOutputs) { return {ctx.grad() / (ctx.output(0) * 2)}; }
// d/dx x^-1/2 = -1/2 y^3
DLT_BACKWARD(rsqrt, kSaveOutputs) {
  const Tensor& y = ctx.output(0);
  return {ctx.grad() * y * y * y * -0.5};
}
DLT_BACKWARD(sin, kSaveInputs) { return {ctx.grad() * cos(ctx.input(0))}; }
DLT_BACKWARD(cos, kSaveInputs) { return {-(ctx.grad() * sin(ctx.input(0)))}; }
DLT_BACKWARD(tanh, kSaveOutputs) {
  const Tensor& y = ctx.output(0);
  return {ctx.grad() * (1 - y * y)};
}
DLT_BACKWARD(sigmoid, kSaveOutputs) {
  const Tensor& y = ctx.output(0);
  return {ctx.grad() * y * (1 - y)};
}
// One fused pass; masked_fill(grad, y <= 0, 0) would make a bool mask first.
DLT_BACKWARD(relu, kSaveOutputs) { return {ops::relu_backward(ctx.grad(), ctx.output(0))}; }
DLT_BACKWARD(gelu, kSaveInputs) {
  return {ops::gelu_backward(ctx.grad(), ctx.input(0), ctx.attrs<ops::GeluAttrs>().tanh_approx)};
}
// Inputs (x, bias or undefined), outputs (value, slope): the slope output is
// gelu'(x + bias), saved in place of x; the bias's gradient is summed in the
// pass that multiplies by it.
DLT_BACKWARD(gelu_and_slope, (Saves{0, 0b10, 1})) {
  if (!ctx.needs(1)) return {ctx.grad() * ctx.output(1), Tensor()};
  const ops::GeluBiasGrads g = ops::gelu_bias_backward(ctx.grad(), ctx.output(1));
  return {ctx.needs(0) ? g.x : Tensor(), g.bias};
}
// d/dx x s(x) = s + x s (1 - s)
DLT_BACKWARD(silu, kSaveInputs) {
  const Tensor& x = ctx.input(0);
  const Tensor s = sigmoid(x);
  return {ctx.grad() * s * (1 + x * (1 - s))};
}
// Linear region above the threshold has slope 1; elsewhere sigmoid(beta x).
DLT_BACKWARD(softplus, kSaveInputs) {
  const auto& a = ctx.attrs<ops::SoftplusAttrs>();
  const Tensor& x = ctx.input(0);
  const Tensor slope = sigmoid(x * a.beta);
  return {ctx.grad() * where(gt(x * a.beta, wrap_scalar(a.threshold, x)), ones_like(x), slope)};
}
DLT_BACKWARD(pow_scalar, kSaveInputs) {
  const double e = ctx.attrs<ops::ScalarAttrs>().value;
  if (e == 0) return {zeros_like(ctx.grad())};
  return {ctx.grad() * pow(ctx.input(0), e - 1) * e};
}
// Gradient passes where the input was inside [lo, hi].
DLT_BACKWARD(clamp, kSaveInputs) {
  const auto& a = ctx.attrs<ops::ClampAttrs>();
  const Tensor& x = ctx.input(0);
  const Tensor below = lt(x, wrap_scalar(a.lo, x)), above = gt(x, wrap_scalar(a.hi, x));
  return {masked_fill(masked_fill(ctx.grad(), below, 0), above, 0)};
}
DLT_BACKWARD(sign, kSaveNothing) { return {zeros_like(ctx.grad())}; }

DLT_BACKWARD(add, kSaveNothing) {
  const double alpha = ctx.attrs<ops::AlphaAttrs>().alpha;
  const Tensor& g = ctx.grad();
  return {ctx.needs(0) ? sum_to(g, ctx.input_shape(0)) : Tensor(),
          ctx.needs(1) ? sum_to(alpha == 1 ? g : g * alpha, ctx.input_shape(1)) : Tensor()};
}
DLT_BACKWARD(sub, kSaveNothing) {
  const double alpha = ctx.attrs<ops::AlphaAttrs>().alpha;
  const Tensor& g = ctx.grad();
  return {ctx.needs(0) ? sum_to(g, ctx.input_shape(0)) : Tensor(),
          ctx.needs(1) ? sum_to(g * -alpha, ctx.input_shape(1)) : Tensor()};
}
DLT_BACKWARD(mul, kSaveInputs) {
  const Tensor& g = ctx.grad();
  return {ctx.needs(0) ? sum_to(g * ctx.input(1), ctx.input_shape(0)) : Tensor(),
          ctx.needs(1) ? sum_to(g * ctx.input(0), ctx.input_shape(1)) : Tensor()};
}
DLT_BACKWARD(div, kSaveInputs) {
  const Tensor& g = ctx.grad();
  const Tensor& b = ctx.input(1);
  const Tensor ga = g / b;
  return {ctx.needs(0) ? sum_to(ga, ctx.input_shape(0)) : Tensor(),
          ctx.needs(1) ? sum_to(-(ga * ctx.input(0) / b), ctx.input_shape(1)) : Tensor()};
}
// d/da a^b = b a^(b-1) (0 where b == 0); d/db a^b = a^b log a (0 where
// a == 0 and b >= 0), both as torch.
DLT_BACKWARD(pow, kSaveAll) {
  const Tensor& g = ctx.grad();
  const Tensor &a = ctx.input(0), &b = ctx.input(1), &y = ctx.output(0);
  const Tensor zero = wrap_scalar(0, a);
  Tensor ga, gb;
  if (ctx.needs(0)) ga = sum_to(masked_fill(g * b * pow(a, b - 1), eq(b, zero), 0), ctx.input_shape(0));
  if (ctx.needs(1)) {
    const Tensor a_zero = masked_fill(eq(a, zero), lt(b, zero), false);
    gb = sum_to(masked_fill(g * y * log(a), a_zero, 0), ctx.input_shape(1));
  }
  return {ga, gb};
}
// Ties split the gradient evenly, as torch.
V minmax_backward(const BackwardContext& ctx, bool is_max) {
  const Tensor& g = ctx.grad();
  const Tensor &a = ctx.input(0), &b = ctx.input(1);
  const Tensor a_wins = is_max ? gt(a, b) : lt(a, b);
  const Tensor tie = eq(a, b);
  const Tensor half = g * 0.5;
  const Tensor zero = zeros_like(g);
  Tensor ga, gb;
  if (ctx.needs(0))
    ga = sum_to(where(a_wins, g, where(tie, half, zero)), ctx.input_shape(0));
  if (ctx.needs(1))
    gb = sum_to(where(a_wins, zero, where(tie, half, g)), ctx.input_shape(1));
  return {ga, gb};
}
DLT_BACKWARD(maximum, kSaveInputs) { return minmax_backward(ctx, true); }
DLT_BACKWARD(minimum, kSaveInputs) { return minmax_backward(ctx, false); }

DLT_BACKWARD(where, kSaveInputs) {
  const Tensor& g = ctx.grad();
  const Tensor& cond = ctx.input(0);
  const Tensor zero = zeros_like(g);
  return {Tensor(), ctx.needs(1) ? sum_to(where(cond, g, zero), ctx.input_shape(1)) : Tensor(),
          ctx.needs(2) ? sum_to(where(cond, zero, g), ctx.input_shape(2)) : Tensor()};
}
DLT_BACKWARD(masked_fill, kSaveInputs) {
  return {masked_fill(ctx.grad(), ctx.input(1), 0), Tensor()};
}

// A dtype conversion or a move between devices (or a copy) passes the
// gradient back in the input's dtype, to the input's device: one copy.
DLT_BACKWARD(copy, kSaveNothing) {
  const Tensor g = sum_to(ctx.grad(), ctx.input_shape(0));
  if (g.dtype() == ctx.input_dtype(0) && g.device() == ctx.input_device(0)) return {g};
  Tensor back = empty(g.shape(), TensorOptions(ctx.input_dtype(0)).device(ctx.input_device(0)));
  back.copy_(g);
  return {back};
}

}  // namespace
}  // namespace dlt::autograd
