#include "dlt/core/segment_cache.h"

#include <tuple>

#include "dlt/core/error.h"

namespace dlt {
namespace {

std::string mib(size_t bytes) { return fmt::format("{:.1f} MiB", double(bytes) / double(1 << 20)); }

}  // namespace

bool SegmentCache::Order::operator()(const Block* a, const Block* b) const {
  return std::tie(a->stream, a->size, a->ptr) < std::tie(b->stream, b->size, b->ptr);
}

SegmentCache::SegmentCache(Backend backend, std::string device_name)
    : backend_(std::move(backend)), device_name_(std::move(device_name)) {}

SegmentCache::~SegmentCache() {
  std::lock_guard lock(mu_);
  release_free_segments();
}

size_t SegmentCache::round_size(size_t bytes) {
  return bytes < kMinBlock ? kMinBlock : (bytes + kMinBlock - 1) / kMinBlock * kMinBlock;
}

size_t SegmentCache::segment_size(size_t rounded) {
  if (rounded <= kSmallRequest) return kSmallSegment;
  if (rounded < kMediumRequest) return kLargeSegment;
  return (rounded + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
}

// Splitting a large block leaves a remainder only when it is worth a block of
// the large pool (> 1 MiB); smaller tails stay with the allocation.
bool SegmentCache::should_split(const Block* b, size_t size) const {
  const size_t rest = b->size - size;
  return b->small ? rest >= kMinBlock : rest > kSmallRequest;
}

SegmentCache::Block* SegmentCache::find_free(size_t size, StreamKey stream, bool small) {
  Pool& pool = pool_of(small);
  Block key{stream, size, nullptr, false, small, nullptr, nullptr};
  const auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* b = *it;
  pool.erase(it);
  return b;
}

SegmentCache::Block* SegmentCache::new_segment(size_t size, StreamKey stream, bool small) {
  const size_t seg = segment_size(size);
  void* p = backend_.allocate(seg);
  if (!p) {  // the cache may hold what the device lacks: give it back, retry once
    release_free_segments();
    p = backend_.allocate(seg);
  }
  if (!p)
    throw Error(fmt::format(
        "out of memory on {} allocating {} ({} bytes, a {} segment): {} allocated by tensors, {} "
        "reserved by dlt's caching allocator",
        device_name_, mib(size), size, mib(seg), mib(stats_.allocated), mib(stats_.reserved)));
  ++stats_.segment_allocs;
  stats_.reserved += seg;
  return new Block{stream, seg, static_cast<char*>(p), false, small, nullptr, nullptr};
}

void* SegmentCache::allocate(size_t bytes, StreamKey stream) {
  if (bytes == 0) return nullptr;
  const size_t size = round_size(bytes);
  const bool small = size <= kSmallRequest;
  std::lock_guard lock(mu_);
  Block* b = find_free(size, stream, small);
  if (!b) b = new_segment(size, stream, small);
  if (should_split(b, size)) {
    // b keeps the front `size` bytes; the tail becomes a free block after it.
    Block* rest = new Block{stream, b->size - size, b->ptr + size, false, small, b, b->next};
    if (b->next) b->next->prev = rest;
    b->next = rest;
    b->size = size;
    pool_of(small).insert(rest);
  }
  b->allocated = true;
  live_.emplace(b->ptr, b);
  stats_.allocated += b->size;
  stats_.peak_allocated = std::max(stats_.peak_allocated, stats_.allocated);
  return b->ptr;
}

void SegmentCache::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard lock(mu_);
  const auto it = live_.find(ptr);
  DLT_ASSERT(it != live_.end(), "freeing a block {} the caching allocator did not hand out", ptr);
  Block* b = it->second;
  live_.erase(it);
  b->allocated = false;
  stats_.allocated -= b->size;
  Pool& pool = pool_of(b->small);
  // Merge with free neighbours so the segment can serve larger requests again.
  if (Block* prev = b->prev; prev && !prev->allocated) {
    pool.erase(prev);
    prev->size += b->size;
    prev->next = b->next;
    if (b->next) b->next->prev = prev;
    delete b;
    b = prev;
  }
  if (Block* next = b->next; next && !next->allocated) {
    pool.erase(next);
    b->size += next->size;
    b->next = next->next;
    if (next->next) next->next->prev = b;
    delete next;
  }
  pool.insert(b);
}

void SegmentCache::release_free_segments() {
  for (Pool* pool : {&small_, &large_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* b = *it;
      if (b->prev || b->next) {  // part of a segment still in use
        ++it;
        continue;
      }
      backend_.release(b->ptr, b->size);
      stats_.reserved -= b->size;
      ++stats_.segment_releases;
      delete b;
      it = pool->erase(it);
    }
  }
}

void SegmentCache::empty_cache() {
  std::lock_guard lock(mu_);
  release_free_segments();
}

SegmentCache::Stats SegmentCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace dlt
