// Optimizers: each step updates every parameter of every group in one fused
// pass (one multi-tensor call per group, dtype, device and step count),
// under no_grad.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dlt/core/tensor.h"
#include "dlt/ops/weight_copies.h"

namespace dlt::optim {

struct ParamGroup {
  std::vector<std::pair<std::string, Tensor>> params;  // dotted names, as in the model
  double lr = 1e-3;          // the current rate (schedules set it each step)
  double base_lr = 1e-3;     // the configured rate schedules scale
  double weight_decay = 0;
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {}
  virtual ~Optimizer() = default;

  virtual void step() = 0;
  void zero_grad();  // every parameter's .grad becomes undefined

  std::vector<ParamGroup>& groups() { return groups_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  void set_lr_factor(double factor);  // lr = base_lr * factor in every group

  // Mixed precision: the low-precision copies autocast keeps of the weights.
  // Each step writes a parameter's copy, if `copies` holds one, in the same
  // pass as the parameter's update. Null: none (the default).
  void set_weight_copies(std::shared_ptr<WeightCopies> copies) { weight_copies_ = std::move(copies); }

  // Per-parameter state ("exp_avg.<param name>", ...) and counters, for
  // optimizer.safetensors; loading checks names and shapes.
  virtual std::map<std::string, Tensor> state_dict() const = 0;
  virtual void load_state_dict(const std::map<std::string, Tensor>& state) = 0;

 protected:
  std::vector<ParamGroup> groups_;
  std::shared_ptr<WeightCopies> weight_copies_;
};

}  // namespace dlt::optim
