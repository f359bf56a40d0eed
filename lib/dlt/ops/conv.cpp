// conv2d: argument checks (messages as torch's, naming the shapes), output
// size, and its backward helpers.
#include "dlt/ops/conv_backward.h"
#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"

namespace dlt {

using ops::Conv2dAttrs;
using ops::OpId;

namespace {

TensorOptions like(const Tensor& t) { return TensorOptions(t.dtype()).device(t.device()); }

// torch's output size: floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                         int64_t dilation) {
  return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
}

// The output shape of conv2d, after checking every argument.
Shape checked_output_shape(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           const Conv2dAttrs& a) {
  DLT_CHECK(x.defined() && weight.defined(), "conv2d: undefined input or weight tensor");
  DLT_CHECK(x.dim() == 3 || x.dim() == 4,
            "conv2d: expected a 3-D (C, H, W) or 4-D (B, C, H, W) input, got shape {}",
            shape_str(x.shape()));
  DLT_CHECK(weight.dim() == 4,
            "conv2d: expected a 4-D weight (Cout, Cin/groups, kH, kW), got shape {}",
            shape_str(weight.shape()));
  DLT_CHECK(is_floating(x.dtype()), "conv2d: expected a floating point input, got {}", x.dtype());
  DLT_CHECK(weight.dtype() == x.dtype(), "conv2d: input ({}) and weight ({}) dtypes differ",
            x.dtype(), weight.dtype());
  DLT_CHECK(a.groups > 0, "conv2d: non-positive groups ({}) is not supported", a.groups);
  for (int i = 0; i < 2; ++i) {
    DLT_CHECK(a.stride[i] > 0, "conv2d: non-positive stride {} is not supported", a.stride);
    DLT_CHECK(a.padding[i] >= 0, "conv2d: negative padding {} is not supported", a.padding);
    DLT_CHECK(a.dilation[i] > 0, "conv2d: dilation {} should be greater than zero", a.dilation);
  }
  const Shape& ws = weight.shape();
  DLT_CHECK(ws[1] > 0 && ws[2] > 0 && ws[3] > 0,
            "conv2d: weight of shape {} has an empty dimension", shape_str(ws));
  DLT_CHECK(ws[0] % a.groups == 0,
            "conv2d: given groups={}, expected weight to be divisible by {} at dimension 0, but "
            "got weight of shape {}",
            a.groups, a.groups, shape_str(ws));
  const int64_t c = x.dim() - 3;  // the channel dim
  const int64_t cin = x.size(c), h = x.size(c + 1), w = x.size(c + 2);
  DLT_CHECK(cin == ws[1] * a.groups,
            "conv2d: given groups={}, weight of shape {}, expected input of shape {} to have {} "
            "channels, but got {} channels instead",
            a.groups, shape_str(ws), shape_str(x.shape()), ws[1] * a.groups, cin);
  if (bias.defined()) {
    DLT_CHECK(bias.dim() == 1 && bias.size(0) == ws[0],
              "conv2d: given weight of shape {}, expected bias of shape [{}], but got {}",
              shape_str(ws), ws[0], shape_str(bias.shape()));
    DLT_CHECK(bias.dtype() == x.dtype(), "conv2d: input ({}) and bias ({}) dtypes differ",
              x.dtype(), bias.dtype());
  }
  const int64_t ho = conv_output_size(h, ws[2], a.stride[0], a.padding[0], a.dilation[0]);
  const int64_t wo = conv_output_size(w, ws[3], a.stride[1], a.padding[1], a.dilation[1]);
  const int64_t padded_h = h + 2 * a.padding[0], padded_w = w + 2 * a.padding[1];
  const int64_t span_h = a.dilation[0] * (ws[2] - 1) + 1, span_w = a.dilation[1] * (ws[3] - 1) + 1;
  DLT_CHECK(padded_h >= span_h && padded_w >= span_w,
            "conv2d: calculated output size ({} x {}) is too small: the padded input ({} x {}) of "
            "input shape {} is smaller than the (dilated) kernel ({} x {}) of weight shape {}",
            padded_h >= span_h ? ho : 0, padded_w >= span_w ? wo : 0, padded_h, padded_w,
            shape_str(x.shape()), span_h, span_w, shape_str(ws));
  Shape out = x.shape();
  out[c] = ws[0];
  out[c + 1] = ho;
  out[c + 2] = wo;
  return out;
}

}  // namespace

// Composite: conv2d over (B, Cin, 1, L) with a (Cout, Cin / groups, 1, K) filter.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation, int64_t groups) {
  DLT_CHECK(x.defined() && weight.defined(), "conv1d: undefined input tensor");
  if (const auto c = ops::autocast<3>(OpId::conv1d, {x, weight, bias}))
    return conv1d((*c)[0], (*c)[1], (*c)[2], stride, padding, dilation, groups);
  DLT_CHECK(x.dim() == 3, "conv1d: expected input (B, Cin, L), got {}", shape_str(x.shape()));
  DLT_CHECK(weight.dim() == 3, "conv1d: expected weight (Cout, Cin / groups, K), got {}",
            shape_str(weight.shape()));
  return conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, {1, stride}, {0, padding},
                {1, dilation}, groups)
      .squeeze(2);
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
              std::array<int64_t, 2> dilation, int64_t groups) {
  if (const auto c = ops::autocast<3>(OpId::conv2d, {x, weight, bias}))
    return conv2d((*c)[0], (*c)[1], (*c)[2], stride, padding, dilation, groups);
  const Conv2dAttrs attrs{stride, padding, dilation, groups};
  const Shape out_shape = checked_output_shape(x, weight, bias, attrs);
  Tensor ins[] = {x.contiguous(), weight.contiguous(),
                  bias.defined() ? bias.contiguous() : Tensor()};
  Tensor outs[] = {empty(out_shape, like(x))};
  ops::run(OpId::conv2d, ins, outs, &attrs);
  return outs[0];
}

namespace ops {

Tensor conv2d_backward_input(const Tensor& grad, const Tensor& weight, const Shape& input_shape,
                             const Conv2dAttrs& attrs) {
  Tensor ins[] = {grad.contiguous(), weight.contiguous()};
  Tensor outs[] = {empty(input_shape, like(grad))};
  run(OpId::conv2d_backward_input, ins, outs, &attrs);
  return outs[0];
}

Conv2dParamGrads conv2d_backward_weight(const Tensor& grad, const Tensor& x,
                                        const Shape& weight_shape, bool with_bias,
                                        const Conv2dAttrs& attrs) {
  Tensor ins[] = {grad.contiguous(), x.contiguous()};
  Tensor outs[] = {empty(weight_shape, like(grad)),
                   with_bias ? empty({weight_shape[0]}, like(grad)) : Tensor()};
  run(OpId::conv2d_backward_weight, ins, std::span<Tensor>(outs, with_bias ? 2 : 1), &attrs);
  return {outs[0], outs[1]};
}

}  // namespace ops
}  // namespace dlt
