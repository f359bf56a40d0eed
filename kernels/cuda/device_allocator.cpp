// CUDA runtime names used here (for the HIP mapping): cudaMalloc, cudaFree,
// cudaErrorMemoryAllocation, cudaGetLastError.
#include "kernels/cuda/device_allocator.h"

#include "kernels/cuda/runtime.h"
#include "kernels/cuda/tensor_arg_host.h"  // DLT_GPU_DEVICE

namespace dlt::gpu {
namespace {

SegmentCache::Backend cuda_backend(int device) {
  return {
      .allocate = [device](size_t bytes) -> void* {
        use_device(device);
        void* p = nullptr;
        const cudaError_t err = cudaMalloc(&p, bytes);
        if (err == cudaErrorMemoryAllocation) {
          (void)cudaGetLastError();  // clear it: the cache retries or reports
          return nullptr;
        }
        DLT_GPU_CHECK(err);
        return p;
      },
      // cudaFree waits for the device, so no queued kernel still uses the block.
      .release = [device](void* ptr, size_t) {
        use_device(device);
        DLT_GPU_CHECK(cudaFree(ptr));
      },
  };
}

}  // namespace

void* DeviceAllocator::allocate(size_t nbytes, int device) {
  if (nbytes == 0) return nullptr;
  const cudaStream_t stream = use_device(device);  // checks the index
  return cache(device).allocate(nbytes, reinterpret_cast<SegmentCache::StreamKey>(stream));
}

void DeviceAllocator::deallocate(void* ptr, size_t, int device) {
  if (ptr) cache(device).deallocate(ptr);
}

Allocator::Stats DeviceAllocator::stats() const {
  Stats s;
  std::lock_guard lock(mu_);
  for (const auto& c : caches_) {
    if (!c) continue;
    const SegmentCache::Stats b = c->stats();
    s.allocated += b.allocated;
    s.reserved += b.reserved;
    s.peak_allocated += b.peak_allocated;
  }
  return s;
}

void DeviceAllocator::empty_cache() {
  std::lock_guard lock(mu_);
  for (const auto& c : caches_)
    if (c) c->empty_cache();
}

SegmentCache& DeviceAllocator::cache(int device) {
  std::lock_guard lock(mu_);
  if (int(caches_.size()) <= device) caches_.resize(size_t(device) + 1);
  auto& c = caches_[size_t(device)];
  if (!c)
    c = std::make_unique<SegmentCache>(cuda_backend(device),
                                     Device{DeviceType::DLT_GPU_DEVICE, device}.str());
  return *c;
}

namespace {

// Never destroyed: tensors in static objects may outlive any static allocator.
DeviceAllocator* const device_allocator = [] {
  auto* a = new DeviceAllocator;
  register_allocator(DeviceType::DLT_GPU_DEVICE, a);
  return a;
}();

}  // namespace

}  // namespace dlt::gpu
