// CPU kernels of conv2d and its backward passes: oneDNN primitives for f32,
// bf16 and f16; the direct loops of conv_reference.h for f64. The op layer
// hands over contiguous tensors of one dtype.
#include <cstring>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/conv_geometry.h"
#include "kernels/cpu/conv_reference.h"
#include "kernels/cpu/onednn_conv.h"

namespace dlt::cpu {
namespace {

using ops::Conv2dAttrs;
using ops::KernelCall;

void zero_fill(Tensor& t) {
  if (t.defined() && t.numel() > 0) std::memset(t.raw_data(), 0, t.numel() * t.element_size());
}

// in: x (B, Cin, H, W), weight (Cout, Cin/G, kH, kW), bias (Cout) or undefined
// out: y (B, Cout, Ho, Wo)
void conv2d_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &weight = c.in[1], &bias = c.in[2];
  Tensor& y = c.out[0];
  if (y.numel() == 0) return;
  const auto& attrs = c.attrs<Conv2dAttrs>();
  const ConvGeometry g = conv_geometry(x.shape(), weight.shape(), y.shape(), attrs);
  if (onednn_conv_supports(x.dtype()))
    onednn_conv2d_forward(g, x, weight, bias, y);
  else
    reference_conv2d_forward(g, x, weight, bias, y);
}
DLT_REGISTER_KERNEL(conv2d, cpu, conv2d_kernel);

// in: dy (B, Cout, Ho, Wo), weight; out: dx (B, Cin, H, W)
void conv2d_backward_input_kernel(const KernelCall& c) {
  const Tensor &dy = c.in[0], &weight = c.in[1];
  Tensor& dx = c.out[0];
  if (dx.numel() == 0) return;
  if (dy.numel() == 0) return zero_fill(dx);  // no output channels
  const auto& attrs = c.attrs<Conv2dAttrs>();
  const ConvGeometry g = conv_geometry(dx.shape(), weight.shape(), dy.shape(), attrs);
  if (onednn_conv_supports(dy.dtype()))
    onednn_conv2d_backward_input(g, dy, weight, dx);
  else
    reference_conv2d_backward_input(g, dy, weight, dx);
}
DLT_REGISTER_KERNEL(conv2d_backward_input, cpu, conv2d_backward_input_kernel);

// in: dy (B, Cout, Ho, Wo), x (B, Cin, H, W)
// out: dweight (Cout, Cin/G, kH, kW) and, when asked for, dbias (Cout)
void conv2d_backward_weight_kernel(const KernelCall& c) {
  const Tensor &dy = c.in[0], &x = c.in[1];
  Tensor& dweight = c.out[0];
  Tensor no_bias;
  Tensor& dbias = c.out.size() > 1 ? c.out[1] : no_bias;
  if (dy.numel() == 0) {  // an empty batch contributes nothing
    zero_fill(dweight);
    zero_fill(dbias);
    return;
  }
  const auto& attrs = c.attrs<Conv2dAttrs>();
  const ConvGeometry g = conv_geometry(x.shape(), dweight.shape(), dy.shape(), attrs);
  if (onednn_conv_supports(dy.dtype()))
    onednn_conv2d_backward_weight(g, dy, x, dweight, dbias);
  else
    reference_conv2d_backward_weight(g, dy, x, dweight, dbias);
}
DLT_REGISTER_KERNEL(conv2d_backward_weight, cpu, conv2d_backward_weight_kernel);

}  // namespace
}  // namespace dlt::cpu
