// Registers the unary kernels of unary.cu (and gelu_bias_backward, a product
// and conv_bias.cu's column sums): reads attrs and dtypes as
// kernels/cpu/unary.cpp does and hands the tensors to launch_unary.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/binary.h"
#include "kernels/cuda/conv_bias.h"
#include "kernels/cuda/tensor_arg_host.h"
#include "kernels/cuda/unary.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

void run_unary(const KernelCall& c, const char* name, UnaryOp op, bool floating_only,
               UnaryScalars scalars = {}) {
  const Tensor& out = c.out[0];
  if (floating_only)
    DLT_CHECK(is_floating(out.dtype()), "{} expects a floating point tensor, got {}", name,
              out.dtype());
  else
    DLT_CHECK(out.dtype() != DType::boolean, "{} does not support bool tensors", name);
  launch_unary(op, tensor_arg(out), tensor_arg(c.in[0]), scalars, stream_for(out));
}

#define DLT_GPU_UNARY(op, floating_only)                                              \
  void op##_kernel(const KernelCall& c) { run_unary(c, #op, UnaryOp::op, floating_only); } \
  DLT_REGISTER_GPU_KERNEL(op, op##_kernel)

DLT_GPU_UNARY(neg, false);
DLT_GPU_UNARY(abs, false);
DLT_GPU_UNARY(relu, false);
DLT_GPU_UNARY(sign, false);
DLT_GPU_UNARY(exp, true);
DLT_GPU_UNARY(log, true);
DLT_GPU_UNARY(log1p, true);
DLT_GPU_UNARY(sqrt, true);
DLT_GPU_UNARY(rsqrt, true);
DLT_GPU_UNARY(sin, true);
DLT_GPU_UNARY(cos, true);
DLT_GPU_UNARY(tanh, true);
DLT_GPU_UNARY(sigmoid, true);
DLT_GPU_UNARY(silu, true);
#undef DLT_GPU_UNARY

void gelu_kernel(const KernelCall& c) {
  run_unary(c, "gelu", c.attrs<ops::GeluAttrs>().tanh_approx ? UnaryOp::gelu_tanh : UnaryOp::gelu,
            true);
}
DLT_REGISTER_GPU_KERNEL(gelu, gelu_kernel);

// in: x, bias (x's last dim, or undefined) -> out: gelu(x + bias), gelu'(x + bias);
// two passes (gelu() keeps the plain op and gelu_backward on GPUs, where both
// are memory-bound).
void gelu_and_slope_kernel(const KernelCall& c) {
  const bool tanh_approx = c.attrs<ops::GeluAttrs>().tanh_approx;
  if (c.in[1].defined()) {
    launch_gelu_and_slope(tensor_arg(c.out[0]), tensor_arg(c.out[1]), tensor_arg(c.in[0]),
                          tensor_arg(c.in[1]), tanh_approx, stream_for(c.out[0]));
    return;
  }
  run_unary(c, "gelu", tanh_approx ? UnaryOp::gelu_tanh : UnaryOp::gelu, true);
  launch_gelu_slope(tensor_arg(c.out[1]), tensor_arg(c.in[0]), tanh_approx, stream_for(c.out[1]));
}
DLT_REGISTER_GPU_KERNEL(gelu_and_slope, gelu_and_slope_kernel);

void softplus_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::SoftplusAttrs>();
  run_unary(c, "softplus", UnaryOp::softplus, true, {a.beta, a.threshold});
}
DLT_REGISTER_GPU_KERNEL(softplus, softplus_kernel);

void pow_scalar_kernel(const KernelCall& c) {
  run_unary(c, "pow", UnaryOp::pow_scalar, false, {c.attrs<ops::ScalarAttrs>().value, 0});
}
DLT_REGISTER_GPU_KERNEL(pow_scalar, pow_scalar_kernel);

void clamp_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::ClampAttrs>();
  run_unary(c, "clamp", UnaryOp::clamp, false, {a.lo, a.hi});
}
DLT_REGISTER_GPU_KERNEL(clamp, clamp_kernel);

// in: grad, x -> out: grad * gelu'(x).
void gelu_backward_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  DLT_CHECK(is_floating(out.dtype()), "gelu_backward expects a floating point tensor, got {}",
            out.dtype());
  launch_gelu_backward(tensor_arg(out), tensor_arg(c.in[0]), tensor_arg(c.in[1]),
                       c.attrs<ops::GeluAttrs>().tanh_approx, stream_for(out));
}
DLT_REGISTER_GPU_KERNEL(gelu_backward, gelu_backward_kernel);

// ins: grad, slope (R, N) contiguous -> out: grad * slope (R, N) and its sum
// over the rows (N), one block per column in a fixed order (deterministic).
void gelu_bias_backward_kernel(const KernelCall& c) {
  check_dense(c);
  const Tensor &dx = c.out[0], &dbias = c.out[1];
  const int64_t cols = dbias.numel(), rows = cols == 0 ? 0 : dx.numel() / cols;
  const cudaStream_t stream = stream_for(dx);
  launch_binary(BinaryOp::mul, tensor_arg(dx), tensor_arg(c.in[0]), tensor_arg(c.in[1]), 1, stream);
  launch_channel_sum(dx.numel() > 0 ? dx.raw_data() : nullptr, cols > 0 ? dbias.raw_data() : nullptr,
                     dtype_code(dx.dtype()), rows, cols, 1, stream);
}
DLT_REGISTER_GPU_KERNEL(gelu_bias_backward, gelu_bias_backward_kernel);

// in: grad, y = relu(x) -> out: grad where y > 0.
void relu_backward_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  DLT_CHECK(is_floating(out.dtype()), "relu_backward expects a floating point tensor, got {}",
            out.dtype());
  launch_relu_backward(tensor_arg(out), tensor_arg(c.in[0]), tensor_arg(c.in[1]), stream_for(out));
}
DLT_REGISTER_GPU_KERNEL(relu_backward, relu_backward_kernel);

}  // namespace
}  // namespace dlt::gpu
