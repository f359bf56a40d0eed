// softmax / log_softmax and their backward ops on the GPU. The op layer
// hands contiguous inputs and fresh (contiguous) outputs.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/softmax.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

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
