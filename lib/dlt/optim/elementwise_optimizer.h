// The common part of SGD, Adam(W) and RMSprop: per parameter, a step counter
// and a few state buffers shaped like the parameter, created at its first
// step (a parameter that never had a gradient has no state, as in torch).
// Subclasses supply the fused update of a list of parameters: each step
// makes one fused call per group, dtype, device and step count.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dlt/optim/optimizer.h"

namespace dlt::optim {

class ElementwiseOptimizer : public Optimizer {
 public:
  // `kind` names the optimizer in messages ("adam"); `state_names` are the
  // buffers each parameter gets, in torch's names ("exp_avg", "exp_avg_sq").
  // Checks that every parameter appears once and is f32/f64, and that each
  // group's lr and weight_decay are >= 0.
  ElementwiseOptimizer(std::string kind, std::vector<ParamGroup> groups,
                       std::vector<std::string> state_names);

  // Updates every parameter that has a gradient; those without are skipped.
  // Parameters of a group with equal dtype, device, step count and kind of
  // low-precision copy share one fused call (a few launches on a GPU instead
  // of one per parameter), which also writes their copies.
  void step() override;

  // "step.<param>" (int64, 0-dim) and "<state>.<param>" for every parameter
  // that has state. The tensors are the live state, not copies.
  std::map<std::string, Tensor> state_dict() const override;
  // Replaces the state by copies of `state` (parameters it does not mention
  // start afresh). Unknown names, missing companions, wrong shapes or dtypes
  // are an error listing every such entry; the state is unchanged then.
  void load_state_dict(const std::map<std::string, Tensor>& state) override;

  const std::string& kind() const { return kind_; }
  // The buffers each parameter gets, in torch's names ("exp_avg", ...).
  const std::vector<std::string>& state_names() const { return state_names_; }

 protected:
  struct ParamState {
    int64_t step = 0;             // steps taken, counting the current one during update()
    std::vector<Tensor> buffers;  // in the order of state_names
  };
  // Parameters of one group that take their step in one fused call: same
  // dtype, device and step count (hyperparameters may depend on the step),
  // and all with low-precision copies of one dtype or none.
  struct StepBatch {
    int64_t step = 0;  // steps taken, counting this one
    std::vector<Tensor> params, grads;
    std::vector<std::vector<Tensor>> buffers;  // [k][i]: state_names[k] of params[i]
    std::vector<Tensor> copies;                // [i]: params[i]'s copy; empty: none
  };
  // One fused update of every parameter of `batch` from its gradient.
  virtual void update(const ParamGroup& group, const StepBatch& batch) = 0;


 private:
  std::string kind_;
  std::vector<std::string> state_names_;
  std::map<std::string, ParamState> state_;  // by parameter name
};

}  // namespace dlt::optim
