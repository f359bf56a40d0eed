#include "dlt/optim/elementwise_optimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"

namespace dlt::optim {

namespace {

// "exp_avg.blocks.0.attn.qkv.weight" -> {"exp_avg", "blocks.0.attn.qkv.weight"}.
std::pair<std::string, std::string> split_key(const std::string& key) {
  const size_t dot = key.find('.');
  if (dot == std::string::npos) return {key, ""};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

std::string describe(const Tensor& t) { return fmt::format("{} {}", shape_str(t.shape()), t.dtype()); }

}  // namespace

ElementwiseOptimizer::ElementwiseOptimizer(std::string kind, std::vector<ParamGroup> groups,
                                           std::vector<std::string> state_names)
    : Optimizer(std::move(groups)), kind_(std::move(kind)), state_names_(std::move(state_names)) {
  std::set<std::string> names;
  std::set<const TensorImpl*> tensors;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const ParamGroup& group = groups_[g];
    DLT_CHECK(std::isfinite(group.lr) && group.lr >= 0 && std::isfinite(group.base_lr) &&
                  group.base_lr >= 0,
              "{}: invalid learning rate {} (base {}) in parameter group {}; it must be >= 0",
              kind_, group.lr, group.base_lr, g);
    DLT_CHECK(std::isfinite(group.weight_decay) && group.weight_decay >= 0,
              "{}: invalid weight_decay {} in parameter group {}; it must be >= 0", kind_,
              group.weight_decay, g);
    for (const auto& [name, param] : group.params) {
      DLT_CHECK(param.defined(), "{}: parameter '{}' is an undefined tensor", kind_, name);
      DLT_CHECK(param.dtype() == DType::f32 || param.dtype() == DType::f64,
                "{}: parameter '{}' has dtype {}; only f32 and f64 parameters can be optimized",
                kind_, name, param.dtype());
      DLT_CHECK(names.insert(name).second,
                "{}: parameter name '{}' appears more than once in the parameter groups", kind_,
                name);
      DLT_CHECK(tensors.insert(param.impl()).second,
                "{}: parameter '{}' is a tensor already given under another name (tied "
                "weights must be listed once)",
                kind_, name);
    }
  }
}

void ElementwiseOptimizer::step() {
  NoGradGuard no_grad;
  for (const ParamGroup& group : groups_) {
    std::vector<StepBatch> batches;  // in order of first appearance
    for (const auto& named : group.params) {  // not a structured binding: the lambda below captures it
      const std::string& name = named.first;
      const Tensor& param = named.second;
      const Tensor& grad = param.grad();
      if (!grad.defined()) continue;
      ParamState& state = state_[name];
      if (state.buffers.empty())
        for (size_t k = 0; k < state_names_.size(); ++k) state.buffers.push_back(zeros_like(param));
      ++state.step;
      const Tensor copy = weight_copies_ ? weight_copies_->find(param) : Tensor();
      auto batch = std::find_if(batches.begin(), batches.end(), [&](const StepBatch& b) {
        const bool same_copies =
            b.copies.empty() ? !copy.defined() : copy.defined() && b.copies[0].dtype() == copy.dtype();
        return b.step == state.step && b.params[0].dtype() == param.dtype() &&
               b.params[0].device() == param.device() && same_copies;
      });
      if (batch == batches.end()) {
        batch = batches.emplace(batches.end());
        batch->step = state.step;
        batch->buffers.resize(state_names_.size());
      }
      batch->params.push_back(param);
      batch->grads.push_back(grad);
      for (size_t k = 0; k < state_names_.size(); ++k)
        batch->buffers[k].push_back(state.buffers[k]);
      if (copy.defined()) batch->copies.push_back(copy);
    }
    for (const StepBatch& batch : batches) {
      update(group, batch);
      if (!batch.copies.empty())
        for (const Tensor& param : batch.params) weight_copies_->written(param);
    }
  }
}

std::map<std::string, Tensor> ElementwiseOptimizer::state_dict() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, state] : state_) {
    out.emplace("step." + name, scalar_tensor(state.step, DType::i64));
    for (size_t k = 0; k < state_names_.size(); ++k)
      out.emplace(state_names_[k] + "." + name, state.buffers[k]);
  }
  return out;
}

void ElementwiseOptimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  std::map<std::string, const Tensor*> params;
  for (const ParamGroup& group : groups_)
    for (const auto& [name, param] : group.params) params.emplace(name, &param);

  std::vector<std::string> problems;
  std::map<std::string, ParamState> loaded;
  std::set<std::string> mentioned;  // parameters with any entry
  for (const auto& [key, value] : state) {
    const auto [what, name] = split_key(key);
    const auto param = params.find(name);
    const bool known_kind = what == "step" || std::count(state_names_.begin(), state_names_.end(), what);
    if (param == params.end() || !known_kind) {
      problems.push_back(fmt::format("unexpected entry '{}'", key));
      continue;
    }
    mentioned.insert(name);
    if (what == "step") {
      if (value.dtype() != DType::i64 || value.dim() != 0 || value.item<int64_t>() < 1)
        problems.push_back(fmt::format("'{}' must be a positive int64 scalar, got {}", key,
                                       describe(value)));
    } else if (value.shape() != param->second->shape() ||
               value.dtype() != param->second->dtype()) {
      problems.push_back(fmt::format("'{}' is {}, expected {}", key, describe(value),
                                     describe(*param->second)));
    }
  }
  for (const std::string& name : mentioned) {
    std::vector<std::string> kinds = state_names_;
    kinds.insert(kinds.begin(), "step");
    for (const std::string& what : kinds)
      if (!state.count(what + "." + name))
        problems.push_back(fmt::format("missing entry '{}.{}'", what, name));
  }
  if (!problems.empty()) {
    std::string list;
    for (const std::string& p : problems) list += "\n  " + p;
    DLT_CHECK(false, "{}: optimizer state does not match its parameters:{}", kind_, list);
  }

  NoGradGuard no_grad;
  for (const std::string& name : mentioned) {
    ParamState& s = loaded[name];
    s.step = state.at("step." + name).item<int64_t>();
    for (const std::string& what : state_names_)
      s.buffers.push_back(state.at(what + "." + name).to(params.at(name)->device()).clone().contiguous());
  }
  state_ = std::move(loaded);
}

}  // namespace dlt::optim
