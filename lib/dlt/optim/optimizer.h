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

  // Per-parameter state ("exp_avg.<param name>", ...) and counters, for
  // optimizer.safetensors; loading checks names and shapes.
  virtual std::map<std::string, Tensor> state_dict() const = 0;
  virtual void load_state_dict(const std::map<std::string, Tensor>& state) = 0;

 protected:
  std::vector<ParamGroup> groups_;
};

}  // namespace dlt::optim
