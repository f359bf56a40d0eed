// rotary_embedding on the GPU: geometry from the shapes (the op layer hands
// contiguous tensors) for kernels/cuda/rotary.cu.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/rotary.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

// in (x (*, T, H, D), cos (T, D / 2), sin), out (y).
void rotary_embedding_kernel(const ops::KernelCall& c) {
  check_dense(c);
  const Tensor& x = c.in[0];
  if (x.numel() == 0) return;  // H or D may be 0: nothing to rotate, nothing to divide by
  RotaryArgs a;
  a.dim = x.size(-1);
  a.heads = x.size(-2);
  a.len = x.size(-3);
  a.rows = x.numel() / (a.heads * a.dim);
  a.inverse = c.attrs<ops::RotaryAttrs>().inverse;
  launch_rotary(tensor_arg(c.out[0]), tensor_arg(x), tensor_arg(c.in[1]), tensor_arg(c.in[2]), a,
                stream_for(x));
}

}  // namespace

DLT_REGISTER_GPU_KERNEL(rotary_embedding, rotary_embedding_kernel);

}  // namespace dlt::gpu
