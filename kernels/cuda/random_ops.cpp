// Registers fill, range, the random factories and dropout of random.cu
// (attrs as in kernels/cpu/fill.cpp and dropout.cpp).
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/random.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

void fill_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  launch_fill(tensor_arg(out), c.attrs<ops::ScalarAttrs>().value, stream_for(out));
}
DLT_REGISTER_GPU_KERNEL(fill, fill_kernel);

// Generated outputs are fresh contiguous tensors (the op layer allocates them).
const Tensor& contiguous_out(const KernelCall& c, const char* name) {
  const Tensor& out = c.out[0];
  DLT_ASSERT(out.is_contiguous(), "{} needs a contiguous output", name);
  return out;
}

void range_kernel(const KernelCall& c) {
  const Tensor& out = contiguous_out(c, "arange");
  DLT_CHECK(out.dtype() != DType::boolean, "arange does not support bool tensors");
  const auto& a = c.attrs<ops::RangeAttrs>();
  launch_range(tensor_arg(out), a.start, a.step, a.end, a.linspace, stream_for(out));
}
DLT_REGISTER_GPU_KERNEL(range, range_kernel);

void random_kernel(const KernelCall& c, RandomKind kind, const char* name) {
  const Tensor& out = contiguous_out(c, name);
  if (kind == RandomKind::randint)
    DLT_CHECK(out.dtype() != DType::boolean, "{} does not support bool tensors", name);
  else
    DLT_CHECK(is_floating(out.dtype()), "{} expects a floating point tensor, got {}", name,
              out.dtype());
  const auto& a = c.attrs<ops::RandomAttrs>();
  launch_random(kind, tensor_arg(out), a.a, a.b, a.seed, a.offset, stream_for(out));
}
void uniform_kernel(const KernelCall& c) { random_kernel(c, RandomKind::uniform, "uniform"); }
void normal_kernel(const KernelCall& c) { random_kernel(c, RandomKind::normal, "normal"); }
void randint_kernel(const KernelCall& c) { random_kernel(c, RandomKind::randint, "randint"); }
DLT_REGISTER_GPU_KERNEL(uniform, uniform_kernel);
DLT_REGISTER_GPU_KERNEL(normal, normal_kernel);
DLT_REGISTER_GPU_KERNEL(randint, randint_kernel);

// in: x (contiguous); out: y, mask (bool).
void dropout_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  DLT_CHECK(is_floating(x.dtype()), "dropout expects a floating point input, got {}", x.dtype());
  DLT_ASSERT(x.is_contiguous() && c.out[0].is_contiguous() && c.out[1].is_contiguous(),
             "dropout needs contiguous operands");
  const auto& a = c.attrs<ops::DropoutAttrs>();
  launch_dropout(tensor_arg(c.out[0]), tensor_arg(c.out[1]), tensor_arg(x), a.p, a.seed, a.offset,
                 stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(dropout, dropout_kernel);

}  // namespace
}  // namespace dlt::gpu
