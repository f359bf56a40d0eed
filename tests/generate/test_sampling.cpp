// sample_token: greedy, temperature, top-k and top-p against the
// distributions they define, swept over the draw u.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "dlt/generate/sampling.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using generate::SamplingOptions;
using generate::sample_token;

// How often each token is drawn when u sweeps [0, 1) in n even steps.
std::map<int64_t, double> frequencies(const std::vector<double>& logits, const SamplingOptions& o,
                                      int n = 100000) {
  std::map<int64_t, double> f;
  for (int i = 0; i < n; ++i) f[sample_token(logits, o, (i + 0.5) / n)] += 1.0 / n;
  return f;
}

std::vector<double> softmax(const std::vector<double>& logits, double temperature) {
  std::vector<double> p;
  double total = 0;
  for (double l : logits) total += std::exp(l / temperature);
  for (double l : logits) p.push_back(std::exp(l / temperature) / total);
  return p;
}

const std::vector<double> kLogits = {1.0, 3.0, 2.0, -1.0, 2.5};

TEST(Sampling, TemperatureZeroIsGreedyAndTiesGoToTheLowerId) {
  EXPECT_EQ(sample_token(kLogits, {.temperature = 0}, 0.99), 1);
  EXPECT_EQ(sample_token(std::vector<double>{0.5, 2.0, 2.0}, {.temperature = 0}, 0.5), 1);
  EXPECT_EQ(sample_token(kLogits, {.temperature = 1, .top_k = 1}, 0.99), 1);
}

TEST(Sampling, DrawsFollowTheSoftmaxAtTheTemperature) {
  for (const double t : {1.0, 0.5, 2.0}) {
    const auto f = frequencies(kLogits, {.temperature = t});
    const auto p = softmax(kLogits, t);
    for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(f.count(i) ? f.at(i) : 0, p[i], 1e-4) << t << " " << i;
  }
}

TEST(Sampling, TopKKeepsTheKMostLikely) {
  const auto f = frequencies(kLogits, {.temperature = 1, .top_k = 2});
  const double z = std::exp(3.0) + std::exp(2.5);
  EXPECT_EQ(f.size(), 2u);
  EXPECT_NEAR(f.at(1), std::exp(3.0) / z, 1e-4);
  EXPECT_NEAR(f.at(4), std::exp(2.5) / z, 1e-4);
}

TEST(Sampling, TopPKeepsTheSmallestSetReachingP) {
  const auto p = softmax(kLogits, 1);  // ids by probability: 1, 4, 2, 0, 3
  // p[1] alone is below 0.6; with p[4] the set reaches it.
  ASSERT_LT(p[1], 0.6);
  ASSERT_GE(p[1] + p[4], 0.6);
  const auto f = frequencies(kLogits, {.temperature = 1, .top_p = 0.6});
  EXPECT_EQ(f.size(), 2u);
  EXPECT_NEAR(f.at(1), p[1] / (p[1] + p[4]), 1e-4);
  EXPECT_EQ(frequencies(kLogits, {.temperature = 1, .top_p = 1e-9}).size(), 1u);
}

TEST(Sampling, MinusInfinityIsNeverDrawn) {
  const double inf = std::numeric_limits<double>::infinity();
  const auto f = frequencies({0.0, -inf, 0.0}, {.temperature = 1}, 1000);
  EXPECT_EQ(f.count(1), 0u);
  EXPECT_NEAR(f.at(0), 0.5, 1e-3);
}

TEST(Sampling, BadOptionsNameTheFlag) {
  expect_error([] { generate::check_sampling_options({.temperature = -1}); }, {"--temperature"});
  expect_error([] { generate::check_sampling_options({.top_k = -2}); }, {"--top-k", "-2"});
  expect_error([] { generate::check_sampling_options({.top_p = 0}); }, {"--top-p", "(0, 1]"});
  expect_error([] { generate::check_sampling_options({.top_p = 1.5}); }, {"--top-p"});
}

}  // namespace
}  // namespace dlt::testing
