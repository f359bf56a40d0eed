// Loss scaling against PyTorch GradScaler's semantics: the fused
// unscale-and-check pass, the scale's state machine (backoff, growth, never
// past f32's range), skipped steps that leave parameters and optimizer state
// bitwise unchanged, the state a checkpoint keeps, and that scaled f32
// training with a power-of-two scale and no overflow is unscaled training,
// bit for bit (also with gradient accumulation and clipping).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "dlt/amp/grad_scaler.h"
#include "dlt/nn/module.h"
#include "dlt/ops/ops.h"
#include "dlt/ops/optim_ops.h"
#include "dlt/optim/clip.h"
#include "dlt/optim/optimizers.h"
#include "tests/test_util.h"

namespace dlt::amp {
namespace {

using testing::bitwise_equal;
using testing::to_vector;

TEST(UnscaleCheck, ScalesEveryGradientAndFindsInfAndNan) {
  Tensor a = from_vector<float>({1, 2, 3, 4}, {4}), b = from_vector<double>({-8, 0.5}, {2});
  Tensor found = unscale_check_(std::vector<Tensor>{a, b}, 0.25);
  EXPECT_EQ(found.item<float>(), 0.0f);
  EXPECT_EQ(to_vector<float>(a), (std::vector<float>{0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(to_vector<double>(b), (std::vector<double>{-2, 0.125}));
  for (const float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()}) {
    Tensor big = ones({100000});  // several chunks: one bad element in the last
    big.data_ptr<float>()[99999] = bad;
    EXPECT_EQ(unscale_check_(std::vector<Tensor>{ones({3}), big}, 0.5).item<float>(), 1.0f) << bad;
    EXPECT_EQ(big.data_ptr<float>()[0], 0.5f);
  }
}

TEST(UnscaleCheck, WritesThroughStridedViews) {
  Tensor g = arange(12, TensorOptions(DType::f32)).reshape({3, 4});
  Tensor t = g.t();
  EXPECT_EQ(unscale_check_(std::vector<Tensor>{t}, 0.5).item<float>(), 0.0f);
  EXPECT_EQ(to_vector<float>(g)[11], 5.5f);
}

TEST(UnscaleCheck, RefusesLowPrecisionGradients) {
  const Tensor g = ones({4}).to(DType::bf16);
  try {
    (void)unscale_check_(std::vector<Tensor>{g}, 0.5);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gradient 0 is bfloat16"), std::string::npos) << e.what();
  }
}

// x (B, 6) -> linear -> relu -> linear -> logits (B, 3).
class Mlp : public nn::Module {
 public:
  explicit Mlp(Generator* gen) {
    w1_ = register_parameter("w1", uniform({16, 6}, -0.4, 0.4, {}, gen));
    w2_ = register_parameter("w2", uniform({3, 16}, -0.25, 0.25, {}, gen));
    b2_ = register_parameter("b2", zeros({3}));
  }
  Tensor forward(const Tensor& x) override { return linear(relu(linear(x, w1_)), w2_, b2_); }
  std::string type() const override { return "Mlp"; }

 private:
  Tensor w1_, w2_, b2_;
};

// The model and its data: 4 batches of (8, 6) -> 3 classes.
struct Problem {
  std::shared_ptr<nn::Module> model;
  std::vector<Tensor> xs, ys;
};

Problem make_problem(uint64_t seed) {
  Problem p;
  Generator gen(seed);
  p.model = std::make_shared<Mlp>(&gen);
  for (int i = 0; i < 4; ++i) {
    p.xs.push_back(randn({8, 6}, {}, &gen));
    p.ys.push_back(randint(0, 3, {8}, DType::i64, &gen));
  }
  return p;
}

std::unique_ptr<optim::Optimizer> adam_for(nn::Module& m) {
  return std::make_unique<optim::Adam>(std::vector<optim::ParamGroup>{{m.named_parameters(), 0.01, 0.01, 0}},
                                       optim::OptimizerOptions{});
}

// PyTorch's _run_scaling_case: init 128, growth 2, interval 1, an inf in one
// gradient at the second step: that step changes nothing, the others grow.
TEST(GradScaler, ASkippedStepLeavesParametersAndMomentsBitwiseUnchanged) {
  Problem p = make_problem(3);
  auto opt = adam_for(*p.model);
  GradScaler scaler({.init_scale = 128, .growth_factor = 2, .backoff_factor = 0.5, .growth_interval = 1});
  for (int step = 0; step < 4; ++step) {
    p.model->zero_grad();
    scaler.scale(cross_entropy((*p.model)(p.xs[size_t(step)]), p.ys[size_t(step)])).backward();
    if (step == 1) p.model->parameters()[0].grad().data_ptr<float>()[3] = std::numeric_limits<float>::infinity();
    const auto params_before = p.model->state_dict();
    const auto state_before = opt->state_dict();
    const bool found = scaler.unscale(optim::grads_of(p.model->parameters()));
    EXPECT_EQ(found, step == 1);
    if (!found) opt->step();
    scaler.update(found);
    if (step == 1) {
      for (const auto& [name, t] : p.model->state_dict()) EXPECT_TRUE(bitwise_equal(t, params_before.at(name))) << name;
      const auto state_after = opt->state_dict();
      ASSERT_EQ(state_after.size(), state_before.size());
      for (const auto& [name, t] : state_after) EXPECT_TRUE(bitwise_equal(t, state_before.at(name))) << name;
    }
  }
  EXPECT_EQ(scaler.scale(), 128.0 * 2 * 0.5 * 2 * 2);  // grew, backed off, grew twice
}

TEST(GradScaler, GrowsAfterTheIntervalAndBacksOffOnOverflow) {
  GradScaler s({.init_scale = 1024, .growth_factor = 2, .backoff_factor = 0.5, .growth_interval = 3});
  for (int i = 0; i < 2; ++i) s.update(false);
  EXPECT_EQ(s.scale(), 1024);
  EXPECT_EQ(s.state().growth_tracker, 2);
  s.update(false);
  EXPECT_EQ(s.scale(), 2048);
  EXPECT_EQ(s.state().growth_tracker, 0);
  s.update(false);
  s.update(true);  // an overflow also restarts the count
  EXPECT_EQ(s.scale(), 1024);
  EXPECT_EQ(s.state().growth_tracker, 0);
}

TEST(GradScaler, NeverGrowsPastTheF32Range) {
  GradScaler s({.init_scale = 1e38, .growth_factor = 16, .backoff_factor = 0.5, .growth_interval = 1});
  for (int i = 0; i < 5; ++i) s.update(false);
  EXPECT_EQ(s.scale(), 1e38);
  EXPECT_TRUE(std::isfinite(float(s.scale())));
}

TEST(GradScaler, UnscaleOncePerStep) {
  GradScaler s;
  Tensor g = ones({2});
  (void)s.unscale(std::vector<Tensor>{g});
  EXPECT_THROW((void)s.unscale(std::vector<Tensor>{g}), Error);
  s.update(false);
  EXPECT_NO_THROW((void)s.unscale(std::vector<Tensor>{g}));
}

TEST(GradScaler, StateRoundTripsAndBadStateIsRefused) {
  GradScaler a({.init_scale = 4096, .growth_factor = 2, .backoff_factor = 0.5, .growth_interval = 10});
  for (int i = 0; i < 7; ++i) a.update(i == 2);
  GradScaler b({.init_scale = 4096, .growth_factor = 2, .backoff_factor = 0.5, .growth_interval = 10});
  b.load_state(a.state());
  for (int i = 0; i < 20; ++i) {
    a.update(i == 11);
    b.update(i == 11);
    EXPECT_EQ(a.scale(), b.scale());
  }
  EXPECT_THROW(b.load_state({.scale = 0, .growth_tracker = 0}), Error);
  EXPECT_THROW(b.load_state({.scale = 8, .growth_tracker = 10}), Error);
  EXPECT_THROW(GradScaler({.init_scale = 1, .growth_factor = 1, .backoff_factor = 0.5, .growth_interval = 1}), Error);
  EXPECT_THROW(GradScaler({.init_scale = 1, .growth_factor = 2, .backoff_factor = 1, .growth_interval = 1}), Error);
}

// 20 steps of a run: plain, or with loss scaling (power-of-two scale, no
// overflow), with 2 micro-batches per step and gradient clipping.
std::map<std::string, Tensor> train(bool scaled, const std::string& optimizer) {
  Problem p = make_problem(11);
  std::unique_ptr<optim::Optimizer> opt =
      optim::make_optimizer(optimizer, {{p.model->named_parameters(), 0.05, 0.05, 0.01}}, {});
  GradScaler scaler({.init_scale = 1024, .growth_factor = 2, .backoff_factor = 0.5, .growth_interval = 3});
  for (int step = 0; step < 20; ++step) {
    p.model->zero_grad();
    for (int micro = 0; micro < 2; ++micro) {
      const size_t b = size_t((2 * step + micro) % 4);
      const Tensor loss = cross_entropy((*p.model)(p.xs[b]), p.ys[b]) / Scalar(2.0);
      (scaled ? scaler.scale(loss) : loss).backward();
    }
    const bool found = scaled && scaler.unscale(optim::grads_of(p.model->parameters()));
    EXPECT_FALSE(found);
    (void)optim::clip_grad_norm(p.model->parameters(), 0.5);
    opt->step();
    if (scaled) scaler.update(found);
  }
  if (scaled) {
    EXPECT_EQ(scaler.scale(), 1024.0 * 64);  // grew every 3 steps: 6 times
  }
  return p.model->state_dict();
}

TEST(GradScaler, ScaledF32TrainingIsUnscaledTrainingBitForBit) {
  for (const std::string optimizer : {"sgd", "adamw"}) {
    const auto plain = train(false, optimizer), scaled = train(true, optimizer);
    for (const auto& [name, t] : plain) EXPECT_TRUE(bitwise_equal(t, scaled.at(name))) << optimizer << " " << name;
  }
}

}  // namespace
}  // namespace dlt::amp
