// lstm_cell / gru_cell and their backward ops on the GPU: the geometry from
// the shapes and the launchers of recurrent.h. The op layer hands contiguous
// tensors of one floating dtype.
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/recurrent.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// The (B, H) geometry of a cell call from one of its (B, H) tensors.
CellArgs cell_args(const Tensor& bh) { return {bh.size(0), bh.size(1)}; }

// ins: gates, c_prev; outs: h, c, workspace.
void lstm_cell_kernel(const KernelCall& k) {
  check_dense(k);
  launch_lstm_cell(tensor_arg(k.out[0]), tensor_arg(k.out[1]), tensor_arg(k.out[2]),
                   tensor_arg(k.in[0]), tensor_arg(k.in[1]), cell_args(k.in[1]),
                   stream_for(k.in[0]));
}
DLT_REGISTER_GPU_KERNEL(lstm_cell, lstm_cell_kernel);

// ins: dh, dc, workspace, c_prev, c; outs: d gates, d c_prev.
void lstm_cell_backward_kernel(const KernelCall& k) {
  check_dense(k);
  launch_lstm_cell_backward(tensor_arg(k.out[0]), tensor_arg(k.out[1]), tensor_arg(k.in[0]),
                            tensor_arg(k.in[1]), tensor_arg(k.in[2]), tensor_arg(k.in[3]),
                            tensor_arg(k.in[4]), cell_args(k.in[0]), stream_for(k.in[0]));
}
DLT_REGISTER_GPU_KERNEL(lstm_cell_backward, lstm_cell_backward_kernel);

// ins: input_gates, hidden_gates, h_prev; outs: h, workspace.
void gru_cell_kernel(const KernelCall& k) {
  check_dense(k);
  launch_gru_cell(tensor_arg(k.out[0]), tensor_arg(k.out[1]), tensor_arg(k.in[0]),
                  tensor_arg(k.in[1]), tensor_arg(k.in[2]), cell_args(k.in[2]),
                  stream_for(k.in[0]));
}
DLT_REGISTER_GPU_KERNEL(gru_cell, gru_cell_kernel);

// ins: dh, workspace, h_prev; outs: d input_gates, d hidden_gates, d h_prev.
void gru_cell_backward_kernel(const KernelCall& k) {
  check_dense(k);
  launch_gru_cell_backward(tensor_arg(k.out[0]), tensor_arg(k.out[1]), tensor_arg(k.out[2]),
                           tensor_arg(k.in[0]), tensor_arg(k.in[1]), tensor_arg(k.in[2]),
                           cell_args(k.in[0]), stream_for(k.in[0]));
}
DLT_REGISTER_GPU_KERNEL(gru_cell_backward, gru_cell_backward_kernel);

}  // namespace
}  // namespace dlt::gpu
