#include "dlt/amp/mixed_precision.h"

#include <utility>

namespace dlt::amp {

MixedPrecision::MixedPrecision(MixedPrecisionOptions options) : options_(options) {
  if (options_.loss_scale) scaler_.emplace(*options_.loss_scale);
  if (options_.autocast) copies_ = std::make_shared<WeightCopies>();
}

void MixedPrecision::end_step(bool skipped) {
  if (!scaler_) return;
  scaler_->update(skipped);
  skipped_ += skipped;
}

std::optional<double> MixedPrecision::loss_scale() const {
  return scaler_ ? std::optional(scaler_->scale()) : std::nullopt;
}

int64_t MixedPrecision::take_skipped_steps() { return std::exchange(skipped_, 0); }

std::optional<GradScalerState> MixedPrecision::scaler_state() const {
  return scaler_ ? std::optional(scaler_->state()) : std::nullopt;
}

void MixedPrecision::load_scaler_state(const GradScalerState& state) {
  DLT_CHECK(scaler_.has_value(), "load_scaler_state: this run has no loss scaling");
  scaler_->load_state(state);
}

}  // namespace dlt::amp
