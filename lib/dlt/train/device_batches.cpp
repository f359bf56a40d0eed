#include "dlt/train/device_batches.h"

namespace dlt::train {

std::optional<DeviceBatch> DeviceBatches::fetch() {
  std::optional<data::Batch> b = loader_.next();
  if (!b) return std::nullopt;
  DeviceBatch d{std::move(*b), {}, loader_.cursor()};
  for (const Tensor& f : d.host.fields) d.fields.push_back(f.to(device_));
  return d;
}

std::optional<DeviceBatch> DeviceBatches::next() {
  if (!started_) {
    ahead_ = fetch();
    started_ = true;
  }
  std::optional<DeviceBatch> current = std::move(ahead_);
  ahead_ = current ? fetch() : std::nullopt;
  return current;
}

}  // namespace dlt::train
