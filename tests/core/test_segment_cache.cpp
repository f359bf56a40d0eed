// The caching device allocator's bookkeeping (lib/dlt/core/segment_cache.h),
// run against a fake backend: size classes, splitting, merging, reuse per
// stream, releasing cached segments on out-of-memory, statistics.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>

#include "dlt/core/segment_cache.h"
#include "dlt/core/error.h"

namespace dlt {
namespace {

constexpr size_t MiB = size_t(1) << 20;

// Hands out addresses (never dereferenced) up to a capacity, like a device.
struct FakeDevice {
  size_t capacity = size_t(1) << 40;
  size_t used = 0;
  uintptr_t next = 0x100000000;
  std::map<uintptr_t, size_t> segments;

  SegmentCache::Backend backend() {
    return {.allocate = [this](size_t bytes) -> void* {
              if (used + bytes > capacity) return nullptr;
              used += bytes;
              const uintptr_t p = next;
              next += bytes + 64 * MiB;  // segments are never adjacent
              segments[p] = bytes;
              return reinterpret_cast<void*>(p);
            },
            .release = [this](void* p, size_t bytes) {
              const auto it = segments.find(reinterpret_cast<uintptr_t>(p));
              ASSERT_NE(it, segments.end());
              EXPECT_EQ(it->second, bytes);
              segments.erase(it);
              used -= bytes;
            }};
  }
};

char* as_bytes(void* p) { return static_cast<char*>(p); }

TEST(SegmentCache, SizeClassesFollowTheCachingAllocatorOfPyTorch) {
  EXPECT_EQ(SegmentCache::round_size(1), 512u);
  EXPECT_EQ(SegmentCache::round_size(512), 512u);
  EXPECT_EQ(SegmentCache::round_size(513), 1024u);
  EXPECT_EQ(SegmentCache::segment_size(512), 2 * MiB);
  EXPECT_EQ(SegmentCache::segment_size(MiB), 2 * MiB);
  EXPECT_EQ(SegmentCache::segment_size(MiB + 512), 20 * MiB);
  EXPECT_EQ(SegmentCache::segment_size(10 * MiB - 512), 20 * MiB);
  EXPECT_EQ(SegmentCache::segment_size(10 * MiB), 10 * MiB);
  EXPECT_EQ(SegmentCache::segment_size(11 * MiB + 512), 12 * MiB);
}

TEST(SegmentCache, SmallRequestsAreCarvedFromOneSegment) {
  FakeDevice dev;
  SegmentCache cache(dev.backend(), "cuda:0");
  void* a = cache.allocate(1000, 1);
  void* b = cache.allocate(1000, 1);
  void* c = cache.allocate(100, 1);
  EXPECT_EQ(as_bytes(b), as_bytes(a) + 1024);
  EXPECT_EQ(as_bytes(c), as_bytes(b) + 1024);
  const SegmentCache::Stats s = cache.stats();
  EXPECT_EQ(s.segment_allocs, 1);
  EXPECT_EQ(s.reserved, 2 * MiB);
  EXPECT_EQ(s.allocated, 2560u);
  for (void* p : {a, b, c}) cache.deallocate(p);
  EXPECT_EQ(cache.stats().allocated, 0u);
  EXPECT_EQ(cache.stats().peak_allocated, 2560u);
}

TEST(SegmentCache, RepeatedStepsReuseBlocksWithoutTheBackend) {
  FakeDevice dev;
  SegmentCache cache(dev.backend(), "cuda:0");
  const size_t sizes[] = {4, 3000, 700 * 1024, 3 * MiB, 9 * MiB, 64 * MiB};
  int64_t after_warmup = 0;
  for (int step = 0; step < 10; ++step) {
    std::vector<void*> live;
    for (size_t n : sizes) live.push_back(cache.allocate(n, 7));
    for (void* p : live) cache.deallocate(p);
    if (step == 0) after_warmup = cache.stats().segment_allocs;
  }
  EXPECT_EQ(cache.stats().segment_allocs, after_warmup);
  EXPECT_EQ(cache.stats().segment_releases, 0);
}

TEST(SegmentCache, FreedNeighboursMergeSoTheSegmentCanBeReleased) {
  FakeDevice dev;
  SegmentCache cache(dev.backend(), "cuda:0");
  void* a = cache.allocate(4096, 1);
  void* b = cache.allocate(4096, 1);
  void* c = cache.allocate(4096, 1);
  cache.deallocate(a);
  cache.deallocate(c);
  cache.empty_cache();  // b still splits the segment
  EXPECT_EQ(cache.stats().segment_releases, 0);
  EXPECT_EQ(cache.stats().reserved, 2 * MiB);
  cache.deallocate(b);  // merges with both neighbours: the segment is whole again
  void* whole = cache.allocate(MiB, 1);
  EXPECT_EQ(whole, a);
  cache.deallocate(whole);
  cache.empty_cache();
  EXPECT_EQ(cache.stats().segment_releases, 1);
  EXPECT_EQ(cache.stats().reserved, 0u);
  EXPECT_TRUE(dev.segments.empty());
}

TEST(SegmentCache, LargeSegmentsSplitOnlyForRemaindersOverOneMiB) {
  FakeDevice dev;
  SegmentCache cache(dev.backend(), "cuda:0");
  void* a = cache.allocate(3 * MiB, 1);  // a 20 MiB segment, split
  void* b = cache.allocate(3 * MiB, 1);  // from the remainder
  EXPECT_EQ(as_bytes(b), as_bytes(a) + 3 * MiB);
  EXPECT_EQ(cache.stats().segment_allocs, 1);
  void* c = cache.allocate(13 * MiB + 512, 1);  // 14 MiB left: no 512-byte tail is split off
  EXPECT_EQ(as_bytes(c), as_bytes(b) + 3 * MiB);
  EXPECT_EQ(cache.stats().segment_allocs, 1);
  EXPECT_EQ(cache.stats().allocated, 6 * MiB + 14 * MiB);
  for (void* p : {a, b, c}) cache.deallocate(p);
}

TEST(SegmentCache, BlocksAreReusedOnlyOnTheirStream) {
  FakeDevice dev;
  SegmentCache cache(dev.backend(), "cuda:0");
  void* a = cache.allocate(MiB, 1);
  cache.deallocate(a);
  void* b = cache.allocate(MiB, 2);
  EXPECT_NE(a, b);
  EXPECT_EQ(cache.stats().segment_allocs, 2);
  void* c = cache.allocate(MiB, 1);
  EXPECT_EQ(a, c);
  cache.deallocate(b);
  cache.deallocate(c);
}

TEST(SegmentCache, OutOfMemoryReleasesCachedSegmentsAndRetries) {
  FakeDevice dev;
  dev.capacity = 40 * MiB;
  SegmentCache cache(dev.backend(), "cuda:0");
  void* a = cache.allocate(15 * MiB, 1);  // 16 MiB segments
  void* b = cache.allocate(15 * MiB, 1);
  cache.deallocate(b);                    // cached, not returned
  void* c = cache.allocate(20 * MiB, 1);  // fits only once b's segment is released
  EXPECT_NE(c, nullptr);
  EXPECT_EQ(cache.stats().segment_releases, 1);
  EXPECT_EQ(cache.stats().reserved, 36 * MiB);
  try {
    cache.allocate(30 * MiB, 1);
    FAIL() << "expected an out-of-memory error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of memory on cuda:0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("30.0 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("36.0 MiB reserved"), std::string::npos) << msg;
  }
  cache.deallocate(a);
  cache.deallocate(c);
}

TEST(SegmentCache, FreeingAnUnknownPointerIsABug) {
  FakeDevice dev;
  SegmentCache cache(dev.backend(), "cuda:0");
  int x = 0;
  EXPECT_THROW(cache.deallocate(&x), InternalError);
  EXPECT_EQ(cache.allocate(0, 1), nullptr);
}

}  // namespace
}  // namespace dlt
