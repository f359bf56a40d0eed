// The counter-based generator: reproducible, thread-count independent,
// with the right distributions.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "dlt/core/parallel.h"
#include "dlt/core/philox.h"
#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using testing::to_vector;

// Reference values of Philox4x32-10 from the Random123 known-answer tests.
TEST(Philox, KnownAnswer) {
  // key = (0, 0), counter = (0, 0, 0, 0)
  auto a = Philox4x32::generate(0, 0, 0);
  EXPECT_EQ(a[0], 0x6627e8d5u);
  EXPECT_EQ(a[1], 0xe169c58du);
  EXPECT_EQ(a[2], 0xbc57ac4cu);
  EXPECT_EQ(a[3], 0x9b00dbd8u);
  // key = (0xffffffff, 0xffffffff), counter all ones
  auto b = Philox4x32::generate(~0ull, ~0ull, ~0ull);
  EXPECT_EQ(b[0], 0x408f276du);
  EXPECT_EQ(b[1], 0x41c83b0eu);
  EXPECT_EQ(b[2], 0xa20bc7c6u);
  EXPECT_EQ(b[3], 0x6d5451fdu);
}

TEST(Random, SameSeedSameNumbersWhateverTheThreadCount) {
  testing::ThreadCountGuard restore;
  Generator g1(42), g2(42);
  set_num_threads(1);
  const auto a = to_vector<float>(randn({100000}, {}, &g1));
  set_num_threads(2);
  const auto b = to_vector<float>(randn({100000}, {}, &g2));
  EXPECT_EQ(a, b);
  Generator g3(43);
  EXPECT_NE(a, to_vector<float>(randn({100000}, {}, &g3)));
}

TEST(Random, OffsetAdvancesSoDrawsDiffer) {
  Generator g(7);
  const auto a = to_vector<float>(rand({10}, {}, &g));
  EXPECT_EQ(g.offset(), 5u);
  const auto b = to_vector<float>(rand({10}, {}, &g));
  EXPECT_NE(a, b);
  g.set_state(7, 0);
  EXPECT_EQ(to_vector<float>(rand({10}, {}, &g)), a);
}

TEST(Random, DistributionMoments) {
  Generator g(1);
  const auto u = to_vector<double>(rand({200000}, DType::f64, &g));
  const auto n = to_vector<double>(randn({200000}, DType::f64, &g));
  auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); };
  auto var = [&](const std::vector<double>& v) {
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return s / double(v.size());
  };
  EXPECT_NEAR(mean(u), 0.5, 0.005);
  EXPECT_NEAR(var(u), 1.0 / 12, 0.002);
  EXPECT_NEAR(mean(n), 0.0, 0.01);
  EXPECT_NEAR(var(n), 1.0, 0.01);
  for (double x : u) ASSERT_TRUE(x >= 0 && x < 1);
  const auto r = to_vector<int64_t>(randint(-3, 4, {10000}, DType::i64, &g));
  for (int64_t x : r) ASSERT_TRUE(x >= -3 && x < 4);
  EXPECT_EQ(*std::min_element(r.begin(), r.end()), -3);
  EXPECT_EQ(*std::max_element(r.begin(), r.end()), 3);
  const auto s = to_vector<double>(normal({50000}, 5, 2, DType::f64, &g));
  EXPECT_NEAR(mean(s), 5, 0.05);
  EXPECT_NEAR(var(s), 4, 0.1);
}

TEST(Random, BadArguments) {
  testing::expect_error([] { randint(3, 3, {2}); }, {"low (3) must be less than high (3)"});
  testing::expect_error([] { normal({2}, 0, -1); }, {"std must be non-negative"});
  testing::expect_error([] { rand({2}, DType::i64); }, {"floating point"});
}

}  // namespace
}  // namespace dlt
