// Per-device allocators. Storage never calls malloc directly, so a GPU
// backend only has to register its allocator for its device type.
#pragma once

#include <cstddef>
#include <string>

#include "dlt/core/device.h"

namespace dlt {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes, int device_index) = 0;
  virtual void deallocate(void* ptr, size_t nbytes, int device_index) = 0;
  // Bytes held by live tensors, held in all (live + cached), and the peak of
  // the first, for `dlt info` and memory benchmarks.
  struct Stats {
    size_t allocated = 0, reserved = 0, peak_allocated = 0;
  };
  virtual Stats stats() const { return {}; }
  // Returns cached, unused blocks to the system.
  virtual void empty_cache() {}
};

// The allocator registered for a device type; a user error if none is (e.g.
// a cuda tensor in a build without CUDA).
Allocator& allocator_for(DeviceType type);
void register_allocator(DeviceType type, Allocator* allocator);

// Page-locked host memory, registered by a GPU backend: host<->device copies
// from it run asynchronously. nullptr in builds without a GPU backend.
Allocator* pinned_allocator();
void register_pinned_allocator(Allocator* allocator);

}  // namespace dlt
