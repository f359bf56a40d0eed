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
  virtual void deallocate(void* ptr, int device_index) = 0;
  // Human-readable statistics for `dlt info` (allocated, reserved, peak).
  virtual std::string stats() const { return {}; }
};

// The allocator registered for a device type; a user error if none is (e.g.
// a cuda tensor in a build without CUDA).
Allocator& allocator_for(DeviceType type);
void register_allocator(DeviceType type, Allocator* allocator);

}  // namespace dlt
