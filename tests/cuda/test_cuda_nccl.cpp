// The NCCL process group on one GPU: a one-rank communicator is valid, so
// its collectives, the DDP reducer and ZeRO-1 run through NCCL here (each
// collective a copy on the device); real reductions need two GPUs. Built in
// CUDA builds only; every test skips without a usable CUDA device.
#include <gtest/gtest.h>

#ifdef DLT_WITH_NCCL

#include "dlt/dist/nccl_group.h"
#include "dlt/ops/ops.h"
#include "tests/cuda/gpu_compare.h"
#include "tests/dist/zero_check.h"
#include "tests/test_util.h"

namespace dlt::dist {
namespace {

using dlt::testing::to_vector;

const Device kGpu = Device::cuda(0);

Tensor counting(int64_t n) { return arange(n, TensorOptions(DType::f32)).to(kGpu); }

TEST(CudaNccl, OneRankCollectivesLeaveTheirDataOnTheDevice) {
  DLT_SKIP_WITHOUT_CUDA();
  const auto boot = make_local_group();
  const auto g = make_nccl_group(*boot, 0);
  EXPECT_EQ(g->backend(), "nccl");
  EXPECT_EQ(g->world_size(), 1);
  Tensor t = counting(1000);
  g->all_reduce(t, ReduceOp::sum);
  EXPECT_EQ(to_vector<float>(t), to_vector<float>(counting(1000)));
  Tensor out = zeros({1000}, TensorOptions(DType::f32).device(kGpu));
  g->reduce_scatter(counting(1000), out, ReduceOp::sum);
  EXPECT_EQ(to_vector<float>(out), to_vector<float>(counting(1000)));
  Tensor gathered = zeros({1000}, TensorOptions(DType::f32).device(kGpu));
  g->all_gather(counting(1000), gathered);
  EXPECT_EQ(to_vector<float>(gathered), to_vector<float>(counting(1000)));
  Tensor b = counting(7);
  g->broadcast(b, 0);
  g->barrier();
  EXPECT_EQ(to_vector<float>(b), to_vector<float>(counting(7)));
  EXPECT_EQ(g->stats().collectives, 5);
}

// One rank through NCCL: ZeRO-1's slices and all-gather reproduce a plain
// AdamW step bit for bit.
TEST(CudaNccl, ZeroOneOnOneRankEqualsAPlainOptimizerStep) {
  DLT_SKIP_WITHOUT_CUDA();
  const auto boot = make_local_group();
  const auto g = make_nccl_group(*boot, 0);
  testing::expect_zero_one_matches_plain_adamw(*boot, *g, kGpu);
}

}  // namespace
}  // namespace dlt::dist

#endif  // DLT_WITH_NCCL
