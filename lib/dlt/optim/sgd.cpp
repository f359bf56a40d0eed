#include <cmath>
#include <span>

#include "dlt/ops/optim_ops.h"
#include "dlt/optim/optimizers.h"

namespace dlt::optim {

namespace {

std::vector<std::string> sgd_state(const OptimizerOptions& o) {
  if (o.momentum == 0) return {};
  return {"momentum_buffer"};
}

}  // namespace

SGD::SGD(std::vector<ParamGroup> groups, const OptimizerOptions& options)
    : ElementwiseOptimizer("sgd", std::move(groups), sgd_state(options)), options_(options) {
  DLT_CHECK(std::isfinite(options.momentum) && options.momentum >= 0,
            "sgd: invalid momentum {}; it must be >= 0", options.momentum);
  DLT_CHECK(std::isfinite(options.dampening) && options.dampening >= 0 && options.dampening <= 1,
            "sgd: invalid dampening {}; it must be in [0, 1]", options.dampening);
  DLT_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
            "sgd: nesterov momentum requires a momentum > 0 and zero dampening (momentum {}, "
            "dampening {})",
            options.momentum, options.dampening);
}

void SGD::update(const ParamGroup& group, const StepBatch& batch) {
  ops::SgdStepAttrs attrs;
  attrs.lr = group.lr;
  attrs.momentum = options_.momentum;
  attrs.dampening = options_.dampening;
  attrs.weight_decay = group.weight_decay;
  attrs.nesterov = options_.nesterov;
  attrs.first_step = batch.step == 1;  // torch starts the buffer as the gradient itself
  const std::span<const Tensor> momentum_buffers =
      batch.buffers.empty() ? std::span<const Tensor>() : batch.buffers[0];
  sgd_step_(batch.params, batch.grads, momentum_buffers, attrs, batch.copies);
}

}  // namespace dlt::optim
