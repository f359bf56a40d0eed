// The GPU GEMM's shape math (kernels/cuda/gemm_plan.h), host only: batch
// merging and folding, vector operands, and how each operand is handed to
// column-major BLAS. Runs in every build.
#include <gtest/gtest.h>

#include "kernels/cuda/gemm_plan.h"

namespace dlt::gpu {
namespace {

TEST(GemmPlan, SharedRightOperandFoldsBatchIntoRows) {
  // (4, 3, 5) @ (5, 2): one (12, 5) @ (5, 2) GEMM.
  const GemmPlan g = plan_gemm({{4, 3, 5}, {15, 5, 1}}, {{5, 2}, {2, 1}});
  EXPECT_EQ(g.m, 12);
  EXPECT_EQ(g.k, 5);
  EXPECT_EQ(g.n, 2);
  EXPECT_TRUE(g.batch.empty());
  EXPECT_FALSE(g.blas_a.transpose);  // B row-major: BLAS reads B^T as stored
  EXPECT_EQ(g.blas_a.ld, 2);
  EXPECT_FALSE(g.blas_b.transpose);
  EXPECT_EQ(g.blas_b.ld, 5);
}

TEST(GemmPlan, BroadcastBatchKeepsZeroStrides) {
  // (2, 1, 3, 4) @ (5, 4, 6): batch (2, 5); A broadcast over the 5, B over the 2.
  const GemmPlan g = plan_gemm({{2, 1, 3, 4}, {12, 12, 4, 1}}, {{5, 4, 6}, {24, 6, 1}});
  EXPECT_EQ(g.batch, (Shape{2, 5}));
  EXPECT_EQ(g.a_batch, (Shape{12, 0}));
  EXPECT_EQ(g.b_batch, (Shape{0, 24}));
  EXPECT_EQ(g.c_batch, (Shape{90, 18}));
  EXPECT_EQ(g.m, 3);
}

TEST(GemmPlan, ContiguousBatchDimsMerge) {
  const GemmPlan g = plan_gemm({{2, 3, 4, 5}, {60, 20, 5, 1}}, {{2, 3, 5, 6}, {90, 30, 6, 1}});
  EXPECT_EQ(g.batch, (Shape{6}));
  EXPECT_EQ(g.a_batch, (Shape{20}));
  EXPECT_EQ(g.b_batch, (Shape{30}));
  EXPECT_EQ(g.c_batch, (Shape{24}));
}

TEST(GemmPlan, TransposedOperandsUseBlasTranspose) {
  // a = (9, 7).t(): (7, 9) with strides (1, 7); b = (5, 9).t(): (9, 5) strides (1, 9).
  const GemmPlan g = plan_gemm({{7, 9}, {1, 7}}, {{9, 5}, {1, 9}});
  EXPECT_TRUE(g.blas_a.transpose);
  EXPECT_EQ(g.blas_a.ld, 9);
  EXPECT_TRUE(g.blas_b.transpose);
  EXPECT_EQ(g.blas_b.ld, 7);
}

TEST(GemmPlan, VectorsBecomeRowAndColumn) {
  const MatrixView row = lhs_view({7}, {1}), col = rhs_view({7}, {1});
  EXPECT_EQ(row.shape, (Shape{1, 7}));
  EXPECT_EQ(col.shape, (Shape{7, 1}));
  const GemmPlan g = plan_gemm(row, col);
  EXPECT_EQ(g.m, 1);
  EXPECT_EQ(g.n, 1);
  EXPECT_EQ(g.k, 7);
  // Every leading dimension is at least the stored matrix's row count.
  EXPECT_GE(g.blas_a.ld, g.blas_a.transpose ? g.k : g.n);
  EXPECT_GE(g.blas_b.ld, g.blas_b.transpose ? g.m : g.k);
}

TEST(GemmPlan, LinearWeightIsReadTransposed) {
  // x (3, 7) and weight (5, 7): x @ weight^T, weight read with op = T.
  const GemmPlan g = plan_gemm(lhs_view({3, 7}, {7, 1}), transposed_view({5, 7}, {7, 1}));
  EXPECT_EQ(g.n, 5);
  EXPECT_EQ(g.k, 7);
  EXPECT_TRUE(g.blas_a.transpose);
  EXPECT_EQ(g.blas_a.ld, 7);
}

}  // namespace
}  // namespace dlt::gpu
