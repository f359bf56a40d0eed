// The fused recurrent cells (torch's _thnn_fused_lstm_cell and
// _thnn_fused_gru_cell): the pointwise half of one LSTM or GRU time step. The
// GEMMs that make the gates stay ordinary linear / matmul ops. Gate order is
// torch's: LSTM i, f, g, o; GRU r, z, n. Shapes: B batch rows, H hidden size.
#pragma once

#include "dlt/core/tensor.h"

namespace dlt {

struct LstmCellOutput {
  Tensor h, c;       // (B, H)
  Tensor workspace;  // (B, 4H): the activated gates i, f, g, o, which the backward reads
};

// gates (B, 4H) = x W_ih^T + b_ih + h W_hh^T + b_hh, c_prev (B, H):
//   c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g),  h = sigmoid(o) * tanh(c).
// Differentiable in gates and c_prev through h and c.
LstmCellOutput lstm_cell(const Tensor& gates, const Tensor& c_prev);

struct GruCellOutput {
  Tensor h;          // (B, H)
  Tensor workspace;  // (B, 4H): r, z, n and the hidden gates' n part, which the backward reads
};

// input_gates (B, 3H) = x W_ih^T + b_ih, hidden_gates (B, 3H) = h W_hh^T + b_hh,
// h_prev (B, H):
//   r = sigmoid(i_r + h_r), z = sigmoid(i_z + h_z), n = tanh(i_n + r * h_n),
//   h = (1 - z) * n + z * h_prev.
// Differentiable in all three inputs.
GruCellOutput gru_cell(const Tensor& input_gates, const Tensor& hidden_gates, const Tensor& h_prev);

namespace ops {

struct LstmCellGrads {
  Tensor gates;   // (B, 4H)
  Tensor c_prev;  // (B, H)
};
// dh, dc (B, H) of the outputs; workspace, c_prev and c as lstm_cell made them.
LstmCellGrads lstm_cell_backward(const Tensor& dh, const Tensor& dc, const Tensor& workspace,
                                 const Tensor& c_prev, const Tensor& c);

struct GruCellGrads {
  Tensor input_gates, hidden_gates;  // (B, 3H)
  Tensor h_prev;                     // (B, H)
};
// dh (B, H) of the output; workspace and h_prev as gru_cell saw them.
GruCellGrads gru_cell_backward(const Tensor& dh, const Tensor& workspace, const Tensor& h_prev);

}  // namespace ops
}  // namespace dlt
