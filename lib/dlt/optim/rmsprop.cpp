#include <cmath>

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

void RMSprop::update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                     ParamState& state) {
  ops::RmspropStepAttrs attrs;
  attrs.lr = group.lr;
  attrs.alpha = options_.alpha;
  attrs.eps = options_.eps;
  attrs.weight_decay = group.weight_decay;
  attrs.momentum = options_.momentum;
  attrs.centered = options_.centered;
  // Buffers follow rmsprop_state's order: square_avg, then the optional ones.
  size_t k = 1;
  const Tensor momentum_buffer = options_.momentum > 0 ? state.buffers[k++] : Tensor();
  const Tensor grad_avg = options_.centered ? state.buffers[k++] : Tensor();
  rmsprop_step_(param, grad, state.buffers[0], momentum_buffer, grad_avg, attrs);
}

}  // namespace dlt::optim
