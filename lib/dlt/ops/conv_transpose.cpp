// conv_transpose2d: argument checks (naming the shapes) and output size. Its
// kernels are conv2d's input-gradient kernels plus a bias; its backward
// formula (autograd/formulas/conv.cpp) is conv2d and conv2d's weight gradient.
#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::ConvTranspose2dAttrs;
using ops::OpId;

namespace {

// torch's output size: (in - 1) stride - 2 pad + dilation (k - 1) + output_padding + 1
int64_t transposed_output_size(int64_t in, int64_t kernel, const ConvTranspose2dAttrs& a, int i) {
  return (in - 1) * a.stride[i] - 2 * a.padding[i] + a.dilation[i] * (kernel - 1) +
         a.output_padding[i] + 1;
}

// x (B, Cin, H, W) or (Cin, H, W), weight (Cin, Cout / groups, kH, kW): the
// output shape (B, Cout, Ho, Wo), after checking every argument.
Shape checked_output_shape(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           const ConvTranspose2dAttrs& a) {
  DLT_CHECK(x.dim() == 3 || x.dim() == 4,
            "conv_transpose2d: expected a 3-D (C, H, W) or 4-D (B, C, H, W) input, got shape {}",
            shape_str(x.shape()));
  DLT_CHECK(weight.dim() == 4,
            "conv_transpose2d: expected a 4-D weight (Cin, Cout/groups, kH, kW), got shape {}",
            shape_str(weight.shape()));
  DLT_CHECK(is_floating(x.dtype()), "conv_transpose2d: expected a floating point input, got {}",
            x.dtype());
  DLT_CHECK(weight.dtype() == x.dtype(), "conv_transpose2d: input ({}) and weight ({}) dtypes differ",
            x.dtype(), weight.dtype());
  DLT_CHECK(a.groups > 0, "conv_transpose2d: non-positive groups ({}) is not supported", a.groups);
  for (int i = 0; i < 2; ++i) {
    DLT_CHECK(a.stride[i] > 0, "conv_transpose2d: non-positive stride {} is not supported",
              a.stride);
    DLT_CHECK(a.padding[i] >= 0, "conv_transpose2d: negative padding {} is not supported",
              a.padding);
    DLT_CHECK(a.dilation[i] > 0, "conv_transpose2d: dilation {} should be greater than zero",
              a.dilation);
    // The output must be an input conv2d maps back onto x's size, which holds
    // for output_padding < stride; torch also accepts < dilation.
    DLT_CHECK(a.output_padding[i] >= 0 && a.output_padding[i] < a.stride[i],
              "conv_transpose2d: output_padding {} must be non-negative and smaller than the "
              "stride {}",
              a.output_padding, a.stride);
  }
  const Shape& ws = weight.shape();
  const int64_t c = x.dim() - 3;  // the channel dim
  DLT_CHECK(ws[0] == x.size(c),
            "conv_transpose2d: weight of shape {} expects {} input channels, but input of shape "
            "{} has {}",
            shape_str(ws), ws[0], shape_str(x.shape()), x.size(c));
  DLT_CHECK(ws[0] % a.groups == 0,
            "conv_transpose2d: given groups={}, expected weight to be divisible by {} at "
            "dimension 0, but got weight of shape {}",
            a.groups, a.groups, shape_str(ws));
  DLT_CHECK(ws[1] > 0 && ws[2] > 0 && ws[3] > 0,
            "conv_transpose2d: weight of shape {} has an empty dimension", shape_str(ws));
  const int64_t cout = ws[1] * a.groups;
  if (bias.defined()) {
    DLT_CHECK(bias.dim() == 1 && bias.size(0) == cout,
              "conv_transpose2d: given weight of shape {} and groups={}, expected bias of shape "
              "[{}], but got {}",
              shape_str(ws), a.groups, cout, shape_str(bias.shape()));
    DLT_CHECK(bias.dtype() == x.dtype(), "conv_transpose2d: input ({}) and bias ({}) dtypes differ",
              x.dtype(), bias.dtype());
  }
  const int64_t ho = transposed_output_size(x.size(c + 1), ws[2], a, 0);
  const int64_t wo = transposed_output_size(x.size(c + 2), ws[3], a, 1);
  DLT_CHECK(ho > 0 && wo > 0,
            "conv_transpose2d: calculated output size ({} x {}) of input {} and weight {} with "
            "padding {} is too small",
            ho, wo, shape_str(x.shape()), shape_str(ws), a.padding);
  Shape out = x.shape();
  out[c] = cout;
  out[c + 1] = ho;
  out[c + 2] = wo;
  return out;
}

}  // namespace

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                        std::array<int64_t, 2> output_padding, std::array<int64_t, 2> dilation,
                        int64_t groups) {
  DLT_CHECK(x.defined() && weight.defined(), "conv_transpose2d: undefined input or weight tensor");
  if (const auto c = ops::autocast<3>(OpId::conv_transpose2d, {x, weight, bias}))
    return conv_transpose2d((*c)[0], (*c)[1], (*c)[2], stride, padding, output_padding, dilation,
                            groups);
  const ConvTranspose2dAttrs attrs{stride, padding, output_padding, dilation, groups};
  const Shape out_shape = checked_output_shape(x, weight, bias, attrs);
  Tensor ins[] = {x.contiguous(), weight.contiguous(),
                  bias.defined() ? bias.contiguous() : Tensor()};
  Tensor outs[] = {empty(out_shape, TensorOptions(x.dtype()).device(x.device()))};
  ops::run(OpId::conv_transpose2d, ins, outs, &attrs);
  return outs[0];
}

}  // namespace dlt
