// The bookkeeping of a caching device allocator, apart from the device: a
// backend supplies segments (cudaMalloc/cudaFree in kernels/cuda, a fake in
// tests/core), and the cache carves them into blocks. Sizes follow PyTorch's
// CUDACachingAllocator: requests round up to 512 B; up to 1 MiB they come
// from 2 MiB segments, up to 10 MiB from 20 MiB segments, larger ones get a
// segment of their own rounded to 2 MiB. A freed block merges with free
// neighbours of its segment and is reused only for allocations on the same
// stream (work queued on another stream may still be reading it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace dlt {

class SegmentCache {
 public:
  static constexpr size_t kMinBlock = 512;           // every size is a multiple
  static constexpr size_t kSmallRequest = 1 << 20;   // up to this: small pool
  static constexpr size_t kSmallSegment = 2 << 20;   // segments of the small pool
  static constexpr size_t kMediumRequest = 10 << 20; // up to this: 20 MiB segments
  static constexpr size_t kLargeSegment = 20 << 20;
  static constexpr size_t kRoundLarge = 2 << 20;     // bigger requests round to this

  struct Backend {
    // Returns nullptr when the device is out of memory (other failures throw).
    std::function<void*(size_t bytes)> allocate;
    std::function<void(void* ptr, size_t bytes)> release;
  };
  struct Stats {
    size_t allocated = 0;  // bytes in live blocks (rounded sizes)
    size_t reserved = 0;   // bytes in segments from the backend
    size_t peak_allocated = 0;
    int64_t segment_allocs = 0;   // backend allocate calls that succeeded
    int64_t segment_releases = 0;
  };
  using StreamKey = uintptr_t;

  // `device_name` ("cuda:0") names the device in out-of-memory errors.
  SegmentCache(Backend backend, std::string device_name);
  ~SegmentCache();  // releases cached segments; live blocks are the owners' to free
  SegmentCache(const SegmentCache&) = delete;
  SegmentCache& operator=(const SegmentCache&) = delete;

  void* allocate(size_t bytes, StreamKey stream);
  void deallocate(void* ptr);
  // Returns every wholly free segment to the backend.
  void empty_cache();
  Stats stats() const;

  static size_t round_size(size_t bytes);
  static size_t segment_size(size_t rounded);

 private:
  struct Block {
    StreamKey stream;
    size_t size;
    char* ptr;
    bool allocated = false;
    bool small;             // which pool it belongs to
    Block* prev = nullptr;  // neighbours within the segment
    Block* next = nullptr;
  };
  struct Order {  // by stream, then size, then address: lower_bound = best fit
    bool operator()(const Block* a, const Block* b) const;
  };
  using Pool = std::set<Block*, Order>;

  Pool& pool_of(bool small) { return small ? small_ : large_; }
  Block* find_free(size_t size, StreamKey stream, bool small);
  Block* new_segment(size_t size, StreamKey stream, bool small);
  void release_free_segments();  // mu_ held
  bool should_split(const Block* b, size_t size) const;

  Backend backend_;
  std::string device_name_;
  mutable std::mutex mu_;
  Pool small_, large_;
  std::unordered_map<void*, Block*> live_;
  Stats stats_;
};

}  // namespace dlt
