// SGD, Adam, AdamW and RMSprop with torch 1.13's semantics, and the factory
// the trainer uses. Learning rates and weight decay live in the parameter
// groups (see param_groups.h); these options are the rest.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dlt/optim/elementwise_optimizer.h"

namespace dlt::optim {

struct OptimizerOptions {
  double momentum = 0;   // sgd, rmsprop
  double dampening = 0;  // sgd
  bool nesterov = false;  // sgd: needs momentum > 0 and dampening 0
  double beta1 = 0.9, beta2 = 0.999;  // adam, adamw: each in [0, 1)
  double eps = 1e-8;                  // adam, adamw, rmsprop
  double alpha = 0.99;                // rmsprop: smoothing of the squared gradient
  bool centered = false;              // rmsprop
};

// torch.optim.SGD: weight decay is added to the gradient; state "momentum_buffer".
class SGD : public ElementwiseOptimizer {
 public:
  SGD(std::vector<ParamGroup> groups, const OptimizerOptions& options);

 private:
  void update(const ParamGroup& group, const StepBatch& batch) override;
  OptimizerOptions options_;
};

// torch.optim.Adam (L2 weight decay added to the gradient) and, with
// decoupled weight decay, torch.optim.AdamW. State "exp_avg", "exp_avg_sq".
class Adam : public ElementwiseOptimizer {
 public:
  Adam(std::vector<ParamGroup> groups, const OptimizerOptions& options,
       bool decoupled_weight_decay = false);

 private:
  void update(const ParamGroup& group, const StepBatch& batch) override;
  OptimizerOptions options_;
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, const OptimizerOptions& options)
      : Adam(std::move(groups), options, true) {}
};

// torch.optim.RMSprop. State "square_avg", "momentum_buffer" (momentum > 0),
// "grad_avg" (centered).
class RMSprop : public ElementwiseOptimizer {
 public:
  RMSprop(std::vector<ParamGroup> groups, const OptimizerOptions& options);

 private:
  void update(const ParamGroup& group, const StepBatch& batch) override;
  OptimizerOptions options_;
};

// "sgd", "adam", "adamw" or "rmsprop" (any case). Options that make no sense
// (negative rates, betas outside [0, 1), ...) are a dlt::Error naming them.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<ParamGroup> groups,
                                          const OptimizerOptions& options);
std::vector<std::string> optimizer_names();

}  // namespace dlt::optim
