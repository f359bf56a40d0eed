// The batches of a loader on the training device, one batch ahead: when the
// current batch is handed out, the next one's host->device copy is already
// queued. On a GPU the loader's batches are pinned, so the copy is an
// asynchronous cudaMemcpyAsync on the compute stream and the host goes on to
// queue the current step; on the CPU the batches pass through unchanged.
#pragma once

#include <optional>
#include <vector>

#include "dlt/data/loader.h"

namespace dlt::train {

struct DeviceBatch {
  data::Batch host;            // as the loader made it (for --dump-batches)
  std::vector<Tensor> fields;  // the same fields on the device
  data::Cursor after;          // the loader's cursor once this batch is taken
};

class DeviceBatches {
 public:
  DeviceBatches(data::Loader& loader, Device device) : loader_(loader), device_(device) {}

  // The next batch, or nothing after the loader's last one.
  std::optional<DeviceBatch> next();

 private:
  std::optional<DeviceBatch> fetch();

  data::Loader& loader_;
  Device device_;
  bool started_ = false;
  std::optional<DeviceBatch> ahead_;
};

}  // namespace dlt::train
