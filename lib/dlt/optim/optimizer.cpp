#include "dlt/optim/optimizer.h"

namespace dlt::optim {

void Optimizer::zero_grad() {
  for (ParamGroup& group : groups_)
    for (auto& [name, param] : group.params) param.set_grad(Tensor());
}

void Optimizer::set_lr_factor(double factor) {
  for (ParamGroup& group : groups_) group.lr = group.base_lr * factor;
}

}  // namespace dlt::optim
