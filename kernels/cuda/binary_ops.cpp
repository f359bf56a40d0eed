// Registers the binary kernels of binary.cu (inputs and attrs as in
// kernels/cpu/binary.cpp).
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/binary.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

void run_binary(const KernelCall& c, BinaryOp op, double alpha = 1) {
  const Tensor& out = c.out[0];
  launch_binary(op, tensor_arg(out), tensor_arg(c.in[0]), tensor_arg(c.in[1]), alpha,
                stream_for(out));
}

void add_kernel(const KernelCall& c) {
  run_binary(c, BinaryOp::add, c.attrs<ops::AlphaAttrs>().alpha);
}
void sub_kernel(const KernelCall& c) {
  run_binary(c, BinaryOp::sub, c.attrs<ops::AlphaAttrs>().alpha);
}
void mul_kernel(const KernelCall& c) { run_binary(c, BinaryOp::mul); }
void div_kernel(const KernelCall& c) { run_binary(c, BinaryOp::div); }
void pow_kernel(const KernelCall& c) { run_binary(c, BinaryOp::pow); }
void maximum_kernel(const KernelCall& c) { run_binary(c, BinaryOp::maximum); }
void minimum_kernel(const KernelCall& c) { run_binary(c, BinaryOp::minimum); }
DLT_REGISTER_GPU_KERNEL(add, add_kernel);
DLT_REGISTER_GPU_KERNEL(sub, sub_kernel);
DLT_REGISTER_GPU_KERNEL(mul, mul_kernel);
DLT_REGISTER_GPU_KERNEL(div, div_kernel);
DLT_REGISTER_GPU_KERNEL(pow, pow_kernel);
DLT_REGISTER_GPU_KERNEL(maximum, maximum_kernel);
DLT_REGISTER_GPU_KERNEL(minimum, minimum_kernel);

void run_compare(const KernelCall& c, CompareOp op) {
  const Tensor& out = c.out[0];
  DLT_ASSERT(out.dtype() == DType::boolean && c.in[0].dtype() == c.in[1].dtype(),
             "comparison of {} and {} into {}", c.in[0].dtype(), c.in[1].dtype(), out.dtype());
  launch_compare(op, tensor_arg(out), tensor_arg(c.in[0]), tensor_arg(c.in[1]), stream_for(out));
}

#define DLT_GPU_COMPARE(op)                                                \
  void op##_kernel(const KernelCall& c) { run_compare(c, CompareOp::op); } \
  DLT_REGISTER_GPU_KERNEL(op, op##_kernel)
DLT_GPU_COMPARE(eq);
DLT_GPU_COMPARE(ne);
DLT_GPU_COMPARE(lt);
DLT_GPU_COMPARE(le);
DLT_GPU_COMPARE(gt);
DLT_GPU_COMPARE(ge);
#undef DLT_GPU_COMPARE

// where(cond, a, b): inputs (cond bool, a, b).
void where_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  launch_where(tensor_arg(out), tensor_arg(c.in[0]), tensor_arg(c.in[1]), tensor_arg(c.in[2]),
               stream_for(out));
}
DLT_REGISTER_GPU_KERNEL(where, where_kernel);

// masked_fill(x, mask): inputs (x, mask bool).
void masked_fill_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  launch_masked_fill(tensor_arg(out), tensor_arg(c.in[0]), tensor_arg(c.in[1]),
                     c.attrs<ops::ScalarAttrs>().value, stream_for(out));
}
DLT_REGISTER_GPU_KERNEL(masked_fill, masked_fill_kernel);

}  // namespace
}  // namespace dlt::gpu
