// Elementwise unary and binary ops: dtype rules, broadcasting, output allocation.
#include "dlt/core/grad_mode.h"
#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

TensorOptions like(const Tensor& t, DType dtype) { return TensorOptions(dtype).device(t.device()); }

// Float-valued ops promote integer and bool inputs to float32, as torch.
Tensor unary(OpId op, const Tensor& x, const void* attrs, bool float_only) {
  DLT_CHECK(x.defined(), "{}: undefined input tensor", ops::op_name(op));
  if (const auto c = ops::autocast<1>(op, {x})) return unary(op, (*c)[0], attrs, float_only);
  const Tensor in = float_only && !is_floating(x.dtype()) ? x.to(DType::f32) : x;
  Tensor ins[] = {in};
  Tensor outs[] = {empty(in.shape(), like(in, in.dtype()))};
  ops::run(op, ins, outs, attrs);
  return outs[0];
}

enum class BinaryResult { Common, Float, Bool };

Tensor binary(OpId op, const Tensor& a, const Tensor& b, const void* attrs, BinaryResult kind) {
  DLT_CHECK(a.defined() && b.defined(), "{}: undefined input tensor", ops::op_name(op));
  // Promote ops promote as they always do (result_type); pow runs in f32.
  if (ops::cast_policy(op) == ops::CastPolicy::Fp32)
    if (const auto c = ops::autocast<2>(op, {a, b})) return binary(op, (*c)[0], (*c)[1], attrs, kind);
  DType common = result_type(a, b);
  if (kind == BinaryResult::Float && !is_floating(common)) common = DType::f32;
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor ins[] = {a.to(common), b.to(common)};
  Tensor outs[] = {empty(shape, like(a, kind == BinaryResult::Bool ? DType::boolean : common))};
  ops::run(op, ins, outs, attrs);
  return outs[0];
}

int category(DType t) { return t == DType::boolean ? 0 : is_integral(t) ? 1 : 2; }

}  // namespace

#define DLT_DEFINE_UNARY(name, float_only) \
  Tensor name(const Tensor& x) { return unary(OpId::name, x, nullptr, float_only); }
DLT_DEFINE_UNARY(neg, false)
DLT_DEFINE_UNARY(abs, false)
DLT_DEFINE_UNARY(relu, false)
DLT_DEFINE_UNARY(sign, false)
DLT_DEFINE_UNARY(exp, true)
DLT_DEFINE_UNARY(log, true)
DLT_DEFINE_UNARY(log1p, true)
DLT_DEFINE_UNARY(sqrt, true)
DLT_DEFINE_UNARY(rsqrt, true)
DLT_DEFINE_UNARY(sin, true)
DLT_DEFINE_UNARY(cos, true)
DLT_DEFINE_UNARY(tanh, true)
DLT_DEFINE_UNARY(sigmoid, true)
DLT_DEFINE_UNARY(silu, true)
#undef DLT_DEFINE_UNARY

namespace {
// Where gelu runs gelu_and_slope: an f32 input on the CPU that records history.
bool gelu_keeps_slope(DType dtype, const Device& device, bool requires_grad) {
  return dtype == DType::f32 && device.type == DeviceType::cpu && requires_grad && GradMode::enabled();
}
}  // namespace

// In training on the CPU the forward also writes gelu'(x) (gelu_and_slope),
// and the backward is one multiplication: a separate backward pass computed
// erfc and exp again, as costly as the forward. The saved slope takes the
// place of the saved input. Elsewhere (GPUs, other dtypes, inference) the
// plain op and gelu_backward.
Tensor gelu(const Tensor& x, bool tanh_approx) {
  if (x.defined() && gelu_keeps_slope(x.dtype(), x.device(), x.requires_grad()))
    return ops::gelu_and_slope(x, tanh_approx).value;
  const ops::GeluAttrs attrs{tanh_approx};
  return unary(OpId::gelu, x, &attrs, true);
}

// Fused only where every operand is what linear accepts (anything else takes
// the plain path and its messages) and gelu would keep the slope: linear's
// own bias is a pass over its whole output after the product, 20% of the
// char-GPT's (4096, 128) x (128, 512) product on an AVX2 CPU.
Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias, bool tanh_approx) {
  const bool fuse = x.defined() && weight.defined() && bias.defined() && !autocasting() &&
                    x.dtype() == DType::f32 && weight.dtype() == DType::f32 && bias.dtype() == DType::f32 &&
                    weight.device() == x.device() && bias.device() == x.device() && weight.dim() == 2 &&
                    bias.dim() == 1 && bias.size(0) == weight.size(0) &&
                    gelu_keeps_slope(x.dtype(), x.device(),
                                     x.requires_grad() || weight.requires_grad() || bias.requires_grad());
  if (!fuse) return gelu(linear(x, weight, bias), tanh_approx);
  return ops::gelu_and_slope(linear(x, weight), bias, tanh_approx).value;
}

