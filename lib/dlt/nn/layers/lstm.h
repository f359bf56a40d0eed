// LSTM, like torch.nn.LSTM(batch_first=True): per step, with torch's gate
// order i, f, g, o,
//   gates = x_t W_ih^T + b_ih + h W_hh^T + b_hh   (B, 4H)
//   c = sigmoid(f) * c + sigmoid(i) * tanh(g),  h = sigmoid(o) * tanh(c)
// through the fused lstm_cell op. Options, names, stacking, variable lengths:
// recurrent.h.
#pragma once

#include "dlt/nn/layers/recurrent.h"

namespace dlt::nn {

class LSTM : public Recurrent {
 public:
  LSTM(RecurrentOptions options, const Shape& input_shape, BuildContext& ctx);
  std::string type() const override { return "LSTM"; }

 protected:
  DirectionOutput run_direction(const Tensor& gx, const DirectionParams& p,
                                const StepSchedule& schedule, bool reverse, const Tensor& h0,
                                const Tensor& c0) override;
  bool has_cell_state() const override { return true; }
};

}  // namespace dlt::nn
