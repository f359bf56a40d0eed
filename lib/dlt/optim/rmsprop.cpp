#include <cmath>
#include <span>

#include "dlt/ops/optim_ops.h"
#include "dlt/optim/optimizers.h"

namespace dlt::optim {

namespace {

std::vector<std::string> rmsprop_state(const OptimizerOptions& o) {
  std::vector<std::string> names{"square_avg"};
  if (o.momentum > 0) names.push_back("momentum_buffer");
  if (o.centered) names.push_back("grad_avg");
  return names;
}

}  // namespace

RMSprop::RMSprop(std::vector<ParamGroup> groups, const OptimizerOptions& options)
    : ElementwiseOptimizer("rmsprop", std::move(groups), rmsprop_state(options)),
      options_(options) {
  DLT_CHECK(std::isfinite(options.alpha) && options.alpha >= 0,
            "rmsprop: invalid alpha {}; it must be >= 0", options.alpha);
  DLT_CHECK(std::isfinite(options.eps) && options.eps >= 0, "rmsprop: invalid eps {}; it must be >= 0",
            options.eps);
  DLT_CHECK(std::isfinite(options.momentum) && options.momentum >= 0,
            "rmsprop: invalid momentum {}; it must be >= 0", options.momentum);
}

void RMSprop::update(const ParamGroup& group, const StepBatch& batch) {
  ops::RmspropStepAttrs attrs;
  attrs.lr = group.lr;
  attrs.alpha = options_.alpha;
  attrs.eps = options_.eps;
  attrs.weight_decay = group.weight_decay;
  attrs.momentum = options_.momentum;
  attrs.centered = options_.centered;
  // Buffers follow rmsprop_state's order: square_avg, then the optional ones.
  size_t k = 1;
  const auto optional = [&](bool used) {
    return used ? std::span<const Tensor>(batch.buffers[k++]) : std::span<const Tensor>();
  };
  const std::span<const Tensor> momentum_buffers = optional(options_.momentum > 0);
  const std::span<const Tensor> grad_avgs = optional(options_.centered);
  rmsprop_step_(batch.params, batch.grads, batch.buffers[0], momentum_buffers, grad_avgs, attrs,
                batch.copies);
}

}  // namespace dlt::optim
