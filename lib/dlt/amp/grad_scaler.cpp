#include "dlt/amp/grad_scaler.h"

#include <cmath>
#include <limits>
#include <map>

#include "dlt/ops/ops.h"
#include "dlt/ops/optim_ops.h"

namespace dlt::amp {

GradScaler::GradScaler(GradScalerOptions options) : options_(options) {
  DLT_CHECK(options_.init_scale > 0 && std::isfinite(options_.init_scale),
            "loss scaling: the initial scale must be a positive number, got {}", options_.init_scale);
  DLT_CHECK(options_.growth_factor > 1, "loss scaling: the growth factor must be above 1, got {}",
            options_.growth_factor);
  DLT_CHECK(options_.backoff_factor > 0 && options_.backoff_factor < 1,
            "loss scaling: the backoff factor must be in (0, 1), got {}", options_.backoff_factor);
  DLT_CHECK(options_.growth_interval >= 1, "loss scaling: the growth interval must be at least 1, got {}",
            options_.growth_interval);
  state_.scale = options_.init_scale;
}

Tensor GradScaler::scale(const Tensor& loss) const { return loss * Scalar(state_.scale); }

bool GradScaler::unscale(std::span<const Tensor> grads) {
  DLT_CHECK(!unscaled_, "loss scaling: unscale() was already called for this step (call update() first)");
  unscaled_ = true;
  // The reciprocal in double, then rounded once (f32 division can be inexact).
  const double inv_scale = double(float(1.0 / state_.scale));
  // One fused pass per device (a model may span the CPU and a GPU).
  std::map<std::pair<int, int>, std::vector<Tensor>> by_device;
  for (const Tensor& g : grads)
    if (g.defined()) by_device[{static_cast<int>(g.device().type), g.device().index}].push_back(g);
  std::vector<Tensor> flags;
  for (auto& [device, list] : by_device) flags.push_back(unscale_check_(list, inv_scale));
  bool found = false;
  for (const Tensor& f : flags) found |= f.item<float>() != 0;  // read back after every pass is queued
  return found;
}

void GradScaler::update(bool found_inf) {
  unscaled_ = false;
  if (found_inf) {
    state_.scale *= options_.backoff_factor;
    state_.growth_tracker = 0;
    return;
  }
  if (++state_.growth_tracker == options_.growth_interval) {
    const double grown = state_.scale * options_.growth_factor;
    // Never past the largest finite f32 (the scale multiplies f32 losses).
    if (grown <= double(std::numeric_limits<float>::max())) state_.scale = grown;
    state_.growth_tracker = 0;
  }
}

void GradScaler::load_state(const GradScalerState& state) {
  DLT_CHECK(state.scale > 0 && std::isfinite(state.scale), "loss scaling: a saved scale of {} is not usable",
            state.scale);
  DLT_CHECK(state.growth_tracker >= 0 && state.growth_tracker < options_.growth_interval,
            "loss scaling: a saved growth tracker of {} is outside [0, {})", state.growth_tracker,
            options_.growth_interval);
  state_ = state;
  unscaled_ = false;
}

}  // namespace dlt::amp