// Composite: x where x > 0, else negative_slope * x (torch's gradient at 0 too).
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  DLT_CHECK(x.defined(), "leaky_relu: undefined input tensor");
  DLT_CHECK(is_floating(x.dtype()), "leaky_relu expects a floating point input, got {}",
            x.dtype());
  return where(gt(x.detach(), wrap_scalar(0, x)), x, x * negative_slope);
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  const ops::SoftplusAttrs attrs{beta, threshold};
  return unary(OpId::softplus, x, &attrs, true);
}

Tensor pow(const Tensor& x, Scalar exponent) {
  const ops::ScalarAttrs attrs{exponent.to_double()};
  const bool float_only = exponent.is_floating() || exponent.to_double() < 0;
  return unary(OpId::pow_scalar, x, &attrs, float_only);
}

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  DLT_CHECK(lo || hi, "clamp: at least one of min and max must be given");
  ops::ClampAttrs attrs;
  if (lo) attrs.lo = *lo;
  if (hi) attrs.hi = *hi;
  return unary(OpId::clamp, x, &attrs, false);
}

namespace ops {
Tensor relu_backward(const Tensor& grad, const Tensor& y) {
  Tensor ins[] = {grad, y};
  Tensor outs[] = {empty(y.shape(), like(y, y.dtype()))};
  run(OpId::relu_backward, ins, outs, nullptr);
  return outs[0];
}

GeluAndSlope gelu_and_slope(const Tensor& x, bool tanh_approx) { return gelu_and_slope(x, Tensor(), tanh_approx); }

GeluAndSlope gelu_and_slope(const Tensor& x, const Tensor& bias, bool tanh_approx) {
  DLT_CHECK(x.defined(), "gelu: undefined input tensor");
  if (bias.defined()) {
    DLT_CHECK(x.dim() >= 1 && bias.dim() == 1 && bias.size(0) == x.size(-1),
              "gelu_and_slope: a bias of shape {} does not match the last dim of the input of shape {}",
              shape_str(bias.shape()), shape_str(x.shape()));
    DLT_CHECK(is_floating(x.dtype()) && bias.dtype() == x.dtype(),
              "gelu_and_slope: the input ({}) and the bias ({}) must be of one floating dtype", x.dtype(),
              bias.dtype());
  }
  if (const auto c = autocast<2>(OpId::gelu_and_slope, {x, bias}))
    return gelu_and_slope((*c)[0], (*c)[1], tanh_approx);
  const GeluAttrs attrs{tanh_approx};
  Tensor ins[] = {is_floating(x.dtype()) ? x.contiguous() : x.to(DType::f32),
                  bias.defined() ? bias.contiguous() : Tensor()};
  Tensor outs[] = {empty(x.shape(), like(ins[0], ins[0].dtype())),
                   empty(x.shape(), like(ins[0], ins[0].dtype()))};
  run(OpId::gelu_and_slope, ins, outs, &attrs);
  return {outs[0], outs[1]};
}

GeluBiasGrads gelu_bias_backward(const Tensor& grad, const Tensor& slope) {
  DLT_CHECK(grad.defined() && slope.defined(), "gelu_bias_backward: undefined input tensor");
  DLT_CHECK(slope.dim() >= 1 && is_floating(slope.dtype()),
            "gelu_bias_backward expects a floating slope with at least one dim, got {} of shape {}",
            slope.dtype(), shape_str(slope.shape()));
  DLT_CHECK(grad.shape() == slope.shape(),
            "gelu_bias_backward: the gradient's shape {} must be the slope's {}", shape_str(grad.shape()),
            shape_str(slope.shape()));
  Tensor ins[] = {grad.to(slope.dtype()).contiguous(), slope.contiguous()};
  Tensor outs[] = {empty(slope.shape(), like(slope, slope.dtype())),
                   empty({slope.size(-1)}, like(slope, slope.dtype()))};
  run(OpId::gelu_bias_backward, ins, outs, nullptr);
  return {outs[0], outs[1]};
}

Tensor gelu_backward(const Tensor& grad, const Tensor& x, bool tanh_approx) {
  const GeluAttrs attrs{tanh_approx};
  Tensor ins[] = {grad, x};
  Tensor outs[] = {empty(x.shape(), like(x, x.dtype()))};
  run(OpId::gelu_backward, ins, outs, &attrs);
  return outs[0];
}
}  // namespace ops

