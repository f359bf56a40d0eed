// The batches of a loader on the training device, one batch ahead: when the
// current batch is handed out, the next one's host->device copy is already
// under way. On a GPU the loader's batches are pinned and the copy runs on the
// device's copy stream (DeviceRuntime::upload_async), overlapping the current
// step's kernels; the compute stream waits for it only when that batch is
// handed out. On the CPU the batches pass through unchanged.
#pragma once

#include <optional>
#include <vector>

#include "dlt/data/loader.h"

namespace dlt::train {

struct DeviceBatch {
  data::Batch host;            // as the loader made it (for --dump-batches)
  std::vector<Tensor> fields;  // the same fields on the device
  data::Cursor after;          // the loader's cursor once this batch is taken
  std::vector<uint64_t> uploads;  // copies still in flight (upload_async tickets)
};

class DeviceBatches {
 public:
  DeviceBatches(data::Loader& loader, Device device) : loader_(loader), device_(device) {}
  ~DeviceBatches();  // a batch still being copied is waited for before it is freed
  DeviceBatches(const DeviceBatches&) = delete;
  DeviceBatches& operator=(const DeviceBatches&) = delete;

  // The next batch, or nothing after the loader's last one.
  std::optional<DeviceBatch> next();

 private:
  std::optional<DeviceBatch> fetch();
  void finish_uploads(DeviceBatch& batch);

  data::Loader& loader_;
  Device device_;
  bool started_ = false;
  std::optional<DeviceBatch> ahead_;
};

}  // namespace dlt::train
