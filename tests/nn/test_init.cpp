// Default initialisations match torch's distributions: bounds, mean and
// variance per layer, fan computation, and reproducibility from the seed.
#include <algorithm>
#include <cmath>

#include "dlt/nn/init.h"
#include "dlt/nn/layers/batch_norm.h"
#include "dlt/nn/layers/conv2d.h"
#include "dlt/nn/layers/embedding.h"
#include "dlt/nn/layers/layer_norm.h"
#include "dlt/nn/layers/linear.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using namespace dlt::nn;

struct Stats {
  double min, max, mean, var;
};

Stats stats(const Tensor& t) {
  const std::vector<double> v = to_vector<double>(t);
  Stats s{*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()), 0, 0};
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.var += (x - s.mean) * (x - s.mean);
  s.var /= double(v.size());
  return s;
}

// U(-b, b): inside the bounds, reaching close to them, mean 0 and variance
// b^2 / 3 within 5 standard errors (n >= 10^5 values).
void expect_uniform(const Tensor& t, double bound) {
  const Stats s = stats(t);
  const double n = double(t.numel());
  EXPECT_GE(s.min, -bound);
  EXPECT_LE(s.max, bound);
  EXPECT_LT(s.min, -0.99 * bound);
  EXPECT_GT(s.max, 0.99 * bound);
  const double var = bound * bound / 3;
  EXPECT_NEAR(s.mean, 0, 5 * std::sqrt(var / n));
  // Var of the sample variance of U(-b, b): (b^4/5 - var^2) / n.
  EXPECT_NEAR(s.var, var, 5 * std::sqrt((std::pow(bound, 4) / 5 - var * var) / n));
}

TEST(NnInit, FansAreTorchs) {
  EXPECT_EQ(init::fan_in_and_fan_out({300, 400}).fan_in, 400);
  EXPECT_EQ(init::fan_in_and_fan_out({300, 400}).fan_out, 300);
  EXPECT_EQ(init::fan_in_and_fan_out({8, 3, 5, 5}).fan_in, 75);
  EXPECT_EQ(init::fan_in_and_fan_out({8, 3, 5, 5}).fan_out, 200);
  expect_error([] { init::fan_in_and_fan_out({7}); }, {"fewer than 2 dimensions", "[7]"});
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3.0);
}

TEST(NnInit, KaimingUniformBoundFollowsGainAndFan) {
  Generator gen(1);
  Tensor w = empty({200, 600});
  init::kaiming_uniform_(w, 0, init::FanMode::fan_in, "relu", &gen);
  expect_uniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 600));
  init::kaiming_uniform_(w, 0, init::FanMode::fan_out, "relu", &gen);
  expect_uniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 200));
}

TEST(NnInit, LinearWeightAndBiasAreUniformOverOneOverSqrtIn) {
  Generator gen(2);
  BuildContext ctx{.gen = &gen};
  Linear linear({.out = 300}, {400}, ctx);
  EXPECT_EQ(linear.weight.shape(), (Shape{300, 400}));
  EXPECT_EQ(linear.weight.dtype(), DType::f32);
  EXPECT_TRUE(linear.weight.requires_grad());
  expect_uniform(linear.weight, 1 / std::sqrt(400.0));  // kaiming_uniform(a = sqrt(5))
  const Stats b = stats(linear.bias);
  EXPECT_GE(b.min, -0.05);
  EXPECT_LE(b.max, 0.05);
  EXPECT_GT(b.max - b.min, 0.09);  // 300 draws spread over the range
}

TEST(NnInit, Conv2dBoundsUseTheReceptiveField) {
  Generator gen(3);
  BuildContext ctx{.gen = &gen, .dtype = DType::f64};
  Conv2d conv({.out_channels = 256, .kernel_size = {5, 5}, .groups = 2}, {32, 9, 9}, ctx);
  EXPECT_EQ(conv.weight.shape(), (Shape{256, 16, 5, 5}));
  EXPECT_EQ(conv.weight.dtype(), DType::f64);
  const double bound = 1 / std::sqrt(16.0 * 25);  // fan_in = (in / groups) * kH * kW
  expect_uniform(conv.weight, bound);
  const Stats b = stats(conv.bias);
  EXPECT_GE(b.min, -bound);
  EXPECT_LE(b.max, bound);
}

TEST(NnInit, EmbeddingIsStandardNormalWithAZeroPaddingRow) {
  Generator gen(4);
  BuildContext ctx{.gen = &gen};
  Embedding emb({.num_embeddings = 1000, .dim = 200, .padding_idx = 7}, {16}, ctx);
  const Stats s = stats(emb.weight);
  const double n = 200000;
  EXPECT_NEAR(s.mean, 0, 5 / std::sqrt(n));
  EXPECT_NEAR(s.var, 1, 5 * std::sqrt(2 / n));
  for (double v : to_vector<double>(emb.weight.select(0, 7))) EXPECT_EQ(v, 0);
}

TEST(NnInit, NormsStartAsIdentity) {
  BuildContext ctx;
  BatchNorm2d bn({}, {5, 4, 4}, ctx);
  EXPECT_EQ(to_vector<double>(bn.weight), std::vector<double>(5, 1));
  EXPECT_EQ(to_vector<double>(bn.bias), std::vector<double>(5, 0));
  EXPECT_EQ(to_vector<double>(bn.running_mean), std::vector<double>(5, 0));
  EXPECT_EQ(to_vector<double>(bn.running_var), std::vector<double>(5, 1));
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::i64);
  EXPECT_EQ(bn.num_batches_tracked.shape(), Shape{});
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 0);
  EXPECT_FALSE(bn.running_mean.requires_grad());
  LayerNorm ln({}, {3, 6}, ctx);
  EXPECT_EQ(to_vector<double>(ln.weight), std::vector<double>(6, 1));
  EXPECT_EQ(to_vector<double>(ln.bias), std::vector<double>(6, 0));
}

TEST(NnInit, TheSeedDeterminesTheWeights) {
  const auto weights = [](uint64_t seed) {
    Generator gen(seed);
    BuildContext ctx{.gen = &gen};
    return to_vector<float>(Linear({.out = 8}, {8}, ctx).weight);
  };
  EXPECT_EQ(weights(5), weights(5));
  EXPECT_NE(weights(5), weights(6));
}

}  // namespace
}  // namespace dlt::testing
