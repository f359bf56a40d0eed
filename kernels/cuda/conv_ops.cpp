// conv2d, its backward passes and conv_transpose2d (conv2d's input gradient
// plus a bias) on a GPU through cuDNN's convolution API
// (plans in cudnn.cpp), with the bias and its gradient in conv_bias.cu. The
// op layer hands over contiguous tensors of one dtype (ops/conv.cpp); an
// unbatched (C, H, W) input is a batch of one.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/conv_bias.h"
#include "kernels/cuda/cudnn.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::Conv2dAttrs;
using ops::KernelCall;

// x: (B, Cin, H, W) or (Cin, H, W); y: the output of the same rank.
ConvShape conv_shape(const Shape& x, const Shape& weight, const Shape& y, DType dtype,
                     const Conv2dAttrs& a) {
  const bool batched = x.size() == 4;
  const size_t c = batched ? 1 : 0;
  return {.dtype = dtype_code(dtype), .B = batched ? x[0] : 1, .Cin = x[c], .H = x[c + 1],
          .W = x[c + 2], .Cout = weight[0], .kH = weight[2], .kW = weight[3], .Ho = y[c + 1],
          .Wo = y[c + 2], .groups = a.groups, .stride = a.stride, .padding = a.padding,
          .dilation = a.dilation};
}

// cuDNN's scaling factors: double for f64 data, float otherwise.
struct Scale {
  float f;
  double d;
  const void* of(DTypeCode t) const { return t == DTypeCode::f64 ? static_cast<const void*>(&d) : &f; }
};
constexpr Scale kOne{1.0f, 1.0}, kZero{0.0f, 0.0};

// Device scratch for one call, from the caching allocator.
Tensor workspace(const ConvPlan& p, const Tensor& like) {
  if (p.workspace_bytes == 0) return Tensor();
  return empty({int64_t(p.workspace_bytes)}, TensorOptions(DType::u8).device(like.device()));
}
void* data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

void zero_fill(Tensor& t, cudaStream_t stream) {
  if (t.defined() && t.numel() > 0)
    DLT_GPU_CHECK(cudaMemsetAsync(t.raw_data(), 0, size_t(t.numel()) * t.element_size(), stream));
}

// in: x (B, Cin, H, W), weight (Cout, Cin/G, kH, kW), bias (Cout) or undefined
// out: y (B, Cout, Ho, Wo)
void conv2d_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &weight = c.in[1], &bias = c.in[2];
  Tensor& y = c.out[0];
  if (y.numel() == 0) return;
  const ConvShape s = conv_shape(x.shape(), weight.shape(), y.shape(), x.dtype(),
                                 c.attrs<Conv2dAttrs>());
  const int device = x.device().index;
  const cudaStream_t stream = stream_for(x);
  const ConvPlan& p = conv_plan(device, stream, s, ConvPass::forward);
  Tensor ws = workspace(p, x);
  DLT_CUDNN_CHECK(cudnnConvolutionForward(
      cudnn_handle(device, stream), kOne.of(s.dtype), p.x, x.raw_data(), p.w, weight.raw_data(),
      p.conv, cudnnConvolutionFwdAlgo_t(p.algo), data_or_null(ws), p.workspace_bytes,
      kZero.of(s.dtype), p.y, y.raw_data()));
  if (bias.defined())
    launch_add_channel_bias(y.raw_data(), bias.raw_data(), s.dtype, s.B, s.Cout, s.Ho * s.Wo,
                            stream);
}
DLT_REGISTER_GPU_KERNEL(conv2d, conv2d_kernel);

// dx (B, Cin, H, W) of conv2d from dy (B, Cout, Ho, Wo) and the weight.
void backward_input(const Tensor& dy, const Tensor& weight, const Conv2dAttrs& attrs, Tensor& dx) {
  if (dx.numel() == 0) return;
  const cudaStream_t stream = stream_for(dx);
  if (dy.numel() == 0) return zero_fill(dx, stream);  // no output channels
  const ConvShape s = conv_shape(dx.shape(), weight.shape(), dy.shape(), dy.dtype(), attrs);
  const int device = dx.device().index;
  const ConvPlan& p = conv_plan(device, stream, s, ConvPass::backward_data);
  Tensor ws = workspace(p, dx);
  DLT_CUDNN_CHECK(cudnnConvolutionBackwardData(
      cudnn_handle(device, stream), kOne.of(s.dtype), p.w, weight.raw_data(), p.y, dy.raw_data(),
      p.conv, cudnnConvolutionBwdDataAlgo_t(p.algo), data_or_null(ws), p.workspace_bytes,
      kZero.of(s.dtype), p.x, dx.raw_data()));
}

// in: dy (B, Cout, Ho, Wo), weight; out: dx (B, Cin, H, W)
void conv2d_backward_input_kernel(const KernelCall& c) {
  backward_input(c.in[0], c.in[1], c.attrs<Conv2dAttrs>(), c.out[0]);
}
DLT_REGISTER_GPU_KERNEL(conv2d_backward_input, conv2d_backward_input_kernel);

// The transpose of conv2d is conv2d's input gradient with x as the output
// gradient: in: x (B, Cin, H, W), weight (Cin, Cout/G, kH, kW), bias (Cout)
// or undefined; out: y (B, Cout, Ho, Wo)
void conv_transpose2d_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &weight = c.in[1], &bias = c.in[2];
  Tensor& y = c.out[0];
  backward_input(x, weight, c.attrs<ops::ConvTranspose2dAttrs>().conv(), y);
  if (!bias.defined() || y.numel() == 0) return;
  const int64_t B = y.dim() == 4 ? y.size(0) : 1, C = bias.size(0);
  launch_add_channel_bias(y.raw_data(), bias.raw_data(), dtype_code(y.dtype()), B, C,
                          y.numel() / (B * C), stream_for(y));
}
DLT_REGISTER_GPU_KERNEL(conv_transpose2d, conv_transpose2d_kernel);

// in: dy (B, Cout, Ho, Wo), x (B, Cin, H, W)
// out: dweight (Cout, Cin/G, kH, kW) and, when asked for, dbias (Cout)
void conv2d_backward_weight_kernel(const KernelCall& c) {
  const Tensor &dy = c.in[0], &x = c.in[1];
  Tensor& dweight = c.out[0];
  Tensor no_bias;
  Tensor& dbias = c.out.size() > 1 ? c.out[1] : no_bias;
  const cudaStream_t stream = stream_for(dweight);
  if (dy.numel() == 0) {  // an empty batch contributes nothing
    zero_fill(dweight, stream);
    zero_fill(dbias, stream);
    return;
  }
  const ConvShape s = conv_shape(x.shape(), dweight.shape(), dy.shape(), dy.dtype(),
                                 c.attrs<Conv2dAttrs>());
  const int device = dweight.device().index;
  const ConvPlan& p = conv_plan(device, stream, s, ConvPass::backward_filter);
  Tensor ws = workspace(p, dweight);
  DLT_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
      cudnn_handle(device, stream), kOne.of(s.dtype), p.x, x.raw_data(), p.y, dy.raw_data(),
      p.conv, cudnnConvolutionBwdFilterAlgo_t(p.algo), data_or_null(ws), p.workspace_bytes,
      kZero.of(s.dtype), p.w, dweight.raw_data()));
  if (dbias.defined())
    launch_channel_sum(dy.raw_data(), dbias.raw_data(), s.dtype, s.B, s.Cout, s.Ho * s.Wo, stream);
}
DLT_REGISTER_GPU_KERNEL(conv2d_backward_weight, conv2d_backward_weight_kernel);

}  // namespace
}  // namespace dlt::gpu
