// Parameter groups as most training recipes want them: weights decay,
// biases and normalisation parameters do not.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dlt/optim/optimizer.h"

namespace dlt::optim {

inline const std::vector<std::string> kDefaultNoDecayPatterns = {"norm", "ln", "bn"};

// Whether `name` is exempt from weight decay: a bias (the name ends in
// "bias"), any tensor of fewer than 2 dims (biases and norm scales, also
// inside a Sequential where the name says nothing), or a name containing one
// of `no_decay_patterns`.
bool is_no_decay(const std::string& name, const Tensor& param,
                 const std::vector<std::string>& no_decay_patterns);

// Up to two groups, in this order and only when non-empty: the decayed
// parameters (weight_decay) and the exempt ones (0), both at rate `lr`
// (lr = base_lr). A tensor listed twice (tied weights) keeps its first name.
std::vector<ParamGroup> make_param_groups(
    const std::vector<std::pair<std::string, Tensor>>& named_params, double lr,
    double weight_decay, const std::vector<std::string>& no_decay_patterns = kDefaultNoDecayPatterns);

}  // namespace dlt::optim
