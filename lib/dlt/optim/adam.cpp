#include <cmath>

#include "dlt/ops/optim_ops.h"
#include "dlt/optim/optimizers.h"

namespace dlt::optim {

Adam::Adam(std::vector<ParamGroup> groups, const OptimizerOptions& options,
           bool decoupled_weight_decay)
    : ElementwiseOptimizer(decoupled_weight_decay ? "adamw" : "adam", std::move(groups),
                           {"exp_avg", "exp_avg_sq"}),
      options_(options),
      decoupled_(decoupled_weight_decay) {
  const auto valid_beta = [](double b) { return std::isfinite(b) && b >= 0 && b < 1; };
  DLT_CHECK(valid_beta(options.beta1), "{}: invalid beta1 {}; it must be in [0, 1)", kind(),
            options.beta1);
  DLT_CHECK(valid_beta(options.beta2), "{}: invalid beta2 {}; it must be in [0, 1)", kind(),
            options.beta2);
  DLT_CHECK(std::isfinite(options.eps) && options.eps >= 0, "{}: invalid eps {}; it must be >= 0",
            kind(), options.eps);
}

void Adam::update(const ParamGroup& group, const StepBatch& batch) {
  ops::AdamStepAttrs attrs;
  attrs.lr = group.lr;
  attrs.beta1 = options_.beta1;
  attrs.beta2 = options_.beta2;
  attrs.eps = options_.eps;
  attrs.weight_decay = group.weight_decay;
  attrs.decoupled_weight_decay = decoupled_;
  attrs.step = batch.step;
  adam_step_(batch.params, batch.grads, batch.buffers[0], batch.buffers[1], attrs, batch.copies);
}

}  // namespace dlt::optim
