// The host-side plan of multi-tensor launches (kernels/cuda/multi_tensor_plan.h):
// every element of every tensor is in exactly one block, launches respect
// their limits, tensors split across launches, empty tensors get no block.
// Plain C++: runs in every build.
#include <gtest/gtest.h>

#include <map>

#include "kernels/cuda/multi_tensor_plan.h"

namespace dlt::gpu {
namespace {

// Checks the limits and that the blocks cover chunks 0..ceil(n/chunk)-1 of
// each tensor exactly once, in list order.
void expect_plan_covers(const std::vector<int64_t>& sizes, int max_tensors, int max_blocks,
                        int64_t chunk) {
  const auto launches = plan_multi_tensor(sizes, max_tensors, max_blocks, chunk);
  std::vector<std::pair<int64_t, int64_t>> seen;  // (tensor, chunk) in launch order
  for (const MultiTensorLaunch& l : launches) {
    ASSERT_FALSE(l.blocks.empty());
    EXPECT_LE(int(l.tensors.size()), max_tensors);
    EXPECT_LE(int(l.blocks.size()), max_blocks);
    for (const MultiTensorBlock& b : l.blocks) {
      ASSERT_GE(b.slot, 0);
      ASSERT_LT(size_t(b.slot), l.tensors.size());
      seen.emplace_back(l.tensors[size_t(b.slot)], b.chunk);
    }
  }
  std::vector<std::pair<int64_t, int64_t>> want;
  for (size_t t = 0; t < sizes.size(); ++t)
    for (int64_t c = 0; c * chunk < sizes[t]; ++c) want.emplace_back(int64_t(t), c);
  EXPECT_EQ(seen, want);
}

TEST(MultiTensorPlan, SmallListIsOneLaunch) {
  const auto launches = plan_multi_tensor(std::vector<int64_t>{5, 10, 3}, 4, 8, 4);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].tensors, (std::vector<int64_t>{0, 1, 2}));
  ASSERT_EQ(launches[0].blocks.size(), 6u);  // 2 + 3 + 1 chunks
  EXPECT_EQ(launches[0].blocks[2].slot, 1);
  EXPECT_EQ(launches[0].blocks[2].chunk, 0);
  EXPECT_EQ(launches[0].blocks[4].chunk, 2);
}

TEST(MultiTensorPlan, TensorSplitAcrossLaunchesGoesOnWhereItStopped) {
  // 10 chunks, 4 blocks a launch: chunks 0-3, 4-7, 8-9.
  const auto launches = plan_multi_tensor(std::vector<int64_t>{100}, 4, 4, 10);
  ASSERT_EQ(launches.size(), 3u);
  EXPECT_EQ(launches[1].tensors, (std::vector<int64_t>{0}));
  EXPECT_EQ(launches[1].blocks.front().chunk, 4);
  EXPECT_EQ(launches[2].blocks.size(), 2u);
  expect_plan_covers({100}, 4, 4, 10);
}

TEST(MultiTensorPlan, TensorLimitStartsANewLaunch) {
  const auto launches = plan_multi_tensor(std::vector<int64_t>{1, 1, 1, 1, 1}, 2, 100, 8);
  ASSERT_EQ(launches.size(), 3u);
  EXPECT_EQ(launches[2].tensors, (std::vector<int64_t>{4}));
}

TEST(MultiTensorPlan, EmptyTensorsGetNoBlock) {
  EXPECT_TRUE(plan_multi_tensor(std::vector<int64_t>{0, 0}, 4, 4, 8).empty());
  EXPECT_TRUE(plan_multi_tensor(std::vector<int64_t>{}, 4, 4, 8).empty());
  const auto launches = plan_multi_tensor(std::vector<int64_t>{0, 9, 0}, 4, 4, 8);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].tensors, (std::vector<int64_t>{1}));
}

TEST(MultiTensorPlan, ManyOddSizesAreCoveredExactly) {
  std::vector<int64_t> sizes;
  uint64_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    sizes.push_back(i % 37 == 0 ? 0 : int64_t(1 + (x >> 33) % 100000));
  }
  sizes.push_back(65536);
  sizes.push_back(65537);
  expect_plan_covers(sizes, 32, 480, 65536);
  expect_plan_covers(sizes, 3, 5, 1000);
  expect_plan_covers(sizes, 1, 1, 100000);
}

}  // namespace
}  // namespace dlt::gpu
