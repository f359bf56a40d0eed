// The NCCL process group on one GPU: a one-rank communicator is valid, so
// its collectives, the DDP reducer and ZeRO-1 run through NCCL here (each
// collective a copy on the device); real reductions need two GPUs. Built in
// CUDA builds only; every test skips without a usable CUDA device.
#include <gtest/gtest.h>

#ifdef DLT_WITH_NCCL

#include "dlt/core/grad_mode.h"
#include "dlt/dist/nccl_group.h"
#include "dlt/dist/reducer.h"
#include "dlt/dist/zero.h"
#include "dlt/ops/ops.h"
#include "dlt/optim/optimizers.h"
#include "tests/cuda/gpu_compare.h"
#include "tests/test_util.h"

namespace dlt::dist {
namespace {

using testing::to_vector;

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
// AdamW step bit for bit, and the reducer leaves the gradients as they were.
TEST(CudaNccl, ZeroOneOnOneRankEqualsAPlainOptimizerStep) {
  DLT_SKIP_WITHOUT_CUDA();
  const auto boot = make_local_group();
  const auto g = make_nccl_group(*boot, 0);
  auto make_params = [] {
    manual_seed(3);
    return std::vector<Tensor>{randn({33, 7}).to(kGpu).requires_grad_(), randn({5}).to(kGpu).requires_grad_()};
  };
  std::vector<Tensor> plain = make_params(), sharded = make_params();
  const Tensor x = randn({4, 33}).to(kGpu);
  auto loss = [&](const std::vector<Tensor>& p) {
    const Tensor y = matmul(x, p[0]) + p[1].sum();
    return (y * y).sum();
  };
  auto groups = [](const std::vector<Tensor>& p) {
    return std::vector<optim::ParamGroup>{{{{"w", p[0]}, {"b", p[1]}}, 0.01, 0.01, 0.1}};
  };
  optim::AdamW reference(groups(plain), {});
  optim::AdamW full(groups(sharded), {});
  Reducer reducer(*g, sharded, {.bucket_mb = 0.0001, .shard = true});
  ShardedOptimizer zero(*boot, reducer, full, [](std::vector<optim::ParamGroup> gs) {
    return std::make_unique<optim::AdamW>(std::move(gs), optim::OptimizerOptions{});
  });
  for (int step = 0; step < 3; ++step) {
    for (Tensor& p : plain) p.set_grad(Tensor());
    loss(plain).backward();
    reference.step();
    for (Tensor& p : sharded) p.set_grad(Tensor());
    reducer.prepare(true);
    loss(sharded).backward();
    reducer.finish();
    zero.step(full);
  }
  for (size_t k = 0; k < plain.size(); ++k)
    EXPECT_EQ(to_vector<float>(plain[k]), to_vector<float>(sharded[k])) << "parameter " << k;
  const auto state = zero.gathered_state_dict();
  EXPECT_EQ(to_vector<float>(state.at("exp_avg.w")), to_vector<float>(reference.state_dict().at("exp_avg.w")));
}

}  // namespace
}  // namespace dlt::dist

#endif  // DLT_WITH_NCCL
