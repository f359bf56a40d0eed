// Registers cat, tril and triu of shape.cu (operands as in kernels/cpu/shape.cpp).
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/shape.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// Inputs (contiguous, out's dtype) -> out: along `dim` input k fills its own slab.
void cat_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  Tensor& out = c.out[0];
  if (out.numel() == 0) return;
  int64_t outer = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= out.size(d);
  const int64_t out_row = out.numel() / outer;
  const TensorArg out_arg = tensor_arg(out);
  const cudaStream_t stream = stream_for(out);
  int64_t at = 0;
  for (const Tensor& in : c.in) {
    DLT_ASSERT(in.is_contiguous() && in.dtype() == out.dtype(), "cat input {} for a {} output",
               in.str(), out.dtype());
    launch_cat_piece(out_arg, tensor_arg(in), outer, out_row, at, stream);
    at += in.numel() / outer;
  }
}
DLT_REGISTER_GPU_KERNEL(cat, cat_kernel);

template <bool kLower> void triangle_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  launch_triangle(tensor_arg(c.out[0]), tensor_arg(x), c.attrs<ops::TriAttrs>().diagonal, kLower,
                  stream_for(x));
}
DLT_REGISTER_GPU_KERNEL(tril, triangle_kernel<true>);
DLT_REGISTER_GPU_KERNEL(triu, triangle_kernel<false>);

}  // namespace
}  // namespace dlt::gpu
