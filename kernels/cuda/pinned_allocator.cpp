// Page-locked host memory for staging host<->device copies and for the data
// loader's batches. Sizes round to powers of two and freed blocks are cached.
// A freed block may still be read by a copy queued on a compute stream, so
// freeing records an event on every compute stream and the block is reused
// only once those events have completed.
//
// CUDA runtime names used here (for the HIP mapping): cudaHostAlloc,
// cudaHostAllocDefault, cudaFreeHost, cudaEvent_t, cudaEventCreateWithFlags,
// cudaEventDisableTiming, cudaEventRecord, cudaEventQuery, cudaEventDestroy,
// cudaErrorNotReady, cudaErrorMemoryAllocation, cudaGetDevice, cudaSetDevice.
#include <algorithm>
#include <bit>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "dlt/core/allocator.h"
#include "kernels/cuda/runtime.h"

namespace dlt::gpu {
namespace {

class PinnedAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, int) override {
    if (nbytes == 0) return nullptr;
    const size_t size = std::bit_ceil(std::max<size_t>(nbytes, 512));
    std::lock_guard lock(mu_);
    const auto [lo, hi] = free_.equal_range(size);
    for (auto it = lo; it != hi; ++it) {
      if (!copies_done(it->second)) continue;
      void* p = it->second.ptr;
      cached_ -= size;
      free_.erase(it);
      return hand_out(p, size, nbytes);
    }
    void* p = nullptr;
    cudaError_t err = cudaHostAlloc(&p, size, cudaHostAllocDefault);
    if (err == cudaErrorMemoryAllocation) {  // give back what the cache holds, retry once
      (void)cudaGetLastError();
      release_idle();
      err = cudaHostAlloc(&p, size, cudaHostAllocDefault);
    }
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      throw Error(fmt::format("cannot allocate {} bytes of pinned host memory: {}", nbytes,
                              cudaGetErrorString(err)));
    }
    reserved_ += size;
    return hand_out(p, size, nbytes);
  }

  void deallocate(void* ptr, size_t nbytes, int) override {
    if (!ptr) return;
    std::lock_guard lock(mu_);
    const auto it = live_.find(ptr);
    DLT_ASSERT(it != live_.end(), "freeing pinned memory {} this allocator did not hand out", ptr);
    const size_t size = it->second;
    live_.erase(it);
    allocated_ -= nbytes;
    Cached c{ptr, {}};
    int current = 0;
    DLT_GPU_CHECK(cudaGetDevice(&current));
    for (const auto& [device, stream] : created_streams()) {
      DLT_GPU_CHECK(cudaSetDevice(device));
      cudaEvent_t ev = take_event(device);
      DLT_GPU_CHECK(cudaEventRecord(ev, stream));
      c.events.push_back({device, ev});
    }
    DLT_GPU_CHECK(cudaSetDevice(current));
    free_.emplace(size, std::move(c));
    cached_ += size;
  }

  Stats stats() const override {
    std::lock_guard lock(mu_);
    return {allocated_, reserved_, peak_};
  }

  void empty_cache() override {
    std::lock_guard lock(mu_);
    release_idle();
  }

 private:
  struct Cached {
    void* ptr;
    std::vector<std::pair<int, cudaEvent_t>> events;  // (device, event) per stream at free
  };

  void* hand_out(void* p, size_t size, size_t nbytes) {
    live_.emplace(p, size);
    allocated_ += nbytes;
    peak_ = std::max(peak_, allocated_);
    return p;
  }

  // True when every copy queued before the block was freed has finished; the
  // events then go back to the pool.
  bool copies_done(Cached& c) {
    for (const auto& [device, ev] : c.events) {
      const cudaError_t q = cudaEventQuery(ev);
      if (q == cudaErrorNotReady) {
        (void)cudaGetLastError();
        return false;
      }
      DLT_GPU_CHECK(q);
    }
    for (const auto& [device, ev] : c.events) events_[device].push_back(ev);
    c.events.clear();
    return true;
  }

  cudaEvent_t take_event(int device) {  // the device is current
    auto& pool = events_[device];
    if (!pool.empty()) {
      const cudaEvent_t ev = pool.back();
      pool.pop_back();
      return ev;
    }
    cudaEvent_t ev;
    DLT_GPU_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
    return ev;
  }

  // Frees cached blocks no copy is reading any more.
  void release_idle() {
    for (auto it = free_.begin(); it != free_.end();) {
      if (!copies_done(it->second)) {
        ++it;
        continue;
      }
      DLT_GPU_CHECK(cudaFreeHost(it->second.ptr));
      reserved_ -= it->first;
      cached_ -= it->first;
      it = free_.erase(it);
    }
  }

  mutable std::mutex mu_;
  std::multimap<size_t, Cached> free_;       // by rounded size
  std::unordered_map<void*, size_t> live_;   // -> rounded size
  std::unordered_map<int, std::vector<cudaEvent_t>> events_;  // idle events by device
  size_t allocated_ = 0, reserved_ = 0, cached_ = 0, peak_ = 0;
};

// Never destroyed: pinned tensors in static objects may outlive it otherwise.
const bool registered = [] {
  register_pinned_allocator(new PinnedAllocator);
  return true;
}();

}  // namespace
}  // namespace dlt::gpu