DType result_type(const Tensor& a, const Tensor& b) {
  const bool a0 = a.dim() == 0, b0 = b.dim() == 0;
  if (a0 == b0) return promote_types(a.dtype(), b.dtype());
  const Tensor& dimensioned = a0 ? b : a;
  const Tensor& zero_dim = a0 ? a : b;
  // A 0-dim operand only matters when it is of a higher category.
  return category(zero_dim.dtype()) > category(dimensioned.dtype()) ? zero_dim.dtype()
                                                                    : dimensioned.dtype();
}

Tensor wrap_scalar(Scalar value, const Tensor& like_tensor) {
  const DType t = like_tensor.dtype();
  DType dtype;
  if (value.is_floating())
    dtype = is_floating(t) ? t : DType::f32;
  else if (value.is_integral())
    dtype = t == DType::boolean ? DType::i64 : t;
  else
    dtype = t;
  return scalar_tensor(value, TensorOptions(dtype).device(like_tensor.device()));
}

Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  const ops::AlphaAttrs attrs{alpha.to_double()};
  return binary(OpId::add, a, b, &attrs, BinaryResult::Common);
}
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  DLT_CHECK(a.dtype() != DType::boolean || b.dtype() != DType::boolean,
            "subtraction of two bool tensors is not supported; use logical ops");
  const ops::AlphaAttrs attrs{alpha.to_double()};
  return binary(OpId::sub, a, b, &attrs, BinaryResult::Common);
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary(OpId::mul, a, b, nullptr, BinaryResult::Common);
}
Tensor div(const Tensor& a, const Tensor& b) {
  return binary(OpId::div, a, b, nullptr, BinaryResult::Float);
}
Tensor pow(const Tensor& a, const Tensor& b) {
  return binary(OpId::pow, a, b, nullptr, BinaryResult::Float);
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary(OpId::maximum, a, b, nullptr, BinaryResult::Common);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary(OpId::minimum, a, b, nullptr, BinaryResult::Common);
}

#define DLT_DEFINE_COMPARE(name) \
  Tensor name(const Tensor& a, const Tensor& b) { \
    return binary(OpId::name, a, b, nullptr, BinaryResult::Bool); \
  }
DLT_DEFINE_COMPARE(eq)
DLT_DEFINE_COMPARE(ne)
DLT_DEFINE_COMPARE(lt)
DLT_DEFINE_COMPARE(le)
DLT_DEFINE_COMPARE(gt)
DLT_DEFINE_COMPARE(ge)
#undef DLT_DEFINE_COMPARE

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  DLT_CHECK(cond.dtype() == DType::boolean, "where: condition must be a bool tensor, got {}",
            cond.dtype());
  const DType common = result_type(a, b);
  const Shape shape = broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape()));
  Tensor ins[] = {cond, a.to(common), b.to(common)};
  Tensor outs[] = {empty(shape, like(a, common))};
  ops::run(OpId::where, ins, outs, nullptr);
  return outs[0];
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  DLT_CHECK(mask.dtype() == DType::boolean, "masked_fill: mask must be a bool tensor, got {}",
            mask.dtype());
  DLT_CHECK(broadcast_shapes(x.shape(), mask.shape()) == x.shape(),
            "masked_fill: mask of shape {} does not broadcast to the input's shape {}",
            shape_str(mask.shape()), shape_str(x.shape()));
  const ops::ScalarAttrs attrs{value.to_double()};
  Tensor ins[] = {x, mask};
  Tensor outs[] = {empty(x.shape(), like(x, x.dtype()))};
  ops::run(OpId::masked_fill, ins, outs, &attrs);
  return outs[0];
}

Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, wrap_scalar(b, a)); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, wrap_scalar(b, a)); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, wrap_scalar(b, a)); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, wrap_scalar(b, a)); }
Tensor operator+(Scalar a, const Tensor& b) { return add(wrap_scalar(a, b), b); }
Tensor operator-(Scalar a, const Tensor& b) { return sub(wrap_scalar(a, b), b); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(wrap_scalar(a, b), b); }
Tensor operator/(Scalar a, const Tensor& b) { return div(wrap_scalar(a, b), b); }

}  // namespace dlt
