#include "dlt/optim/param_groups.h"

#include <set>

namespace dlt::optim {

bool is_no_decay(const std::string& name, const Tensor& param,
                 const std::vector<std::string>& no_decay_patterns) {
  if (param.dim() < 2) return true;
  if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) return true;
  for (const std::string& p : no_decay_patterns)
    if (!p.empty() && name.find(p) != std::string::npos) return true;
  return false;
}

std::vector<ParamGroup> make_param_groups(
    const std::vector<std::pair<std::string, Tensor>>& named_params, double lr,
    double weight_decay, const std::vector<std::string>& no_decay_patterns) {
  ParamGroup decay, no_decay;
  decay.lr = decay.base_lr = no_decay.lr = no_decay.base_lr = lr;
  decay.weight_decay = weight_decay;
  no_decay.weight_decay = 0;
  std::set<const TensorImpl*> seen;
  for (const auto& [name, param] : named_params) {
    if (!seen.insert(param.impl()).second) continue;
    (is_no_decay(name, param, no_decay_patterns) ? no_decay : decay).params.emplace_back(name, param);
  }
  std::vector<ParamGroup> groups;
  if (!decay.params.empty()) groups.push_back(std::move(decay));
  if (!no_decay.params.empty()) groups.push_back(std::move(no_decay));
  return groups;
}

}  // namespace dlt::optim
