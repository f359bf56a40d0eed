// One check for ZeRO-1 on a single rank, shared by the CPU suite (local
// group) and the GPU suite (NCCL): with one rank every slice is whole, so
// three steps must equal the plain AdamW's bit for bit, and the gathered
// state must be the plain optimizer's.
#pragma once

#include <gtest/gtest.h>

#include "dlt/dist/reducer.h"
#include "dlt/dist/zero.h"
#include "dlt/ops/ops.h"
#include "dlt/optim/optimizers.h"
#include "tests/test_util.h"

namespace dlt::dist::testing {

inline void expect_zero_one_matches_plain_adamw(ProcessGroup& host, ProcessGroup& device_group, Device device) {
  auto make_params = [&] {
    manual_seed(3);
    return std::vector<Tensor>{randn({33, 7}).to(device).requires_grad_(), randn({5}).to(device).requires_grad_()};
  };
  std::vector<Tensor> plain = make_params(), sharded = make_params();
  const Tensor x = randn({4, 33}).to(device);
  auto loss = [&](const std::vector<Tensor>& p) {
    const Tensor y = matmul(x, p[0]) + p[1].sum();
    return (y * y).sum();
  };
  auto groups = [](const std::vector<Tensor>& p) {
    return std::vector<optim::ParamGroup>{{{{"w", p[0]}, {"b", p[1]}}, 0.01, 0.01, 0.1}};
  };
  optim::AdamW reference(groups(plain), {});
  optim::AdamW full(groups(sharded), {});
  Reducer reducer(device_group, sharded, {.bucket_mb = 0.0001, .shard = true});  // several buckets
  ASSERT_GT(reducer.buckets().size(), 1u);
  ShardedOptimizer zero(host, reducer, full, [](std::vector<optim::ParamGroup> gs) {
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
  using dlt::testing::to_vector;
  for (size_t k = 0; k < plain.size(); ++k) EXPECT_EQ(to_vector<float>(plain[k]), to_vector<float>(sharded[k])) << k;
  const auto state = zero.gathered_state_dict(), want = reference.state_dict();
  ASSERT_EQ(state.size(), want.size());
  for (const auto& [name, t] : want) EXPECT_EQ(to_vector<double>(state.at(name)), to_vector<double>(t)) << name;
  // And back: a whole state loads into the slices.
  zero.load_state_dict(want);
  EXPECT_EQ(zero.state_bytes(), int64_t((33 * 7 + 5) * 2 * 4 + 2 * 8));
}

}  // namespace dlt::dist::testing
