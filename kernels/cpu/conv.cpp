// CPU kernels of conv2d, its backward passes and conv_transpose2d (conv2d's
// input gradient plus a bias): oneDNN primitives for f32,
// bf16 and f16; the direct loops of conv_reference.h for f64. The op layer
// hands over contiguous tensors of one dtype.
#include <cstring>

#include "dlt/core/parallel.h"
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

// dx (B, Cin, H, W) of conv2d from dy (B, Cout, Ho, Wo) and the weight.
void backward_input(const Tensor& dy, const Tensor& weight, const Conv2dAttrs& attrs, Tensor& dx) {
  if (dx.numel() == 0) return;
  if (dy.numel() == 0) return zero_fill(dx);  // no output channels
  const ConvGeometry g = conv_geometry(dx.shape(), weight.shape(), dy.shape(), attrs);
  if (onednn_conv_supports(dy.dtype()))
    onednn_conv2d_backward_input(g, dy, weight, dx);
  else
    reference_conv2d_backward_input(g, dy, weight, dx);
}

// in: dy (B, Cout, Ho, Wo), weight; out: dx (B, Cin, H, W)
void conv2d_backward_input_kernel(const KernelCall& c) {
  backward_input(c.in[0], c.in[1], c.attrs<Conv2dAttrs>(), c.out[0]);
}
DLT_REGISTER_KERNEL(conv2d_backward_input, cpu, conv2d_backward_input_kernel);

// y[b, c, :] += bias[c] over a contiguous (B, C, HW) y, in the compute type.
void add_channel_bias(Tensor& y, const Tensor& bias, int64_t B, int64_t C, int64_t HW) {
  visit_floating(y.dtype(), "conv_transpose2d", [&]<class T>() {
    using Acc = compute_t<T>;
    T* out = y.data_ptr<T>();
    const T* b = bias.data_ptr<T>();
    parallel_for(0, B * C, 1, [&](int64_t begin, int64_t end) {
      for (int64_t bc = begin; bc < end; ++bc) {
        const Acc add = Acc(b[bc % C]);
        T* row = out + bc * HW;
        for (int64_t i = 0; i < HW; ++i) row[i] = T(Acc(row[i]) + add);
      }
    });
  });
}

// The transpose of conv2d is conv2d's input gradient with x as the output
// gradient: in: x (B, Cin, H, W), weight (Cin, Cout/G, kH, kW), bias (Cout)
// or undefined; out: y (B, Cout, Ho, Wo)
void conv_transpose2d_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &weight = c.in[1], &bias = c.in[2];
  Tensor& y = c.out[0];
  backward_input(x, weight, c.attrs<ops::ConvTranspose2dAttrs>().conv(), y);
  if (!bias.defined() || y.numel() == 0) return;
  const int64_t B = y.dim() == 4 ? y.size(0) : 1, C = bias.size(0);
  add_channel_bias(y, bias, B, C, y.numel() / (B * C));
}
DLT_REGISTER_KERNEL(conv_transpose2d, cpu, conv_transpose2d_kernel);

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
