// A reference-counted block of device memory, shared by a tensor and all its
// views. The version counter lives here so every view sees in-place writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "dlt/core/allocator.h"

namespace dlt {

class StorageImpl {
 public:
  StorageImpl(size_t nbytes, Device device)
      : StorageImpl(nbytes, device, allocator_for(device.type)) {}
  // Memory from a given allocator, e.g. pinned host memory for a cpu tensor.
  StorageImpl(size_t nbytes, Device device, Allocator& allocator)
      : nbytes_(nbytes), device_(device), allocator_(&allocator),
        data_(allocator.allocate(nbytes, device.index)) {}
  ~StorageImpl() { allocator_->deallocate(data_, nbytes_, device_.index); }
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool pinned() const { return allocator_ == pinned_allocator() && allocator_ != nullptr; }
  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  size_t nbytes_;
  Device device_;
  Allocator* allocator_;
  void* data_;
  std::atomic<uint32_t> version_{0};
};

using Storage = std::shared_ptr<StorageImpl>;

}  // namespace dlt
