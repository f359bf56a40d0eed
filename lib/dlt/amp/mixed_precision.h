// What train.precision asks of each training step, in one place: the
// autocast region of the forward pass and the loss (bf16 / fp16), and loss
// scaling around the backward pass and the optimizer step (fp16 by default,
// or train.loss_scale). Master weights, gradients and optimizer state stay
// f32 throughout; the loss is computed in f32 (the losses' cast policy).
// Under autocast the weights' low-precision copies are kept from step to
// step (weight_copies()): the optimizer writes them as it updates the
// weights, and the forward pass casts only weights changed otherwise.
//
// Per optimizer step (A micro-batches):
//   for each micro-batch: { auto region = mp.forward(); loss = ...; }
//                         mp.scaled(loss / A).backward();
//   skip = mp.unscale(grads);           // once, after the last micro-batch
//   ... clip, step unless skip ...
//   mp.end_step(skip);
#pragma once

#include <memory>
#include <optional>
#include <span>

#include "dlt/amp/grad_scaler.h"
#include "dlt/ops/autocast.h"

namespace dlt::amp {

struct MixedPrecisionOptions {
  std::optional<DType> autocast;               // bf16 or f16; none: f32 compute
  std::optional<GradScalerOptions> loss_scale;  // none: no scaling
};

class MixedPrecision {
 public:
  explicit MixedPrecision(MixedPrecisionOptions options);

  bool scaling() const { return scaler_.has_value(); }

  // The autocast region of one forward pass and its loss (off for f32).
  AutocastGuard forward() const { return AutocastGuard(options_.autocast, copies_.get()); }
  // The weights' low-precision copies, for the optimizer to write (null
  // without autocast).
  const std::shared_ptr<WeightCopies>& weight_copies() const { return copies_; }
  // The loss to call backward() on: multiplied by the loss scale, if any.
  Tensor scaled(const Tensor& loss) const { return scaler_ ? scaler_->scale(loss) : loss; }
  // Unscales the gradients (one fused pass, one read-back) and says whether
  // the step must be skipped for an inf/NaN gradient; false without scaling.
  bool unscale(std::span<const Tensor> grads) { return scaler_ && scaler_->unscale(grads); }
  // Ends the step: the scale backs off after a skipped one, else may grow.
  void end_step(bool skipped);

  // For metrics: the current scale, and the steps skipped since the last call.
  std::optional<double> loss_scale() const;
  int64_t take_skipped_steps();

  std::optional<GradScalerState> scaler_state() const;
  void load_scaler_state(const GradScalerState& state);

 private:
  MixedPrecisionOptions options_;
  std::optional<GradScaler> scaler_;
  std::shared_ptr<WeightCopies> copies_;
  int64_t skipped_ = 0;
};

}  // namespace dlt::amp
