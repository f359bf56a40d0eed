// Pooling on a GPU: unpacks the op layer's calls for pool.cu. Inputs arrive
// contiguous and outputs fresh (ops/pool.cpp), NCHW or unbatched CHW.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/pool.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::AdaptivePoolAttrs;
using ops::KernelCall;
using ops::Pool2dAttrs;

// in (..., H, W) and out (..., Ho, Wo) as planes of one image channel.
PoolPlanes planes_of(const Shape& in, const Shape& out) {
  const size_t n = in.size();
  return {numel_of(in) / (in[n - 2] * in[n - 1]), in[n - 2], in[n - 1], out[n - 2], out[n - 1]};
}

PoolWindow window_of(const Pool2dAttrs& a) {
  PoolWindow w;
  for (int i = 0; i < 2; ++i) {
    w.kernel[i] = a.kernel[i];
    w.stride[i] = a.stride[i];
    w.padding[i] = a.padding[i];
    w.dilation[i] = a.dilation[i];
  }
  w.count_include_pad = a.count_include_pad;
  return w;
}

// in: x (B, C, H, W); out: values, indices (B, C, Ho, Wo), indices flat in H * W.
void max_pool2d_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  launch_max_pool2d(tensor_arg(x), tensor_arg(c.out[0]), tensor_arg(c.out[1]),
                    planes_of(x.shape(), c.out[0].shape()), window_of(c.attrs<Pool2dAttrs>()),
                    stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(max_pool2d, max_pool2d_kernel);

// in: dy, indices (B, C, Ho, Wo); out: dx (B, C, H, W)
void max_pool2d_backward_kernel(const KernelCall& c) {
  Tensor& dx = c.out[0];
  launch_max_pool2d_backward(tensor_arg(c.in[0]), tensor_arg(c.in[1]), tensor_arg(dx),
                             planes_of(dx.shape(), c.in[0].shape()),
                             window_of(c.attrs<Pool2dAttrs>()), stream_for(dx));
}
DLT_REGISTER_GPU_KERNEL(max_pool2d_backward, max_pool2d_backward_kernel);

// in: x (B, C, H, W); out: y (B, C, Ho, Wo)
void avg_pool2d_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  launch_avg_pool2d(tensor_arg(x), tensor_arg(c.out[0]), planes_of(x.shape(), c.out[0].shape()),
                    window_of(c.attrs<Pool2dAttrs>()), stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(avg_pool2d, avg_pool2d_kernel);

// in: dy (B, C, Ho, Wo); out: dx (B, C, H, W)
void avg_pool2d_backward_kernel(const KernelCall& c) {
  Tensor& dx = c.out[0];
  launch_avg_pool2d_backward(tensor_arg(c.in[0]), tensor_arg(dx),
                             planes_of(dx.shape(), c.in[0].shape()),
                             window_of(c.attrs<Pool2dAttrs>()), stream_for(dx));
}
DLT_REGISTER_GPU_KERNEL(avg_pool2d_backward, avg_pool2d_backward_kernel);

// in: x (B, C, H, W); out: y (B, C, Ho, Wo)
void adaptive_avg_pool2d_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  launch_adaptive_avg_pool2d(tensor_arg(x), tensor_arg(c.out[0]),
                             planes_of(x.shape(), c.out[0].shape()), stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(adaptive_avg_pool2d, adaptive_avg_pool2d_kernel);

// in: dy (B, C, Ho, Wo); out: dx (B, C, H, W)
void adaptive_avg_pool2d_backward_kernel(const KernelCall& c) {
  Tensor& dx = c.out[0];
  launch_adaptive_avg_pool2d_backward(tensor_arg(c.in[0]), tensor_arg(dx),
                                      planes_of(dx.shape(), c.in[0].shape()), stream_for(dx));
}
DLT_REGISTER_GPU_KERNEL(adaptive_avg_pool2d_backward, adaptive_avg_pool2d_backward_kernel);

}  // namespace
}  // namespace dlt::gpu
