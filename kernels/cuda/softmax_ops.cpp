// softmax / log_softmax and their backward ops on the GPU. The op layer
// hands contiguous inputs and fresh (contiguous) outputs.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/softmax.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

void check_dense(const KernelCall& c) {
  for (const Tensor& t : c.in)
    DLT_CHECK(t.is_contiguous(), "{} on the GPU: expected contiguous inputs, got strides {}",
              ops::op_name(c.op), shape_str(t.strides()));
  DLT_CHECK(c.out[0].is_contiguous(), "{} on the GPU: expected a contiguous output",
            ops::op_name(c.op));
}

// ins: x; out: y; attrs: the (wrapped) dim.
void softmax_kernel(const KernelCall& c) {
  check_dense(c);
  launch_softmax(tensor_arg(c.out[0]), tensor_arg(c.in[0]), c.attrs<ops::SoftmaxAttrs>().dim,
                 c.op == ops::OpId::log_softmax, stream_for(c.in[0]));
}
DLT_REGISTER_GPU_KERNEL(softmax, softmax_kernel);
DLT_REGISTER_GPU_KERNEL(log_softmax, softmax_kernel);

// ins: grad, y (the forward output); out: grad of x.
void softmax_backward_kernel(const KernelCall& c) {
  check_dense(c);
  launch_softmax_backward(tensor_arg(c.out[0]), tensor_arg(c.in[0]), tensor_arg(c.in[1]),
                          c.attrs<ops::SoftmaxAttrs>().dim,
                          c.op == ops::OpId::log_softmax_backward, stream_for(c.in[1]));
}
DLT_REGISTER_GPU_KERNEL(softmax_backward, softmax_backward_kernel);
DLT_REGISTER_GPU_KERNEL(log_softmax_backward, softmax_backward_kernel);

}  // namespace
}  // namespace dlt::gpu
