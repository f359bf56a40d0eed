// The host-side plan of the GPU reductions (kernels/cuda/reduce_geometry.h):
// which dims are kept and reduced, how they merge, and which kernel shape
// (rows or columns) a layout gets. Plain C++: runs in every build.
#include <gtest/gtest.h>

#include "kernels/cuda/reduce_geometry.h"

namespace dlt::gpu {
namespace {

TensorArg arg(std::initializer_list<int64_t> shape, std::initializer_list<int64_t> strides) {
  TensorArg a;
  a.ndim = int(shape.size());
  int d = 0;
  for (int64_t s : shape) a.shape[d++] = s;
  d = 0;
  for (int64_t s : strides) a.strides[d++] = s;
  a.numel = 1;
  for (int i = 0; i < a.ndim; ++i) a.numel *= a.shape[i];
  return a;
}

TEST(ReduceGeometry, ContiguousLastDimsMergeIntoOneRow) {
  const ReduceGeometry g = plan_reduce_geometry(arg({4, 5, 6}, {30, 6, 1}), 0b110);
  EXPECT_EQ(g.kept.ndim, 1);
  EXPECT_EQ(g.reduced.ndim, 1);
  EXPECT_EQ(g.reduced.shape[0], 30);
  EXPECT_EQ(g.reduced.strides[0], 1);
  EXPECT_EQ(g.outputs, 4);
  EXPECT_EQ(g.count, 30);
  EXPECT_TRUE(g.reads_rows());
  EXPECT_FALSE(g.reads_columns());
}

TEST(ReduceGeometry, LeadingDimIsAColumnReduction) {
  const ReduceGeometry g = plan_reduce_geometry(arg({100, 7, 3}, {21, 3, 1}), 0b001);
  EXPECT_EQ(g.kept.ndim, 1);  // (7, 3) merged
  EXPECT_EQ(g.kept.shape[0], 21);
  EXPECT_TRUE(g.reads_columns());
  EXPECT_EQ(g.count, 100);
}

TEST(ReduceGeometry, MiddleDimKeepsBothNeighbours) {
  const ReduceGeometry g = plan_reduce_geometry(arg({4, 5, 6}, {30, 6, 1}), 0b010);
  EXPECT_EQ(g.kept.ndim, 2);
  EXPECT_EQ(g.reduced.ndim, 1);
  EXPECT_EQ(g.reduced.strides[0], 6);
  EXPECT_TRUE(g.reads_columns());
  EXPECT_EQ(g.outputs, 24);
}

TEST(ReduceGeometry, TransposedInputReadsItsContiguousDimAsRows) {
  // x (6, 4) viewed as its transpose: dim 0 has stride 1.
  const ReduceGeometry g = plan_reduce_geometry(arg({6, 4}, {1, 6}), 0b01);
  EXPECT_TRUE(g.reads_rows());
  EXPECT_EQ(g.kept.strides[0], 6);
  // Over every dim the reduced dims are walked in memory order and merged.
  const ReduceGeometry all = plan_reduce_geometry(arg({6, 4}, {1, 6}), 0b11);
  EXPECT_EQ(all.reduced.ndim, 1);
  EXPECT_EQ(all.reduced.shape[0], 24);
  EXPECT_EQ(all.outputs, 1);
}

TEST(ReduceGeometry, SizeOneDimsAndSlicesOfFewOutputs) {
  const TensorArg x = arg({1, 3, 1, 1 << 20}, {0, 1 << 20, 7, 1});
  const ReduceGeometry g = plan_reduce_geometry(x, 0b1101);
  EXPECT_EQ(g.kept.ndim, 1);
  EXPECT_EQ(g.reduced.ndim, 1);
  EXPECT_EQ(g.count, 1 << 20);
  EXPECT_GT(reduce_splits(g), 1);
  EXPECT_EQ(reduce_workspace_bytes(g), reduce_splits(g) * 3 * 16);
  const ReduceGeometry many = plan_reduce_geometry(arg({100000, 64}, {64, 1}), 0b10);
  EXPECT_EQ(reduce_splits(many), 1);
  EXPECT_EQ(reduce_workspace_bytes(many), 0);
}

TEST(ReduceGeometry, NothingToReduce) {
  const ReduceGeometry g = plan_reduce_geometry(arg({5, 1}, {1, 1}), 0b10);
  EXPECT_EQ(g.reduced.ndim, 0);
  EXPECT_EQ(g.count, 1);
  EXPECT_EQ(g.outputs, 5);
  EXPECT_TRUE(g.reads_rows());
}

}  // namespace
}  // namespace dlt::gpu
