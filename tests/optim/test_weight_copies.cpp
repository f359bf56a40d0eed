// Mixed precision's weight copies: the fused optimizer ops write each
// parameter's bf16/f16 copy in the same pass (exactly as to() rounds), and
// training that keeps the copies from step to step (WeightCopies) equals
// training that casts every weight in every forward pass, bit for bit, while
// casting only the weights changed outside the optimizer.
#include "dlt/core/grad_mode.h"
#include "dlt/ops/autocast.h"
#include "dlt/optim/optimizers.h"
#include "tests/optim/optim_test_util.h"
#include "tests/optim/step_copies_check.h"

namespace dlt::testing {
namespace {

TEST(StepCopies, EveryOpWritesTheCopyToWouldMake) { expect_steps_write_exact_copies(Device::cpu()); }

TEST(StepCopies, BadCopiesAreRefusedNamingTheIndex) {
  const std::vector<Tensor> params = {randn({4, 3}), randn({5})};
  const std::vector<Tensor> grads = {randn({4, 3}), randn({5})};
  const ops::SgdStepAttrs a{.lr = 0.1};
  const auto sgd = [&](std::vector<Tensor> copies) { sgd_step_(params, grads, {}, a, copies); };
  expect_error([&] { sgd({randn({4, 3}).to(DType::bf16)}); }, {"sgd_step", "1 low-precision copies for 2 parameters"});
  expect_error([&] { sgd({randn({4, 3}).to(DType::bf16), randn({5})}); },
               {"low-precision copy 1 is float32", "bfloat16 or float16"});
  expect_error([&] { sgd({randn({4, 3}).to(DType::bf16), randn({5}).to(DType::f16)}); },
               {"copy 1 is float16, copy 0 bfloat16", "one dtype"});
  expect_error([&] { sgd({randn({4, 3}).to(DType::bf16), randn({6}).to(DType::bf16)}); },
               {"low-precision copy 1 is [6]", "its parameter [5]"});
  expect_error([&] { sgd({randn({3, 4}).to(DType::bf16).t(), randn({5}).to(DType::bf16)}); },
               {"low-precision copy 0 must be contiguous"});
  expect_error([&] { sgd({Tensor(), randn({5}).to(DType::bf16)}); }, {"low-precision copy 0 is undefined"});
  const std::vector<Tensor> f64 = {randn({5}, DType::f64)}, g64 = {randn({5}, DType::f64)};
  expect_error([&] { sgd_step_(f64, g64, {}, a, std::vector<Tensor>{randn({5}).to(DType::bf16)}); },
               {"parameter 0 is float64", "only f32 parameters"});
  EXPECT_TRUE(bitwise_equal(params[0], params[0]));  // nothing was written by the refused calls
}

// A small model whose parameters take every path: two GEMM weights and
// biases cast under autocast (copies), a layer norm's weight that runs in
// f32 (no copy), and the first weight used twice (a tied use).
struct TinyNet {
  NamedParams params;
  explicit TinyNet(uint64_t seed)
      : params(make_params({{"w1", {16, 8}}, {"b1", {16}}, {"ln", {16}}, {"w2", {8, 16}}, {"b2", {8}}}, seed)) {}
  const Tensor& p(size_t i) const { return params[i].second; }
  Tensor loss(const Tensor& x, const Tensor& target) const {
    Tensor h = gelu(linear(x, p(0), p(1)));             // (B, 16)
    h = layer_norm(h, {16}, p(2));                      // f32
    const Tensor y = linear(linear(h, p(3), p(4)), p(0));  // (B, 8) -> (B, 16) through w1 again
    return mse_loss(y, target);
  }
};

// `steps` AdamW steps in `low` autocast; with `keep`, the copies are kept in
// a WeightCopies the optimizer writes. Returns the losses; `stats` gets each
// step's cache counts.
std::vector<float> train(TinyNet& net, DType low, bool keep, int steps, std::vector<AutocastCacheStats>* stats) {
  optim::AdamW opt({one_group(net.params, 1e-2, 0.1)}, {});
  const auto copies = keep ? std::make_shared<WeightCopies>() : nullptr;
  opt.set_weight_copies(copies);
  Generator gen(5);
  const Tensor x = randn({6, 8}, DType::f32, &gen), target = randn({6, 16}, DType::f32, &gen);
  std::vector<float> losses;
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    Tensor loss;
    {
      const AutocastGuard region(low, copies.get());
      loss = net.loss(x, target);
      if (stats) stats->push_back(autocast_cache_stats());
    }
    loss.backward();
    opt.step();
    losses.push_back(loss.item<float>());
  }
  return losses;
}

TEST(WeightCopies, KeptCopiesTrainExactlyAsACastEveryStep) {
  for (const DType low : {DType::bf16, DType::f16}) {
    SCOPED_TRACE(fmt::format("{}", low));
    TinyNet cast_each_step(3), kept(3);
    std::vector<AutocastCacheStats> stats;
    const std::vector<float> a = train(cast_each_step, low, false, 5, nullptr);
    const std::vector<float> b = train(kept, low, true, 5, &stats);
    EXPECT_EQ(a, b);
    for (size_t i = 0; i < kept.params.size(); ++i)
      EXPECT_TRUE(bitwise_equal(cast_each_step.p(i), kept.p(i))) << kept.params[i].first;
    // Step 1 casts w1, b1, w2, b2 (w1's second use hits the region's cache);
    // later steps take all four from the optimizer's writes.
    EXPECT_EQ(stats[0].casts, 4);
    EXPECT_EQ(stats[0].hits, 1);
    for (size_t s = 1; s < stats.size(); ++s) {
      EXPECT_EQ(stats[s].casts, 0) << "step " << s + 1;
      EXPECT_EQ(stats[s].kept, 4) << "step " << s + 1;
      EXPECT_EQ(stats[s].hits, 1) << "step " << s + 1;
    }
  }
}

TEST(WeightCopies, AWeightChangedOutsideTheOptimizerIsCastAgain) {
  TinyNet net(4);
  WeightCopies copies;
  const Tensor& w2 = net.p(3);
  const auto region_stats = [&] {
    const AutocastGuard region(DType::bf16, &copies);
    const Tensor low = linear(randn({2, 16}), w2);
    (void)low;
    return autocast_cache_stats();
  };
  EXPECT_EQ(region_stats().casts, 1);
  EXPECT_EQ(region_stats().kept, 1);  // unchanged: taken as it is
  {
    const NoGradGuard no_grad;
    Tensor w = w2;
    w.mul_(Scalar(3.0));  // an in-place change the copy does not know of
  }
  EXPECT_EQ(region_stats().casts, 1);
  bool cast = true;
  EXPECT_TRUE(bitwise_equal(copies.get(w2, DType::bf16, &cast), w2.detach().to(DType::bf16)));
  EXPECT_FALSE(cast);
  {
    const NoGradGuard no_grad;
    Tensor w = w2;
    w.copy_(randn({8, 16}));  // as a checkpoint load writes it
  }
  EXPECT_TRUE(bitwise_equal(copies.get(w2, DType::bf16, &cast), w2.detach().to(DType::bf16)));
  EXPECT_TRUE(cast);
  EXPECT_EQ(copies.size(), 1);
  EXPECT_EQ(copies.bytes(), 8 * 16 * 2);
  // Another dtype replaces the copy.
  EXPECT_EQ(copies.get(w2, DType::f16, &cast).dtype(), DType::f16);
  EXPECT_TRUE(cast);
}

TEST(WeightCopies, ASkippedStepKeepsTheCopiesCurrent) {
  TinyNet net(6);
  auto copies = std::make_shared<WeightCopies>();
  optim::AdamW opt({one_group(net.params, 1e-2)}, {});
  opt.set_weight_copies(copies);
  const Tensor x = randn({3, 8}), target = randn({3, 16});
  const auto forward = [&] {
    const AutocastGuard region(DType::f16, copies.get());
    Tensor loss = net.loss(x, target);
    return std::pair(loss, autocast_cache_stats());
  };
  forward().first.backward();
  opt.zero_grad();  // the step was skipped (an overflow): nothing written
  EXPECT_EQ(forward().second.kept, 4);
  auto [loss, stats] = forward();
  loss.backward();
  opt.step();
  EXPECT_EQ(forward().second.kept, 4);
  for (size_t i : {0, 1, 3, 4}) {
    bool cast = true;
    EXPECT_TRUE(bitwise_equal(copies->get(net.p(i), DType::f16, &cast), net.p(i).detach().to(DType::f16)));
    EXPECT_FALSE(cast) << net.params[i].first;
  }
}

}  // namespace
}  // namespace dlt::testing
