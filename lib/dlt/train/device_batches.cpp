#include "dlt/train/device_batches.h"

#include "dlt/core/device_runtime.h"
#include "dlt/ops/ops.h"

namespace dlt::train {

DeviceBatches::~DeviceBatches() {
  if (ahead_) finish_uploads(*ahead_);
}

std::optional<DeviceBatch> DeviceBatches::fetch() {
  std::optional<data::Batch> b = loader_.next();
  if (!b) return std::nullopt;
  DeviceBatch d{std::move(*b), {}, loader_.cursor(), {}};
  DeviceRuntime* runtime = device_.is_cpu() ? nullptr : device_runtime(device_.type);
  for (const Tensor& f : d.host.fields) {
    if (runtime && f.is_pinned() && f.is_contiguous()) {
      Tensor on_device = empty(f.shape(), TensorOptions(f.dtype()).device(device_));
      d.uploads.push_back(runtime->upload_async(on_device, f));
      d.fields.push_back(std::move(on_device));
    } else {
      d.fields.push_back(f.to(device_));
    }
  }
  return d;
}

void DeviceBatches::finish_uploads(DeviceBatch& batch) {
  for (const uint64_t ticket : batch.uploads)
    device_runtime(device_.type)->wait_upload(device_.index, ticket);
  batch.uploads.clear();
}

std::optional<DeviceBatch> DeviceBatches::next() {
  if (!started_) {
    ahead_ = fetch();
    started_ = true;
  }
  std::optional<DeviceBatch> current = std::move(ahead_);
  ahead_ = std::nullopt;
  if (current) finish_uploads(*current);
  ahead_ = current ? fetch() : std::nullopt;
  return current;
}

}  // namespace dlt::train
