#include "dlt/nn/module.h"

#include <set>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

namespace {

using Named = std::vector<std::pair<std::string, Tensor>>;

// Keeps the first name of each tensor: a parameter shared by two modules
// (tied weights) is one parameter, seen once by optimizers, as in torch.
Named without_duplicates(Named all) {
  std::set<const TensorImpl*> seen;
  Named out;
  for (auto& [name, t] : all)
    if (seen.insert(t.impl()).second) out.emplace_back(std::move(name), std::move(t));
  return out;
}

}  // namespace

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::collect(const std::string& prefix, bool parameters, Named& out) const {
  for (const auto& [name, t] : parameters ? parameters_ : buffers_)
    out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", parameters, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  Named all;
  collect("", true, all);
  return without_duplicates(std::move(all));
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  Named all;
  collect("", false, all);
  return without_duplicates(std::move(all));
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

// Every name, shared tensors under each of theirs (torch's state_dict keeps
// both "tok_emb.weight" and "head.weight" when they are tied).
std::map<std::string, Tensor> Module::state_dict() const {
  Named all;
  collect("", true, all);
  collect("", false, all);
  return {all.begin(), all.end()};
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state) {
  const std::map<std::string, Tensor> own = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, t] : own) {
    const auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
    } else if (it->second.shape() != t.shape()) {
      mismatched.push_back(fmt::format("{} (expected {}, got {})", name, shape_str(t.shape()),
                                       shape_str(it->second.shape())));
    }
  }
  for (const auto& [name, t] : state)
    if (!own.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = "state dict does not match the model:";
    if (!missing.empty()) msg += fmt::format(" missing {};", fmt::join(missing, ", "));
    if (!unexpected.empty()) msg += fmt::format(" unexpected {};", fmt::join(unexpected, ", "));
    if (!mismatched.empty()) msg += fmt::format(" shape mismatch {};", fmt::join(mismatched, ", "));
    msg.pop_back();
    throw Error(msg);
  }
  NoGradGuard no_grad;
  for (const auto& [name, t] : own) {
    Tensor dst = t;
    dst.copy_(state.at(name));
  }
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) {
    Tensor p = t;
    p.set_grad(Tensor());
  }
}

namespace {

// Points the handle's impl at a copy of its data on `device`, so every holder
// of the handle follows; autograd metadata (requires_grad, .grad) stays.
void move_in_place(const Tensor& t, Device device) {
  if (t.device() == device) return;
  const Tensor moved = t.detach().to(device);  // contiguous
  TensorImpl& impl = *t.impl();
  impl.storage = moved.storage();
  impl.strides = moved.strides();
  impl.offset = moved.offset();
}

}  // namespace

void Module::to(Device device) {
  NoGradGuard no_grad;
  Named all = named_parameters();
  for (auto& named : named_buffers()) all.push_back(std::move(named));
  for (const auto& [name, t] : all) {
    move_in_place(t, device);
    if (const Tensor& g = t.grad(); g.defined() && g.device() != device) {
      Tensor p = t;
      p.set_grad(g.to(device));
    }
  }
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  DLT_ASSERT(value.defined(), "parameter '{}' is undefined", name);
  value.requires_grad_(true);
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, value);
  return value;
}

}  // namespace dlt::nn
