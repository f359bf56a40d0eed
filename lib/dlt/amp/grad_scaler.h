// Dynamic loss scaling with PyTorch GradScaler's semantics, for fp16
// training (and any other precision that asks for it): the loss is
// multiplied by the scale before backward, so small fp16 gradients do not
// flush to zero; before clipping and the optimizer step the gradients are
// unscaled in one fused pass that also finds inf/NaN. A step with a
// non-finite gradient is skipped (parameters and optimizer state untouched)
// and the scale backs off; after `growth_interval` good steps in a row it
// grows (never past the largest finite f32).
//
// Per step:  backward(scaler.scale(loss)); found = scaler.unscale(grads);
//            ... clip, step unless found ...; scaler.update(found);
// With gradient accumulation the gradients stay scaled until the last
// micro-batch: unscale once per optimizer step.
#pragma once

#include <span>

#include "dlt/core/tensor.h"

namespace dlt::amp {

struct GradScalerOptions {
  double init_scale = 65536.0;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

// What a checkpoint keeps (torch's GradScaler.state_dict()).
struct GradScalerState {
  double scale = 65536.0;
  int64_t growth_tracker = 0;  // good steps since the last growth or backoff
  bool operator==(const GradScalerState&) const = default;
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions options = {});

  double scale() const { return state_.scale; }
  const GradScalerOptions& options() const { return options_; }

  // loss * scale (out of place, differentiable).
  Tensor scale(const Tensor& loss) const;
  // Unscales the gradients in place (1 / scale computed in double, rounded
  // once) and says whether any was inf or NaN: one fused pass per device and
  // one read-back. Once per step; a second call before update() is an error.
  bool unscale(std::span<const Tensor> grads);
  // Backs off after a non-finite step, else counts towards growth. Ends the step.
  void update(bool found_inf);

  GradScalerState state() const { return state_; }
  void load_state(const GradScalerState& state);

 private:
  GradScalerOptions options_;
  GradScalerState state_;
  bool unscaled_ = false;
};

}  // namespace dlt::amp
