// Launchers of the fused LSTM / GRU cells and their backward
// (kernels/cpu/recurrent.cpp is the reference). Tensors are contiguous rows
// of B batch rows; H is the hidden size; gate order is torch's.
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

struct CellArgs {
  int64_t batch = 0, hidden = 0;  // B, H
};

// gates (B, 4H), c_prev (B, H) -> h, c (B, H), workspace (B, 4H) = activated i, f, g, o.
void launch_lstm_cell(TensorArg h, TensorArg c, TensorArg workspace, TensorArg gates,
                      TensorArg c_prev, const CellArgs& a, cudaStream_t stream);
// dh, dc, c_prev, c (B, H), workspace (B, 4H) -> d gates (B, 4H), d c_prev (B, H).
void launch_lstm_cell_backward(TensorArg d_gates, TensorArg d_c_prev, TensorArg dh, TensorArg dc,
                               TensorArg workspace, TensorArg c_prev, TensorArg c,
                               const CellArgs& a, cudaStream_t stream);

// input_gates, hidden_gates (B, 3H), h_prev (B, H) -> h (B, H), workspace
// (B, 4H) = r, z, n, hn.
void launch_gru_cell(TensorArg h, TensorArg workspace, TensorArg input_gates,
                     TensorArg hidden_gates, TensorArg h_prev, const CellArgs& a,
                     cudaStream_t stream);
// dh, h_prev (B, H), workspace (B, 4H) -> d input_gates, d hidden_gates (B, 3H), d h_prev (B, H).
void launch_gru_cell_backward(TensorArg d_input_gates, TensorArg d_hidden_gates,
                              TensorArg d_h_prev, TensorArg dh, TensorArg workspace,
                              TensorArg h_prev, const CellArgs& a, cudaStream_t stream);

}  // namespace dlt::gpu
