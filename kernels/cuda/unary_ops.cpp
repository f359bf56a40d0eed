// Registers the unary kernels of unary.cu: reads attrs and dtypes as
// kernels/cpu/unary.cpp does and hands the tensors to launch_unary.
#include "dlt/ops/dispatch.h"
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

// out: gelu(x), gelu'(x); two passes (gelu() keeps the plain op and
// gelu_backward on GPUs, where both are memory-bound).
void gelu_and_slope_kernel(const KernelCall& c) {
  DLT_CHECK(!c.in[1].defined(), "gelu_and_slope: a bias is added on the CPU only");
  const bool tanh_approx = c.attrs<ops::GeluAttrs>().tanh_approx;
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
