// Device memory for GPU tensors: one dlt::SegmentCache (lib/dlt/core) per
// device over cudaMalloc/cudaFree, keyed by the device's compute stream.
// Registered as the allocator of the GPU device type. A training step that
// repeats its sizes reuses cached blocks: cudaMalloc runs only while warming up.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "dlt/core/allocator.h"
#include "dlt/core/segment_cache.h"

namespace dlt::gpu {

class DeviceAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, int device) override;
  void deallocate(void* ptr, size_t nbytes, int device) override;
  Stats stats() const override;  // summed over devices
  void empty_cache() override;

 private:
  SegmentCache& cache(int device);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<SegmentCache>> caches_;  // by device index, made on first use
};

}  // namespace dlt::gpu
