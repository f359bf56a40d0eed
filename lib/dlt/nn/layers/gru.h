// GRU, like torch.nn.GRU(batch_first=True): per step, with torch's gate order
// r, z, n,
//   gi = x_t W_ih^T + b_ih,  gh = h W_hh^T + b_hh   (B, 3H)
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r * gh_n)
//   h = (1 - z) * n + z * h
// through the fused gru_cell op. Options, names, stacking, variable lengths:
// recurrent.h.
#pragma once

#include "dlt/nn/layers/recurrent.h"

namespace dlt::nn {

class GRU : public Recurrent {
 public:
  GRU(RecurrentOptions options, const Shape& input_shape, BuildContext& ctx);
  std::string type() const override { return "GRU"; }

 protected:
  DirectionOutput run_direction(const Tensor& gx, const DirectionParams& p,
                                const StepSchedule& schedule, bool reverse, const Tensor& h0,
                                const Tensor& c0) override;
  bool has_cell_state() const override { return false; }
};

}  // namespace dlt::nn
