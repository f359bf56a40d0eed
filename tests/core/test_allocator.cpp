// The host allocator: alignment, reuse of large blocks, statistics.
#include <gtest/gtest.h>

#include <cstdint>

#include "dlt/core/allocator.h"
#include "dlt/core/device_runtime.h"
#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

TEST(CpuAllocator, AlignsSmallAndLargeBlocks) {
  Allocator& a = allocator_for(DeviceType::cpu);
  for (size_t n : {size_t(1), size_t(100), size_t(4096), size_t(3) << 20}) {
    void* p = a.allocate(n, 0);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << n;
    a.deallocate(p, n, 0);
  }
  EXPECT_EQ(a.allocate(0, 0), nullptr);
}

TEST(CpuAllocator, ReusesFreedLargeBlocks) {
  Allocator& a = allocator_for(DeviceType::cpu);
  const size_t n = size_t(40) << 20;
  void* first = a.allocate(n, 0);
  a.deallocate(first, n, 0);
  void* second = a.allocate(n - 4096, 0);  // same size class
  EXPECT_EQ(first, second);
  a.deallocate(second, n - 4096, 0);
}

TEST(CpuAllocator, CountsLiveBytesAndPeak) {
  Allocator& a = allocator_for(DeviceType::cpu);
  const auto before = a.stats();
  {
    const Tensor t = empty({1 << 20});  // 4 MiB
    const auto during = a.stats();
    EXPECT_EQ(during.allocated, before.allocated + (size_t(4) << 20));
    EXPECT_GE(during.peak_allocated, during.allocated);
    EXPECT_GE(during.reserved, during.allocated);
  }
  EXPECT_EQ(a.stats().allocated, before.allocated);
  a.empty_cache();
  EXPECT_EQ(a.stats().reserved, a.stats().allocated);
}

TEST(CpuAllocator, UnknownBackendIsAUserError) {
  EXPECT_THROW(allocator_for(DeviceType::cuda), Error);
  EXPECT_THROW(zeros({2}, Device::cuda(0)), Error);
}

}  // namespace
}  // namespace dlt

namespace dlt {
namespace {

// A cached block reused for a smaller request must go back to the cache with
// its real size, or the cache's accounting drifts and mappings leak.
TEST(CpuAllocator, ReusedBlockKeepsItsMappedSize) {
  Allocator& a = allocator_for(DeviceType::cpu);
  a.empty_cache();
  const size_t big = size_t(18) << 20, small = (size_t(16) << 20) + 4096;
  void* p = a.allocate(big, 0);
  a.deallocate(p, big, 0);
  const size_t reserved = a.stats().reserved;
  void* q = a.allocate(small, 0);
  EXPECT_EQ(p, q);
  a.deallocate(q, small, 0);
  EXPECT_EQ(a.stats().reserved, reserved);
  a.empty_cache();
  EXPECT_EQ(a.stats().reserved, a.stats().allocated);
}

// Pinned memory comes from a GPU backend; without one (or without a device)
// asking for it is an error that says why. tests/cuda covers the working case.
TEST(PinnedMemory, WithoutAUsableGpuSaysWhy) {
  if (device_count(DeviceType::cuda) > 0) GTEST_SKIP() << "a CUDA device is usable";
  const Tensor x = ones({4});
  EXPECT_FALSE(x.is_pinned());
  if (!pinned_allocator())
    testing::expect_error([&] { (void)x.pin_memory(); },
                          {"pinned memory needs a GPU backend", "no cuda backend"});
  else
    testing::expect_error([&] { (void)x.pin_memory(); }, {"cannot allocate 16 bytes of pinned host memory"});
}

}  // namespace
}  // namespace dlt
